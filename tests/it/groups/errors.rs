//! Consumer-group commands with bad input: every error Redis 7.2 gives, in the order it
//! checks things, and XGROUP's subcommands with their options.

use anyhow::Result;
use sluice_tests::TestServer;

use crate::replies::{NIL_ARRAY, a, b, expect, flat, i};

const KEY_MISSING: &str = "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n";
const BAD_ID: &str = "-ERR Invalid stream ID specified as stream command argument\r\n";
const PLUS_IN_READGROUP: &str = "-ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";

fn err(text: &str) -> String {
    format!("-{text}\r\n")
}

#[test]
fn xgroup_subcommands_options_and_errors() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let sub = |name: &str| {
        err(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{name}'. Try XGROUP HELP."
        ))
    };
    expect(
        &mut raw,
        &[
            (&["XGROUP", "CREATE", "s", "g", "$"], KEY_MISSING.into()),
            (
                &["XGROUP", "CREATE", "s", "g", "bad", "MKSTREAM"],
                BAD_ID.into(),
            ),
            (&["EXISTS", "s"], i(0)),
            (
                &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
                "+OK\r\n".into(),
            ),
            (&["XLEN", "s"], i(0)),
            (
                &["XGROUP", "CREATE", "s", "g", "0"],
                err("BUSYGROUP Consumer Group name already exists"),
            ),
            (&["XGROUP", "CREATE", "s", "h", "bad"], BAD_ID.into()),
            (&["XGROUP", "CREATE", "s", "h", "-"], BAD_ID.into()),
            (&["XGROUP", "CREATE", "s", "h", "$", "FOO"], sub("CREATE")),
            (
                &["XGROUP", "create", "s", "h", "$", "ENTRIESREAD"],
                sub("create"),
            ),
            // Options are checked before the key and the ID.
            (
                &["XGROUP", "CREATE", "nokey", "h", "bad", "ENTRIESREAD", "x"],
                NOT_INT.into(),
            ),
            (
                &["XGROUP", "CREATE", "s", "h", "$", "ENTRIESREAD", "-2"],
                err("ERR value for ENTRIESREAD must be positive or -1"),
            ),
            (
                &[
                    "XGROUP",
                    "CREATE",
                    "s",
                    "h",
                    "$",
                    "ENTRIESREAD",
                    "1",
                    "ENTRIESREAD",
                    "2",
                ],
                sub("CREATE"),
            ),
            (
                &["XGROUP", "CREATE", "s", "h", "5", "ENTRIESREAD", "3"],
                "+OK\r\n".into(),
            ),
            (&["XGROUP", "SETID", "nokey", "g", "0"], KEY_MISSING.into()),
            (
                &["XGROUP", "SETID", "s", "nog", "0"],
                err("NOGROUP No such consumer group 'nog' for key name 's'"),
            ),
            (&["XGROUP", "SETID", "s", "g", "bad"], BAD_ID.into()),
            (
                &["XGROUP", "SETID", "s", "g", "5", "FOO", "2"],
                sub("SETID"),
            ),
            (
                &["XGROUP", "SETID", "s", "g", "bad", "ENTRIESREAD", "x"],
                NOT_INT.into(),
            ),
            (
                &["XGROUP", "SETID", "s", "g", "7-1", "ENTRIESREAD", "2"],
                "+OK\r\n".into(),
            ),
            // SETID takes `-` and `+` (Redis parses its ID loosely there).
            (&["XGROUP", "SETID", "s", "h", "-"], "+OK\r\n".into()),
            (
                &["XINFO", "GROUPS", "s"],
                a(&[
                    flat(&[
                        ("name", b("g")),
                        ("consumers", i(0)),
                        ("pending", i(0)),
                        ("last-delivered-id", b("7-1")),
                        // ENTRIESREAD 2 on a stream that never had an entry: capped to 0 (Redis 8.2.2).
                        ("entries-read", i(0)),
                        // Nothing was ever added: the lag is 0 whatever the counter says.
                        ("lag", i(0)),
                    ]),
                    flat(&[
                        ("name", b("h")),
                        ("consumers", i(0)),
                        ("pending", i(0)),
                        ("last-delivered-id", b("0-0")),
                        ("entries-read", "$-1\r\n".into()),
                        ("lag", i(0)),
                    ]),
                ]),
            ),
            (&["XGROUP", "CREATECONSUMER", "s", "g", "c"], i(1)),
            (&["XGROUP", "CREATECONSUMER", "s", "g", "c"], i(0)),
            (
                &["XGROUP", "CREATECONSUMER", "s", "nog", "c"],
                err("NOGROUP No such consumer group 'nog' for key name 's'"),
            ),
            (
                &["XGROUP", "CREATECONSUMER", "nokey", "g", "c"],
                KEY_MISSING.into(),
            ),
            (&["XGROUP", "DELCONSUMER", "s", "g", "c"], i(0)),
            (&["XGROUP", "DELCONSUMER", "s", "g", "nobody"], i(0)),
            (
                &["XGROUP", "DELCONSUMER", "s", "nog", "c"],
                err("NOGROUP No such consumer group 'nog' for key name 's'"),
            ),
            (&["XGROUP", "DESTROY", "s", "h"], i(1)),
            (&["XGROUP", "DESTROY", "s", "h"], i(0)),
            (&["XGROUP", "DESTROY", "nokey", "h"], KEY_MISSING.into()),
            (
                &["XGROUP", "FOO", "s"],
                err("ERR unknown subcommand 'FOO'. Try XGROUP HELP."),
            ),
            (
                &["XGROUP", "CREATE", "s"],
                err("ERR wrong number of arguments for 'xgroup|create' command"),
            ),
            (
                &["XGROUP", "DESTROY", "s", "g", "x"],
                err("ERR wrong number of arguments for 'xgroup|destroy' command"),
            ),
            (
                &["XGROUP"],
                err("ERR wrong number of arguments for 'xgroup' command"),
            ),
        ],
    )?;
    let help = raw.cmd(&["XGROUP", "HELP"])?;
    assert!(help.starts_with(
        "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n"
    ), "{help}");
    assert!(
        help.ends_with("+HELP\r\n+    Prints this help.\r\n"),
        "{help}"
    );
    Ok(())
}

#[test]
fn xreadgroup_errors() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-0", "f", "v"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    let nogroup = |key: &str, group: &str| {
        err(&format!(
            "NOGROUP No such key '{key}' or consumer group '{group}' in XREADGROUP with GROUP option"
        ))
    };
    expect(
        &mut raw,
        &[
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"],
                err("ERR wrong number of arguments for 'xreadgroup' command"),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "COUNT",
                    "1",
                    "STREAMS",
                    "s",
                ],
                err(
                    "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.",
                ),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "COUNT",
                    "x",
                    "STREAMS",
                    "s",
                    ">",
                ],
                NOT_INT.into(),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "-1",
                    "STREAMS",
                    "s",
                    ">",
                ],
                err("ERR timeout is negative"),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "x",
                    "STREAMS",
                    "s",
                    ">",
                ],
                err("ERR timeout is not an integer or out of range"),
            ),
            (
                &["XREADGROUP", "GROUP", "g", "c", "FOO", "STREAMS", "s", ">"],
                SYNTAX.into(),
            ),
            (
                &[
                    "XREADGROUP",
                    "COUNT",
                    "1",
                    "BLOCK",
                    "1",
                    "STREAMS",
                    "s",
                    ">",
                ],
                err("ERR Missing GROUP option for XREADGROUP"),
            ),
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"],
                err(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ),
            ),
            (
                &["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"],
                nogroup("s", "nog"),
            ),
            // Stream by stream: the key and group, then the ID.
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "STREAMS",
                    "nokey",
                    "s",
                    ">",
                    "$",
                ],
                nogroup("nokey", "g"),
            ),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "STREAMS",
                    "s",
                    "nokey",
                    "+",
                    ">",
                ],
                // Redis 7.4 and Valkey 8 name `+`, which XREAD takes since 7.4.
                PLUS_IN_READGROUP.into(),
            ),
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "(0"],
                BAD_ID.into(),
            ),
            // A failed read delivered nothing.
            (
                &["XPENDING", "s", "g"],
                a(&[i(0), "$-1\r\n".into(), "$-1\r\n".into(), NIL_ARRAY.into()]),
            ),
        ],
    )
}

#[test]
fn pel_command_errors() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-0", "f", "v"])?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "0"])?;
    let nogroup = |key: &str, group: &str| {
        err(&format!(
            "NOGROUP No such key '{key}' or consumer group '{group}'"
        ))
    };
    expect(
        &mut raw,
        &[
            // XACK: no key or group acknowledges nothing, before looking at the IDs.
            (&["XACK", "nokey", "g", "bad"], i(0)),
            (&["XACK", "s", "nog", "bad"], i(0)),
            (&["XACK", "s", "g", "bad"], BAD_ID.into()),
            (&["XACK", "s", "g", "1-0", "(2"], BAD_ID.into()),
            // XPENDING: argument errors first, then NOGROUP.
            (&["XPENDING", "s", "g", "-", "+"], SYNTAX.into()),
            (
                &["XPENDING", "s", "g", "IDLE", "5", "-", "+"],
                SYNTAX.into(),
            ),
            (
                &["XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"],
                NOT_INT.into(),
            ),
            (&["XPENDING", "s", "g", "-", "+", "x"], NOT_INT.into()),
            (&["XPENDING", "nokey", "g", "bad", "+", "1"], BAD_ID.into()),
            (
                &[
                    "XPENDING",
                    "s",
                    "g",
                    "(18446744073709551615-18446744073709551615",
                    "+",
                    "1",
                ],
                err("ERR invalid start ID for the interval"),
            ),
            (
                &["XPENDING", "s", "g", "-", "(0-0", "1"],
                err("ERR invalid end ID for the interval"),
            ),
            (&["XPENDING", "nokey", "g"], nogroup("nokey", "g")),
            (
                &["XPENDING", "s", "nog", "-", "+", "1"],
                nogroup("s", "nog"),
            ),
            // XCLAIM: NOGROUP first, then min-idle-time, then the options after the IDs.
            (
                &["XCLAIM", "nokey", "g", "c", "x", "1-0"],
                nogroup("nokey", "g"),
            ),
            (
                &["XCLAIM", "s", "g", "c", "x", "1-0"],
                err("ERR Invalid min-idle-time argument for XCLAIM"),
            ),
            (
                &["XCLAIM", "s", "g", "c", "0", "1-0", "FOO"],
                err("ERR Unrecognized XCLAIM option 'FOO'"),
            ),
            (
                &["XCLAIM", "s", "g", "c", "0", "1-0", "IDLE"],
                err("ERR Unrecognized XCLAIM option 'IDLE'"),
            ),
            (
                &["XCLAIM", "s", "g", "c", "0", "1-0", "IDLE", "x"],
                err("ERR Invalid IDLE option argument for XCLAIM"),
            ),
            (
                &["XCLAIM", "s", "g", "c", "0", "1-0", "TIME", "x"],
                err("ERR Invalid TIME option argument for XCLAIM"),
            ),
            (
                &["XCLAIM", "s", "g", "c", "0", "1-0", "RETRYCOUNT", "x"],
                err("ERR Invalid RETRYCOUNT option argument for XCLAIM"),
            ),
            (
                &["XCLAIM", "s", "g", "c", "0", "1-0", "LASTID", "+"],
                BAD_ID.into(),
            ),
            // XAUTOCLAIM: every argument first, NOGROUP last.
            (
                &["XAUTOCLAIM", "nokey", "g", "c", "x", "-"],
                err("ERR Invalid min-idle-time argument for XAUTOCLAIM"),
            ),
            (
                &["XAUTOCLAIM", "nokey", "g", "c", "0", "bad"],
                BAD_ID.into(),
            ),
            (
                &["XAUTOCLAIM", "nokey", "g", "c", "0", "-", "COUNT", "0"],
                err("ERR COUNT must be > 0"),
            ),
            (
                &["XAUTOCLAIM", "nokey", "g", "c", "0", "-", "COUNT", "x"],
                err("ERR COUNT must be > 0"),
            ),
            (
                &[
                    "XAUTOCLAIM",
                    "nokey",
                    "g",
                    "c",
                    "0",
                    "-",
                    "COUNT",
                    "576460752303423488",
                ],
                err("ERR COUNT must be > 0"),
            ),
            (
                &["XAUTOCLAIM", "nokey", "g", "c", "0", "-", "COUNT"],
                SYNTAX.into(),
            ),
            (
                &["XAUTOCLAIM", "nokey", "g", "c", "0", "-", "FOO"],
                SYNTAX.into(),
            ),
            (
                &[
                    "XAUTOCLAIM",
                    "s",
                    "g",
                    "c",
                    "0",
                    "(18446744073709551615-18446744073709551615",
                ],
                err("ERR invalid start ID for the interval"),
            ),
            (
                &["XAUTOCLAIM", "nokey", "g", "c", "0", "-"],
                nogroup("nokey", "g"),
            ),
            // XINFO on groups.
            (&["XINFO", "GROUPS", "nokey"], err("ERR no such key")),
            (
                &["XINFO", "CONSUMERS", "nokey", "g"],
                err("ERR no such key"),
            ),
            (
                &["XINFO", "CONSUMERS", "s", "nog"],
                err("NOGROUP No such consumer group 'nog' for key name 's'"),
            ),
        ],
    )
}
