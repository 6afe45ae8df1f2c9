//! `XREAD … +` (Redis 7.4, Valkey 8): the last entry of each stream, and a blocked `+` that
//! waits for a missing or empty stream's next entry. Replies checked against Valkey 8.1.

use std::time::Duration;

use anyhow::Result;
use sluice_tests::TestServer;

use crate::replies::{NIL_ARRAY, a, b, e, expect, map3, streams};

const LAST_ID_ZERO: &str = "-ERR the stream last element ID is 0-0\r\n";

#[test]
fn plus_reads_the_last_entry_of_each_stream() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "a", "1-1", "f", "1"])?;
    raw.cmd(&["XADD", "a", "2-1", "f", "2"])?;
    // A stream whose entries were all deleted answers nothing, like a missing one.
    raw.cmd(&["XADD", "emptied", "1-1", "f", "1"])?;
    raw.cmd(&["XDEL", "emptied", "1-1"])?;
    let last = [e("2-1", &["f", "2"])];
    let all = [e("1-1", &["f", "1"]), e("2-1", &["f", "2"])];
    expect(
        &mut raw,
        &[
            (
                &["XREAD", "STREAMS", "a", "emptied", "+", "+"],
                streams(&[("a", &last)]),
            ),
            (
                &["XREAD", "STREAMS", "a", "missing", "+", "+"],
                streams(&[("a", &last)]),
            ),
            // COUNT does not change `+`.
            (
                &["XREAD", "COUNT", "5", "STREAMS", "a", "+"],
                streams(&[("a", &last)]),
            ),
            (
                &["XREAD", "COUNT", "0", "STREAMS", "a", "+"],
                streams(&[("a", &last)]),
            ),
            (
                &["XREAD", "STREAMS", "a", "a", "+", "0"],
                streams(&[("a", &last), ("a", &all)]),
            ),
            (&["XREAD", "STREAMS", "missing", "+"], NIL_ARRAY.into()),
            (
                &["XREAD", "BLOCK", "10", "STREAMS", "emptied", "+"],
                NIL_ARRAY.into(),
            ),
            // A stream with an entry answers at once, BLOCK or not.
            (
                &["XREAD", "BLOCK", "0", "STREAMS", "a", "+"],
                streams(&[("a", &last)]),
            ),
            (
                &["XREAD", "STREAMS", "a", "++"],
                "-ERR Invalid stream ID specified as stream command argument\r\n".into(),
            ),
            // A stream that never had an entry has no ID before its last_id (0-0): Redis
            // 7.4 and Valkey 8 answer an error, even beside a stream that has entries.
            (
                &["XGROUP", "CREATE", "fresh", "g", "$", "MKSTREAM"],
                "+OK\r\n".into(),
            ),
            (&["XREAD", "STREAMS", "fresh", "+"], LAST_ID_ZERO.into()),
            (
                &["XREAD", "STREAMS", "a", "fresh", "+", "+"],
                LAST_ID_ZERO.into(),
            ),
            (
                &["XREAD", "BLOCK", "10", "STREAMS", "fresh", "+"],
                LAST_ID_ZERO.into(),
            ),
            (&["XGROUP", "CREATE", "a", "g", "0"], "+OK\r\n".into()),
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "+"],
                "-ERR The + ID is meaningless in the context of XREADGROUP: you want to read the \
                 history of this consumer by specifying a proper ID, or use the > ID to get new \
                 messages. The + ID would just return an empty result set.\r\n"
                    .into(),
            ),
        ],
    )?;
    raw.cmd(&["HELLO", "3"])?;
    assert_eq!(
        raw.cmd(&["XREAD", "STREAMS", "a", "emptied", "+", "+"])?,
        map3(&[("a", a(&last))])
    );
    Ok(())
}

#[test]
fn a_blocked_plus_waits_for_the_first_entry_and_reads_only_the_last() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["XADD", "a", "1-1", "f", "1"])?;
    let mut reader = server.raw()?;
    // `m` is missing and `a` has nothing after 1-1: the read waits.
    reader.send_cmd(&[
        b"XREAD", b"BLOCK", b"0", b"STREAMS", b"m", b"a", b"+", b"1-1",
    ])?;
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(admin.info_field("clients", "blocked_clients")?, "1");
    admin.cmd(&["MULTI"])?;
    admin.cmd(&["XADD", "m", "5-1", "x", "y"])?;
    admin.cmd(&["XADD", "m", "6-1", "x", "z"])?;
    assert_eq!(admin.cmd(&["EXEC"])?, a(&[b("5-1"), b("6-1")]));
    // Served once the EXEC is done: the last of the two entries.
    assert_eq!(
        reader.read_reply()?,
        streams(&[("m", &[e("6-1", &["x", "z"])])])
    );
    Ok(())
}
