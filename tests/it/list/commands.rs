//! Pushing, popping, reading and moving, reply for reply, errors included.

use anyhow::Result;
use sluice_tests::TestServer;

use crate::replies::{NIL, NIL_ARRAY, WRONGTYPE, a, b, expect, i};

fn arity(command: &str) -> String {
    format!("-ERR wrong number of arguments for '{command}' command\r\n")
}

fn bulks(items: &[&str]) -> String {
    a(&items.iter().map(|s| b(s)).collect::<Vec<_>>())
}

#[test]
fn pushes_create_lists_and_the_x_forms_only_extend_them() -> Result<()> {
    let server = TestServer::start()?;
    expect(
        &mut server.raw()?,
        &[
            (&["LPUSH", "l", "a", "b", "c"], i(3)),
            (&["RPUSH", "l", "d", "e"], i(5)),
            (
                &["LRANGE", "l", "0", "-1"],
                bulks(&["c", "b", "a", "d", "e"]),
            ),
            (&["TYPE", "l"], "+list\r\n".into()),
            (&["LPUSHX", "nokey", "a"], i(0)),
            (&["RPUSHX", "nokey", "a"], i(0)),
            (&["EXISTS", "nokey"], i(0)),
            (&["LPUSHX", "l", "0", "-1"], i(7)),
            (&["RPUSHX", "l", "f"], i(8)),
            (&["LINDEX", "l", "0"], b("-1")),
            (&["LPUSH", "l"], arity("lpush")),
            (&["RPUSHX", "l"], arity("rpushx")),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LPUSH", "s", "a"], WRONGTYPE.into()),
            (&["RPUSH", "s", "a"], WRONGTYPE.into()),
            (&["LPUSHX", "s", "a"], WRONGTYPE.into()),
            (&["RPUSHX", "s", "a"], WRONGTYPE.into()),
            // Numbers come back as they went in.
            (
                &["RPUSH", "n", "1", "12345678901", "-5", "3.5", "007"],
                i(5),
            ),
            (
                &["LRANGE", "n", "0", "-1"],
                bulks(&["1", "12345678901", "-5", "3.5", "007"]),
            ),
        ],
    )
}

#[test]
fn pops_take_one_or_a_count_and_delete_the_emptied_list() -> Result<()> {
    let server = TestServer::start()?;
    let positive = "-ERR value is out of range, must be positive\r\n";
    expect(
        &mut server.raw()?,
        &[
            (&["RPUSH", "l", "a", "b", "c", "d", "e"], i(5)),
            (&["LPOP", "l"], b("a")),
            (&["RPOP", "l"], b("e")),
            (&["LPOP", "l", "2"], bulks(&["b", "c"])),
            (&["RPOP", "l", "5"], bulks(&["d"])),
            (&["EXISTS", "l"], i(0)),
            (&["LPOP", "l"], NIL.into()),
            (&["LPOP", "l", "2"], NIL_ARRAY.into()),
            (&["RPOP", "l", "0"], NIL_ARRAY.into()),
            (&["RPUSH", "l", "a", "b"], i(2)),
            (&["LPOP", "l", "0"], "*0\r\n".into()),
            (&["RPOP", "l", "2"], bulks(&["b", "a"])),
            (&["RPUSH", "l", "a"], i(1)),
            // The count is read before the key is looked at.
            (&["LPOP", "l", "-1"], positive.into()),
            (&["LPOP", "l", "abc"], positive.into()),
            (&["LPOP", "nokey", "-1"], positive.into()),
            (&["LPOP", "l", " 1"], positive.into()),
            (&["LPOP", "l", "9223372036854775808"], positive.into()),
            (&["LPOP", "l", "1", "2"], arity("lpop")),
            (&["RPOP", "l", "1", "2"], arity("rpop")),
            (&["LPOP"], arity("lpop")),
            (&["LPOP", "l", "9223372036854775807"], bulks(&["a"])),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LPOP", "s"], WRONGTYPE.into()),
            (&["RPOP", "s", "1"], WRONGTYPE.into()),
            (&["LPOP", "s", "-1"], positive.into()),
        ],
    )
}

#[test]
fn resp3_answers_nulls_for_missing_lists() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["HELLO", "3"])?;
    expect(
        &mut raw,
        &[
            (&["LPOP", "nokey"], "_\r\n".into()),
            (&["LPOP", "nokey", "1"], "_\r\n".into()),
            (&["LINDEX", "nokey", "0"], "_\r\n".into()),
            (&["LPOS", "nokey", "a"], "_\r\n".into()),
            (&["LMOVE", "nokey", "d", "LEFT", "LEFT"], "_\r\n".into()),
            (&["BLPOP", "nokey", "0.01"], "_\r\n".into()),
            (
                &["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.01"],
                "_\r\n".into(),
            ),
            (&["MULTI"], "+OK\r\n".into()),
            (&["BLPOP", "nokey", "0"], "+QUEUED\r\n".into()),
            (
                &["BLMOVE", "a", "b", "LEFT", "LEFT", "0"],
                "+QUEUED\r\n".into(),
            ),
            (&["EXEC"], "*2\r\n_\r\n_\r\n".into()),
        ],
    )
}

#[test]
fn ranges_and_indexes_resolve_as_in_redis() -> Result<()> {
    let server = TestServer::start()?;
    let not_int = "-ERR value is not an integer or out of range\r\n";
    let (min, max) = ("-9223372036854775808", "9223372036854775807");
    expect(
        &mut server.raw()?,
        &[
            (&["RPUSH", "l", "a", "b", "c", "d", "e"], i(5)),
            (
                &["LRANGE", "l", "-100", "100"],
                bulks(&["a", "b", "c", "d", "e"]),
            ),
            (&["LRANGE", "l", "2", "1"], "*0\r\n".into()),
            (&["LRANGE", "l", "5", "10"], "*0\r\n".into()),
            (&["LRANGE", "l", "-1", "-2"], "*0\r\n".into()),
            (&["LRANGE", "l", "-2", "-1"], bulks(&["d", "e"])),
            (&["LRANGE", "l", "-6", "0"], bulks(&["a"])),
            (&["LRANGE", "l", "0", "-6"], "*0\r\n".into()),
            (
                &["LRANGE", "l", min, max],
                bulks(&["a", "b", "c", "d", "e"]),
            ),
            (&["LRANGE", "l", max, min], "*0\r\n".into()),
            (&["LRANGE", "l", "a", "1"], not_int.into()),
            (&["LRANGE", "nokey", "a", "b"], not_int.into()),
            (&["LRANGE", "nokey", "0", "-1"], "*0\r\n".into()),
            (&["LRANGE", "l", "0"], arity("lrange")),
            (&["LLEN", "l"], i(5)),
            (&["LLEN", "nokey"], i(0)),
            (&["LINDEX", "l", "-1"], b("e")),
            (&["LINDEX", "l", "-5"], b("a")),
            (&["LINDEX", "l", "-6"], NIL.into()),
            (&["LINDEX", "l", "5"], NIL.into()),
            (&["LINDEX", "l", min], NIL.into()),
            (&["LINDEX", "l", "x"], not_int.into()),
            // The key is looked up before the index is read.
            (&["LINDEX", "nokey", "x"], NIL.into()),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LRANGE", "s", "0", "-1"], WRONGTYPE.into()),
            (&["LRANGE", "s", "a", "b"], not_int.into()),
            (&["LLEN", "s"], WRONGTYPE.into()),
            (&["LINDEX", "s", "x"], WRONGTYPE.into()),
        ],
    )
}

#[test]
fn lpos_finds_by_rank_count_and_maxlen() -> Result<()> {
    let server = TestServer::start()?;
    let rank_zero = "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n";
    let syntax = "-ERR syntax error\r\n";
    expect(
        &mut server.raw()?,
        &[
            (&["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"], i(7)),
            (&["LPOS", "l", "a"], i(0)),
            (&["LPOS", "l", "a", "RANK", "2"], i(3)),
            (&["LPOS", "l", "a", "RANK", "-1"], i(6)),
            (&["LPOS", "l", "a", "RANK", "-2", "COUNT", "0"], a(&[i(3), i(0)])),
            (&["LPOS", "l", "a", "COUNT", "2"], a(&[i(0), i(3)])),
            (&["LPOS", "l", "a", "MAXLEN", "3", "COUNT", "0"], a(&[i(0)])),
            (&["LPOS", "l", "a", "rank", "-1", "maxlen", "2", "count", "0"], a(&[i(6)])),
            (&["LPOS", "l", "a", "RANK", "5"], NIL.into()),
            (&["LPOS", "l", "a", "RANK", "5", "COUNT", "0"], "*0\r\n".into()),
            (&["LPOS", "l", "zz"], NIL.into()),
            (&["LPOS", "nokey", "a", "COUNT", "1"], "*0\r\n".into()),
            (&["LPOS", "l", "c", "RANK", "1", "RANK", "2"], i(5)),
            (&["LPOS", "l", "a", "RANK", "0"], rank_zero.into()),
            (&["LPOS", "nokey", "a", "RANK", "0"], rank_zero.into()),
            (
                &["LPOS", "l", "a", "RANK", "x"],
                "-ERR value is not an integer or out of range\r\n".into(),
            ),
            (
                &["LPOS", "l", "a", "RANK", "-9223372036854775808"],
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n".into(),
            ),
            (&["LPOS", "l", "a", "RANK", "9223372036854775807"], NIL.into()),
            (&["LPOS", "l", "a", "COUNT", "-1"], "-ERR COUNT can't be negative\r\n".into()),
            (&["LPOS", "l", "a", "COUNT", "x"], "-ERR COUNT can't be negative\r\n".into()),
            (&["LPOS", "l", "a", "MAXLEN", "-1"], "-ERR MAXLEN can't be negative\r\n".into()),
            (&["LPOS", "l", "a", "RANK"], syntax.into()),
            (&["LPOS", "l", "a", "FOO", "1"], syntax.into()),
            (&["LPOS", "l", "a", "RANK", "1", "FOO"], syntax.into()),
            (&["LPOS", "l", "a", "RANK", "0", "COUNT", "-1"], rank_zero.into()),
            (&["LPOS", "l"], arity("lpos")),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LPOS", "s", "a"], WRONGTYPE.into()),
            (&["LPOS", "s", "a", "RANK", "0"], rank_zero.into()),
        ],
    )
}

#[test]
fn lmove_pops_from_one_end_and_pushes_to_another() -> Result<()> {
    let server = TestServer::start()?;
    let syntax = "-ERR syntax error\r\n";
    expect(
        &mut server.raw()?,
        &[
            (&["RPUSH", "a", "1", "2", "3"], i(3)),
            (&["LMOVE", "a", "b", "LEFT", "RIGHT"], b("1")),
            (&["LMOVE", "a", "b", "right", "left"], b("3")),
            (&["LRANGE", "b", "0", "-1"], bulks(&["3", "1"])),
            (&["LMOVE", "b", "b", "LEFT", "RIGHT"], b("3")),
            (&["LRANGE", "b", "0", "-1"], bulks(&["1", "3"])),
            (&["LMOVE", "a", "b", "UP", "DOWN"], syntax.into()),
            (&["LMOVE", "nokey", "b", "FOO", "LEFT"], syntax.into()),
            (&["LMOVE", "nokey", "b", "LEFT", "LEFT"], NIL.into()),
            (&["LMOVE", "a", "b", "LEFT", "RIGHT"], b("2")),
            (&["EXISTS", "a"], i(0)),
            (&["LMOVE", "a", "b", "LEFT"], arity("lmove")),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LMOVE", "b", "s", "LEFT", "LEFT"], WRONGTYPE.into()),
            (&["LMOVE", "s", "b", "LEFT", "LEFT"], WRONGTYPE.into()),
            // A missing source answers nil before the destination's type is looked at.
            (&["LMOVE", "nokey", "s", "LEFT", "LEFT"], NIL.into()),
            (&["LRANGE", "b", "0", "-1"], bulks(&["1", "3", "2"])),
        ],
    )
}

#[test]
fn blocking_commands_answer_at_once_when_they_can() -> Result<()> {
    let server = TestServer::start()?;
    let not_float = "-ERR timeout is not a float or out of range\r\n";
    let negative = "-ERR timeout is negative\r\n";
    let range = "-ERR timeout is out of range\r\n";
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["RPUSH", "a", "1", "2"], i(2)),
            (&["BLPOP", "a", "0"], bulks(&["a", "1"])),
            (&["BRPOP", "nokey", "a", "0"], bulks(&["a", "2"])),
            (&["EXISTS", "a"], i(0)),
            (&["RPUSH", "a", "1", "2", "3"], i(3)),
            (&["BLMOVE", "a", "c", "LEFT", "RIGHT", "0"], b("1")),
            (&["BLMOVE", "a", "a", "RIGHT", "LEFT", "0"], b("3")),
            (&["LRANGE", "a", "0", "-1"], bulks(&["3", "2"])),
            (&["BLPOP", "a"], arity("blpop")),
            (&["BLMOVE", "a", "b", "LEFT", "RIGHT"], arity("blmove")),
            (
                &["BLMOVE", "a", "b", "UP", "LEFT", "x"],
                "-ERR syntax error\r\n".into(),
            ),
            (&["BLMOVE", "a", "b", "LEFT", "LEFT", "x"], not_float.into()),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["BLPOP", "nokey", "s", "0"], WRONGTYPE.into()),
            (&["BLPOP", "a", "s", "0"], bulks(&["a", "3"])),
            (&["BLMOVE", "s", "d", "LEFT", "LEFT", "0"], WRONGTYPE.into()),
            (&["BLMOVE", "a", "s", "LEFT", "LEFT", "0"], WRONGTYPE.into()),
            (
                &["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.01"],
                NIL_ARRAY.into(),
            ),
            (&["BRPOP", "nokey", "0.01"], NIL_ARRAY.into()),
        ],
    )?;
    // The timeout is read first: a double, as C's strtold reads it (Redis 7.2's texts;
    // 7.0 answers "negative" where a huge timeout overflows).
    for (timeout, want) in [
        ("abc", not_float),
        ("nan", not_float),
        (" 1", not_float),
        ("1 ", not_float),
        ("", not_float),
        ("1e5000", not_float),
        ("-1e5000", not_float),
        ("1e-5000", not_float),
        ("-1", negative),
        ("-0.5", negative),
        ("-inf", negative),
        ("inf", range),
        ("1e400", range),
        ("9223372036854775807", range),
        ("9223372036854775", range),
    ] {
        expect(&mut raw, &[(&["BLPOP", "s", timeout], want.into())])?;
    }
    raw.cmd(&["RPUSH", "x", "1", "2", "3", "4", "5", "6", "7"])?;
    for timeout in [
        "0x10",
        "1e3",
        ".5e-10",
        "1e-400",
        "+1",
        "-0",
        "9223372036854",
    ] {
        let got = raw.cmd(&["BLPOP", "x", timeout])?;
        assert!(got.starts_with("*2\r\n$1\r\nx\r\n"), "{timeout}: {got:?}");
    }
    Ok(())
}

#[test]
fn inside_multi_blocking_commands_do_not_wait() -> Result<()> {
    let server = TestServer::start()?;
    expect(
        &mut server.raw()?,
        &[
            (&["MULTI"], "+OK\r\n".into()),
            (&["RPUSH", "l", "a"], "+QUEUED\r\n".into()),
            (&["BLPOP", "l", "0"], "+QUEUED\r\n".into()),
            (&["BLPOP", "l", "0"], "+QUEUED\r\n".into()),
            (&["BRPOP", "l", "0"], "+QUEUED\r\n".into()),
            (
                &["BLMOVE", "l", "m", "LEFT", "LEFT", "0"],
                "+QUEUED\r\n".into(),
            ),
            // RESP2: the pops' null array, BLMOVE's null bulk string.
            (
                &["EXEC"],
                a(&[
                    i(1),
                    bulks(&["l", "a"]),
                    NIL_ARRAY.into(),
                    NIL_ARRAY.into(),
                    NIL.into(),
                ]),
            ),
        ],
    )
}

#[test]
fn command_info_and_docs_describe_list_commands_as_redis_does() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let (w, r) = ("@write @list", "@read @list");
    for (name, arity, flags, keys, categories) in [
        (
            "lpush",
            -3,
            "write denyoom fast",
            (1, 1),
            "@write @list @fast",
        ),
        (
            "rpush",
            -3,
            "write denyoom fast",
            (1, 1),
            "@write @list @fast",
        ),
        (
            "lpushx",
            -3,
            "write denyoom fast",
            (1, 1),
            "@write @list @fast",
        ),
        (
            "rpushx",
            -3,
            "write denyoom fast",
            (1, 1),
            "@write @list @fast",
        ),
        ("lpop", -2, "write fast", (1, 1), "@write @list @fast"),
        ("rpop", -2, "write fast", (1, 1), "@write @list @fast"),
        ("lrange", 4, "readonly", (1, 1), &format!("{r} @slow")),
        ("llen", 2, "readonly fast", (1, 1), "@read @list @fast"),
        ("lindex", 3, "readonly", (1, 1), &format!("{r} @slow")),
        ("lpos", -3, "readonly", (1, 1), &format!("{r} @slow")),
        ("lset", 4, "write denyoom", (1, 1), &format!("{w} @slow")),
        ("linsert", 5, "write denyoom", (1, 1), &format!("{w} @slow")),
        ("lrem", 4, "write", (1, 1), &format!("{w} @slow")),
        ("ltrim", 4, "write", (1, 1), &format!("{w} @slow")),
        ("lmove", 5, "write denyoom", (1, 2), &format!("{w} @slow")),
        // Redis 7.0 also flags the blocking three `noscript`; 7.2 does not.
        (
            "blpop",
            -3,
            "write blocking",
            (1, -2),
            &format!("{w} @slow @blocking"),
        ),
        (
            "brpop",
            -3,
            "write blocking",
            (1, -2),
            &format!("{w} @slow @blocking"),
        ),
        (
            "blmove",
            6,
            "write denyoom blocking",
            (1, 2),
            &format!("{w} @slow @blocking"),
        ),
    ] {
        let words = |list: &str| {
            let words: Vec<&str> = list.split(' ').collect();
            let items: String = words.iter().map(|w| format!("+{w}\r\n")).collect();
            format!("*{}\r\n{items}", words.len())
        };
        let want = format!(
            "*1\r\n*10\r\n{}{}{}{}{}:1\r\n{}",
            b(name),
            i(arity),
            words(flags),
            i(keys.0),
            i(keys.1),
            words(categories)
        );
        let got = raw.cmd(&["COMMAND", "INFO", name])?;
        assert!(got.starts_with(&want), "{name}: {got:?}");
    }
    // Key specs: pushes insert, pops access and delete, LMOVE has one spec per key.
    let spec = |flags: &str| {
        let words: Vec<&str> = flags.split(' ').collect();
        let items: String = words.iter().map(|w| format!("+{w}\r\n")).collect();
        format!("$5\r\nflags\r\n*{}\r\n{items}", words.len())
    };
    let specs = |info: String| info.matches("$12\r\nbegin_search\r\n").count();
    for (name, flags) in [
        ("rpush", "RW insert"),
        ("linsert", "RW insert"),
        ("lpop", "RW access delete"),
        ("blpop", "RW access delete"),
        ("lrem", "RW delete"),
        ("ltrim", "RW delete"),
        ("lset", "RW update"),
        ("llen", "RO"),
        ("lrange", "RO access"),
        ("lmove", "RW access delete"),
        ("blmove", "RW insert"),
    ] {
        let info = raw.cmd(&["COMMAND", "INFO", name])?;
        assert!(info.contains(&spec(flags)), "{name}: {info:?}");
    }
    for (name, n) in [("lmove", 2), ("blmove", 2), ("blpop", 1)] {
        assert_eq!(specs(raw.cmd(&["COMMAND", "INFO", name])?), n, "{name}");
    }
    // The timeout is a double, LRANGE's stop and LPOS's options integers.
    let docs = raw.cmd(&["COMMAND", "DOCS", "blpop"])?;
    assert!(
        docs.contains("$7\r\ntimeout\r\n$4\r\ntype\r\n$6\r\ndouble\r\n"),
        "{docs:?}"
    );
    let docs = raw.cmd(&["COMMAND", "DOCS", "lpos"])?;
    assert!(
        docs.contains("$4\r\nrank\r\n$4\r\ntype\r\n$7\r\ninteger\r\n"),
        "{docs:?}"
    );
    Ok(())
}
