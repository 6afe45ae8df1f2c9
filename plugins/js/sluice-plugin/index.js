// Sluice plugin SDK for JavaScript: write a router or a claim policy as a plain class, build it
// with `jco componentize --bundle` into a WebAssembly component the broker loads like a Rust one.
//
// The friendly view mirrors the Rust SDK (plugins/sdk):
// - routers: `Router` (`constructor(config)`, `route(event, out)`), `Event`, `Outputs`
//   (`forward`, `emit(...).field(...)`), `Fail`;
// - claim policies: `ClaimPolicy` (`constructor(config)`, `evaluate(evaluation, out)`),
//   `Decisions` (`reassign`, `deadLetter`, `ack`, `leave`);
// - both: `Config`, `log`.
// `exportRouter` / `exportClaimPolicy` turn a class into the component's exports. Everything
// but `log` runs under plain Node too, so plugins can be unit-tested with `node --test`.
//
// The packed layouts are those of wit/sluice.wit: fields are `name-len u32 LE, name,
// value-len u32 LE, value` back to back; a batch is `ms u64 LE, seq u64 LE, fields-len u32 LE,
// fields` per event.

export const WIT_VERSION = "0.1.1";

const utf8 = new TextEncoder();
const text = new TextDecoder("utf-8", { fatal: true });

const bytes = (x) => (typeof x === "string" ? utf8.encode(x) : Uint8Array.from(x));

/** Thrown by a constructor to refuse the configuration, by `route` to fail the current event,
 * by `evaluate` to fail the round. The message is the reason operators see. */
export class Fail extends Error {}

/** The error text an exception becomes: a `Fail`'s message as given, anything else prefixed
 * with its type (`TypeError: ...`). */
export function reason(e) {
  if (e instanceof Fail) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** The key/values written in the broker's config, in the order they were written. */
export class Config {
  constructor(entries = []) {
    this.entries = entries.map(([k, v]) => [String(k), String(v)]);
  }
  /** The value of `key`, or `fallback` when unset. */
  get(key, fallback = undefined) {
    const found = this.entries.find(([k]) => k === key);
    return found ? found[1] : fallback;
  }
  /** The value of `key`; throws `Fail("missing config key `key`")` when unset. */
  require(key) {
    const value = this.get(key);
    if (value === undefined) throw new Fail(`missing config key \`${key}\``);
    return value;
  }
  /** The value of `key` as a number (`fallback` when unset); throws `Fail` naming the key. */
  number(key, fallback = undefined) {
    const value = this.get(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (value.trim() === "" || Number.isNaN(n)) {
      throw new Fail(`config key \`${key}\` = ${JSON.stringify(value)}: not a number`);
    }
    return n;
  }
  /** The keys not in `known`, in order. */
  unknownKeys(known) {
    return this.entries.map(([k]) => k).filter((k) => !known.includes(k));
  }
  /** Throws `Fail("unknown config key `k`")` for the first key not in `known`. */
  checkKeys(known) {
    const [key] = this.unknownKeys(known);
    if (key !== undefined) throw new Fail(`unknown config key \`${key}\``);
  }
}

/** Packs [name, value] pairs (strings or bytes; an object's entries work) as packed fields. */
export function packFields(fields) {
  const pairs = Array.isArray(fields) ? fields : Object.entries(fields);
  const parts = pairs.map(([n, v]) => [bytes(n), bytes(v)]);
  const out = new Uint8Array(parts.reduce((s, [n, v]) => s + 8 + n.length + v.length, 0));
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const [n, v] of parts) {
    view.setUint32(pos, n.length, true);
    out.set(n, pos + 4);
    pos += 4 + n.length;
    view.setUint32(pos, v.length, true);
    out.set(v, pos + 4);
    pos += 4 + v.length;
  }
  return out;
}

/** The [name, value] byte pairs of packed fields; stops at a truncated entry. */
export function unpackFields(packed) {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const pairs = [];
  let pos = 0;
  while (pos + 4 <= packed.length) {
    const n = view.getUint32(pos, true);
    if (pos + 8 + n > packed.length) break;
    const name = packed.subarray(pos + 4, pos + 4 + n);
    pos += 4 + n;
    const m = view.getUint32(pos, true);
    if (pos + 4 + m > packed.length) break;
    pairs.push([name, packed.subarray(pos + 4, pos + 4 + m)]);
    pos += 4 + m;
  }
  return pairs;
}

/** One event of a batch: the source stream `key`, its `id` ("<ms>-<seq>"), its fields. Names
 * and values are bytes in Redis; lookups take a name as a string. */
export class Event {
  constructor(key, id, fields, index = 0) {
    this.key = key;
    this.id = id;
    this.index = index;
    // `instanceof Uint8Array` is false inside the component for the bytes jco passes in.
    this.packed = ArrayBuffer.isView(fields) ? fields : packFields(fields);
    this._pairs = undefined;
  }
  /** All [name, value] pairs as bytes, in order. */
  fields() {
    if (this._pairs === undefined) this._pairs = unpackFields(this.packed);
    return this._pairs;
  }
  /** All [name, value] pairs as text (bytes that are not UTF-8 are replaced). */
  entries() {
    const lossy = new TextDecoder();
    return this.fields().map(([n, v]) => [lossy.decode(n), lossy.decode(v)]);
  }
  /** The value of field `name` as bytes, or undefined. */
  bytes(name) {
    const want = utf8.encode(name);
    const found = this.fields().find(([n]) => n.length === want.length && n.every((b, i) => b === want[i]));
    return found ? found[1] : undefined;
  }
  /** The value of field `name` as text, or undefined if missing or not UTF-8. */
  get(name) {
    const value = this.bytes(name);
    if (value === undefined) return undefined;
    try {
      return text.decode(value);
    } catch {
      return undefined;
    }
  }
  /** The value of field `name` as a number, or undefined if missing or not a number. */
  number(name) {
    const value = this.get(name);
    const n = Number(value);
    return value === undefined || value.trim() === "" || Number.isNaN(n) ? undefined : n;
  }
}

/** Yields [id, packedFields] for the `count` events of a batch; throws if it ends early. */
export function* readBatch(count, events) {
  const view = new DataView(events.buffer, events.byteOffset, events.byteLength);
  let pos = 0;
  for (let index = 0; index < count; index++) {
    if (pos + 20 > events.length) throw new Fail(`malformed batch: event ${index} of ${count}`);
    const id = `${view.getBigUint64(pos, true)}-${view.getBigUint64(pos + 8, true)}`;
    const n = view.getUint32(pos + 16, true);
    pos += 20;
    if (pos + n > events.length) throw new Fail(`malformed batch: event ${index} of ${count}`);
    yield [id, events.subarray(pos, pos + n)];
    pos += n;
  }
}

/** Packs [id, fields] pairs as the broker passes a batch (for tests). */
export function packBatch(events) {
  const parts = events.map(([id, fields]) => [id.split("-").map(BigInt), packFields(fields)]);
  const out = new Uint8Array(parts.reduce((s, [, f]) => s + 20 + f.length, 0));
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const [[ms, seq = 0n], f] of parts) {
    view.setBigUint64(pos, ms, true);
    view.setBigUint64(pos + 8, seq, true);
    view.setUint32(pos + 16, f.length, true);
    out.set(f, pos + 20);
    pos += 20 + f.length;
  }
  return out;
}

/** The outputs of a batch. For each event call `forward` (same fields) or `emit` (new fields)
 * any number of times: zero drops the event, several fan out. */
export class Outputs {
  constructor() {
    this.destinations = [];
    this.destIndex = new Map();
    this.outputs = []; // { event, destination, fields: undefined | { offset, len } }
    this.chunks = [];
    this.newLen = 0;
    this.failures = [];
    this.event = 0;
    this.mark = [0, 0, 0];
  }
  intern(destination) {
    let i = this.destIndex.get(destination);
    if (i === undefined) {
      i = this.destinations.length;
      this.destinations.push(destination);
      this.destIndex.set(destination, i);
    }
    return i;
  }
  /** Sends the current event, unchanged, to stream `destination` (nothing is copied back). */
  forward(destination) {
    this.outputs.push({ event: this.event, destination: this.intern(destination), fields: undefined });
  }
  /** Sends new fields to `destination`: add them with `.field(name, value)` or `.fields(obj)`. */
  emit(destination) {
    const span = { offset: this.newLen, len: 0 };
    this.outputs.push({ event: this.event, destination: this.intern(destination), fields: span });
    const out = this;
    const builder = {
      field(name, value) {
        const packed = packFields([[name, value]]);
        out.chunks.push(packed);
        out.newLen += packed.length;
        span.len += packed.length;
        return builder;
      },
      fields(pairs) {
        for (const [n, v] of Array.isArray(pairs) ? pairs : Object.entries(pairs)) builder.field(n, v);
        return builder;
      },
    };
    return builder;
  }
  /** The current event's outputs so far: [destination, undefined | [[name, value]...]] with
   * text names and values. For unit tests of a plugin. */
  current() {
    const all = this.newFields();
    const lossy = new TextDecoder();
    return this.outputs.slice(this.mark[0]).map((o) => [
      this.destinations[o.destination],
      o.fields && unpackFields(all.subarray(o.fields.offset, o.fields.offset + o.fields.len))
        .map(([n, v]) => [lossy.decode(n), lossy.decode(v)]),
    ]);
  }
  /** Starts recording for event `index` (the export glue's side). */
  begin(index) {
    this.event = index;
    this.mark = [this.outputs.length, this.chunks.length, this.newLen];
  }
  /** Drops the current event's outputs and records its failure instead. */
  fail(why) {
    this.outputs.length = this.mark[0];
    this.chunks.length = this.mark[1];
    this.newLen = this.mark[2];
    this.failures.push({ event: this.event, reason: String(why) });
  }
  /** All new fields, one buffer. */
  newFields() {
    const out = new Uint8Array(this.newLen);
    let pos = 0;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }
}

/** A routing rule: subclass it (`constructor(config)`, `route(event, out)`), then
 * `export const { lifecycle, routing } = exportRouter(MyRouter, "name", "version")`. */
export class Router {
  constructor(_config) {}
  route(_event, _out) {
    throw new Fail("route is not implemented");
  }
}

/** A consumer group's redelivery policy: subclass it (`constructor(config)`,
 * `evaluate(evaluation, out)`), then `export const { lifecycle, claiming } =
 * exportClaimPolicy(MyPolicy, "name", "version")`. `evaluation` has `key`, `group`, `pending`
 * (each `{ index, id, owner, idleMs, deliveries, nack }`, `nack` undefined, "retry" or
 * "fatal") and `consumers` (`{ name, seenIdleMs, activeIdleMs, pending }`). */
export class ClaimPolicy {
  constructor(_config) {}
  evaluate(_evaluation, _out) {}
}

/** A claim policy's answer: at most one action per entry (the last given wins). `entry` is a
 * pending entry or its index. */
export class Decisions {
  constructor(evaluation) {
    this.slots = new Array(evaluation.pending.length).fill(undefined);
    this.outOfRange = undefined;
  }
  set(entry, action) {
    const i = typeof entry === "number" ? entry : entry.index;
    if (i >= 0 && i < this.slots.length) this.slots[i] = action;
    else if (this.outOfRange === undefined) this.outOfRange = i;
  }
  reassign(entry, consumer) {
    this.set(entry, { tag: "reassign", val: consumer });
  }
  deadLetter(entry, key, why) {
    this.set(entry, { tag: "dead-letter", val: { key, reason: String(why) } });
  }
  ack(entry) {
    this.set(entry, { tag: "ack" });
  }
  leave(entry) {
    this.set(entry, undefined);
  }
  /** [index, action] for each entry acted on; throws if a decision named no entry. */
  items() {
    if (this.outOfRange !== undefined) {
      throw new Fail(`a decision names entry ${this.outOfRange}, but the round has ${this.slots.length} entries`);
    }
    return this.slots.flatMap((a, i) => (a === undefined ? [] : [[i, a]]));
  }
}

function lifecycle(Class, name, version, state) {
  return {
    describe: () => ({ name, version }),
    init(config) {
      try {
        state.plugin = new Class(new Config(config));
      } catch (e) {
        // jco turns a thrown value into the `err` of a `result` return.
        throw reason(e);
      }
    },
  };
}

/** The `lifecycle` and `routing` exports for the router class `Class`, which describes
 * itself as `name` `version`. */
export function exportRouter(Class, name, version) {
  const state = {};
  return {
    lifecycle: lifecycle(Class, name, version, state),
    routing: {
      route(key, count, events) {
        if (!state.plugin) throw "route called before init";
        const out = new Outputs();
        let index = 0;
        for (const [id, fields] of readBatch(count, events)) {
          out.begin(index);
          try {
            state.plugin.route(new Event(key, id, fields, index), out);
          } catch (e) {
            out.fail(reason(e));
          }
          index++;
        }
        return {
          destinations: out.destinations,
          outputs: out.outputs,
          newFields: out.newFields(),
          failures: out.failures,
        };
      },
    },
  };
}

/** The `lifecycle` and `claiming` exports for the claim policy class `Class`. */
export function exportClaimPolicy(Class, name, version, nacks = () => []) {
  const state = {};
  return {
    lifecycle: lifecycle(Class, name, version, state),
    claiming: {
      evaluate(key, group, pending, consumers) {
        if (!state.plugin) throw "evaluate called before init";
        const states = nacks();
        const evaluation = {
          key,
          group,
          pending: pending.map((p, index) => ({
            index,
            id: `${p.id.ms}-${p.id.seq}`,
            owner: p.owner,
            idleMs: Number(p.idleMs),
            deliveries: Number(p.deliveries),
            nack: states[index] ?? undefined,
          })),
          consumers: consumers.map((c) => ({
            name: c.name,
            seenIdleMs: Number(c.seenIdleMs),
            activeIdleMs: c.activeIdleMs === undefined ? undefined : Number(c.activeIdleMs),
            pending: Number(c.pending),
          })),
        };
        const out = new Decisions(evaluation);
        try {
          state.plugin.evaluate(evaluation, out);
          return out.items().map(([entry, action]) => ({ entry, action }));
        } catch (e) {
          throw reason(e);
        }
      },
    },
  };
}
