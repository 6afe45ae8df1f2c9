// Unit tests of {{name}}, on plain Node: `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Config, Event, Outputs } from "./sluice-plugin/index.js";
import { Plugin } from "./plugin.js";

const route = (plugin, fields) => {
  const out = new Outputs();
  out.begin(0);
  plugin.route(new Event("orders", "1-0", fields), out);
  return out.current();
};

test("forwards to <source>.out without config, drops what is marked", () => {
  const plugin = new Plugin(new Config());
  assert.deepEqual(route(plugin, { id: "1" }), [["orders.out", undefined]]);
  assert.deepEqual(route(plugin, { drop: "yes" }), []);
});
