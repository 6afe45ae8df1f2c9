"""Example plugin ``router`` in Python: sends each event, unchanged, to
``<prefix>.<value of a field>``, e.g. ``orders`` -> ``orders.eu`` for ``region = eu``. Same
behaviour, config and reasons as the Rust ``plugins/router``.

Config:
- ``field`` (required): the field whose value picks the destination.
- ``prefix``: the destination's prefix (default: the source stream's key).
- ``missing``: where events without the field go; when unset they fail (and are
  dead-lettered with the reason, or skipped, per the route's ``on_error``).

Build: ``sluice plugin build`` in this folder (or see plugins/README.md).
"""

from sluice_plugin import Fail, Router
from sluice_plugin.export import router


class FieldRouter(Router):
    def __init__(self, config):
        config.check_keys(["field", "prefix", "missing"])
        self.field = config.require("field")
        self.prefix = config.get("prefix")
        self.missing = config.get("missing")

    def route(self, event, out):
        value = event.get(self.field)
        if value is None:
            if self.missing is None:
                raise Fail(f"no field `{self.field}` to route on")
            out.forward(self.missing)
            return
        try:
            text = value.decode()
        except UnicodeDecodeError:
            text = ""
        if not text:
            raise Fail(f"field `{self.field}` is empty or not UTF-8")
        out.forward(f"{self.prefix or event.key}.{text}")


Lifecycle, Routing = router(FieldRouter, "router", "0.1.1")
