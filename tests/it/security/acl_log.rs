//! `ACL LOG`: refused commands, keys and `AUTH`s, grouped and ordered as Redis 7.2 keeps
//! them, `acllog-max-len`; `ACL GENPASS`. Fields and replies were checked against
//! valkey-server 8.1 (Redis 7.2's ten fields; redis-server 7.0.15 has the first seven).

use anyhow::{Context, Result};
use sluice_server::config::Secret;
use sluice_tests::{Config, ManualClock, RawClient, TestServer, config_pair};

use super::acl::login;
use crate::replies::{T0, a, b, expect, flat, i, map3};

/// A server whose clock shows [`T0`], with `alice` (`pw`, keys `orders*`, a few commands).
fn server() -> Result<(TestServer, std::sync::Arc<ManualClock>)> {
    let clock = ManualClock::new(T0);
    let config = Config {
        users: vec![Secret(
            "alice on >pw ~orders* +get +client|info +multi +discard".into(),
        )],
        ..Config::default()
    };
    Ok((TestServer::start_with_clock(config, clock.clone())?, clock))
}

/// The connection's `CLIENT INFO` line (without its `\n`).
fn client_info(raw: &mut RawClient) -> Result<String> {
    let reply = raw.cmd(&["CLIENT", "INFO"])?;
    let (_, text) = reply.split_once("\r\n").context("a bulk string")?;
    Ok(text
        .trim_end_matches("\r\n")
        .trim_end_matches('\n')
        .to_owned())
}

/// One entry of `ACL LOG`, RESP2.
struct Entry<'a> {
    count: i64,
    reason: &'a str,
    context: &'a str,
    object: &'a str,
    username: &'a str,
    age: &'a str,
    client_info: String,
    id: i64,
    created: u64,
    updated: u64,
}

impl Entry<'_> {
    fn fields(&self) -> Vec<(&'static str, String)> {
        let ms = |t: u64| i(i64::try_from(t).unwrap_or(i64::MAX));
        vec![
            ("count", i(self.count)),
            ("reason", b(self.reason)),
            ("context", b(self.context)),
            ("object", b(self.object)),
            ("username", b(self.username)),
            ("age-seconds", b(self.age)),
            ("client-info", b(&self.client_info)),
            ("entry-id", i(self.id)),
            ("timestamp-created", ms(self.created)),
            ("timestamp-last-updated", ms(self.updated)),
        ]
    }

    fn resp2(&self) -> String {
        flat(&self.fields())
    }
}

#[test]
fn refusals_are_logged_grouped_newest_first() -> Result<()> {
    let (server, clock) = server()?;
    let mut alice = login(&server, "alice", "pw")?;
    let mut admin = server.raw()?;
    let key_denied = "-NOPERM No permissions to access a key\r\n";
    assert_eq!(alice.cmd(&["GET", "other"])?, key_denied);
    clock.advance(100);
    assert_eq!(
        alice.cmd(&["SET", "x", "1"])?,
        "-NOPERM User alice has no permissions to run the 'set' command\r\n"
    );
    clock.advance(100);
    // Like the first refusal, a minute apart at most: counted into it, which moves first.
    assert_eq!(alice.cmd(&["GET", "other"])?, key_denied);
    let info = client_info(&mut alice)?;
    let with_cmd = |cmd: &str| info.replace("cmd=client|info", &format!("cmd={cmd}"));
    clock.advance(100);
    let wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    assert_eq!(alice.cmd(&["AUTH", "alice", "wrong"])?, wrongpass);
    // The command as the client spelled it, and the user tried.
    assert_eq!(alice.cmd(&["auth", "nobody", "x"])?, wrongpass);
    expect(
        &mut alice,
        &[
            (&["MULTI"], "+OK\r\n".into()),
            (&["GET", "other2"], key_denied.into()),
            (&["DISCARD"], "+OK\r\n".into()),
        ],
    )?;
    clock.advance(200);
    let entries = [
        Entry {
            count: 1,
            reason: "key",
            context: "multi",
            object: "other2",
            username: "alice",
            age: "0.2",
            client_info: with_cmd("get")
                .replace("flags=N", "flags=x")
                .replace("multi=-1", "multi=0"),
            id: 4,
            created: T0 + 300,
            updated: T0 + 300,
        },
        Entry {
            count: 1,
            reason: "auth",
            context: "toplevel",
            object: "auth",
            username: "nobody",
            age: "0.2",
            client_info: with_cmd("auth"),
            id: 3,
            created: T0 + 300,
            updated: T0 + 300,
        },
        Entry {
            count: 1,
            reason: "auth",
            context: "toplevel",
            object: "AUTH",
            username: "alice",
            age: "0.2",
            client_info: with_cmd("auth"),
            id: 2,
            created: T0 + 300,
            updated: T0 + 300,
        },
        Entry {
            count: 2,
            reason: "key",
            context: "toplevel",
            object: "other",
            username: "alice",
            age: "0.3",
            client_info: with_cmd("get"),
            id: 0,
            created: T0,
            updated: T0 + 200,
        },
        Entry {
            count: 1,
            reason: "command",
            context: "toplevel",
            object: "set",
            username: "alice",
            age: "0.4",
            client_info: with_cmd("set"),
            id: 1,
            created: T0 + 100,
            updated: T0 + 100,
        },
    ];
    let all: Vec<String> = entries.iter().map(Entry::resp2).collect();
    expect(
        &mut admin,
        &[
            (&["ACL", "LOG"], a(&all)),
            (&["ACL", "LOG", "2"], a(&all[..2])),
            (&["ACL", "LOG", "0"], a(&[])),
            (&["ACL", "LOG", "-1"], a(&[])),
            (
                &["ACL", "LOG", "x"],
                "-ERR value is not an integer or out of range\r\n".into(),
            ),
            (
                &["ACL", "LOG", "5", "6"],
                "-ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.\r\n"
                    .into(),
            ),
        ],
    )?;
    // RESP3: each entry a map, `age-seconds` a double.
    admin.cmd(&["HELLO", "3"])?;
    let mut fields = entries[0].fields();
    fields[5].1 = ",0.2\r\n".into();
    assert_eq!(
        admin.cmd(&["ACL", "LOG", "1"])?,
        format!("*1\r\n{}", map3(&fields))
    );
    // Redis 7.2 counts what it logs.
    let mut stats = server.raw()?;
    for (field, want) in [
        ("acl_access_denied_auth", "2"),
        ("acl_access_denied_cmd", "1"),
        ("acl_access_denied_key", "3"),
    ] {
        assert_eq!(stats.info_field("stats", field)?, want, "{field}");
    }
    expect(
        &mut stats,
        &[
            (&["ACL", "LOG", "RESET"], "+OK\r\n".into()),
            (&["ACL", "LOG"], a(&[])),
        ],
    )?;
    Ok(())
}

#[test]
fn acllog_max_len_bounds_the_log() -> Result<()> {
    let (server, _clock) = server()?;
    let mut admin = server.raw()?;
    expect(
        &mut admin,
        &[
            (
                &["CONFIG", "GET", "acllog-max-len"],
                config_pair("acllog-max-len", "128"),
            ),
            (&["CONFIG", "SET", "acllog-max-len", "2"], "+OK\r\n".into()),
            (
                &["CONFIG", "SET", "acllog-max-len", "-1"],
                "-ERR CONFIG SET failed (possibly related to argument 'acllog-max-len') - argument must be between 0 and 9223372036854775807 inclusive\r\n".into(),
            ),
            (
                &["CONFIG", "GET", "acllog-max-len"],
                config_pair("acllog-max-len", "2"),
            ),
        ],
    )?;
    let mut client = server.raw()?;
    for user in ["u1", "u2", "u3"] {
        client.cmd(&["AUTH", user, "x"])?;
    }
    let reply = admin.cmd(&["ACL", "LOG"])?;
    assert!(reply.starts_with("*2\r\n"), "{reply}");
    assert!(reply.contains("u3") && reply.contains("u2") && !reply.contains("u1"));
    admin.cmd(&["CONFIG", "SET", "acllog-max-len", "0"])?;
    client.cmd(&["AUTH", "u4", "x"])?;
    assert_eq!(admin.cmd(&["ACL", "LOG"])?, "*0\r\n");
    Ok(())
}

#[test]
fn genpass_gives_random_hex_of_the_bits_asked() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let hex = |reply: &str, digits: usize| {
        let want = format!("${digits}\r\n");
        reply.starts_with(&want)
            && reply[want.len()..]
                .trim_end_matches("\r\n")
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            && reply.len() == want.len() + digits + 2
    };
    let first = raw.cmd(&["ACL", "GENPASS"])?;
    assert!(hex(&first, 64), "{first}");
    assert_ne!(raw.cmd(&["ACL", "GENPASS"])?, first);
    for (bits, digits) in [("1", 1), ("4", 1), ("5", 2), ("8", 2), ("4096", 1024)] {
        let reply = raw.cmd(&["ACL", "GENPASS", bits])?;
        assert!(hex(&reply, digits), "{bits}: {reply}");
    }
    let range = "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096\r\n";
    expect(
        &mut raw,
        &[
            (&["ACL", "GENPASS", "0"], range.into()),
            (&["ACL", "GENPASS", "-4"], range.into()),
            (&["ACL", "GENPASS", "4097"], range.into()),
            (
                &["ACL", "GENPASS", "abc"],
                "-ERR value is not an integer or out of range\r\n".into(),
            ),
            (
                &["ACL", "GENPASS", "1", "2"],
                "-ERR unknown subcommand or wrong number of arguments for 'GENPASS'. Try ACL HELP.\r\n"
                    .into(),
            ),
        ],
    )?;
    Ok(())
}
