"""Example claim policy ``dead-letter-after`` in Python: moves entries that keep failing --
delivered too many times and still not acknowledged -- to a dead-letter stream. Same
behaviour, config and reasons as the Rust ``plugins/dead-letter-after``.

An entry a consumer gave back with ``XNACK ... FATAL`` is dead-lettered at the next round
whatever ``max_deliveries`` and ``idle_ms`` say, with the reason ``NACKed FATAL``.

Config:
- ``max_deliveries`` (required, at least 1): entries delivered this many times or more are
  dead-lettered, with the reason ``delivered <n> times``.
- ``dead_letter`` (default ``<stream>.dlq``): the dead-letter stream.
- ``idle_ms`` (default 0): only once they have been idle this many milliseconds.
"""

from sluice_plugin import ClaimPolicy, Fail, Nack, log
from sluice_plugin.export import claim_policy


class DeadLetterAfter(ClaimPolicy):
    def __init__(self, config):
        config.check_keys(["max_deliveries", "dead_letter", "idle_ms"])
        self.max_deliveries = config.parse("max_deliveries", int)
        if self.max_deliveries is None:
            raise Fail("missing config key `max_deliveries`")
        if self.max_deliveries < 1:
            raise Fail("`max_deliveries` must be at least 1")
        self.dead_letter = config.get("dead_letter")
        if self.dead_letter == "":
            raise Fail("`dead_letter` must not be empty")
        self.idle_ms = config.parse("idle_ms", int, 0)
        log.info(
            f"dead-lettering entries delivered {self.max_deliveries} times or more to "
            f"{self.dead_letter or '<stream>.dlq'}"
        )

    def evaluate(self, eval, out):
        if self.dead_letter == eval.key:
            raise Fail(f"`dead_letter` = {self.dead_letter!r} is the stream itself")
        dead_letter = self.dead_letter or f"{eval.key}.dlq"
        for entry in eval.pending:
            if entry.nack == Nack.FATAL:
                out.dead_letter(entry, dead_letter, "NACKed FATAL")
            elif entry.deliveries >= self.max_deliveries and entry.idle_ms >= self.idle_ms:
                out.dead_letter(entry, dead_letter, f"delivered {entry.deliveries} times")


Lifecycle, Claiming = claim_policy(DeadLetterAfter, "dead-letter-after", "0.1.1")
