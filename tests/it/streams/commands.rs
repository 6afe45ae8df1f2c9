//! The stream log commands, reply for reply as Redis 7.2 sends them.

use anyhow::Result;
use redis::{Commands, Value};
use sluice_tests::TestServer;

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn entry(id: &str, fields: &[&str]) -> Value {
    Value::Array(vec![
        bulk(id),
        Value::Array(fields.iter().map(|f| bulk(f)).collect()),
    ])
}

#[test]
fn xadd_xrange_xrevrange_with_explicit_ids() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["XADD", "s", "1-1", "a", "1"])?, "$3\r\n1-1\r\n");
    assert_eq!(raw.cmd(&["XADD", "s", "1-*", "b", "2"])?, "$3\r\n1-2\r\n");
    assert_eq!(raw.cmd(&["XADD", "s", "5", "c", "3"])?, "$3\r\n5-0\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":3\r\n");
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "2"])?,
        "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "(1-1", "(5-0"])?,
        "*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        raw.cmd(&["XREVRANGE", "s", "+", "-", "COUNT", "1"])?,
        "*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "0"])?,
        "*-1\r\n"
    );
    assert_eq!(raw.cmd(&["XRANGE", "nokey", "-", "+"])?, "*0\r\n");
    assert_eq!(raw.cmd(&["XRANGE", "s", "5", "1"])?, "*0\r\n");

    let mut client = server.client()?;
    let range: Value = client.xrange("s", "1-2", "5")?;
    assert_eq!(
        range,
        Value::Array(vec![entry("1-2", &["b", "2"]), entry("5-0", &["c", "3"])])
    );
    Ok(())
}

#[test]
fn xadd_errors_use_redis_texts() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "5-5", "a", "1"])?;
    let cases: &[(&[&str], &str)] = &[
        (
            &["XADD", "s", "5-5", "a", "1"],
            "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n",
        ),
        (
            &["XADD", "s", "0-0", "a", "1"],
            "-ERR The ID specified in XADD must be greater than 0-0\r\n",
        ),
        (
            &["XADD", "s", "x-1", "a", "1"],
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        (
            &["XADD", "s", "*", "a"],
            "-ERR wrong number of arguments for 'xadd' command\r\n",
        ),
        (
            &["XADD", "s", "*"],
            "-ERR wrong number of arguments for 'xadd' command\r\n",
        ),
        (
            &["XADD", "s", "MAXLEN", "-1", "*", "a", "1"],
            "-ERR The MAXLEN argument must be >= 0.\r\n",
        ),
        (
            &["XADD", "s", "MAXLEN", "x", "*", "a", "1"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "*", "a", "1"],
            "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n",
        ),
        (
            &["XADD", "s", "MAXLEN", "1", "MINID", "5", "*", "a", "1"],
            "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n",
        ),
        (&["XADD", "nokey", "NOMKSTREAM", "*", "a", "1"], "$-1\r\n"),
        (
            &["XADD", "nokey", "NOMKSTREAM", "0-0", "a", "1"],
            "-ERR The ID specified in XADD must be greater than 0-0\r\n",
        ),
        (
            &[
                "XRANGE",
                "s",
                "(18446744073709551615-18446744073709551615",
                "+",
            ],
            "-ERR invalid start ID for the interval\r\n",
        ),
        (
            &["XRANGE", "s", "-", "(0-0"],
            "-ERR invalid end ID for the interval\r\n",
        ),
        (
            &["XRANGE", "s", "(+", "+"],
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        (&["XRANGE", "s", "-", "+", "COUNT"], "-ERR syntax error\r\n"),
        (
            &["XRANGE", "s", "-"],
            "-ERR wrong number of arguments for 'xrange' command\r\n",
        ),
        (
            &["XLEN"],
            "-ERR wrong number of arguments for 'xlen' command\r\n",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(&raw.cmd(args)?, want, "{args:?}");
    }
    // A refused XADD on a new key must not create it.
    assert_eq!(raw.cmd(&["EXISTS", "nokey"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":1\r\n");
    Ok(())
}

#[test]
fn trimming_deleting_and_setid() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    for i in 1..=10 {
        raw.cmd(&["XADD", "s", &format!("{i}-0"), "f", &i.to_string()])?;
    }
    assert_eq!(raw.cmd(&["XDEL", "s", "2-0", "3-0", "99-0"])?, ":2\r\n");
    assert_eq!(
        raw.cmd(&["XDEL", "s", "bad"])?,
        "-ERR Invalid stream ID specified as stream command argument\r\n"
    );
    assert_eq!(raw.cmd(&["XTRIM", "s", "MAXLEN", "=", "5"])?, ":3\r\n");
    assert_eq!(raw.cmd(&["XTRIM", "s", "MINID", "8"])?, ":2\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":3\r\n");
    assert_eq!(
        raw.cmd(&["XADD", "s", "MAXLEN", "2", "11-0", "f", "11"])?,
        "$4\r\n11-0\r\n"
    );
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+"])?,
        "*2\r\n*2\r\n$4\r\n10-0\r\n*2\r\n$1\r\nf\r\n$2\r\n10\r\n*2\r\n$4\r\n11-0\r\n*2\r\n$1\r\nf\r\n$2\r\n11\r\n"
    );
    assert_eq!(
        raw.cmd(&["XTRIM", "s", "LIMIT", "5"])?,
        "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"
    );
    assert_eq!(
        raw.cmd(&["XTRIM", "s", "FOO", "5"])?,
        "-ERR syntax error\r\n"
    );
    assert_eq!(raw.cmd(&["XTRIM", "nokey", "MAXLEN", "0"])?, ":0\r\n");

    assert_eq!(
        raw.cmd(&["XSETID", "s", "5-0"])?,
        "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n"
    );
    assert_eq!(
        raw.cmd(&["XSETID", "s", "100-0", "ENTRIESADDED", "1"])?,
        "-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n"
    );
    assert_eq!(
        raw.cmd(&["XSETID", "s", "100-0", "ENTRIESADDED", "-1"])?,
        "-ERR entries_added must be positive\r\n"
    );
    assert_eq!(
        raw.cmd(&["XSETID", "nokey", "1-0"])?,
        "-ERR no such key\r\n"
    );
    assert_eq!(
        raw.cmd(&[
            "XSETID",
            "s",
            "100-0",
            "ENTRIESADDED",
            "50",
            "MAXDELETEDID",
            "9-0"
        ])?,
        "+OK\r\n"
    );
    assert_eq!(
        raw.cmd(&["XADD", "s", "100-0", "a", "b"])?,
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
    assert_eq!(
        raw.cmd(&["XADD", "s", "100-*", "a", "b"])?,
        "$5\r\n100-1\r\n"
    );
    Ok(())
}

#[test]
fn approximate_trimming_removes_whole_nodes() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "stream-node-max-entries", "10"])?,
        "+OK\r\n"
    );
    for i in 1..=100 {
        raw.cmd(&["XADD", "s", &format!("{i}-0"), "f", "v"])?;
    }
    // 100 entries in nodes of 10: "~ 55" may only drop the 4 whole nodes below the threshold.
    assert_eq!(raw.cmd(&["XTRIM", "s", "MAXLEN", "~", "55"])?, ":40\r\n");
    assert_eq!(
        raw.cmd(&["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "20"])?,
        ":20\r\n"
    );
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":40\r\n");
    Ok(())
}

#[test]
fn xinfo_stream_reports_redis_fields() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    raw.cmd(&["XADD", "s", "2-1", "b", "2"])?;
    let info = raw.cmd(&["XINFO", "STREAM", "s"])?;
    let want = "*32\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:1\r\n\
$17\r\nlast-generated-id\r\n$3\r\n2-1\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n\
$23\r\nrecorded-first-entry-id\r\n$3\r\n1-1\r\n\
$13\r\nidmp-duration\r\n:100\r\n$12\r\nidmp-maxsize\r\n:100\r\n$12\r\npids-tracked\r\n:0\r\n\
$12\r\niids-tracked\r\n:0\r\n$10\r\niids-added\r\n:0\r\n$15\r\niids-duplicates\r\n:0\r\n\
$6\r\ngroups\r\n:0\r\n\
$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n\
$10\r\nlast-entry\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n";
    assert_eq!(info, want);
    raw.cmd(&["XDEL", "s", "1-1", "2-1"])?;
    let info = raw.cmd(&["XINFO", "STREAM", "s"])?;
    assert!(
        info.ends_with("$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
        "{info}"
    );
    assert_eq!(
        raw.cmd(&["XINFO", "STREAM", "nokey"])?,
        "-ERR no such key\r\n"
    );
    assert_eq!(
        raw.cmd(&["XINFO", "NOPE", "s"])?,
        "-ERR unknown subcommand 'NOPE'. Try XINFO HELP.\r\n"
    );
    Ok(())
}

#[test]
fn xread_reads_several_streams_in_both_protocols() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "a", "1-1", "f", "1"])?;
    raw.cmd(&["XADD", "b", "2-1", "g", "2"])?;
    let want2 = "*2\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n\
*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\ng\r\n$1\r\n2\r\n";
    assert_eq!(raw.cmd(&["XREAD", "STREAMS", "a", "b", "0", "0"])?, want2);
    assert_eq!(raw.cmd(&["XREAD", "STREAMS", "a", "$"])?, "*-1\r\n");
    assert_eq!(
        raw.cmd(&["XREAD", "COUNT", "1", "STREAMS", "a", "b", "c"])?,
        "-ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.\r\n"
    );
    assert_eq!(
        raw.cmd(&["XREAD", "STREAMS", "a", ">"])?,
        "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n"
    );
    assert_eq!(
        raw.cmd(&["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"])?,
        "-ERR timeout is negative\r\n"
    );
    assert_eq!(
        raw.cmd(&["XREAD", "BLOCK", "x", "STREAMS", "a", "0"])?,
        "-ERR timeout is not an integer or out of range\r\n"
    );
    assert_eq!(
        raw.cmd(&["XREAD", "COUNT", "1", "a", "0"])?,
        "-ERR syntax error\r\n"
    );

    assert!(raw.cmd(&["HELLO", "3"])?.starts_with('%'));
    let want3 = "%1\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\ng\r\n$1\r\n2\r\n";
    assert_eq!(raw.cmd(&["XREAD", "STREAMS", "a", "b", "1-1", "0"])?, want3);
    assert_eq!(raw.cmd(&["XREAD", "STREAMS", "a", "$"])?, "_\r\n");
    Ok(())
}
