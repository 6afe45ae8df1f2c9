"""{{name}}: a Sluice router. Forwards every event, unchanged, to `destination` (default
`<source>.out`); drops events whose `drop` field is `yes`. Works with no config.

Edit `route`; `python3 -m unittest` runs test_app.py; `sluice plugin build` builds the
component; see the Sluice plugins guide for the API.
"""

from sluice_plugin import Fail, Router
from sluice_plugin.export import router


class Plugin(Router):
    def __init__(self, config):
        config.check_keys(["destination"])
        self.destination = config.get("destination")
        if self.destination == "":
            raise Fail("`destination` must not be empty")

    def route(self, event, out):
        if event.str("drop") == "yes":
            return
        out.forward(self.destination or f"{event.key}.out")


Lifecycle, Routing = router(Plugin, "{{name}}", "0.1.0")
