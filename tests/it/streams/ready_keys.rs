//! Blocked readers are served once the command, the `EXEC` or the route's commit that made
//! their keys ready has finished, against the state at that point, as Redis 7.2 serves them:
//! a transaction's intermediate states are never seen, an error that ends a blocked call is a
//! failed call in `INFO`, and `blocked_clients` is exact at every moment.
//!
//! Replies were checked against Valkey 8.1 (Redis 7.2 semantics) with the same commands.

use std::time::Duration;

use anyhow::{Result, ensure};
use sluice_tests::{RawClient, TestServer};

use crate::replies::{NIL_ARRAY, WRONGTYPE, a, e, streams};
use crate::server::connection::{bulk_text, info_fields};

/// Long enough for a request sent on one connection to be registered before another
/// connection acts.
const SETTLE: Duration = Duration::from_millis(100);

const NOGROUP: &str =
    "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n";

/// `INFO <section>` as a field map.
fn info(raw: &mut RawClient, section: &str) -> Result<std::collections::HashMap<String, String>> {
    Ok(info_fields(bulk_text(&raw.cmd(&["INFO", section])?)?))
}

/// Sends `XREADGROUP GROUP g c BLOCK 0 STREAMS s >` and waits until it blocks.
fn block_in_group(server: &TestServer) -> Result<RawClient> {
    block_in_group_on(server, "s", "c")
}

/// Sends `XREADGROUP GROUP g <consumer> BLOCK 0 STREAMS <key> >` on a new connection and
/// waits until it blocks.
pub(crate) fn block_in_group_on(
    server: &TestServer,
    key: &str,
    consumer: &str,
) -> Result<RawClient> {
    let mut reader = server.raw()?;
    reader.send_cmd(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        consumer.as_bytes(),
        b"BLOCK",
        b"0",
        b"STREAMS",
        key.as_bytes(),
        b">",
    ])?;
    std::thread::sleep(SETTLE);
    Ok(reader)
}

#[test]
fn an_exec_that_appends_then_deletes_wakes_nobody() -> Result<()> {
    let server = TestServer::start()?;
    let mut reader = server.raw()?;
    reader.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s1", b"$"])?;
    let mut admin = server.raw()?;
    admin.wait_blocked(1)?;
    admin.cmd(&["MULTI"])?;
    admin.cmd(&["XADD", "s1", "1-1", "old", "x"])?;
    admin.cmd(&["DEL", "s1"])?;
    assert_eq!(
        admin.cmd(&["EXEC"])?,
        a(&[crate::replies::b("1-1"), ":1\r\n".into()])
    );
    // The entry never existed for anyone outside the transaction: the reader still waits.
    assert_eq!(admin.info_field("clients", "blocked_clients")?, "1");
    admin.cmd(&["XADD", "s1", "2-1", "new", "y"])?;
    assert_eq!(
        reader.read_reply()?,
        streams(&[("s1", &[e("2-1", &["new", "y"])])])
    );
    Ok(())
}

#[test]
fn a_blocked_xread_whose_key_changes_type_keeps_waiting() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    admin.cmd(&["XADD", "t", "1-1", "a", "1"])?;
    let mut reader = server.raw()?;
    reader.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"t", b"$", b"$"])?;
    admin.wait_blocked(1)?;
    // As Redis 7.2 (checked on Valkey 8.1): a ready key that no longer holds a stream does
    // not re-run a plain XREAD, whatever it became.
    for change in [
        &["SET", "s", "x"][..],
        &["HSET", "s", "f", "v"],
        &["RPUSH", "s", "e"],
    ] {
        admin.cmd(&["MULTI"])?;
        admin.cmd(&["DEL", "s"])?;
        admin.cmd(change)?;
        admin.cmd(&["EXEC"])?;
        std::thread::sleep(SETTLE);
        assert_eq!(admin.info_field("clients", "blocked_clients")?, "1");
    }
    // An entry on its other key re-runs it; the key that is now a list answers WRONGTYPE.
    admin.cmd(&["XADD", "t", "2-1", "b", "2"])?;
    assert_eq!(
        reader.read_reply()?,
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    Ok(())
}

#[test]
fn appends_inside_one_exec_are_read_together() -> Result<()> {
    let server = TestServer::start()?;
    let mut reader = server.raw()?;
    reader.send_cmd(&[
        b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s2", b"s2", b"s2", b"$", b"$", b"$",
    ])?;
    let mut admin = server.raw()?;
    admin.wait_blocked(1)?;
    admin.cmd(&["MULTI"])?;
    for (id, field) in [("1-1", "a"), ("2-1", "b"), ("3-1", "c")] {
        admin.cmd(&["XADD", "s2", id, field, "1"])?;
    }
    admin.cmd(&["EXEC"])?;
    // As Redis 7.2: the read runs once, after the EXEC, and each named stream answers.
    let all = [
        e("1-1", &["a", "1"]),
        e("2-1", &["b", "1"]),
        e("3-1", &["c", "1"]),
    ];
    assert_eq!(
        reader.read_reply()?,
        streams(&[("s2", &all), ("s2", &all), ("s2", &all)])
    );
    Ok(())
}

#[test]
fn a_blocked_group_read_ended_by_an_error_is_a_failed_call() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    for wipe in [
        &["DEL", "s"][..],
        &["FLUSHDB"][..],
        &["FLUSHALL"][..],
        &["SWAPDB", "0", "1"][..],
        &["XGROUP", "DESTROY", "s", "g"][..],
        &["RENAME", "s", "t"][..],
        &["EXPIRE", "s", "0"][..],
    ] {
        admin.cmd(&["FLUSHALL"])?;
        admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
        admin.cmd(&["CONFIG", "RESETSTAT"])?;
        let mut reader = block_in_group(&server)?;
        assert_eq!(admin.info_field("clients", "blocked_clients")?, "1");
        admin.cmd(wipe)?;
        assert_eq!(reader.read_reply()?, NOGROUP, "after {wipe:?}");
        admin.wait_blocked(0)?;
        let calls = &info(&mut admin, "commandstats")?["cmdstat_xreadgroup"];
        ensure!(
            calls.starts_with("calls=1,") && calls.ends_with(",rejected_calls=0,failed_calls=1"),
            "after {wipe:?}: {calls}"
        );
        assert_eq!(
            bulk_text(&admin.cmd(&["INFO", "errorstats"])?)?,
            "# Errorstats\r\nerrorstat_NOGROUP:count=1\r\n",
            "after {wipe:?}"
        );
    }
    Ok(())
}

/// A group reader blocked on a stream whose key, in one transaction, is deleted and written
/// as another type is served: its read, run again, finds the new type and answers
/// `WRONGTYPE`, as Redis 7.2 does (7.0 answers "-UNBLOCKED the stream key no longer exists").
#[test]
fn a_blocked_group_read_whose_key_becomes_another_type_gets_wrongtype() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    for (n, write) in [
        &["SET", "k", "v"][..],
        &["INCR", "k"],
        &["APPEND", "k", "v"],
        &["MSET", "k", "v"],
        &["HSET", "k", "f", "v"],
        &["HSETNX", "k", "f", "v"],
        &["HINCRBY", "k", "f", "1"],
        &["HINCRBYFLOAT", "k", "f", "1.5"],
        &["HMSET", "k", "f", "v"],
        &["SADD", "k", "m"],
        &["SMOVE", "src", "k", "m"],
        &["RPUSH", "k", "1"],
        &["LPUSH", "k", "1"],
    ]
    .into_iter()
    .enumerate()
    {
        admin.cmd(&["FLUSHALL"])?;
        admin.cmd(&["SADD", "src", "m"])?;
        admin.cmd(&["XGROUP", "CREATE", "k", "g", "$", "MKSTREAM"])?;
        let mut reader = block_in_group_on(&server, "k", &format!("c{n}"))?;
        reader.set_timeout(Duration::from_secs(5))?;
        assert_eq!(admin.info_field("clients", "blocked_clients")?, "1");
        admin.cmd(&["MULTI"])?;
        admin.cmd(&["DEL", "k"])?;
        admin.cmd(write)?;
        let exec = admin.cmd(&["EXEC"])?;
        assert!(exec.starts_with("*2\r\n:1\r\n"), "{write:?}: {exec}");
        assert_eq!(reader.read_reply()?, WRONGTYPE, "{write:?}");
    }
    Ok(())
}

#[test]
fn a_stream_that_ran_dry_waits_for_its_next_entry() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    // Entries added and deleted: last_id is past every entry, and the group is at the end.
    admin.cmd(&["XADD", "s", "1-1", "f", "v"])?;
    admin.cmd(&["XADD", "s", "2-1", "f", "v"])?;
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$"])?;
    admin.cmd(&["XDEL", "s", "1-1", "2-1"])?;
    assert_eq!(admin.cmd(&["XLEN", "s"])?, ":0\r\n");
    assert_eq!(
        admin.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "10",
            "STREAMS",
            "s",
            ">"
        ])?,
        NIL_ARRAY
    );
    let mut reader = block_in_group(&server)?;
    assert_eq!(admin.info_field("clients", "blocked_clients")?, "1");
    admin.cmd(&["XADD", "s", "3-1", "new", "x"])?;
    assert_eq!(
        reader.read_reply()?,
        streams(&[("s", &[e("3-1", &["new", "x"])])])
    );
    assert_eq!(admin.info_field("clients", "blocked_clients")?, "0");
    Ok(())
}

#[test]
fn a_client_that_disconnects_while_blocked_is_no_longer_counted() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    let mut stays = server.raw()?;
    stays.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"])?;
    {
        let mut leaves = server.raw()?;
        leaves.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"])?;
        admin.wait_blocked(2)?;
    }
    admin.wait_blocked(1)?;
    assert_eq!(admin.info_field("clients", "total_blocking_keys")?, "1");
    admin.cmd(&["XADD", "s", "1-1", "f", "v"])?;
    assert_eq!(
        stays.read_reply()?,
        streams(&[("s", &[e("1-1", &["f", "v"])])])
    );
    assert_eq!(admin.info_field("clients", "blocked_clients")?, "0");
    assert_eq!(admin.info_field("clients", "total_blocking_keys")?, "0");
    Ok(())
}

#[test]
fn blocked_clients_counts_clients_not_keys() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    for key in ["g2", "s"] {
        admin.cmd(&["XGROUP", "CREATE", key, "g", "$", "MKSTREAM"])?;
    }
    // One client blocked on one key three times; one on two keys, with a timeout.
    let mut thrice = server.raw()?;
    thrice.send_cmd(&[
        b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"s", b"s", b"$", b"$", b"$",
    ])?;
    let mut group = server.raw()?;
    group.send_cmd(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"c",
        b"BLOCK",
        b"60000",
        b"STREAMS",
        b"g2",
        b"s",
        b">",
        b">",
    ])?;
    admin.wait_blocked(2)?;
    // A command that fails blocks nobody: `nokey` has no group.
    assert_eq!(
        admin.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            "nokey",
            ">",
            ">"
        ])?,
        "-NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    let clients = info(&mut admin, "clients")?;
    assert_eq!(clients["blocked_clients"], "2");
    assert_eq!(clients["total_blocking_keys"], "2");
    assert_eq!(clients["clients_in_timeout_table"], "1");
    assert_eq!(clients["total_blocking_keys_on_nokey"], "2");
    admin.cmd(&["XADD", "s", "1-1", "f", "v"])?;
    let one = [e("1-1", &["f", "v"])];
    assert_eq!(
        thrice.read_reply()?,
        streams(&[("s", &one), ("s", &one), ("s", &one)])
    );
    assert_eq!(group.read_reply()?, streams(&[("s", &one)]));
    let clients = info(&mut admin, "clients")?;
    assert_eq!(clients["blocked_clients"], "0");
    assert_eq!(clients["total_blocking_keys"], "0");
    assert_eq!(clients["clients_in_timeout_table"], "0");
    Ok(())
}
