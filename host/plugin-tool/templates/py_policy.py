"""{{name}}: a Sluice claim policy. Dead-letters entries delivered `max_deliveries` times
(default 5) to `dead_letter` (default `<stream>.dlq`), and those a consumer NACKed FATAL.

Edit `evaluate`; `python3 -m unittest` runs test_app.py; `sluice plugin build` builds it.
"""

from sluice_plugin import ClaimPolicy, Fail, Nack
from sluice_plugin.export import claim_policy


class Plugin(ClaimPolicy):
    def __init__(self, config):
        config.check_keys(["max_deliveries", "dead_letter"])
        self.max_deliveries = config.parse("max_deliveries", int, 5)
        if self.max_deliveries < 1:
            raise Fail("`max_deliveries` must be at least 1")
        self.dead_letter = config.get("dead_letter")

    def evaluate(self, eval, out):
        dead_letter = self.dead_letter or f"{eval.key}.dlq"
        for entry in eval.pending:
            if entry.nack == Nack.FATAL:
                out.dead_letter(entry, dead_letter, "NACKed FATAL")
            elif entry.deliveries >= self.max_deliveries:
                out.dead_letter(entry, dead_letter, f"delivered {entry.deliveries} times")


Lifecycle, Claiming = claim_policy(Plugin, "{{name}}", "0.1.0")
