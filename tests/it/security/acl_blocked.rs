//! Rules changed while a client is blocked: a reader whose user lost the command or the key
//! gets `NOPERM` when a write would serve it, and nothing is read or popped for it (what
//! redis-server 7.0.15 and valkey-server 8.1 answer, by experiment: the refusal they give a
//! command run now, in 7.2's wording, logged in `ACL LOG`). A deleted user's connections
//! close at once, blocked or idle.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use sluice_tests::{RawClient, TestServer};

use super::acl::login;
use crate::replies::{a, b, i};

const KEY_DENIED: &str = "-NOPERM No permissions to access a key\r\n";

/// A server where `bob` (no password) may run the blocking reads on keys `s*`.
fn server() -> Result<TestServer> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&[
        "ACL",
        "SETUSER",
        "bob",
        "on",
        "nopass",
        "~s*",
        "+xread",
        "+xreadgroup",
        "+blpop",
        "+ping",
    ])?;
    Ok(server)
}

/// Waits until `n` clients are blocked.
fn until_blocked(admin: &mut RawClient, n: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while admin.info_field("clients", "blocked_clients")? != n.to_string() {
        if Instant::now() > deadline {
            bail!("{n} clients never blocked");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// `bob` blocks in `command`; `change` is applied to him; `write` wakes him: his reply.
fn blocked_then(
    server: &TestServer,
    command: &[&str],
    change: &str,
    write: &[&str],
) -> Result<String> {
    let mut admin = server.raw()?;
    let mut bob = login(server, "bob", "x")?;
    let args: Vec<&[u8]> = command.iter().map(|s| s.as_bytes()).collect();
    bob.send_cmd(&args)?;
    until_blocked(&mut admin, 1)?;
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "bob", change])?, "+OK\r\n");
    admin.cmd(write)?;
    bob.read_reply()
}

#[test]
fn a_reader_that_lost_its_key_or_command_gets_noperm() -> Result<()> {
    let server = server()?;
    let mut admin = server.raw()?;
    let xread = ["XREAD", "BLOCK", "0", "STREAMS", "s1", "$"];
    assert_eq!(
        blocked_then(&server, &xread, "resetkeys", &["XADD", "s1", "*", "a", "1"])?,
        KEY_DENIED
    );
    // The refusal is counted and logged as any other.
    assert_eq!(admin.info_field("stats", "acl_access_denied_key")?, "1");
    let log = admin.cmd(&["ACL", "LOG", "1"])?;
    assert!(
        log.contains(&format!("{}{}", b("object"), b("s1")))
            && log.contains(&format!("{}{}", b("username"), b("bob"))),
        "{log}"
    );
    admin.cmd(&["ACL", "SETUSER", "bob", "~s*"])?;
    assert_eq!(
        blocked_then(&server, &xread, "-xread", &["XADD", "s1", "*", "a", "2"])?,
        "-NOPERM User bob has no permissions to run the 'xread' command\r\n"
    );
    admin.cmd(&["ACL", "SETUSER", "bob", "+xread"])?;

    // BLPOP: refused, and the element stays in the list.
    assert_eq!(
        blocked_then(
            &server,
            &["BLPOP", "s2", "0"],
            "resetkeys",
            &["RPUSH", "s2", "a"]
        )?,
        KEY_DENIED
    );
    assert_eq!(admin.cmd(&["LRANGE", "s2", "0", "-1"])?, a(&[b("a")]));
    admin.cmd(&["ACL", "SETUSER", "bob", "~s*"])?;

    // XREADGROUP: refused, and nothing delivered to the consumer.
    admin.cmd(&["XGROUP", "CREATE", "s4", "g", "$", "MKSTREAM"])?;
    let xreadgroup = [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s4",
        ">",
    ];
    assert_eq!(
        blocked_then(
            &server,
            &xreadgroup,
            "resetkeys",
            &["XADD", "s4", "*", "a", "1"]
        )?,
        KEY_DENIED
    );
    let pending = admin.cmd(&["XPENDING", "s4", "g"])?;
    assert!(pending.starts_with(&format!("*4\r\n{}", i(0))), "{pending}");
    admin.cmd(&["ACL", "SETUSER", "bob", "~s*"])?;

    // A change that keeps the rights leaves the reader served as before.
    let served = blocked_then(
        &server,
        &["BLPOP", "s3", "0"],
        "+get",
        &["RPUSH", "s3", "v"],
    )?;
    assert_eq!(served, a(&[b("s3"), b("v")]));
    Ok(())
}

#[test]
fn deleting_a_user_closes_its_connections_at_once() -> Result<()> {
    let server = server()?;
    let mut admin = server.raw()?;
    let mut idle = login(&server, "bob", "x")?;
    let mut blocked = login(&server, "bob", "x")?;
    blocked.send_cmd(&[b"BLPOP", b"s5", b"0"])?;
    until_blocked(&mut admin, 1)?;
    assert_eq!(admin.cmd(&["ACL", "DELUSER", "bob"])?, i(1));
    // Both are closed without sending anything, as Redis closes them.
    assert_eq!(idle.read_to_close()?, "");
    assert_eq!(blocked.read_to_close()?, "");
    until_blocked(&mut admin, 0)?;
    // Nothing was popped for the closed reader.
    admin.cmd(&["RPUSH", "s5", "x"])?;
    assert_eq!(admin.cmd(&["LLEN", "s5"])?, i(1));
    Ok(())
}
