//! `BLPOP`, `BRPOP` and `BLMOVE` that wait: served once the command or `EXEC` that made their
//! key ready has finished, against the state then, the oldest waiter first; a `BLMOVE`'s push
//! serves the clients blocked on its destination in a further pass; a key that is not a list
//! then leaves them waiting. As Redis 7.2 does: 7.0 differs where a comment says so.

use anyhow::Result;
use sluice_tests::{RawClient, TestServer};

use crate::replies::{NIL_ARRAY, WRONGTYPE, a, b, i};

fn bulks(items: &[&str]) -> String {
    a(&items.iter().map(|s| b(s)).collect::<Vec<_>>())
}

/// A client that sent `args` and is blocked in it (the `n`th blocked client).
fn blocked(
    server: &TestServer,
    admin: &mut RawClient,
    args: &[&str],
    n: usize,
) -> Result<RawClient> {
    let mut client = server.raw()?;
    let args: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    client.send_cmd(&args)?;
    admin.wait_blocked(n)?;
    Ok(client)
}

#[test]
fn waiters_are_served_oldest_first_one_element_each() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    let mut first = blocked(&server, &mut admin, &["BLPOP", "l", "0"], 1)?;
    let mut second = blocked(&server, &mut admin, &["BRPOP", "l", "0"], 2)?;
    let mut third = blocked(&server, &mut admin, &["BLPOP", "l", "0"], 3)?;
    assert_eq!(admin.cmd(&["RPUSH", "l", "x", "y"])?, i(2));
    assert_eq!(first.read_reply()?, bulks(&["l", "x"]));
    assert_eq!(second.read_reply()?, bulks(&["l", "y"]));
    // The list ran dry: the third still waits, and is counted.
    admin.wait_blocked(1)?;
    assert_eq!(admin.cmd(&["EXISTS", "l"])?, i(0));
    admin.cmd(&["LPUSH", "l", "z"])?;
    assert_eq!(third.read_reply()?, bulks(&["l", "z"]));
    Ok(())
}

#[test]
fn an_exec_serves_its_waiters_against_the_state_after_it() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    let mut waiter = blocked(&server, &mut admin, &["BLPOP", "l", "0"], 1)?;
    admin.cmd(&["MULTI"])?;
    for cmd in [
        &["RPUSH", "l", "a"][..],
        &["RPUSH", "l", "b"],
        &["LPOP", "l"],
    ] {
        assert_eq!(admin.cmd(cmd)?, "+QUEUED\r\n");
    }
    assert_eq!(admin.cmd(&["EXEC"])?, a(&[i(1), i(2), b("a")]));
    assert_eq!(waiter.read_reply()?, bulks(&["l", "b"]));
    assert_eq!(admin.cmd(&["EXISTS", "l"])?, i(0));

    // A push undone inside the EXEC wakes nobody; a list turned into a string neither.
    let mut waiter = blocked(&server, &mut admin, &["BLPOP", "l", "0"], 1)?;
    admin.cmd(&["MULTI"])?;
    admin.cmd(&["RPUSH", "l", "a"])?;
    admin.cmd(&["DEL", "l"])?;
    admin.cmd(&["SET", "l", "now a string"])?;
    admin.cmd(&["EXEC"])?;
    admin.cmd(&["SET", "l", "still a string"])?;
    assert_eq!(admin.info_field("clients", "blocked_clients")?, "1");
    admin.cmd(&["DEL", "l"])?;
    admin.cmd(&["RPUSH", "l", "z"])?;
    assert_eq!(waiter.read_reply()?, bulks(&["l", "z"]));
    Ok(())
}

#[test]
fn a_waiter_on_several_keys_pops_from_the_first_that_has_an_element() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    let mut waiter = blocked(&server, &mut admin, &["BLPOP", "x", "y", "0"], 1)?;
    admin.cmd(&["MULTI"])?;
    admin.cmd(&["RPUSH", "y", "1"])?;
    admin.cmd(&["RPUSH", "x", "2"])?;
    admin.cmd(&["EXEC"])?;
    // Redis 7.2 runs the pop again, in the order of its keys (7.0 pops from `y`, the key
    // that became ready first).
    assert_eq!(waiter.read_reply()?, bulks(&["x", "2"]));
    assert_eq!(admin.cmd(&["LRANGE", "y", "0", "-1"])?, bulks(&["1"]));
    Ok(())
}

#[test]
fn blmove_chains_serve_each_destinations_waiters() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    // A waits on `a`; B moves from `b` to `a`.
    let mut pop_a = blocked(&server, &mut admin, &["BLPOP", "a", "0"], 1)?;
    let mut move_b = blocked(
        &server,
        &mut admin,
        &["BLMOVE", "b", "a", "LEFT", "RIGHT", "0"],
        2,
    )?;
    assert_eq!(admin.cmd(&["RPUSH", "b", "v", "w"])?, i(2));
    assert_eq!(move_b.read_reply()?, b("v"));
    assert_eq!(pop_a.read_reply()?, bulks(&["a", "v"]));
    assert_eq!(admin.cmd(&["LRANGE", "b", "0", "-1"])?, bulks(&["w"]));
    assert_eq!(admin.cmd(&["EXISTS", "a"])?, i(0));

    // Three lists in a row, and two waiters moving in a cycle.
    admin.cmd(&["FLUSHALL"])?;
    let mut a_to_b = blocked(
        &server,
        &mut admin,
        &["BLMOVE", "a", "b", "RIGHT", "LEFT", "0"],
        1,
    )?;
    let mut b_to_c = blocked(
        &server,
        &mut admin,
        &["BLMOVE", "b", "c", "RIGHT", "LEFT", "0"],
        2,
    )?;
    admin.cmd(&["RPUSH", "a", "x", "y"])?;
    assert_eq!(a_to_b.read_reply()?, b("y"));
    assert_eq!(b_to_c.read_reply()?, b("y"));
    assert_eq!(admin.cmd(&["LRANGE", "a", "0", "-1"])?, bulks(&["x"]));
    assert_eq!(admin.cmd(&["LRANGE", "c", "0", "-1"])?, bulks(&["y"]));
    admin.cmd(&["FLUSHALL"])?;
    let mut forth = blocked(
        &server,
        &mut admin,
        &["BLMOVE", "a", "b", "LEFT", "LEFT", "0"],
        1,
    )?;
    let mut back = blocked(
        &server,
        &mut admin,
        &["BLMOVE", "b", "a", "LEFT", "LEFT", "0"],
        2,
    )?;
    admin.cmd(&["RPUSH", "a", "x"])?;
    assert_eq!(forth.read_reply()?, b("x"));
    assert_eq!(back.read_reply()?, b("x"));
    assert_eq!(admin.cmd(&["LRANGE", "a", "0", "-1"])?, bulks(&["x"]));
    assert_eq!(admin.cmd(&["EXISTS", "b"])?, i(0));
    Ok(())
}

#[test]
fn a_served_blmove_checks_its_destination() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["SET", "d", "a string"])?;
    let mut mover = blocked(
        &server,
        &mut admin,
        &["BLMOVE", "s", "d", "LEFT", "RIGHT", "0"],
        1,
    )?;
    admin.cmd(&["RPUSH", "s", "e"])?;
    assert_eq!(mover.read_reply()?, WRONGTYPE);
    assert_eq!(admin.cmd(&["LRANGE", "s", "0", "-1"])?, bulks(&["e"]));
    // Onto itself, a rotation.
    admin.cmd(&["DEL", "s"])?;
    let mut rotate = blocked(
        &server,
        &mut admin,
        &["BLMOVE", "s", "s", "LEFT", "RIGHT", "0"],
        1,
    )?;
    admin.cmd(&["RPUSH", "s", "a", "b"])?;
    assert_eq!(rotate.read_reply()?, b("a"));
    assert_eq!(admin.cmd(&["LRANGE", "s", "0", "-1"])?, bulks(&["b", "a"]));
    Ok(())
}

#[test]
fn keys_that_become_lists_any_way_serve_their_waiters() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    admin.cmd(&["RPUSH", "src", "p", "q"])?;
    let mut waiter = blocked(&server, &mut admin, &["BLPOP", "l", "0"], 1)?;
    admin.cmd(&["RENAME", "src", "l"])?;
    assert_eq!(waiter.read_reply()?, bulks(&["l", "p"]));
    let mut waiter = blocked(&server, &mut admin, &["BRPOP", "m", "0"], 1)?;
    admin.cmd(&["COPY", "l", "m"])?;
    assert_eq!(waiter.read_reply()?, bulks(&["m", "q"]));
    let mut waiter = blocked(&server, &mut admin, &["BLPOP", "n", "0"], 1)?;
    admin.cmd(&["LMOVE", "l", "n", "LEFT", "LEFT"])?;
    assert_eq!(waiter.read_reply()?, bulks(&["n", "q"]));
    admin.cmd(&["SELECT", "1"])?;
    admin.cmd(&["RPUSH", "l", "one"])?;
    admin.cmd(&["SELECT", "0"])?;
    let mut waiter = blocked(&server, &mut admin, &["BLPOP", "l", "0"], 1)?;
    admin.cmd(&["SWAPDB", "0", "1"])?;
    assert_eq!(waiter.read_reply()?, bulks(&["l", "one"]));
    Ok(())
}

#[test]
fn timeouts_answer_null_and_later_pushes_stay() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["BLPOP", "x", "0.05"])?, NIL_ARRAY);
    assert_eq!(raw.cmd(&["BRPOP", "x", "y", "0.05"])?, NIL_ARRAY);
    assert_eq!(
        raw.cmd(&["BLMOVE", "x", "y", "LEFT", "LEFT", "0.05"])?,
        NIL_ARRAY
    );
    raw.cmd(&["HELLO", "3"])?;
    assert_eq!(raw.cmd(&["BLPOP", "x", "0.05"])?, "_\r\n");
    assert_eq!(
        raw.cmd(&["BLMOVE", "x", "y", "LEFT", "LEFT", "0.05"])?,
        "_\r\n"
    );
    let mut admin = server.raw()?;
    let mut waiter = blocked(&server, &mut admin, &["BLPOP", "l", "0.2"], 1)?;
    assert_eq!(
        admin.info_field("clients", "clients_in_timeout_table")?,
        "1"
    );
    assert_eq!(waiter.read_reply()?, NIL_ARRAY);
    admin.wait_blocked(0)?;
    admin.cmd(&["RPUSH", "l", "a"])?;
    assert_eq!(admin.cmd(&["LLEN", "l"])?, i(1));
    Ok(())
}

#[test]
fn blocked_clients_counts_list_waiters() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    let _pop = blocked(&server, &mut admin, &["BLPOP", "l", "m", "0"], 1)?;
    let gone = blocked(
        &server,
        &mut admin,
        &["BLMOVE", "q", "r", "LEFT", "LEFT", "5"],
        2,
    )?;
    assert_eq!(admin.info_field("clients", "total_blocking_keys")?, "3");
    assert_eq!(
        admin.info_field("clients", "clients_in_timeout_table")?,
        "1"
    );
    // A waiter that disconnects is no longer counted, and the next one is served.
    drop(gone);
    admin.wait_blocked(1)?;
    let mut next = blocked(&server, &mut admin, &["BLPOP", "q", "0"], 2)?;
    admin.cmd(&["RPUSH", "q", "v"])?;
    assert_eq!(next.read_reply()?, bulks(&["q", "v"]));
    admin.wait_blocked(1)?;
    Ok(())
}
