//! Strings and deadlines, on a hand-set clock: what `SET`'s options, `SETEX`, `GETEX`, the
//! counters and `APPEND` do to a key's deadline (checked against redis-server 7.0.15).

use anyhow::Result;

use crate::replies::{NIL, b, clocked, expect, i};

#[test]
fn writes_keep_or_replace_deadlines_as_redis_does() -> Result<()> {
    let (server, clock) = clocked()?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["SETEX", "k", "100", "v"], "+OK\r\n".into()),
            (&["TTL", "k"], i(100)),
            // Counters, APPEND and SETRANGE keep the deadline; KEEPTTL keeps it too.
            (&["SET", "n", "1", "PX", "5000"], "+OK\r\n".into()),
            (&["INCRBY", "n", "41"], i(42)),
            (&["INCRBYFLOAT", "n", "0.5"], b("42.5")),
            (&["APPEND", "n", "0"], i(5)),
            (&["SETRANGE", "n", "0", "7"], i(5)),
            (&["PTTL", "n"], i(5000)),
            (&["SET", "k", "v2", "KEEPTTL"], "+OK\r\n".into()),
            (&["TTL", "k"], i(100)),
            // A plain SET, GETSET or MSET drops it.
            (&["SET", "k", "v3"], "+OK\r\n".into()),
            (&["TTL", "k"], i(-1)),
            (&["SET", "k", "v4", "EX", "10"], "+OK\r\n".into()),
            (&["GETSET", "k", "v5"], b("v4")),
            (&["TTL", "k"], i(-1)),
            // GETEX sets, moves and removes it.
            (&["GETEX", "k", "PX", "2500"], b("v5")),
            (&["PTTL", "k"], i(2500)),
            (&["GETEX", "k"], b("v5")),
            (&["PTTL", "k"], i(2500)),
            (&["GETEX", "k", "PERSIST"], b("v5")),
            (&["TTL", "k"], i(-1)),
            (&["GETEX", "k", "EXAT", "2000"], b("v5")),
            (&["TTL", "k"], i(1000)),
        ],
    )?;
    clock.advance(1_000_000);
    expect(
        &mut raw,
        &[
            (&["GET", "k"], NIL.into()),
            (&["EXISTS", "n"], i(0)),
            // A deadline already past removes the key at once.
            (&["SET", "p", "v", "PXAT", "1"], "+OK\r\n".into()),
            (&["EXISTS", "p"], i(0)),
            (&["SET", "q", "v"], "+OK\r\n".into()),
            (&["GETEX", "q", "PXAT", "1"], b("v")),
            (&["EXISTS", "q"], i(0)),
        ],
    )
}

#[test]
fn resp3_nulls_and_numbers() -> Result<()> {
    let (server, _clock) = clocked()?;
    let mut raw = server.raw()?;
    raw.cmd(&["HELLO", "3"])?;
    expect(
        &mut raw,
        &[
            (&["GET", "missing"], "_\r\n".into()),
            (&["SET", "k", "1"], "+OK\r\n".into()),
            (&["MGET", "k", "missing"], "*2\r\n$1\r\n1\r\n_\r\n".into()),
            (&["INCR", "k"], i(2)),
            (&["INCRBYFLOAT", "k", "0.25"], b("2.25")),
        ],
    )
}
