"""Unit tests of the Python SDK and the example plugins' logic, on a plain CPython (no
component): ``python3 -m unittest discover -s plugins/python/tests``."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from sluice_plugin import (  # noqa: E402
    Ack,
    Balancer,
    Config,
    DeadLetter,
    Decisions,
    EntryId,
    Evaluation,
    Event,
    Fail,
    Nack,
    Outputs,
    Reassign,
    pack_batch,
    pack_fields,
    read_batch,
    unpack_fields,
)


def load_example(folder):
    """The example's plugin class, without its export line (which needs the bindings)."""
    path = os.path.join(os.path.dirname(HERE), folder, "app.py")
    with open(path) as f:
        source = f.read()
    body = source.split("\nLifecycle, ")[0].replace("from sluice_plugin.export import", "#")
    namespace = {}
    exec(compile(body, path, "exec"), namespace)
    return namespace


class Packed(unittest.TestCase):
    def test_fields_round_trip_in_the_wit_layout(self):
        packed = pack_fields([("k", "v"), (b"x", b"\x01\x02")])
        self.assertEqual(packed, b"\x01\0\0\0k\x01\0\0\0v\x01\0\0\0x\x02\0\0\0\x01\x02")
        self.assertEqual(unpack_fields(packed), [(b"k", b"v"), (b"x", b"\x01\x02")])
        self.assertEqual(unpack_fields(packed + b"\x09\x09"), unpack_fields(packed))

    def test_batch_reader_walks_events_and_refuses_a_short_batch(self):
        fields = pack_fields({"a": "b"})
        batch = pack_batch([(EntryId(1, 0), fields), (EntryId(2, 5), fields)])
        self.assertEqual(
            [(str(i), f) for i, f in read_batch(2, batch)], [("1-0", fields), ("2-5", fields)]
        )
        with self.assertRaisesRegex(ValueError, "malformed batch: event 2 of 3"):
            list(read_batch(3, batch))

    def test_events_read_fields_by_name(self):
        e = Event("orders", "5-1", {"region": "eu", "amount": "19.5", "bin": b"\xff"})
        self.assertEqual((e.key, str(e.id)), ("orders", "5-1"))
        self.assertEqual(e.get("region"), b"eu")
        self.assertEqual(e.str("region"), "eu")
        self.assertEqual(e.number("amount"), 19.5)
        self.assertIsNone(e.str("bin"))
        self.assertIsNone(e.get("missing"))
        self.assertEqual(len(e.fields()), 3)


class OutputsShape(unittest.TestCase):
    def test_forward_and_emit_share_destinations_and_pack_fields(self):
        out = Outputs()
        out.begin(0)
        out.forward("a")
        out.emit("b").field("k", "v").field("x", b"\x01")
        out.begin(1)
        out.forward("a")
        dests, outputs, new_fields, failures = out.parts()
        self.assertEqual(dests, ["a", "b"])
        self.assertEqual(outputs, [(0, 0, -1, 0), (0, 1, 0, len(new_fields)), (1, 0, -1, 0)])
        self.assertEqual(unpack_fields(new_fields), [(b"k", b"v"), (b"x", b"\x01")])
        self.assertEqual(failures, [])

    def test_a_failed_event_keeps_no_outputs(self):
        out = Outputs()
        out.begin(0)
        out.forward("a")
        out.begin(1)
        out.emit("b").field("k", "v")
        out.fail("nope")
        dests, outputs, new_fields, failures = out.parts()
        self.assertEqual((outputs, new_fields, failures), ([(0, 0, -1, 0)], b"", [(1, "nope")]))


class ConfigChecks(unittest.TestCase):
    def test_lookups_and_errors_name_the_key(self):
        c = Config([("field", "region"), ("min", "x")])
        self.assertEqual(c.get("field"), "region")
        with self.assertRaisesRegex(Fail, "^missing config key `nope`$"):
            c.require("nope")
        with self.assertRaisesRegex(Fail, "`min`"):
            c.parse("min", float)
        self.assertEqual(c.parse("unset", float, 2.0), 2.0)
        self.assertEqual(c.unknown_keys(["field"]), ["min"])


class PolicyView(unittest.TestCase):
    def eval(self):
        return (
            Evaluation("orders", "g")
            .with_pending("1-0", "a", 100, 4)
            .with_pending("2-0", "a", 100, 5)
            .with_pending("3-0", "b", 9000, 6)
            .with_pending("4-0", "", 0, 2**63 - 1, Nack.FATAL)
            .with_pending("5-0", "", 9000, 9, Nack.RETRY)
            .with_consumer("a", 0, 0, 2)
            .with_consumer("b", 0, 0, 1)
        )

    def test_decisions_keep_the_last_one_and_refuse_out_of_range(self):
        ev = self.eval()
        out = Decisions(ev)
        out.reassign(0, "b")
        out.ack(ev.entry(1))
        out.dead_letter(2, "dlq", "why")
        out.leave(0)
        self.assertEqual(out.items(), [(1, Ack()), (2, DeadLetter("dlq", "why"))])
        out.ack(9)
        with self.assertRaisesRegex(Fail, "a decision names entry 9, but the round has 5"):
            out.items()

    def test_balancer_spreads_and_skips_the_owner(self):
        ev = Evaluation("s", "g").with_pending("1", "a", 0, 1).with_pending("2", "a", 0, 1)
        ev.with_consumer("a", 0, None, 2).with_consumer("b", 0, None, 0)
        ev.with_consumer("c", 0, None, 0).with_consumer("dead", 99999, None, 0)
        pick = Balancer.alive(ev, 1000)
        self.assertEqual([pick.pick_for(e) for e in ev.pending], ["b", "c"])

    def test_dead_letter_after_matches_the_rust_example(self):
        Policy = load_example("dead_letter_after")["DeadLetterAfter"]
        ev = self.eval()

        def decided(pairs):
            out = Decisions(ev)
            Policy(Config(pairs)).evaluate(ev, out)
            return out.items()

        dlq = lambda key, n: DeadLetter(key, f"delivered {n} times")  # noqa: E731
        fatal = DeadLetter("orders.dlq", "NACKed FATAL")
        self.assertEqual(
            decided([("max_deliveries", "5")]),
            [(1, dlq("orders.dlq", 5)), (2, dlq("orders.dlq", 6)), (3, fatal),
             (4, dlq("orders.dlq", 9))],
        )
        self.assertEqual(
            decided([("max_deliveries", "5"), ("dead_letter", "poison"), ("idle_ms", "1000")]),
            [(2, dlq("poison", 6)), (3, DeadLetter("poison", "NACKed FATAL")),
             (4, dlq("poison", 9))],
        )
        for bad in ([], [("max_deliveries", "0")], [("max_deliveries", "2"), ("dead_letter", "")],
                    [("max_deliveries", "2"), ("typo", "1")]):
            with self.assertRaises(Fail):
                Policy(Config(bad))
        with self.assertRaisesRegex(Fail, "the stream itself"):
            decided([("max_deliveries", "2"), ("dead_letter", "orders")])


class RouterExample(unittest.TestCase):
    def test_routes_like_the_rust_example(self):
        FieldRouter = load_example("router")["FieldRouter"]
        r = FieldRouter(Config([("field", "region")]))

        def route(fields):
            out = Outputs()
            out.begin(0)
            try:
                r.route(Event("orders", "1-0", fields), out)
            except Fail as e:
                return str(e)
            return out.current()

        self.assertEqual(route({"region": "eu"}), [("orders.eu", None)])
        self.assertEqual(route({"id": "1"}), "no field `region` to route on")
        self.assertEqual(route({"region": ""}), "field `region` is empty or not UTF-8")
        with self.assertRaisesRegex(Fail, "unknown config key `prefx`"):
            FieldRouter(Config([("field", "region"), ("prefx", "x")]))


if __name__ == "__main__":
    unittest.main()
