//! Attached mode (`--attach`) as the front end sees it: the data lives on the attached
//! cluster, so this instance serves only what describes and runs its routes and policies.

use sluice_resp::Reply;

use crate::cmd::Resolved;
use crate::shared::Shared;

/// The commands an attached instance serves: connection handling, `PING`, `INFO`, `SLUICE …`,
/// `SHUTDOWN`, and the ACL and `CONFIG` that guard them.
const SERVED: &[&str] = &[
    "ping", "echo", "info", "sluice", "shutdown", "hello", "auth", "client", "quit", "reset",
    "command", "acl", "config", "time",
];

/// The `SLUICE` subcommands it serves (not `REDELIVER`: the entries are on the cluster).
const SLUICE_SERVED: &[&str] = &["routes", "plugins", "policies", "reload", "help"];

/// Whether an attached instance runs `resolved`.
fn serves(resolved: &Resolved) -> bool {
    match (resolved.command.name, resolved.sub) {
        ("sluice", Some(sub)) => SLUICE_SERVED.contains(&sub.name),
        (name, _) => SERVED.contains(&name),
    }
}

/// The error an attached instance answers `resolved` with, if it does not run it.
pub fn refusal(shared: &Shared, resolved: &Resolved) -> Option<Reply> {
    if shared.broker.attached().is_none() || serves(resolved) {
        return None;
    }
    Some(Reply::Error(format!(
        "ERR this Sluice instance is attached to {}: it stores no data and runs routes and \
         claim policies only; send data commands to the attached server",
        shared.config.attach.join(", ")
    )))
}
