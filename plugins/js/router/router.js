// Example plugin `router` in JavaScript: sends each event, unchanged, to
// `<prefix>.<value of a field>`, e.g. `orders` -> `orders.eu` for `region = eu`. Same behaviour,
// config and reasons as the Rust plugins/router and the Python plugins/python/router.
//
// Config:
// - `field` (required): the field whose value picks the destination.
// - `prefix`: the destination's prefix (default: the source stream's key).
// - `missing`: where events without the field go; when unset they fail (and are
//   dead-lettered with the reason, or skipped, per the route's `on_error`).
import { Fail, Router, exportRouter } from "../sluice-plugin/index.js";

export class FieldRouter extends Router {
  constructor(config) {
    super(config);
    config.checkKeys(["field", "prefix", "missing"]);
    this.field = config.require("field");
    this.prefix = config.get("prefix");
    this.missing = config.get("missing");
  }

  route(event, out) {
    if (event.bytes(this.field) === undefined) {
      if (this.missing === undefined) throw new Fail(`no field \`${this.field}\` to route on`);
      out.forward(this.missing);
      return;
    }
    const value = event.get(this.field);
    if (!value) throw new Fail(`field \`${this.field}\` is empty or not UTF-8`);
    out.forward(`${this.prefix ?? event.key}.${value}`);
  }
}

export const { lifecycle, routing } = exportRouter(FieldRouter, "router", "0.1.1");
