//! The keys of a logged command, for the broker's pass that hides from readers what a failed
//! log has not written ([`sluice_broker::persist::visibility`]): the command table knows them.

use bytes::Bytes;
use sluice_resp::Args;

use crate::acl::check::for_each_key;
use crate::cmd;

/// Calls `visit` with each key `command` (name first) touches; false if it names no key the
/// table knows of (an unknown command, or one whose effect is not tied to keys).
pub fn logged_keys(command: &[Bytes], visit: &mut dyn FnMut(&[u8])) -> bool {
    let Ok(resolved) = cmd::resolve(&Args::new(command.to_vec())) else {
        return false;
    };
    let Some(entry) = cmd::catalog().get(resolved.index) else {
        return false;
    };
    let mut any = false;
    for_each_key(entry, command, |position, _| {
        if let Some(key) = command.get(position) {
            visit(key);
            any = true;
        }
        true
    });
    any
}
