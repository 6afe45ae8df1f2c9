//! Sets and the rest of the server: ACL categories and key permissions, `DUMP`/`RESTORE`, `COMMAND INFO`, and an `SSCAN` walk
//! across a conversion.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use sluice_tests::TestServer;

use super::err;
use crate::replies::{a, b, expect, i};

#[test]
fn acl_categories_and_key_patterns_govern_the_set_commands() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    let denied = |user: &str, command: &str| {
        err(&format!(
            "NOPERM User {user} has no permissions to run the '{command}' command"
        ))
    };
    for rule in [
        &[
            "ACL", "SETUSER", "noset", "on", ">pw", "~*", "+@all", "-@set",
        ][..],
        &["ACL", "SETUSER", "reader", "on", ">pw", "~*", "+@read"],
        &[
            "ACL", "SETUSER", "fastonly", "on", ">pw", "~*", "+@set", "-@slow",
        ],
        // Reads any key; reads and writes the keys starting with `w`.
        &[
            "ACL", "SETUSER", "keys", "on", ">pw", "%R~*", "~w*", "+@set",
        ],
    ] {
        assert_eq!(admin.cmd(rule)?, "+OK\r\n");
    }
    admin.cmd(&["SADD", "s", "m"])?;

    let mut noset = server.raw()?;
    noset.cmd(&["AUTH", "noset", "pw"])?;
    expect(
        &mut noset,
        &[
            (&["SADD", "s", "x"], denied("noset", "sadd")),
            (&["SMEMBERS", "s"], denied("noset", "smembers")),
            (&["TYPE", "s"], "+set\r\n".into()),
        ],
    )?;
    let mut reader = server.raw()?;
    reader.cmd(&["AUTH", "reader", "pw"])?;
    expect(
        &mut reader,
        &[
            (&["SISMEMBER", "s", "m"], i(1)),
            (&["SRANDMEMBER", "s"], b("m")),
            (&["SPOP", "s"], denied("reader", "spop")),
            (&["SMOVE", "s", "t", "m"], denied("reader", "smove")),
        ],
    )?;
    // SINTER, SUNION, SDIFF, SMEMBERS, SSCAN and SRANDMEMBER are @slow; SPOP is @fast.
    let mut fast = server.raw()?;
    fast.cmd(&["AUTH", "fastonly", "pw"])?;
    expect(
        &mut fast,
        &[
            (&["SCARD", "s"], i(1)),
            (&["SINTER", "s"], denied("fastonly", "sinter")),
            (&["SSCAN", "s", "0"], denied("fastonly", "sscan")),
            (&["SRANDMEMBER", "s"], denied("fastonly", "srandmember")),
        ],
    )?;
    // SMOVE reads and changes its source (both rights from one pattern, as in Redis) and
    // writes its destination.
    let mut keys = server.raw()?;
    keys.cmd(&["AUTH", "keys", "pw"])?;
    expect(
        &mut keys,
        &[
            (&["SMEMBERS", "s"], a(&[b("m")])),
            (&["SMOVE", "s", "w1", "m"], KEY_DENIED.into()),
            (&["SADD", "w2", "m"], i(1)),
            (&["SMOVE", "w2", "w1", "m"], i(1)),
            (&["SMOVE", "w1", "s", "m"], KEY_DENIED.into()),
            (&["SINTER", "w1", "s"], a(&[b("m")])),
        ],
    )
}

/// The `NOPERM` reply for a key the user may not use so (Redis 7.2 names no key).
const KEY_DENIED: &str = "-NOPERM No permissions to access a key\r\n";

#[test]
fn dump_and_restore_round_trip_sets() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let mut raw = server.raw()?;
    let ints: Vec<String> = (0..50).map(|n| (n * 3).to_string()).collect();
    let strings: Vec<String> = (0..50).map(|n| format!("m{n}")).collect();
    let many: Vec<String> = (0..700).map(|n| format!("m{n}")).collect();
    for (key, members) in [("ints", &ints), ("small", &strings), ("big", &many)] {
        redis::cmd("SADD")
            .arg(key)
            .arg(members)
            .query::<i64>(&mut client)?;
    }
    for (key, encoding) in [
        ("ints", "intset"),
        ("small", "listpack"),
        ("big", "hashtable"),
    ] {
        let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut client)?;
        let copy = format!("{key}-copy");
        redis::cmd("RESTORE")
            .arg(&copy)
            .arg(0)
            .arg(&payload)
            .query::<()>(&mut client)?;
        let want: BTreeSet<String> = redis::cmd("SMEMBERS").arg(key).query(&mut client)?;
        let got: BTreeSet<String> = redis::cmd("SMEMBERS").arg(&copy).query(&mut client)?;
        assert_eq!(got, want, "{key}");
        assert_eq!(raw.cmd(&["OBJECT", "ENCODING", &copy])?, b(encoding));
    }
    assert_eq!(raw.cmd(&["SISMEMBER", "ints-copy", "147"])?, i(1));
    Ok(())
}

/// `COMMAND INFO`'s replies from redis-server 7.0.15, byte for byte.
const SMOVE_INFO: &str = "*1\r\n*10\r\n$5\r\nsmove\r\n:4\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:2\r\n\
:1\r\n*3\r\n+@write\r\n+@set\r\n+@fast\r\n*0\r\n*2\r\n*6\r\n$5\r\nflags\r\n*3\r\n+RW\r\n\
+access\r\n+delete\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*6\r\n$5\r\nflags\r\n\
*2\r\n+RW\r\n+insert\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
const SPOP_INFO: &str = "*1\r\n*10\r\n$4\r\nspop\r\n:-2\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:1\r\n\
:1\r\n*3\r\n+@write\r\n+@set\r\n+@fast\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n\
$5\r\nflags\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n\
$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n\
$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n\
:0\r\n*0\r\n";
const SCARD_INFO: &str = "*1\r\n*10\r\n$5\r\nscard\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n\
:1\r\n:1\r\n*3\r\n+@read\r\n+@set\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n\
$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n\
:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n\
:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";

#[test]
fn command_info_matches_redis() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["COMMAND", "INFO", "smove"])?, SMOVE_INFO);
    assert_eq!(raw.cmd(&["COMMAND", "INFO", "spop"])?, SPOP_INFO);
    assert_eq!(raw.cmd(&["COMMAND", "INFO", "scard"])?, SCARD_INFO);
    Ok(())
}

#[test]
fn sscan_returns_each_member_once_across_a_conversion() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let mut raw = server.raw()?;
    let members: Vec<String> = (0..300).map(|n| n.to_string()).collect();
    redis::cmd("SADD")
        .arg("s")
        .arg(&members)
        .query::<i64>(&mut client)?;
    // An intset comes whole, cursor 0.
    let (cursor, items): (String, Vec<String>) =
        redis::cmd("SSCAN").arg("s").arg(0).query(&mut client)?;
    assert_eq!((cursor.as_str(), items.len()), ("0", 300));
    // A string member makes it a table: the walk goes a batch at a time, and members added
    // meanwhile do not make the others come back twice.
    assert_eq!(raw.cmd(&["SADD", "s", "x"])?, i(1));
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "s"])?, b("hashtable"));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut cursor = "0".to_owned();
    for step in 0.. {
        let (next, items): (String, Vec<String>) = redis::cmd("SSCAN")
            .arg("s")
            .arg(&cursor)
            .arg("COUNT")
            .arg(9)
            .query(&mut client)?;
        for member in items {
            *seen.entry(member).or_default() += 1;
        }
        raw.cmd(&["SADD", "s", &format!("new{step}")])?;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    for member in members.iter().chain(std::iter::once(&"x".to_owned())) {
        assert_eq!(seen.get(member), Some(&1), "{member}");
    }
    assert!(seen.values().all(|&n| n == 1));
    Ok(())
}
