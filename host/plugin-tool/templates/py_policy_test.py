"""Unit tests of {{name}}, on plain CPython: `python3 -m unittest`."""

import unittest

from app import Plugin
from sluice_plugin import Config, DeadLetter, Decisions, Evaluation


class PolicyTest(unittest.TestCase):
    def test_dead_letters_entries_delivered_too_often(self):
        ev = Evaluation("jobs", "g").with_pending("1-0", "a", 10, 5).with_pending("2-0", "a", 10, 1)
        out = Decisions(ev)
        Plugin(Config()).evaluate(ev, out)
        self.assertEqual(out.items(), [(0, DeadLetter("jobs.dlq", "delivered 5 times"))])


if __name__ == "__main__":
    unittest.main()
