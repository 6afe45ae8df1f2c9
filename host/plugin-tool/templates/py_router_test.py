"""Unit tests of {{name}}, on plain CPython: `python3 -m unittest`."""

import unittest

from app import Plugin
from sluice_plugin import Config, Event, Outputs


def route(plugin, fields):
    out = Outputs()
    out.begin(0)
    plugin.route(Event("orders", "1-0", fields), out)
    return out.current()


class RouterTest(unittest.TestCase):
    def test_forwards_to_source_out_without_config(self):
        self.assertEqual(route(Plugin(Config()), {"id": "1"}), [("orders.out", None)])

    def test_drops_what_is_marked(self):
        self.assertEqual(route(Plugin(Config()), {"drop": "yes"}), [])

    def test_destination_is_configurable(self):
        plugin = Plugin(Config([("destination", "copies")]))
        self.assertEqual(route(plugin, {"id": "1"}), [("copies", None)])


if __name__ == "__main__":
    unittest.main()
