// Example plugin `transform` in JavaScript: rewrites each event's fields and sends the result
// to one stream. Same behaviour and config as the Rust plugins/transform.
//
// Config (applied in this order):
// - `rename.<old> = "<new>"`: renames a field.
// - `drop = "a,b"`: removes fields.
// - `redact = "a,b"`: replaces the values of fields with `redact_with` (default `"***"`).
// - `set.<name> = "<value>"`: adds a field (or overwrites it).
// - `destination`: the stream that receives the rewritten events (default `<source>.out`).
import { Fail, Router, exportRouter } from "../sluice-plugin/index.js";

const list = (value) =>
  (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");

export class Transform extends Router {
  constructor(config) {
    super(config);
    this.renames = new Map();
    this.set = [];
    for (const [key, value] of config.entries) {
      if (key.startsWith("rename.")) this.renames.set(key.slice(7), value);
      else if (key.startsWith("set.")) this.set.push([key.slice(4), value]);
      else if (!["drop", "redact", "redact_with", "destination"].includes(key)) {
        throw new Fail(`unknown config key \`${key}\``);
      }
    }
    this.dropped = new Set(list(config.get("drop")));
    this.redacted = new Set(list(config.get("redact")));
    this.redactWith = config.get("redact_with", "***");
    this.destination = config.get("destination");
    for (const [name] of this.set) this.dropped.add(name);
  }

  route(event, out) {
    const fields = out.emit(this.destination ?? `${event.key}.out`);
    const lossy = new TextDecoder();
    for (const [rawName, value] of event.fields()) {
      // Config keys are text: a name that is not UTF-8 matches none of them and stays as is.
      const name = lossy.decode(rawName);
      if (this.dropped.has(name)) continue;
      const newName = this.renames.has(name) ? this.renames.get(name) : rawName;
      fields.field(newName, this.redacted.has(name) ? this.redactWith : value);
    }
    for (const [name, value] of this.set) fields.field(name, value);
  }
}

export const { lifecycle, routing } = exportRouter(Transform, "transform", "0.1.1");
