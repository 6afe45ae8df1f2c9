// {{name}}: a Sluice claim policy. Dead-letters entries delivered `max_deliveries` times
// (default 5) to `dead_letter` (default `<stream>.dlq`), and those a consumer NACKed FATAL.
//
// Edit `evaluate`; `node --test` runs policy.test.js; `sluice plugin build` builds it.
import { ClaimPolicy, Fail } from "./sluice-plugin/index.js";

export class Plugin extends ClaimPolicy {
  constructor(config) {
    super(config);
    config.checkKeys(["max_deliveries", "dead_letter"]);
    this.maxDeliveries = config.number("max_deliveries", 5);
    if (this.maxDeliveries < 1) throw new Fail("`max_deliveries` must be at least 1");
    this.deadLetter = config.get("dead_letter");
  }

  evaluate(evaluation, out) {
    const deadLetter = this.deadLetter ?? `${evaluation.key}.dlq`;
    for (const entry of evaluation.pending) {
      if (entry.nack === "fatal") out.deadLetter(entry, deadLetter, "NACKed FATAL");
      else if (entry.deliveries >= this.maxDeliveries) {
        out.deadLetter(entry, deadLetter, `delivered ${entry.deliveries} times`);
      }
    }
  }
}
