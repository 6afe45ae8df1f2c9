//! Protected mode, as Redis has it: while the `default` user has no password, a server
//! reachable from other machines serves only clients on the loopback interface, and tells the
//! others how to open it up.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use crate::shared::Shared;

/// What a refused client is told before the connection closes: Redis's text, with Sluice's
/// ways of turning protected mode off or setting a password.
pub const DENIED_REPLY: &[u8] = b"-DENIED Sluice is running in protected mode because protected \
mode is enabled and no password is set for the default user. In this mode connections are only \
accepted from the loopback interface. If you want to connect from external computers to Sluice \
you may adopt one of the following solutions: 1) Just disable protected mode sending the command \
'CONFIG SET protected-mode no' from the loopback interface by connecting to Sluice from the same \
host the server is running, however MAKE SURE Sluice is not publicly accessible from internet if \
you do so. 2) Alternatively you can just disable the protected mode by setting \
'protected-mode = false' in the config file and restarting the server. 3) If you started the \
server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an \
authentication password for the default user (--requirepass, or ACL SETUSER default). NOTE: You \
only need to do one of the above things in order for the server to start accepting connections \
from the outside.\r\n";

/// True if a client from `peer` must be refused now.
pub fn refuses(shared: &Shared, peer: IpAddr) -> bool {
    shared.settings.protected_mode.load(Ordering::Relaxed) != 0
        && !is_local(peer)
        && shared.acl.default_user().nopass
}

/// The loopback interface, also as an IPv4-mapped IPv6 address (a dual-stack listener).
fn is_local(peer: IpAddr) -> bool {
    peer.to_canonical().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_in_every_form_is_local() {
        for local in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"] {
            assert!(is_local(local.parse().expect("address")), "{local}");
        }
        for remote in [
            "192.0.2.2",
            "10.0.0.1",
            "::ffff:192.0.2.2",
            "fe80::1",
            "0.0.0.0",
        ] {
            assert!(!is_local(remote.parse().expect("address")), "{remote}");
        }
    }
}
