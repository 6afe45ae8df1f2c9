//! Claim policies' changes across a SIGKILL of the real binary (`appendfsync always`): a
//! reassignment replayed from the log or loaded from a snapshot taken by `SAVE` (either way the
//! entry is still the new owner's, delivered on its next plain `XREADGROUP … >` before new
//! entries), a dead-letter replayed from the log, and a client's own `SLUICE REDELIVER`.
//!
//! The child server runs on the system clock, so the reassignment tests make the policy's
//! choice certain rather than timely: `reassign-idle` with `alive_ms` 500 and `idle_ms` 1000
//! can only give A's entry to B, which keeps itself alive (a claim that claims nothing) until
//! the policy has moved the entry; A, silent, is never alive again, so the entry never moves
//! back. Helpers in `support.rs`.

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::path::Path;

use anyhow::{Context, Result};
use sluice_tests::{ChildServer, plugins, tempdir};

use crate::policies::support::{
    DEAD_LETTER_AFTER, REASSIGN_IDLE, cmd, create_workers, policy, policy_toml, read_jobs,
};
use crate::routes::support::{entries, pairs, wait_until, xadd};

const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");

/// A blocking client of the server at `addr`.
fn connect(addr: SocketAddr) -> Result<redis::Connection> {
    Ok(redis::Client::open(format!("redis://{addr}"))?.get_connection()?)
}

/// The pending entries of `jobs`/`workers` as (ID, owner, deliveries); idle times depend on
/// the system clock and are left out.
fn pending(con: &mut redis::Connection) -> Result<Vec<(String, String, u64)>> {
    let rows: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg("jobs")
        .arg("workers")
        .arg("-")
        .arg("+")
        .arg(100)
        .query(con)?;
    Ok(rows.into_iter().map(|(id, c, _, n)| (id, c, n)).collect())
}

/// Starts the binary on `data` (`appendfsync always`) with the claim policies in `toml` and the
/// plugins `files` (as for [`plugins::folder`]).
fn start_with_policies(data: &Path, files: &[(&str, &str)], toml: &str) -> Result<ChildServer> {
    let plugins_dir = plugins::folder(files)?;
    let file = tempdir()?.join("sluice.toml");
    std::fs::write(&file, toml)?;
    ChildServer::start(
        BIN,
        data,
        &[
            "--appendfsync",
            "always",
            "--plugins",
            plugins_dir.to_str().context("plugins path")?,
            "--config",
            file.to_str().context("config path")?,
        ],
    )
}

/// Creates group `workers`, adds `n 0` to `jobs` and lets `consumer` read it; returns the
/// entry's ID and the read's reply.
fn first_read_by(con: &mut redis::Connection, consumer: &str) -> Result<(String, String)> {
    create_workers(con)?;
    let first = xadd(con, "jobs", &[("n", "0")])?;
    let reply = read_jobs(con, consumer, None, ">")?;
    Ok((first, reply))
}

/// Starts the binary on `data` with policy `idle`; A reads `n 0` and goes silent, B stays
/// alive until the policy has given it A's entry; then `n 1` is added. Returns the server and
/// the two IDs.
fn reassigned_on(data: &Path) -> Result<(ChildServer, String, String)> {
    let toml = policy_toml(
        "idle",
        "jobs",
        "workers",
        "reassign_idle.wasm",
        "{ idle_ms = 1000, alive_ms = 500 }",
        20,
    );
    let server = start_with_policies(data, &[REASSIGN_IDLE], &toml)?;
    let mut con = connect(server.addr)?;
    let (first, read) = first_read_by(&mut con, "A")?;
    assert_eq!(read, format!("[[jobs, [[{first}, [n, 0]]]]]"));
    wait_until("the policy gives A's entry to B", || {
        let touched = cmd(
            &mut con,
            &["XAUTOCLAIM", "jobs", "workers", "B", "3600000", "0-0"],
        )?;
        assert_eq!(touched, "[0-0, [], []]");
        let p = policy(&mut con, "idle")?;
        Ok(if p.count("reassigned")? == 1 {
            ControlFlow::Break(())
        } else {
            std::thread::sleep(std::time::Duration::from_millis(50));
            ControlFlow::Continue(format!("{p:?}"))
        })
    })?;
    assert_eq!(pending(&mut con)?, [(first.clone(), "B".to_owned(), 1)]);
    let second = xadd(&mut con, "jobs", &[("n", "1")])?;
    Ok((server, first, second))
}

/// After the restart (without the policy): B's entry is still B's and still marked, so B's
/// `>` read with COUNT 1 gets it, not the newer entry, and counts the delivery.
fn still_first_for_b(data: &Path, first: &str, second: &str) -> Result<()> {
    let server = ChildServer::start(BIN, data, &["--appendfsync", "always"])?;
    let mut con = connect(server.addr)?;
    assert_eq!(pending(&mut con)?, [(first.to_owned(), "B".to_owned(), 1)]);
    let read_b = |con: &mut redis::Connection| read_jobs(con, "B", Some(1), ">");
    assert_eq!(read_b(&mut con)?, format!("[[jobs, [[{first}, [n, 0]]]]]"));
    assert_eq!(pending(&mut con)?, [(first.to_owned(), "B".to_owned(), 2)]);
    assert_eq!(read_b(&mut con)?, format!("[[jobs, [[{second}, [n, 1]]]]]"));
    assert_eq!(read_b(&mut con)?, "(nil)");
    assert_eq!(
        pending(&mut con)?,
        [
            (first.to_owned(), "B".to_owned(), 2),
            (second.to_owned(), "B".to_owned(), 1)
        ]
    );
    Ok(())
}

/// The reassignment is in the log (`appendfsync always`) when the server is killed.
#[test]
fn a_reassignment_survives_sigkill_through_the_log() -> Result<()> {
    let data = tempdir()?;
    let (server, first, second) = reassigned_on(&data)?;
    server.kill()?;
    still_first_for_b(&data, &first, &second)
}

/// The reassignment is in a snapshot (`SAVE`) when the server is killed.
#[test]
fn a_reassignment_survives_sigkill_through_a_snapshot() -> Result<()> {
    let data = tempdir()?;
    let (server, first, second) = reassigned_on(&data)?;
    let mut con = connect(server.addr)?;
    assert_eq!(cmd(&mut con, &["SAVE"])?, "OK");
    server.kill()?;
    still_first_for_b(&data, &first, &second)
}

/// A dead-letter (the append to `jobs.dlq` and the acknowledgement, one log record) is
/// replayed after a SIGKILL: the entry is in the dead-letter stream with its history and no
/// longer pending.
#[test]
fn a_dead_letter_survives_sigkill_through_the_log() -> Result<()> {
    let data = tempdir()?;
    let toml = policy_toml(
        "poison",
        "jobs",
        "workers",
        "dead_letter_after.wasm",
        "{ max_deliveries = 1 }",
        20,
    );
    let server = start_with_policies(&data, &[DEAD_LETTER_AFTER], &toml)?;
    let mut con = connect(server.addr)?;
    let (first, _) = first_read_by(&mut con, "A")?;
    wait_until("the policy dead-letters the entry", || {
        let p = policy(&mut con, "poison")?;
        Ok(if p.count("dead-lettered")? == 1 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(format!("{p:?}"))
        })
    })?;
    let expected = vec![pairs(&[
        ("n", "0"),
        ("dlq-reason", "delivered 1 times"),
        ("dlq-source", "jobs"),
        ("dlq-id", &first),
        ("dlq-group", "workers"),
        ("dlq-deliveries", "1"),
        ("dlq-owner", "A"),
        ("dlq-policy", "poison"),
    ])];
    assert_eq!(entries(&mut con, "jobs.dlq")?, expected);
    // The policy's record is appended from its own thread; a client's write is acknowledged
    // only once the log is on disk up to it, so the policy's earlier record is too.
    xadd(&mut con, "after", &[("n", "1")])?;
    server.kill()?;

    let server = ChildServer::start(BIN, &data, &["--appendfsync", "always"])?;
    let mut con = connect(server.addr)?;
    assert_eq!(entries(&mut con, "jobs.dlq")?, expected);
    assert_eq!(
        cmd(&mut con, &["XPENDING", "jobs", "workers"])?,
        "[0, (nil), (nil), (nil)]"
    );
    assert_eq!(cmd(&mut con, &["XLEN", "jobs"])?, "1");
    Ok(())
}

/// `SLUICE REDELIVER` sent by a client is logged like any write: after a SIGKILL the mark is
/// still there, and the owner's next `>` read gets the marked entry before the newer one.
#[test]
fn a_client_redeliver_mark_survives_sigkill_through_the_log() -> Result<()> {
    let data = tempdir()?;
    let server = ChildServer::start(BIN, &data, &["--appendfsync", "always"])?;
    let mut con = connect(server.addr)?;
    let (first, _) = first_read_by(&mut con, "B")?;
    assert_eq!(
        cmd(
            &mut con,
            &["SLUICE", "REDELIVER", "jobs", "workers", &first]
        )?,
        "1"
    );
    let second = xadd(&mut con, "jobs", &[("n", "1")])?;
    server.kill()?;
    still_first_for_b(&data, &first, &second)
}
