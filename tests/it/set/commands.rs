//! `SADD`, `SREM`, `SMEMBERS`, `SISMEMBER`, `SMISMEMBER`, `SCARD`, `SMOVE`: replies, error
//! texts, `WRONGTYPE`, encodings, expiry, `MULTI`/`EXEC` and RESP3, each reply as Valkey 8.1
//! gives it (and redis-server 7.0.15, but for the encodings: 7.0 has no listpack sets).

use anyhow::Result;
use sluice_tests::TestServer;

use super::{WRONGTYPE, err};
use crate::replies::{a, b, clocked, expect, i};

#[test]
fn members_are_added_read_and_removed() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["SADD", "s", "a", "b", "c", "a"], i(3)),
            (&["SADD", "s", "d"], i(1)),
            (&["SREM", "s", "a", "nope", "a"], i(1)),
            (&["SREM", "nokey", "a"], i(0)),
            // A listpack keeps the order members came in.
            (&["SMEMBERS", "s"], a(&[b("b"), b("c"), b("d")])),
            (&["SMEMBERS", "nokey"], a(&[])),
            (&["SISMEMBER", "s", "b"], i(1)),
            (&["SISMEMBER", "s", "a"], i(0)),
            (&["SISMEMBER", "nokey", "a"], i(0)),
            (&["SMISMEMBER", "s", "b", "a", "c"], a(&[i(1), i(0), i(1)])),
            (&["SMISMEMBER", "nokey", "a", "b"], a(&[i(0), i(0)])),
            (&["SCARD", "s"], i(3)),
            (&["SCARD", "nokey"], i(0)),
            (&["TYPE", "s"], "+set\r\n".into()),
            // Removing the last member removes the set.
            (&["SREM", "s", "b", "c", "d"], i(3)),
            (&["EXISTS", "s"], i(0)),
        ],
    )
}

#[test]
fn argument_errors_use_redis_texts() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let arity = |name: &str| {
        err(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ))
    };
    expect(
        &mut raw,
        &[
            (&["SADD", "s"], arity("sadd")),
            (&["SREM", "s"], arity("srem")),
            (&["SMISMEMBER", "s"], arity("smismember")),
            (&["SISMEMBER", "s"], arity("sismember")),
            (&["SMOVE", "a", "b"], arity("smove")),
            (&["SPOP"], arity("spop")),
            (&["SINTER"], arity("sinter")),
            (&["SSCAN", "s"], arity("sscan")),
        ],
    )
}

#[test]
fn integers_sort_in_an_intset_until_a_string_comes() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let x65 = "x".repeat(65);
    expect(
        &mut raw,
        &[
            (&["SADD", "i", "5", "3", "-1", "10", "3"], i(4)),
            (&["SMEMBERS", "i"], a(&[b("-1"), b("3"), b("5"), b("10")])),
            (&["OBJECT", "ENCODING", "i"], b("intset")),
            (&["SISMEMBER", "i", "5"], i(1)),
            (
                &["SMISMEMBER", "i", "5", "05", "+5", "x"],
                a(&[i(1), i(0), i(0), i(0)]),
            ),
            // A string makes a listpack, the integers first in their order.
            (&["SADD", "i", "x"], i(1)),
            (&["OBJECT", "ENCODING", "i"], b("listpack")),
            (
                &["SMEMBERS", "i"],
                a(&[b("-1"), b("3"), b("5"), b("10"), b("x")]),
            ),
            (&["SREM", "i", "x"], i(1)),
            (&["OBJECT", "ENCODING", "i"], b("listpack")),
            // Only integers as Redis writes them make an intset.
            (&["SADD", "i2", "1", "2", "007"], i(3)),
            (&["OBJECT", "ENCODING", "i2"], b("listpack")),
            (&["SMEMBERS", "i2"], a(&[b("1"), b("2"), b("007")])),
            (&["SADD", "i3", "-0", "1"], i(2)),
            (&["OBJECT", "ENCODING", "i3"], b("listpack")),
            // A member longer than 64 bytes makes a table.
            (&["SADD", "l", &x65], i(1)),
            (&["OBJECT", "ENCODING", "l"], b("hashtable")),
            (&["SADD", "l2", "a"], i(1)),
            (&["SADD", "l2", &x65], i(1)),
            (&["OBJECT", "ENCODING", "l2"], b("hashtable")),
            (&["SADD", "i4", "1"], i(1)),
            (&["SADD", "i4", &x65], i(1)),
            (&["OBJECT", "ENCODING", "i4"], b("hashtable")),
        ],
    )
}

/// `SADD key` with `members`, asserting how many were new.
fn sadd(raw: &mut sluice_tests::RawClient, key: &str, members: &[String], new: i64) -> Result<()> {
    let mut args = vec!["SADD", key];
    args.extend(members.iter().map(String::as_str));
    assert_eq!(raw.cmd(&args)?, i(new));
    Ok(())
}

#[test]
fn sizes_convert_as_in_redis_7_2() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let ints = |range: std::ops::Range<i32>| range.map(|n| n.to_string()).collect::<Vec<_>>();
    let strings = |range: std::ops::Range<i32>| range.map(|n| format!("m{n}")).collect::<Vec<_>>();
    // 512 integers make an intset, the 513th a table.
    sadd(&mut raw, "i", &ints(0..512), 512)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "i"])?, b("intset"));
    sadd(&mut raw, "i", &ints(512..513), 1)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "i"])?, b("hashtable"));
    // 128 strings make a listpack, the 129th a table.
    sadd(&mut raw, "l", &strings(0..128), 128)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "l"])?, b("listpack"));
    sadd(&mut raw, "l", &strings(128..129), 1)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "l"])?, b("hashtable"));
    // An intset of 128 or more takes no string: it becomes a table.
    sadd(&mut raw, "i2", &ints(0..128), 128)?;
    sadd(&mut raw, "i2", &strings(0..1), 1)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "i2"])?, b("hashtable"));
    sadd(&mut raw, "i3", &ints(0..127), 127)?;
    sadd(&mut raw, "i3", &strings(0..1), 1)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "i3"])?, b("listpack"));
    // Redis 7.2 sizes for the arguments given: more than a listpack (or an intset) holds
    // make a table even when they repeat members.
    sadd(&mut raw, "d", &["a".to_owned()], 1)?;
    sadd(&mut raw, "d", &vec!["a".to_owned(); 129], 0)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "d"])?, b("hashtable"));
    sadd(&mut raw, "d2", &vec!["1".to_owned(); 513], 1)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "d2"])?, b("hashtable"));
    sadd(&mut raw, "d3", &vec!["a".to_owned(); 129], 1)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "d3"])?, b("hashtable"));
    Ok(())
}

#[test]
fn smove_moves_one_member_between_sets() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["SET", "str", "v"])?;
    expect(
        &mut raw,
        &[
            (&["SADD", "s", "b", "c", "d"], i(3)),
            (&["SMOVE", "s", "d1", "b"], i(1)),
            (&["SMOVE", "s", "d1", "b"], i(0)),
            (&["SMOVE", "nokey", "d1", "b"], i(0)),
            // Onto itself: 1 if it is a member, and nothing changes.
            (&["SMOVE", "s", "s", "c"], i(1)),
            (&["SMOVE", "s", "s", "zz"], i(0)),
            (&["SMEMBERS", "s"], a(&[b("c"), b("d")])),
            (&["SMEMBERS", "d1"], a(&[b("b")])),
            // Moving the last member removes the source.
            (&["SMOVE", "s", "d1", "c"], i(1)),
            (&["SMOVE", "s", "d1", "d"], i(1)),
            (&["EXISTS", "s"], i(0)),
            (&["SMEMBERS", "d1"], a(&[b("b"), b("c"), b("d")])),
            // A new destination takes the form its first member calls for.
            (&["SADD", "s2", "1", "2"], i(2)),
            (&["SMOVE", "s2", "d2", "1"], i(1)),
            (&["OBJECT", "ENCODING", "d2"], b("intset")),
            // Already in the destination: it still leaves the source.
            (&["SADD", "s3", "b", "q"], i(2)),
            (&["SMOVE", "s3", "d1", "b"], i(1)),
            (&["SMEMBERS", "s3"], a(&[b("q")])),
            (&["SCARD", "d1"], i(3)),
            // Types: the source first; a missing source answers 0 whatever the destination.
            (&["SMOVE", "str", "d1", "a"], WRONGTYPE.into()),
            (&["SMOVE", "d1", "str", "b"], WRONGTYPE.into()),
            (&["SMOVE", "d1", "str", "nope"], WRONGTYPE.into()),
            (&["SMOVE", "nokey", "str", "a"], i(0)),
            (&["SCARD", "d1"], i(3)),
        ],
    )
}

#[test]
fn other_types_are_wrongtype() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["SET", "str", "v"])?;
    let wrong = WRONGTYPE.to_owned();
    expect(
        &mut raw,
        &[
            (&["SADD", "str", "a"], wrong.clone()),
            (&["SREM", "str", "a"], wrong.clone()),
            (&["SMEMBERS", "str"], wrong.clone()),
            (&["SISMEMBER", "str", "a"], wrong.clone()),
            (&["SMISMEMBER", "str", "a"], wrong.clone()),
            (&["SCARD", "str"], wrong.clone()),
            (&["SPOP", "str"], wrong.clone()),
            (&["SPOP", "str", "1"], wrong.clone()),
            (&["SRANDMEMBER", "str"], wrong.clone()),
            (&["SRANDMEMBER", "str", "1"], wrong.clone()),
            (&["SINTER", "str"], wrong.clone()),
            (&["SUNION", "str"], wrong.clone()),
            (&["SDIFF", "str"], wrong.clone()),
            (&["SSCAN", "str", "0"], wrong.clone()),
            // Redis checks the count before the key.
            (
                &["SPOP", "str", "-1"],
                err("ERR value is out of range, must be positive"),
            ),
            (&["GET", "str"], b("v")),
            (&["SADD", "s", "m"], i(1)),
            (&["GET", "s"], wrong.clone()),
            (&["HGET", "s", "m"], wrong),
        ],
    )
}

#[test]
fn a_set_keeps_its_ttl_through_writes_and_expires() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["SADD", "s", "a", "b"], i(2)),
            (&["PEXPIRE", "s", "1000"], i(1)),
            (&["SADD", "s", "c"], i(1)),
            (&["SREM", "s", "a"], i(1)),
            (&["SMOVE", "s", "other", "b"], i(1)),
            (&["PTTL", "s"], i(1000)),
            (&["PTTL", "other"], i(-1)),
        ],
    )?;
    clock.advance(1000);
    expect(
        &mut raw,
        &[
            (&["SMEMBERS", "s"], a(&[])),
            (&["SCARD", "s"], i(0)),
            (&["EXISTS", "s"], i(0)),
            (&["SMOVE", "s", "other", "c"], i(0)),
            (&["SADD", "s", "n"], i(1)),
            (&["PTTL", "s"], i(-1)),
        ],
    )
}

#[test]
fn transactions_run_set_commands_in_order() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["SET", "str", "x"])?;
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    for cmd in [
        &["SADD", "s", "a", "b"][..],
        &["SMOVE", "s", "t", "a"],
        &["SCARD", "str"],
        &["SMEMBERS", "t"],
        &["SPOP", "s", "5"],
        &["EXISTS", "s"],
    ] {
        assert_eq!(raw.cmd(cmd)?, "+QUEUED\r\n", "{cmd:?}");
    }
    assert_eq!(
        raw.cmd(&["EXEC"])?,
        a(&[
            i(2),
            i(1),
            WRONGTYPE.into(),
            a(&[b("a")]),
            a(&[b("b")]),
            i(0)
        ])
    );
    Ok(())
}

#[test]
fn resp3_replies() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["HELLO", "3"])?;
    let set3 = |items: &[String]| format!("~{}\r\n{}", items.len(), items.concat());
    expect(
        &mut raw,
        &[
            (&["SADD", "s", "a", "b"], i(2)),
            (&["SMEMBERS", "s"], set3(&[b("a"), b("b")])),
            (&["SMEMBERS", "nokey"], set3(&[])),
            (&["SINTER", "s", "s"], set3(&[b("a"), b("b")])),
            (&["SINTER", "s", "nokey"], set3(&[])),
            (&["SUNION", "s"], set3(&[b("a"), b("b")])),
            (&["SDIFF", "s", "nokey"], set3(&[b("a"), b("b")])),
            (&["SMISMEMBER", "s", "a", "z"], a(&[i(1), i(0)])),
            (&["SPOP", "nokey"], "_\r\n".into()),
            (&["SPOP", "nokey", "2"], set3(&[])),
            (&["SPOP", "s", "0"], set3(&[])),
            (&["SRANDMEMBER", "nokey"], "_\r\n".into()),
            // SRANDMEMBER's count reply is an array, not a set.
            (&["SRANDMEMBER", "nokey", "2"], a(&[])),
            (&["SRANDMEMBER", "s", "5"], a(&[b("a"), b("b")])),
            (&["SSCAN", "s", "0"], a(&[b("0"), a(&[b("a"), b("b")])])),
            (&["SPOP", "s", "5"], set3(&[b("a"), b("b")])),
        ],
    )
}
