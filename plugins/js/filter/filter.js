// Example plugin `filter` in JavaScript: keeps the events whose field matches a condition and
// forwards them, unchanged, to one stream; drops the rest. Same behaviour and config as the
// Rust plugins/filter.
//
// Config:
// - `field` (required): the field to test, e.g. `region`.
// - `equals = X`: shorthand for `op = "eq"`, `value = X`.
// - `op`: `eq`, `ne` (text), `gt`, `ge`, `lt`, `le` (numbers), `exists`, `prefix`, `contains`.
// - `value`: what to compare with (not needed for `exists`).
// - `destination` (required): the stream that receives the kept events.
//
// An event without the field, or whose field is not a number for a numeric `op`, is dropped.
import { Fail, Router, exportRouter } from "../sluice-plugin/index.js";

const NUMERIC = { gt: (c) => c > 0, ge: (c) => c >= 0, lt: (c) => c < 0, le: (c) => c <= 0 };
const OPS = ["eq", "ne", "gt", "ge", "lt", "le", "exists", "prefix", "contains"];

export class Filter extends Router {
  constructor(config) {
    super(config);
    config.checkKeys(["field", "equals", "op", "value", "destination"]);
    this.field = config.require("field");
    this.destination = config.require("destination");
    const equals = config.get("equals");
    const op = config.get("op");
    if (equals !== undefined && op !== undefined) throw new Fail("give `equals` or `op`, not both");
    if (equals !== undefined) {
      this.op = "eq";
      this.value = equals;
    } else {
      this.op = op ?? "eq";
      if (!OPS.includes(this.op)) throw new Fail(`unknown op \`${this.op}\``);
      this.value = this.op === "exists" ? config.get("value", "") : config.require("value");
    }
    if (this.op in NUMERIC) {
      this.number = Number(this.value);
      if (this.value.trim() === "" || Number.isNaN(this.number)) {
        throw new Fail(`op needs a number, got value = ${JSON.stringify(this.value)}`);
      }
    }
    this.want = new TextEncoder().encode(this.value);
  }

  route(event, out) {
    const got = event.bytes(this.field);
    if (got !== undefined && this.keeps(event, got)) out.forward(this.destination);
  }

  keeps(event, got) {
    const want = this.want;
    const same = (at) => want.every((b, i) => got[at + i] === b);
    switch (this.op) {
      case "eq":
        return got.length === want.length && same(0);
      case "ne":
        return !(got.length === want.length && same(0));
      case "exists":
        return true;
      case "prefix":
        return got.length >= want.length && same(0);
      case "contains":
        for (let at = 0; at + want.length <= got.length; at++) if (same(at)) return true;
        return false;
      default: {
        const n = event.number(this.field);
        return n !== undefined && NUMERIC[this.op](Math.sign(n - this.number));
      }
    }
  }
}

export const { lifecycle, routing } = exportRouter(Filter, "filter", "0.1.1");
