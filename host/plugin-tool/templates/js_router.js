// {{name}}: a Sluice router. Forwards every event, unchanged, to `destination` (default
// `<source>.out`); drops events whose `drop` field is `yes`. Works with no config.
//
// Edit `route`; `node --test` runs plugin.test.js; `sluice plugin build` builds the component.
import { Fail, Router, exportRouter } from "./sluice-plugin/index.js";

export class Plugin extends Router {
  constructor(config) {
    super(config);
    config.checkKeys(["destination"]);
    this.destination = config.get("destination");
    if (this.destination === "") throw new Fail("`destination` must not be empty");
  }

  route(event, out) {
    if (event.get("drop") === "yes") return;
    out.forward(this.destination ?? `${event.key}.out`);
  }
}

export const { lifecycle, routing } = exportRouter(Plugin, "{{name}}", "0.1.0");
