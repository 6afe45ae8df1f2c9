//! Hashes and the rest of the server: ACL categories, `DUMP`/`RESTORE`, `COMMAND INFO`, and an `HSCAN` walk across a conversion.

use std::collections::BTreeMap;

use anyhow::Result;
use sluice_tests::TestServer;

use super::err;
use crate::replies::{a, b, expect, flat, i};

#[test]
fn acl_categories_govern_the_hash_commands() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    let denied = |user: &str, command: &str| {
        err(&format!(
            "NOPERM User {user} has no permissions to run the '{command}' command"
        ))
    };
    for rule in [
        &[
            "ACL", "SETUSER", "nohash", "on", ">pw", "~*", "+@all", "-@hash",
        ][..],
        &["ACL", "SETUSER", "reader", "on", ">pw", "~*", "+@read"],
        &[
            "ACL", "SETUSER", "slowonly", "on", ">pw", "~*", "+@hash", "-@fast",
        ],
    ] {
        assert_eq!(admin.cmd(rule)?, "+OK\r\n");
    }
    admin.cmd(&["HSET", "h", "f", "v"])?;

    let mut nohash = server.raw()?;
    nohash.cmd(&["AUTH", "nohash", "pw"])?;
    expect(
        &mut nohash,
        &[
            (&["HSET", "h", "f", "w"], denied("nohash", "hset")),
            (&["HGETALL", "h"], denied("nohash", "hgetall")),
            (&["HSCAN", "h", "0"], denied("nohash", "hscan")),
            (&["TYPE", "h"], "+hash\r\n".into()),
        ],
    )?;
    let mut reader = server.raw()?;
    reader.cmd(&["AUTH", "reader", "pw"])?;
    expect(
        &mut reader,
        &[
            (&["HGET", "h", "f"], b("v")),
            (&["HRANDFIELD", "h", "1"], a(&[b("f")])),
            (&["HSET", "h", "f", "w"], denied("reader", "hset")),
            (&["HINCRBY", "h", "n", "1"], denied("reader", "hincrby")),
            (&["HDEL", "h", "f"], denied("reader", "hdel")),
        ],
    )?;
    // @fast and @slow as Redis lists them: the whole-hash reads are slow.
    let mut slow = server.raw()?;
    slow.cmd(&["AUTH", "slowonly", "pw"])?;
    expect(
        &mut slow,
        &[
            (&["HGETALL", "h"], flat(&[("f", b("v"))])),
            (&["HKEYS", "h"], a(&[b("f")])),
            (&["HGET", "h", "f"], denied("slowonly", "hget")),
            (&["HSET", "h", "f", "w"], denied("slowonly", "hset")),
        ],
    )
}

#[test]
fn dump_and_restore_round_trip_hashes() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let mut raw = server.raw()?;
    raw.cmd(&["HSET", "small", "a", "1", "b", "two"])?;
    let fields: Vec<(String, String)> =
        (0..600).map(|n| (format!("f{n}"), n.to_string())).collect();
    redis::cmd("HSET")
        .arg("big")
        .arg(&fields)
        .query::<i64>(&mut client)?;
    for (key, encoding) in [("small", "listpack"), ("big", "hashtable")] {
        let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut client)?;
        let copy = format!("{key}-copy");
        redis::cmd("RESTORE")
            .arg(&copy)
            .arg(0)
            .arg(&payload)
            .query::<()>(&mut client)?;
        let want: BTreeMap<String, String> = redis::cmd("HGETALL").arg(key).query(&mut client)?;
        let got: BTreeMap<String, String> = redis::cmd("HGETALL").arg(&copy).query(&mut client)?;
        assert_eq!(got, want, "{key}");
        assert_eq!(raw.cmd(&["OBJECT", "ENCODING", &copy])?, b(encoding));
        let again: Vec<u8> = redis::cmd("DUMP").arg(&copy).query(&mut client)?;
        assert_eq!(again, payload, "{key}: the copy dumps the same bytes");
    }
    assert_eq!(raw.cmd(&["HGET", "small-copy", "b"])?, b("two"));
    Ok(())
}

/// `COMMAND INFO`'s replies from redis-server 7.0.15, byte for byte.
const HINCRBY_INFO: &str = "*1\r\n*10\r\n$7\r\nhincrby\r\n:4\r\n*3\r\n+write\r\n+denyoom\r\n\
+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@hash\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n\
*3\r\n+RW\r\n+access\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n\
$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
const HGETALL_INFO: &str = "*1\r\n*10\r\n$7\r\nhgetall\r\n:2\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n\
:1\r\n*3\r\n+@read\r\n+@hash\r\n+@slow\r\n*1\r\n$29\r\nnondeterministic_output_order\r\n*1\r\n\
*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n\
$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n\
$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n\
:0\r\n*0\r\n";

#[test]
fn command_info_matches_redis() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["COMMAND", "INFO", "hincrby"])?, HINCRBY_INFO);
    assert_eq!(raw.cmd(&["COMMAND", "INFO", "hgetall"])?, HGETALL_INFO);
    let listed = raw.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"])?;
    assert!(listed.starts_with("*16\r\n"), "{listed}");
    Ok(())
}

#[test]
fn hscan_returns_each_field_once_across_a_conversion() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let mut raw = server.raw()?;
    let fields: Vec<(String, String)> = (0..100).map(|n| (format!("f{n}"), "v".into())).collect();
    redis::cmd("HSET")
        .arg("h")
        .arg(&fields)
        .query::<i64>(&mut client)?;
    // A listpack comes whole, cursor 0.
    let (cursor, items): (String, Vec<String>) =
        redis::cmd("HSCAN").arg("h").arg(0).query(&mut client)?;
    assert_eq!((cursor.as_str(), items.len()), ("0", 200));
    // A long value makes it a table; the walk then goes a batch at a time, and fields added
    // meanwhile do not make the others come back twice.
    assert_eq!(raw.cmd(&["HSET", "h", "long", &"x".repeat(65)])?, i(1));
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "h"])?, b("hashtable"));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut cursor = "0".to_owned();
    for step in 0.. {
        let (next, items): (String, Vec<String>) = redis::cmd("HSCAN")
            .arg("h")
            .arg(&cursor)
            .arg("COUNT")
            .arg(7)
            .query(&mut client)?;
        for pair in items.chunks(2) {
            *seen.entry(pair[0].clone()).or_default() += 1;
        }
        raw.cmd(&["HSET", "h", &format!("new{step}"), "v"])?;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    for (field, _) in &fields {
        assert_eq!(seen.get(field), Some(&1), "{field}");
    }
    assert_eq!(seen.get("long"), Some(&1));
    assert!(seen.values().all(|&n| n == 1));
    Ok(())
}
