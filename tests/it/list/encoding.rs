//! `OBJECT ENCODING` of lists: a listpack until a command would take it past 8 KiB, a
//! quicklist of listpack nodes after, and a listpack again once a command leaves one node of
//! at most 4 KiB, as Redis 7.2 (Valkey 8.1, checked with `DEBUG OBJECT`'s node counts) does;
//! Redis 7.0 answers `quicklist` for every list. And lists through `DUMP`/`RESTORE`.

use anyhow::Result;
use sluice_tests::{RawClient, TestServer};

use crate::replies::{a, b, i};
use crate::server::dump::{dump, restore};

fn encoding(raw: &mut RawClient, key: &str) -> Result<String> {
    let reply = raw.cmd(&["OBJECT", "ENCODING", key])?;
    Ok(reply.trim_start_matches(|c| c != '\n').trim().to_owned())
}

/// `RPUSH key` of `n` copies of `element`.
fn rpush(raw: &mut RawClient, key: &str, element: &str, n: usize) -> Result<String> {
    let mut args = vec!["RPUSH", key];
    args.extend(std::iter::repeat_n(element, n));
    raw.cmd(&args)
}

#[test]
fn lists_grow_into_quicklists_and_shrink_back_only_to_one_small_node() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let big = "x".repeat(1000);
    raw.cmd(&["RPUSH", "l", "a", "b"])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");
    // 8011 bytes: still a listpack.
    rpush(&mut raw, "l", &big, 8)?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");
    rpush(&mut raw, "l", &big, 1)?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["RPOP", "l", "9"])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");

    // Ten of 1000 bytes: nodes of 8 and 2. Six from the head leave 2 + 2 in two nodes,
    // under 4 KiB but not one node; from the tail, one node of four.
    raw.cmd(&["DEL", "l"])?;
    rpush(&mut raw, "l", &big, 10)?;
    raw.cmd(&["LPOP", "l", "6"])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["LPOP", "l", "2"])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");
    raw.cmd(&["DEL", "l"])?;
    rpush(&mut raw, "l", &big, 10)?;
    raw.cmd(&["RPOP", "l", "6"])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");

    // Small integers pack into a byte or two each: 3000 of them pass 8 KiB.
    raw.cmd(&["DEL", "l"])?;
    let numbers: Vec<String> = (0..3000).map(|n| n.to_string()).collect();
    let mut args = vec!["RPUSH", "l"];
    args.extend(numbers.iter().map(String::as_str));
    raw.cmd(&args)?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["LPOP", "l", "2500"])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    // 400 left, 1.2 KiB, but across two nodes until the first is gone.
    raw.cmd(&["LPOP", "l", "100"])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["LPOP", "l", "200"])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");
    assert_eq!(
        raw.cmd(&["LRANGE", "l", "0", "1"])?,
        a(&[b("2800"), b("2801")])
    );
    Ok(())
}

#[test]
fn elements_over_8k_and_edits_in_the_middle() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let huge = "y".repeat(8200);
    rpush(&mut raw, "l", "a", 10)?;
    // LINSERT and LSET convert before they look: a missing pivot converts too.
    raw.cmd(&["LINSERT", "l", "BEFORE", "a", &huge])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["LREM", "l", "0", &huge])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");
    raw.cmd(&["LSET", "l", "0", &huge])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["LSET", "l", "0", "a"])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");
    assert_eq!(raw.cmd(&["LINSERT", "l", "BEFORE", "zz", &huge])?, i(-1));
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    // LTRIM tries going back even when it trims nothing.
    raw.cmd(&["LTRIM", "l", "0", "-1"])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");

    // An element over 8 KiB sits in a node of its own.
    raw.cmd(&["DEL", "l"])?;
    raw.cmd(&["RPUSH", "l", &"y".repeat(9000)])?;
    raw.cmd(&["RPUSH", "l", "a"])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["LPOP", "l"])?;
    assert_eq!(encoding(&mut raw, "l")?, "listpack");

    // LTRIM and LREM empty nodes; what is left decides.
    let big = "x".repeat(1000);
    for (trim, want) in [
        (&["LTRIM", "l", "0", "2"][..], "listpack"),
        (&["LTRIM", "l", "15", "-1"], "quicklist"),
        (&["LREM", "l", "16", big.as_str()], "listpack"),
        (&["LREM", "l", "-16", big.as_str()], "listpack"),
        (&["LREM", "l", "-14", big.as_str()], "quicklist"),
    ] {
        raw.cmd(&["DEL", "l"])?;
        rpush(&mut raw, "l", &big, 20)?;
        raw.cmd(trim)?;
        assert_eq!(encoding(&mut raw, "l")?, want, "{:?}", &trim[..2]);
    }
    // LMOVE: the destination grows as a push would, the source shrinks as a pop would.
    raw.cmd(&["DEL", "l"])?;
    rpush(&mut raw, "l", &big, 7)?;
    raw.cmd(&["RPUSH", "l", &"y".repeat(1200)])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["RPOP", "l"])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    raw.cmd(&["LMOVE", "l", "m", "LEFT", "LEFT"])?;
    assert_eq!(encoding(&mut raw, "l")?, "quicklist");
    assert_eq!(encoding(&mut raw, "m")?, "listpack");
    Ok(())
}

#[test]
fn lists_round_trip_through_dump_and_restore() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let big = "x".repeat(1000);
    raw.cmd(&["RPUSH", "small", "a", "-5", "12345678901", ""])?;
    rpush(&mut raw, "large", &big, 20)?;
    for key in ["small", "large"] {
        let payload = dump(&mut raw, key)?;
        let copy = format!("{key}-copy");
        assert_eq!(restore(&mut raw, &copy, &payload, &[])?, "+OK\r\n");
        assert_eq!(
            raw.cmd(&["LRANGE", &copy, "0", "-1"])?,
            raw.cmd(&["LRANGE", key, "0", "-1"])?
        );
        assert_eq!(encoding(&mut raw, &copy)?, encoding(&mut raw, key)?);
        assert_eq!(dump(&mut raw, &copy)?, payload);
    }
    assert_eq!(encoding(&mut raw, "small-copy")?, "listpack");
    assert_eq!(encoding(&mut raw, "large-copy")?, "quicklist");
    assert_eq!(raw.cmd(&["TYPE", "small-copy"])?, "+list\r\n");
    Ok(())
}
