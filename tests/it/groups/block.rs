//! `XREADGROUP … BLOCK`: wake-ups in arrival order (one consumer per entry), errors when
//! the group or the key goes away meanwhile, timeouts, and reads that never block.
//!
//! The sleeps only let a request reach the server before the next one; every assertion waits
//! on a reply, never on elapsed time.

use std::time::Duration;

use anyhow::Result;
use sluice_tests::{RawClient, TestServer};

use crate::replies::{NIL_ARRAY, a, b, e, expect, i, streams};

/// Long enough for a request sent on one connection to be registered before another
/// connection acts.
const SETTLE: Duration = Duration::from_millis(100);

/// Sends an XREADGROUP that blocks, and waits for it to reach the server.
fn block(raw: &mut RawClient, consumer: &str, extra: &[&str]) -> Result<()> {
    let mut args: Vec<&[u8]> = vec![b"XREADGROUP", b"GROUP", b"g", consumer.as_bytes()];
    args.extend(extra.iter().map(|s| s.as_bytes()));
    args.extend([&b"BLOCK"[..], b"0", b"STREAMS", b"s", b">"]);
    raw.send_cmd(&args)?;
    std::thread::sleep(SETTLE);
    Ok(())
}

#[test]
fn waiting_consumers_are_served_in_arrival_order_one_entry_each() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
    let mut readers = Vec::new();
    for name in ["c1", "c2", "c3"] {
        let mut r = server.raw()?;
        block(&mut r, name, &[])?;
        readers.push(r);
    }
    let info = admin.cmd(&["INFO", "clients"])?;
    assert!(info.contains("blocked_clients:3\r\n"), "{info}");
    // Each entry goes to the longest-waiting consumer only.
    for (n, r) in readers.iter_mut().enumerate() {
        let id = format!("{}-0", n + 1);
        admin.cmd(&["XADD", "s", &id, "n", &n.to_string()])?;
        assert_eq!(
            r.read_reply()?,
            streams(&[("s", &[e(&id, &["n", &n.to_string()])])])
        );
    }
    let pair = |name: &str| a(&[b(name), b("1")]);
    expect(
        &mut admin,
        &[(
            &["XPENDING", "s", "g"],
            a(&[
                i(3),
                b("1-0"),
                b("3-0"),
                a(&[pair("c1"), pair("c2"), pair("c3")]),
            ]),
        )],
    )?;
    // Served readers are usable again.
    for r in &mut readers {
        assert_eq!(r.cmd(&["PING"])?, "+PONG\r\n");
    }
    Ok(())
}

#[test]
fn a_blocked_reader_wakes_in_resp3_and_honours_count_and_noack() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
    let mut reader = server.raw()?;
    reader.cmd(&["HELLO", "3"])?;
    block(&mut reader, "c", &["COUNT", "1", "NOACK"])?;
    // The reader is served as soon as the first entry lands; with NOACK nothing is pending.
    admin.cmd(&["MULTI"])?;
    admin.cmd(&["XADD", "s", "1-0", "a", "1"])?;
    admin.cmd(&["XADD", "s", "2-0", "b", "2"])?;
    admin.cmd(&["EXEC"])?;
    assert_eq!(
        reader.read_reply()?,
        format!("%1\r\n{}{}", b("s"), a(&[e("1-0", &["a", "1"])]))
    );
    expect(
        &mut admin,
        &[
            (
                &["XPENDING", "s", "g"],
                a(&[i(0), "$-1\r\n".into(), "$-1\r\n".into(), NIL_ARRAY.into()]),
            ),
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
                streams(&[("s", &[e("2-0", &["b", "2"])])]),
            ),
        ],
    )
}

#[test]
fn destroying_the_group_fails_its_blocked_readers_with_nogroup() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
    admin.cmd(&["XGROUP", "CREATE", "s", "other", "$"])?;
    let mut reader = server.raw()?;
    block(&mut reader, "c", &[])?;
    // A plain XREAD waiting on the same key is not affected.
    let mut plain = server.raw()?;
    plain.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"])?;
    std::thread::sleep(SETTLE);
    // Destroying another group leaves it waiting.
    assert_eq!(admin.cmd(&["XGROUP", "DESTROY", "s", "other"])?, ":1\r\n");
    assert_eq!(admin.cmd(&["XGROUP", "DESTROY", "s", "g"])?, ":1\r\n");
    assert_eq!(
        reader.read_reply()?,
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    admin.cmd(&["XADD", "s", "1-0", "f", "v"])?;
    assert_eq!(
        plain.read_reply()?,
        streams(&[("s", &[e("1-0", &["f", "v"])])])
    );
    assert_eq!(reader.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn deleting_the_key_unblocks_group_readers_with_an_error() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    // Redis 7.2 re-runs the read, which finds neither key nor group.
    let gone = "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n";
    for wipe in [
        &["DEL", "s"][..],
        &["FLUSHALL"][..],
        &["RENAME", "s", "t"][..],
    ] {
        admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
        let mut reader = server.raw()?;
        block(&mut reader, "c", &[])?;
        admin.cmd(wipe)?;
        assert_eq!(reader.read_reply()?, gone, "after {wipe:?}");
        admin.cmd(&["FLUSHALL"])?;
    }
    Ok(())
}

#[test]
fn timeouts_history_reads_and_exec_never_wait() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
    expect(
        &mut raw,
        &[
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "50",
                    "STREAMS",
                    "s",
                    ">",
                ],
                NIL_ARRAY.into(),
            ),
            // A history read answers at once, even empty, whatever BLOCK says.
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "0",
                    "STREAMS",
                    "s",
                    "0",
                ],
                streams(&[("s", &[])]),
            ),
            (&["MULTI"], "+OK\r\n".into()),
            (
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "0",
                    "STREAMS",
                    "s",
                    ">",
                ],
                "+QUEUED\r\n".into(),
            ),
            (&["EXEC"], a(&[NIL_ARRAY.into()])),
        ],
    )?;
    raw.cmd(&["HELLO", "3"])?;
    expect(
        &mut raw,
        &[(
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "50",
                "STREAMS",
                "s",
                ">",
            ],
            "_\r\n".into(),
        )],
    )
}

#[test]
fn a_stream_renamed_onto_the_key_serves_or_fails_the_reader() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
    let mut reader = server.raw()?;
    block(&mut reader, "c", &[])?;
    // The incoming stream has the group: its undelivered entry is served.
    admin.cmd(&["XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"])?;
    admin.cmd(&["XADD", "s2", "100-0", "f", "v"])?;
    admin.cmd(&["RENAME", "s2", "s"])?;
    assert_eq!(
        reader.read_reply()?,
        streams(&[("s", &[e("100-0", &["f", "v"])])])
    );
    // The incoming stream lacks the group: NOGROUP.
    block(&mut reader, "c", &[])?;
    admin.cmd(&["XADD", "s3", "1-0", "f", "v"])?;
    admin.cmd(&["RENAME", "s3", "s"])?;
    assert_eq!(
        reader.read_reply()?,
        "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"
    );
    Ok(())
}
