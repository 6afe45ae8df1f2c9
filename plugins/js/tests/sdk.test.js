// Unit tests of the JavaScript SDK and the example routers, on plain Node (no component):
// `node --test plugins/js/tests/`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Config, Decisions, Event, Fail, Outputs, exportRouter, packBatch, packFields, readBatch, unpackFields } from "../sluice-plugin/index.js";
import { Filter } from "../filter/filter.js";
import { Transform } from "../transform/transform.js";

const text = (pairs) => pairs.map(([n, v]) => [new TextDecoder().decode(n), new TextDecoder().decode(v)]);

test("fields and batches use the WIT layouts", () => {
  const packed = packFields([["k", "v"]]);
  assert.deepEqual([...packed], [1, 0, 0, 0, 107, 1, 0, 0, 0, 118]);
  assert.deepEqual(text(unpackFields(packed)), [["k", "v"]]);
  const batch = packBatch([["1-0", { a: "b" }], ["2-5", { c: "d" }]]);
  assert.deepEqual([...readBatch(2, batch)].map(([id]) => id), ["1-0", "2-5"]);
  assert.throws(() => [...readBatch(3, batch)], /malformed batch: event 2 of 3/);
});

test("a failed event keeps no outputs; destinations are shared", () => {
  const out = new Outputs();
  out.begin(0);
  out.forward("a");
  out.begin(1);
  out.emit("b").field("k", "v");
  out.fail("nope");
  out.begin(2);
  out.emit("a").field("x", "y");
  assert.deepEqual(out.destinations, ["a", "b"]);
  assert.deepEqual(out.outputs.map((o) => [o.event, o.destination, o.fields]), [[0, 0, undefined], [2, 0, { offset: 0, len: 10 }]]);
  assert.deepEqual(out.failures, [{ event: 1, reason: "nope" }]);
});

test("the export glue fails one event and keeps the others", () => {
  class Picky {
    route(event, out) {
      if (!event.get("ok")) throw new Fail(`event ${event.id} is not ok`);
      out.forward("good");
    }
  }
  const { lifecycle, routing } = exportRouter(Picky, "picky", "1.0.0");
  assert.deepEqual(lifecycle.describe(), { name: "picky", version: "1.0.0" });
  lifecycle.init([]);
  const routed = routing.route("s", 2, packBatch([["1-0", { ok: "1" }], ["2-0", { no: "1" }]]));
  assert.deepEqual(routed.outputs, [{ event: 0, destination: 0, fields: undefined }]);
  assert.deepEqual(routed.failures, [{ event: 1, reason: "event 2-0 is not ok" }]);
});

test("decisions refuse an entry outside the round", () => {
  const out = new Decisions({ pending: [{ index: 0 }] });
  out.ack(0);
  assert.deepEqual(out.items(), [[0, { tag: "ack" }]]);
  out.ack(3);
  assert.throws(() => out.items(), /a decision names entry 3, but the round has 1 entries/);
});

const route = (router, fields) => {
  const out = new Outputs();
  out.begin(0);
  router.route(new Event("orders", "1-0", fields), out);
  return out.current();
};

test("filter keeps what the Rust filter keeps", () => {
  const eu = new Filter(new Config([["field", "region"], ["equals", "eu"], ["destination", "orders.eu"]]));
  assert.deepEqual(route(eu, { region: "eu" }), [["orders.eu", undefined]]);
  assert.deepEqual(route(eu, { region: "us" }), []);
  assert.deepEqual(route(eu, { id: "1" }), []);
  const big = new Filter(new Config([["field", "amount"], ["op", "ge"], ["value", "10"], ["destination", "big"]]));
  assert.deepEqual(route(big, { amount: "10" }), [["big", undefined]]);
  assert.deepEqual(route(big, { amount: "9.5" }), []);
  assert.deepEqual(route(big, { amount: "lots" }), []);
  assert.throws(() => new Filter(new Config([["field", "a"], ["destination", "d"], ["op", "gt"], ["value", "x"]])), /op needs a number, got value = "x"/);
  assert.throws(() => new Filter(new Config([["field", "a"], ["destination", "d"], ["oops", "1"]])), /unknown config key `oops`/);
});

test("transform rewrites as the Rust transform does", () => {
  const t = new Transform(new Config([["rename.region", "zone"], ["drop", "id"], ["redact", "card"], ["set.v", "2"], ["destination", "clean"]]));
  assert.deepEqual(route(t, [["id", "1"], ["region", "eu"], ["card", "4111"], ["v", "1"]]), [["clean", [["zone", "eu"], ["card", "***"], ["v", "2"]]]]);
  const plain = new Transform(new Config([]));
  assert.deepEqual(route(plain, { a: "b" }), [["orders.out", [["a", "b"]]]]);
});

test("router routes as the Rust router does", async () => {
  const { FieldRouter } = await import("../router/router.js");
  const r = new FieldRouter(new Config([["field", "region"]]));
  assert.deepEqual(route(r, { region: "eu" }), [["orders.eu", undefined]]);
  assert.throws(() => route(r, { id: "1" }), /^Error: no field `region` to route on$|no field `region` to route on/);
  assert.throws(() => route(r, { region: "" }), /field `region` is empty or not UTF-8/);
  const m = new FieldRouter(new Config([["field", "region"], ["prefix", "p"], ["missing", "other"]]));
  assert.deepEqual(route(m, { id: "1" }), [["other", undefined]]);
  assert.deepEqual(route(m, { region: "us" }), [["p.us", undefined]]);
});
