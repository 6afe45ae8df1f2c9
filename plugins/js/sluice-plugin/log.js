// The broker's log, tagged with the plugin's configured name: `log.info("...")`. Inside a
// component these call the WIT `log` import (`sluice:plugin/log`); import this module only
// from the plugin's entry file, as the bindings exist only when jco componentizes it.
import { log as write } from "sluice:plugin/log@0.1.1";

export const trace = (message) => write("trace", String(message));
export const debug = (message) => write("debug", String(message));
export const info = (message) => write("info", String(message));
export const warn = (message) => write("warn", String(message));
export const error = (message) => write("error", String(message));
