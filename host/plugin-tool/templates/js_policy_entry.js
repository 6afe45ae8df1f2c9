// The component's exports: the policy of policy.js, with the broker's NACK states.
import { nacks } from "sluice:plugin/pending-state@0.1.1";
import { exportClaimPolicy } from "./sluice-plugin/index.js";
import { Plugin } from "./policy.js";

export const { lifecycle, claiming } = exportClaimPolicy(Plugin, "{{name}}", "0.1.0", nacks);
