// Unit tests of {{name}}, on plain Node: `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Config, Decisions } from "./sluice-plugin/index.js";
import { Plugin } from "./policy.js";

test("dead-letters entries delivered too often", () => {
  const evaluation = {
    key: "jobs",
    group: "g",
    pending: [{ index: 0, id: "1-0", owner: "a", idleMs: 10, deliveries: 5 }, { index: 1, id: "2-0", owner: "a", idleMs: 10, deliveries: 1 }],
    consumers: [],
  };
  const out = new Decisions(evaluation);
  new Plugin(new Config()).evaluate(evaluation, out);
  assert.deepEqual(out.items(), [[0, { tag: "dead-letter", val: { key: "jobs.dlq", reason: "delivered 5 times" } }]]);
});
