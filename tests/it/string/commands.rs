//! String commands, reply for reply: every case below was run on redis-server 7.0.15 and the
//! expected text is what it answered (error texts included).

use anyhow::Result;
use sluice_tests::TestServer;

use crate::replies::expect;

#[test]
fn string_commands_answer_as_redis() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (
                &["SET", "k", "v", "EX", "0"],
                "-ERR invalid expire time in 'set' command\r\n".into(),
            ),
            (
                &["SET", "k", "v", "EX", "abc"],
                "-ERR value is not an integer or out of range\r\n".into(),
            ),
            (
                &["SET", "k", "v", "EX", "10", "PX", "10"],
                "-ERR syntax error\r\n".into(),
            ),
            (
                &["SET", "k", "v", "EX", "9223372036854775807"],
                "-ERR invalid expire time in 'set' command\r\n".into(),
            ),
            (&["SET", "k", "v", "PXAT", "1"], "+OK\r\n".into()),
            (&["EXISTS", "k"], ":0\r\n".into()),
            (&["SET", "k", "v", "NX", "GET"], "$-1\r\n".into()),
            (&["SET", "k", "v2", "NX", "GET"], "$1\r\nv\r\n".into()),
            (&["SET", "k", "v3", "XX", "GET"], "$1\r\nv\r\n".into()),
            (&["GET", "k"], "$2\r\nv3\r\n".into()),
            (&["SET", "k", "v", "GET", "GET"], "$2\r\nv3\r\n".into()),
            (
                &["SET", "k", "v", "NX", "XX"],
                "-ERR syntax error\r\n".into(),
            ),
            (
                &["SET", "k", "v", "XX", "NX"],
                "-ERR syntax error\r\n".into(),
            ),
            (&["SET", "k", "v", "NX", "NX"], "$-1\r\n".into()),
            (
                &["SET", "k"],
                "-ERR wrong number of arguments for 'set' command\r\n".into(),
            ),
            (&["SET", "k", "v", "FOO"], "-ERR syntax error\r\n".into()),
            (&["XADD", "st", "1-1", "f", "v"], "$3\r\n1-1\r\n".into()),
            (
                &["SET", "st", "v", "GET"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".into(),
            ),
            (
                &["GET", "st"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".into(),
            ),
            (
                &["GETSET", "st", "x"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".into(),
            ),
            (
                &["GETDEL", "st"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".into(),
            ),
            (
                &["GETRANGE", "st", "0", "1"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".into(),
            ),
            (
                &["STRLEN", "st"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".into(),
            ),
            (
                &["APPEND", "st", "x"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".into(),
            ),
            (
                &["INCR", "st"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".into(),
            ),
            (
                &["MGET", "st", "k", "nokey"],
                "*3\r\n$-1\r\n$1\r\nv\r\n$-1\r\n".into(),
            ),
            (&["SET", "st", "v"], "+OK\r\n".into()),
            (&["TYPE", "st"], "+string\r\n".into()),
            (
                &["SETEX", "k", "0", "v"],
                "-ERR invalid expire time in 'setex' command\r\n".into(),
            ),
            (
                &["SETEX", "k", "-1", "v"],
                "-ERR invalid expire time in 'setex' command\r\n".into(),
            ),
            (
                &["PSETEX", "k", "0", "v"],
                "-ERR invalid expire time in 'psetex' command\r\n".into(),
            ),
            (
                &["SETEX", "k", "abc", "v"],
                "-ERR value is not an integer or out of range\r\n".into(),
            ),
            (
                &["GETEX", "k", "EX", "0"],
                "-ERR invalid expire time in 'getex' command\r\n".into(),
            ),
            (
                &["GETEX", "k", "PERSIST", "EX", "1"],
                "-ERR syntax error\r\n".into(),
            ),
            (&["GETEX", "nokey", "EX", "1"], "$-1\r\n".into()),
            (&["GETEX", "k", "FOO"], "-ERR syntax error\r\n".into()),
            (&["GETEX", "k", "EXAT", "1"], "$1\r\nv\r\n".into()),
            (&["EXISTS", "k"], ":0\r\n".into()),
            (&["INCR", "k2"], ":1\r\n".into()),
            (&["INCR", "k2"], ":2\r\n".into()),
            (&["INCRBY", "k2", "10"], ":12\r\n".into()),
            (
                &["INCRBY", "k2", "abc"],
                "-ERR value is not an integer or out of range\r\n".into(),
            ),
            (&["DECR", "k2"], ":11\r\n".into()),
            (&["DECRBY", "k2", "5"], ":6\r\n".into()),
            (
                &["DECRBY", "k2", "-9223372036854775808"],
                "-ERR decrement would overflow\r\n".into(),
            ),
            (&["SET", "n", "9223372036854775807"], "+OK\r\n".into()),
            (
                &["INCR", "n"],
                "-ERR increment or decrement would overflow\r\n".into(),
            ),
            (&["SET", "n", "-9223372036854775808"], "+OK\r\n".into()),
            (
                &["DECR", "n"],
                "-ERR increment or decrement would overflow\r\n".into(),
            ),
            (&["INCRBYFLOAT", "k", "1"], "$1\r\n1\r\n".into()),
            (&["SET", "f", "10.5"], "+OK\r\n".into()),
            (&["INCRBYFLOAT", "f", "0.1"], "$4\r\n10.6\r\n".into()),
            (&["SET", "f2", "0.1"], "+OK\r\n".into()),
            (&["INCRBYFLOAT", "f2", "0.2"], "$3\r\n0.3\r\n".into()),
            (
                &["INCRBYFLOAT", "f2", "abc"],
                "-ERR value is not a valid float\r\n".into(),
            ),
            (
                &["INCRBYFLOAT", "f2", "inf"],
                "-ERR increment would produce NaN or Infinity\r\n".into(),
            ),
            (&["SET", "e", "5.0e3"], "+OK\r\n".into()),
            (&["INCRBYFLOAT", "e", "2.0e2"], "$4\r\n5200\r\n".into()),
            (&["INCRBYFLOAT", "newf", "3"], "$1\r\n3\r\n".into()),
            (&["OBJECT", "ENCODING", "newf"], "$6\r\nembstr\r\n".into()),
            (&["SET", "g", "hello"], "+OK\r\n".into()),
            (&["GETRANGE", "g", "0", "-1"], "$5\r\nhello\r\n".into()),
            (&["GETRANGE", "g", "1", "3"], "$3\r\nell\r\n".into()),
            (&["GETRANGE", "g", "-3", "-1"], "$3\r\nllo\r\n".into()),
            (
                &["GETRANGE", "g", "a", "1"],
                "-ERR value is not an integer or out of range\r\n".into(),
            ),
            (&["GETRANGE", "g", "4", "2"], "$0\r\n\r\n".into()),
            (&["GETRANGE", "g", "10", "20"], "$0\r\n\r\n".into()),
            (&["GETRANGE", "nokey", "0", "10"], "$0\r\n\r\n".into()),
            (
                &["SETRANGE", "g", "-1", "x"],
                "-ERR offset is out of range\r\n".into(),
            ),
            (
                &["SETRANGE", "g", "536870912", "x"],
                "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n".into(),
            ),
            (&["SETRANGE", "missing", "0", ""], ":0\r\n".into()),
            (&["EXISTS", "missing"], ":0\r\n".into()),
            (&["SETRANGE", "m2", "3", "ab"], ":5\r\n".into()),
            (&["GET", "m2"], "$5\r\n\0\0\0ab\r\n".into()),
            (&["SETRANGE", "g", "1", "EL"], ":5\r\n".into()),
            (&["GET", "g"], "$5\r\nhELlo\r\n".into()),
            (&["MSETNX", "a", "1", "b", "2"], ":1\r\n".into()),
            (&["MSETNX", "a", "1", "c", "3"], ":0\r\n".into()),
            (
                &["MSET", "a"],
                "-ERR wrong number of arguments for 'mset' command\r\n".into(),
            ),
            (
                &["MSET", "a", "1", "b"],
                "-ERR wrong number of arguments for 'mset' command\r\n".into(),
            ),
            (&["MSET", "a", "1", "b", "2", "c", "3"], "+OK\r\n".into()),
            (
                &["MGET", "a", "b", "c", "nokey"],
                "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$-1\r\n".into(),
            ),
            (&["APPEND", "a", "2"], ":2\r\n".into()),
            (&["OBJECT", "ENCODING", "a"], "$3\r\nraw\r\n".into()),
            (&["INCR", "a"], ":13\r\n".into()),
            (&["OBJECT", "ENCODING", "a"], "$3\r\nint\r\n".into()),
            (&["APPEND", "new", "hello"], ":5\r\n".into()),
            (&["OBJECT", "ENCODING", "new"], "$6\r\nembstr\r\n".into()),
            (&["SET", "big", "12345678901234567890"], "+OK\r\n".into()),
            (&["OBJECT", "ENCODING", "big"], "$6\r\nembstr\r\n".into()),
            (
                &[
                    "SET",
                    "long",
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                ],
                "+OK\r\n".into(),
            ),
            (&["OBJECT", "ENCODING", "long"], "$3\r\nraw\r\n".into()),
            (
                &["SET", "mid", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
                "+OK\r\n".into(),
            ),
            (&["SETNX", "a", "5"], ":0\r\n".into()),
            (&["SETNX", "zz", "5"], ":1\r\n".into()),
            (&["GET", "zz"], "$1\r\n5\r\n".into()),
            (&["SET", "t", "v", "EX", "100"], "+OK\r\n".into()),
            (&["SET", "t", "v3"], "+OK\r\n".into()),
            (&["STRLEN", "nokey"], ":0\r\n".into()),
            (&["STRLEN", "a"], ":2\r\n".into()),
            (&["OBJECT", "ENCODING", "nokey"], "$-1\r\n".into()),
            (
                &["GET"],
                "-ERR wrong number of arguments for 'get' command\r\n".into(),
            ),
            (&["GETDEL", "a"], "$2\r\n13\r\n".into()),
            (&["GETDEL", "a"], "$-1\r\n".into()),
            (&["TYPE", "a"], "+none\r\n".into()),
            (&["TYPE", "zz"], "+string\r\n".into()),
        ],
    )
}
