//! `HSET`, `HGET`… replies, error texts, `WRONGTYPE`, encodings, expiry, `MULTI`/`EXEC` and
//! RESP3 (the counters are in [`super::counters`]), each reply as redis-server 7.0.15 and Valkey 8.1 give it.

use anyhow::Result;
use sluice_tests::TestServer;

use super::{WRONGTYPE, err};
use crate::replies::{NIL, a, b, clocked, expect, flat, i, map3};

#[test]
fn fields_are_set_read_and_removed() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["HSET", "h", "f1", "v1", "f2", "v2"], i(2)),
            (&["HSET", "h", "f1", "v1b", "f3", "v3"], i(1)),
            (&["HGET", "h", "f1"], b("v1b")),
            (&["HGET", "h", "nope"], NIL.into()),
            (&["HGET", "nokey", "f"], NIL.into()),
            (
                &["HMGET", "h", "f1", "nope", "f3"],
                a(&[b("v1b"), NIL.into(), b("v3")]),
            ),
            (&["HMGET", "nokey", "a", "b"], a(&[NIL.into(), NIL.into()])),
            (&["HMSET", "h", "f4", "v4"], "+OK\r\n".into()),
            (
                &["HGETALL", "h"],
                flat(&[
                    ("f1", b("v1b")),
                    ("f2", b("v2")),
                    ("f3", b("v3")),
                    ("f4", b("v4")),
                ]),
            ),
            (&["HKEYS", "h"], a(&[b("f1"), b("f2"), b("f3"), b("f4")])),
            (&["HVALS", "h"], a(&[b("v1b"), b("v2"), b("v3"), b("v4")])),
            (&["HLEN", "h"], i(4)),
            (&["HLEN", "nokey"], i(0)),
            (&["HEXISTS", "h", "f1"], i(1)),
            (&["HEXISTS", "h", "nope"], i(0)),
            (&["HEXISTS", "nokey", "f"], i(0)),
            (&["HSTRLEN", "h", "f1"], i(3)),
            (&["HSTRLEN", "h", "nope"], i(0)),
            (&["HSTRLEN", "nokey", "f"], i(0)),
            (&["HGETALL", "nokey"], a(&[])),
            (&["HKEYS", "nokey"], a(&[])),
            (&["HVALS", "nokey"], a(&[])),
            (&["HSETNX", "h", "f1", "other"], i(0)),
            (&["HSETNX", "h", "f5", "v5"], i(1)),
            (&["HSETNX", "newh", "f", "v"], i(1)),
            (&["HGETALL", "newh"], flat(&[("f", b("v"))])),
            (&["HDEL", "h", "f1", "nope", "f1", "f2"], i(2)),
            (&["HDEL", "nokey", "f"], i(0)),
            (&["HGET", "h", "f1"], NIL.into()),
            // The last field gone, the hash is gone.
            (&["HDEL", "h", "f3", "f4", "f5"], i(3)),
            (&["EXISTS", "h"], i(0)),
            (&["TYPE", "newh"], "+hash\r\n".into()),
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
            (&["HSET", "h", "a"], arity("hset")),
            // An odd number of field and value arguments is an arity error too.
            (&["HSET", "h", "a", "b", "c"], arity("hset")),
            (&["HMSET", "h", "a"], arity("hmset")),
            (&["HMSET", "h", "a", "b", "c"], arity("hmset")),
            (&["HSET"], arity("hset")),
            (&["HGET", "h"], arity("hget")),
            (&["HSETNX", "h", "f"], arity("hsetnx")),
            (&["HDEL", "h"], arity("hdel")),
            (&["HGETALL"], arity("hgetall")),
            (&["HINCRBY", "h", "f"], arity("hincrby")),
            (&["HRANDFIELD"], arity("hrandfield")),
            (&["HSCAN", "h"], arity("hscan")),
            (&["EXISTS", "h"], i(0)),
        ],
    )
}

#[test]
fn other_types_are_wrongtype() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["SET", "str", "x"])?;
    let wrong = WRONGTYPE.to_owned();
    expect(
        &mut raw,
        &[
            (&["HGET", "str", "f"], wrong.clone()),
            (&["HSET", "str", "f", "v"], wrong.clone()),
            (&["HMSET", "str", "f", "v"], wrong.clone()),
            (&["HSETNX", "str", "f", "v"], wrong.clone()),
            (&["HMGET", "str", "f"], wrong.clone()),
            (&["HGETALL", "str"], wrong.clone()),
            (&["HKEYS", "str"], wrong.clone()),
            (&["HVALS", "str"], wrong.clone()),
            (&["HLEN", "str"], wrong.clone()),
            (&["HEXISTS", "str", "f"], wrong.clone()),
            (&["HSTRLEN", "str", "f"], wrong.clone()),
            (&["HDEL", "str", "f"], wrong.clone()),
            (&["HINCRBY", "str", "f", "1"], wrong.clone()),
            (&["HINCRBYFLOAT", "str", "f", "1"], wrong.clone()),
            (&["HRANDFIELD", "str"], wrong.clone()),
            (&["HRANDFIELD", "str", "1"], wrong.clone()),
            (&["HSCAN", "str", "0"], wrong.clone()),
            // Redis checks the arguments it reads before the key first.
            (
                &["HINCRBY", "str", "f", "x"],
                err("ERR value is not an integer or out of range"),
            ),
            (
                &["HINCRBYFLOAT", "str", "f", "x"],
                err("ERR value is not a valid float"),
            ),
            (
                &["HRANDFIELD", "str", "x"],
                err("ERR value is not an integer or out of range"),
            ),
            (&["HSCAN", "str", "x"], err("ERR invalid cursor")),
            (&["HSCAN", "str", "0", "FOO"], wrong.clone()),
            (&["GET", "str"], b("x")),
            // And hashes are the wrong type for the string commands.
            (&["HSET", "h", "f", "v"], i(1)),
            (&["GET", "h"], wrong.clone()),
            (&["SADD", "h", "m"], wrong.clone()),
        ],
    )
}

#[test]
fn encodings_follow_redis_conversions() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let (x64, x65) = ("x".repeat(64), "x".repeat(65));
    expect(
        &mut raw,
        &[
            (&["HSET", "e", "f", &x64], i(1)),
            (&["OBJECT", "ENCODING", "e"], b("listpack")),
            (&["HSET", "e", "g", &x65], i(1)),
            (&["OBJECT", "ENCODING", "e"], b("hashtable")),
            // A table stays a table.
            (&["HDEL", "e", "g"], i(1)),
            (&["OBJECT", "ENCODING", "e"], b("hashtable")),
            (&["HSET", "e2", &x65, "v"], i(1)),
            (&["OBJECT", "ENCODING", "e2"], b("hashtable")),
            // HSETNX on an existing field changes nothing, not even the encoding.
            (&["HSET", "e3", "f", "v"], i(1)),
            (&["HSETNX", "e3", "f", &x65], i(0)),
            (&["OBJECT", "ENCODING", "e3"], b("listpack")),
            (&["HSETNX", "e3", "g", &x65], i(1)),
            (&["OBJECT", "ENCODING", "e3"], b("hashtable")),
            (&["HSET", "e4", "a", "1"], i(1)),
            (&["HINCRBYFLOAT", "e4", &x65, "1"], b("1")),
            (&["OBJECT", "ENCODING", "e4"], b("hashtable")),
        ],
    )?;
    // 512 fields fit a listpack; the 513th makes a table.
    let mut args: Vec<String> = vec!["HSET".into(), "big".into()];
    for n in 0..512 {
        args.extend([format!("f{n}"), "v".into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(raw.cmd(&args)?, i(512));
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "big"])?, b("listpack"));
    assert_eq!(raw.cmd(&["HSET", "big", "f512", "v"])?, i(1));
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "big"])?, b("hashtable"));
    // Redis 7.2 sizes for the pairs given: 513 of them make a table even when they repeat
    // one field.
    let mut args: Vec<&str> = vec!["HSET", "dup"];
    for _ in 0..513 {
        args.extend(["f", "v"]);
    }
    assert_eq!(raw.cmd(&args)?, i(1));
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "dup"])?, b("hashtable"));
    Ok(())
}

#[test]
fn a_hash_keeps_its_ttl_through_writes_and_expires() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["HSET", "h", "a", "1"], i(1)),
            (&["PEXPIRE", "h", "1000"], i(1)),
            (&["HSET", "h", "b", "2"], i(1)),
            (&["HINCRBY", "h", "a", "1"], i(2)),
            (&["HDEL", "h", "b"], i(1)),
            (&["PTTL", "h"], i(1000)),
        ],
    )?;
    clock.advance(999);
    assert_eq!(raw.cmd(&["HGET", "h", "a"])?, b("2"));
    clock.advance(1);
    expect(
        &mut raw,
        &[
            (&["HGET", "h", "a"], NIL.into()),
            (&["HLEN", "h"], i(0)),
            (&["EXISTS", "h"], i(0)),
            // An expired hash is a missing one: a write starts a new hash without a TTL.
            (&["HSETNX", "h", "a", "new"], i(1)),
            (&["HGETALL", "h"], flat(&[("a", b("new"))])),
            (&["PTTL", "h"], i(-1)),
        ],
    )?;
    // Emptying a hash with a TTL removes the key and its deadline.
    raw.cmd(&["PEXPIRE", "h", "5000"])?;
    assert_eq!(raw.cmd(&["HDEL", "h", "a"])?, i(1));
    assert_eq!(raw.cmd(&["PTTL", "h"])?, i(-2));
    assert_eq!(raw.cmd(&["HSET", "h", "x", "y"])?, i(1));
    assert_eq!(raw.cmd(&["PTTL", "h"])?, i(-1));
    Ok(())
}

#[test]
fn transactions_run_hash_commands_in_order() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["SET", "str", "x"])?;
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    for cmd in [
        &["HSET", "h", "n", "1"][..],
        &["HINCRBY", "h", "n", "41"],
        &["HGET", "str", "f"],
        &["HGETALL", "h"],
        &["HDEL", "h", "n"],
        &["EXISTS", "h"],
    ] {
        assert_eq!(raw.cmd(cmd)?, "+QUEUED\r\n", "{cmd:?}");
    }
    // Nothing ran yet.
    assert_eq!(server.raw()?.cmd(&["EXISTS", "h"])?, i(0));
    // A command's error is its reply in the array; the others run.
    assert_eq!(
        raw.cmd(&["EXEC"])?,
        a(&[
            i(1),
            i(42),
            WRONGTYPE.into(),
            flat(&[("n", b("42"))]),
            i(1),
            i(0),
        ])
    );
    // A wrong number of arguments aborts the transaction when it is queued.
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["HSET", "h", "n", "1"])?, "+QUEUED\r\n");
    assert_eq!(
        raw.cmd(&["HSET", "h", "n"])?,
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        raw.cmd(&["EXEC"])?,
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(raw.cmd(&["EXISTS", "h"])?, i(0));
    Ok(())
}

#[test]
fn resp3_replies() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["HELLO", "3"])?;
    expect(
        &mut raw,
        &[
            (&["HSET", "h", "a", "1", "b", "2"], i(2)),
            (&["HGETALL", "h"], map3(&[("a", b("1")), ("b", b("2"))])),
            (&["HGETALL", "nokey"], "%0\r\n".into()),
            (&["HKEYS", "h"], a(&[b("a"), b("b")])),
            (&["HGET", "h", "nope"], "_\r\n".into()),
            (&["HMGET", "h", "a", "nope"], a(&[b("1"), "_\r\n".into()])),
            (&["HRANDFIELD", "nokey"], "_\r\n".into()),
            (&["HRANDFIELD", "nokey", "2", "WITHVALUES"], a(&[])),
            // WITHVALUES pairs each field with its value.
            (
                &["HRANDFIELD", "h", "5", "WITHVALUES"],
                a(&[a(&[b("a"), b("1")]), a(&[b("b"), b("2")])]),
            ),
            (
                &["HSCAN", "h", "0"],
                a(&[b("0"), a(&[b("a"), b("1"), b("b"), b("2")])]),
            ),
        ],
    )
}
