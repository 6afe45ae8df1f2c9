//! Claim policies end to end: the example policies (`reassign-idle`, `dead-letter-after`,
//! `backoff`) deciding on a real consumer group, seen through stock commands — `XREADGROUP`,
//! `XPENDING`, `XRANGE` of the dead-letter stream — and next to clients' own `XCLAIM` and
//! `XAUTOCLAIM`.
//!
//! The server runs on a [`sluice_tests::ManualClock`], so idle times are exact: a test moves
//! the clock to one millisecond before a threshold, lets the policy evaluate
//! ([`settled`]), sees nothing change, then moves it the last millisecond and waits for the
//! change. The admin commands are in `admin.rs`, misbehaving plugins and hot reload in
//! `faults.rs`, restarts in `restart.rs`; helpers in `support.rs`.

use std::time::Duration;

use anyhow::Result;
use sluice_tests::ManualClock;

use crate::policies::support::{
    BACKOFF, DEAD_LETTER_AFTER, REASSIGN_IDLE, cmd, counted, entry, idle_policy, jobs, pel, policy,
    policy_toml, read, read_jobs, settled, start_with_workers, xpending,
};
use crate::routes::support::{T0, id, wait_until, xadd};

/// Policy `backoff`: `backoff` on `jobs`/`workers` with base 1 s, dead-lettering at
/// `max_deliveries`.
fn backoff_policy(max_deliveries: u32) -> String {
    policy_toml(
        "backoff",
        "jobs",
        "workers",
        "backoff.wasm",
        &format!("{{ base_ms = 1000, max_deliveries = {max_deliveries} }}"),
        20,
    )
}

/// How every threshold is tested: moves the clock to 1 ms short of `wait_ms` from now, lets
/// policy `name` evaluate ([`settled`]) and checks that the pending entries of `workers` are
/// still `before` (a [`pel`] reply); then moves it the last millisecond, for the caller to wait
/// for the policy to act.
fn nothing_moves_before(
    con: &mut redis::Connection,
    clock: &ManualClock,
    name: &str,
    wait_ms: u64,
    before: &str,
) -> Result<()> {
    clock.advance(wait_ms - 1);
    settled(con, name)?;
    assert_eq!(
        xpending(con, "jobs", "workers")?,
        before,
        "{name}: {wait_ms} ms wait, 1 ms short"
    );
    clock.advance(1);
    Ok(())
}

/// In group `workers`, A reads `n 1`, `n 2`; B joins with a read that finds nothing; then
/// `n 3`, `n 4` are added, undelivered. All at [`T0`].
fn two_read_by_a_two_new(con: &mut redis::Connection) -> Result<()> {
    xadd(con, "jobs", &[("n", "1")])?;
    xadd(con, "jobs", &[("n", "2")])?;
    assert_eq!(
        read(con, "A", 10)?,
        jobs(&[entry(0, "n, 1"), entry(1, "n, 2")])
    );
    assert_eq!(read(con, "B", 10)?, "(nil)");
    xadd(con, "jobs", &[("n", "3")])?;
    xadd(con, "jobs", &[("n", "4")])?;
    Ok(())
}

/// A reads two entries and goes silent. Until they have been idle 5 s nothing moves; then
/// they are B's, delivery count unchanged and idle time restarted, and B's plain `>` read
/// gets them before new entries, COUNT applying to both, each with its delivery count now 2.
#[test]
fn a_silent_consumers_entries_go_first_to_the_one_they_are_reassigned_to() -> Result<()> {
    let (_server, clock, mut con) = start_with_workers(&[REASSIGN_IDLE], &idle_policy())?;
    two_read_by_a_two_new(&mut con)?;

    let before = pel(&[(0, "A", 4999, 1), (1, "A", 4999, 1)]);
    nothing_moves_before(&mut con, &clock, "idle", 5000, &before)?;
    counted(&mut con, "idle", "reassigned", 2)?;
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "B", 0, 1), (1, "B", 0, 1)])
    );

    // COUNT 1: the first reassigned entry only; COUNT 2: the other, then the first new one.
    assert_eq!(read(&mut con, "B", 1)?, jobs(&[entry(0, "n, 1")]));
    assert_eq!(
        read(&mut con, "B", 2)?,
        jobs(&[entry(1, "n, 2"), entry(2, "n, 3")])
    );
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "B", 0, 2), (1, "B", 0, 2), (2, "B", 0, 1)])
    );
    assert_eq!(
        cmd(
            &mut con,
            &["XPENDING", "jobs", "workers", "-", "+", "10", "A"]
        )?,
        "[]"
    );
    assert_eq!(
        cmd(&mut con, &["XPENDING", "jobs", "workers"])?,
        format!("[3, {}, {}, [[B, 3]]]", id(0), id(2))
    );
    // Delivered once each: the next read goes on with new entries, then finds none.
    assert_eq!(read(&mut con, "B", 10)?, jobs(&[entry(3, "n, 4")]));
    assert_eq!(read(&mut con, "B", 10)?, "(nil)");
    assert_eq!(read(&mut con, "A", 10)?, "(nil)");
    Ok(())
}

/// B waits in `XREADGROUP … BLOCK 0 … >` while A's entry idles: the reassignment wakes B
/// with that entry.
#[test]
fn a_reassignment_wakes_the_new_owners_blocked_read() -> Result<()> {
    let (server, clock, mut con) = start_with_workers(&[REASSIGN_IDLE], &idle_policy())?;
    xadd(&mut con, "jobs", &[("n", "1")])?;
    assert_eq!(read(&mut con, "A", 10)?, jobs(&[entry(0, "n, 1")]));

    let mut b = server.raw()?;
    b.set_timeout(Duration::from_secs(120))?;
    b.send_cmd(&[
        b"XREADGROUP",
        b"GROUP",
        b"workers",
        b"B",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"jobs",
        b">",
    ])?;
    wait_until("B is blocked", || {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut con)?;
        Ok(if info.contains("blocked_clients:1\r\n") {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(info)
        })
    })?;

    clock.advance(5000);
    let id0 = id(0);
    assert_eq!(
        b.read_reply()?,
        format!(
            "*1\r\n*2\r\n$4\r\njobs\r\n*1\r\n*2\r\n${}\r\n{id0}\r\n*2\r\n$1\r\nn\r\n$1\r\n1\r\n",
            id0.len()
        )
    );
    assert_eq!(policy(&mut con, "idle")?.count("reassigned")?, 1);
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "B", 0, 2)])
    );
    Ok(())
}

/// `reassign-idle` passes an entry from A to B and back; B and A each read it with a plain
/// `>`. At its third delivery `dead-letter-after` appends it to `jobs.dlq` with its fields
/// and history and acknowledges it: nothing is pending any more, the entry stays in `jobs`.
#[test]
fn an_entry_delivered_max_deliveries_times_is_dead_lettered_with_its_history() -> Result<()> {
    let policies = idle_policy()
        + &policy_toml(
            "poison",
            "jobs",
            "workers",
            "dead_letter_after.wasm",
            "{ max_deliveries = 3 }",
            20,
        );
    let (_server, clock, mut con) =
        start_with_workers(&[REASSIGN_IDLE, DEAD_LETTER_AFTER], &policies)?;
    xadd(&mut con, "jobs", &[("job", "resize"), ("size", "10")])?;
    let resize = entry(0, "job, resize, size, 10");
    assert_eq!(
        read(&mut con, "A", 10)?,
        jobs(std::slice::from_ref(&resize))
    );
    assert_eq!(read(&mut con, "B", 10)?, "(nil)");

    // Delivery 2, to B.
    clock.advance(5000);
    counted(&mut con, "idle", "reassigned", 1)?;
    assert_eq!(
        read(&mut con, "B", 10)?,
        jobs(std::slice::from_ref(&resize))
    );
    settled(&mut con, "poison")?;
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "B", 0, 2)])
    );

    // Delivery 3, back to A: the last one.
    clock.advance(5000);
    counted(&mut con, "idle", "reassigned", 2)?;
    assert_eq!(read(&mut con, "A", 10)?, jobs(&[resize]));
    counted(&mut con, "poison", "dead-lettered", 1)?;

    assert_eq!(
        cmd(&mut con, &["XRANGE", "jobs.dlq", "-", "+"])?,
        format!(
            "[[{}-0, [job, resize, size, 10, dlq-reason, delivered 3 times, dlq-source, jobs, \
             dlq-id, {}, dlq-group, workers, dlq-deliveries, 3, dlq-owner, A, dlq-policy, \
             poison]]]",
            T0 + 10_000,
            id(0)
        )
    );
    assert_eq!(
        cmd(&mut con, &["XPENDING", "jobs", "workers"])?,
        "[0, (nil), (nil), (nil)]"
    );
    assert_eq!(cmd(&mut con, &["XLEN", "jobs"])?, "1");
    assert_eq!(cmd(&mut con, &["XACK", "jobs", "workers", &id(0)])?, "0");
    assert_eq!(read(&mut con, "A", 10)?, "(nil)");
    let poison = policy(&mut con, "poison")?;
    assert_eq!(
        (poison.count("reassigned")?, poison.count("acked")?),
        (0, 0)
    );
    Ok(())
}

/// `backoff` with base 1 s: an entry delivered n times is claimable after 1 s × 2^(n−1) of
/// idleness by the server's clock — 1 s, then 2 s, then 4 s, when with `max_deliveries` 3 it
/// is dead-lettered. One millisecond short of each wait, nothing moves.
#[test]
fn backoff_waits_base_times_two_to_the_deliveries_before_each_claim() -> Result<()> {
    let (_server, clock, mut con) = start_with_workers(&[BACKOFF], &backoff_policy(3))?;
    xadd(&mut con, "jobs", &[("n", "1")])?;
    assert_eq!(read(&mut con, "A", 10)?, jobs(&[entry(0, "n, 1")]));
    assert_eq!(read(&mut con, "B", 10)?, "(nil)");

    // (wait, reader, delivery count before its read)
    for (wait, to, deliveries) in [(1000, "B", 1), (2000, "A", 2)] {
        let owner = if to == "A" { "B" } else { "A" };
        let before = pel(&[(0, owner, wait - 1, deliveries)]);
        let reassigned = i64::try_from(deliveries)?;
        nothing_moves_before(&mut con, &clock, "backoff", wait, &before)?;
        counted(&mut con, "backoff", "reassigned", reassigned)?;
        assert_eq!(
            xpending(&mut con, "jobs", "workers")?,
            pel(&[(0, to, 0, deliveries)])
        );
        assert_eq!(read(&mut con, to, 10)?, jobs(&[entry(0, "n, 1")]));
    }

    let before = pel(&[(0, "A", 3999, 3)]);
    nothing_moves_before(&mut con, &clock, "backoff", 4000, &before)?;
    counted(&mut con, "backoff", "dead-lettered", 1)?;
    assert_eq!(
        cmd(&mut con, &["XRANGE", "jobs.dlq", "-", "+"])?,
        format!(
            "[[{}-0, [n, 1, dlq-reason, delivered 3 times, dlq-source, jobs, dlq-id, {}, \
             dlq-group, workers, dlq-deliveries, 3, dlq-owner, A, dlq-policy, backoff]]]",
            T0 + 7000,
            id(0)
        )
    );
    assert_eq!(
        cmd(&mut con, &["XPENDING", "jobs", "workers"])?,
        "[0, (nil), (nil), (nil)]"
    );
    Ok(())
}

/// Clients' `XCLAIM` and `XAUTOCLAIM` work as in Redis next to a policy, and the policy only
/// acts on what is idle by then. An entry the policy gave to B and a client then claims is the
/// client's: B's `>` read no longer gets it.
#[test]
fn clients_claims_work_next_to_a_policy_and_win_over_its_reassignment() -> Result<()> {
    let (_server, clock, mut con) = start_with_workers(&[REASSIGN_IDLE], &idle_policy())?;
    for n in ["1", "2", "3"] {
        xadd(&mut con, "jobs", &[("n", n)])?;
    }
    assert_eq!(
        read(&mut con, "A", 10)?,
        jobs(&[entry(0, "n, 1"), entry(1, "n, 2"), entry(2, "n, 3")])
    );

    clock.advance(1000);
    assert_eq!(
        cmd(&mut con, &["XCLAIM", "jobs", "workers", "C", "0", &id(0)])?,
        format!("[{}]", entry(0, "n, 1"))
    );
    // e0 was just claimed (idle 0); e1 has been idle 1000 ms.
    assert_eq!(
        cmd(
            &mut con,
            &[
                "XAUTOCLAIM",
                "jobs",
                "workers",
                "C",
                "500",
                "0-0",
                "COUNT",
                "1"
            ]
        )?,
        format!("[{}, [{}], []]", id(2), entry(1, "n, 2"))
    );
    assert_eq!(
        cmd(
            &mut con,
            &["XGROUP", "CREATECONSUMER", "jobs", "workers", "B"]
        )?,
        "1"
    );
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "C", 0, 2), (1, "C", 0, 2), (2, "A", 1000, 1)])
    );

    // At 5 s only A's entry has idled 5 s; B (nothing pending) gets it, C's stay.
    clock.advance(4000);
    counted(&mut con, "idle", "reassigned", 1)?;
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "C", 4000, 2), (1, "C", 4000, 2), (2, "B", 0, 1)])
    );

    // C claims it before B reads: it is C's, delivered by the claim, not B's to read.
    assert_eq!(
        cmd(&mut con, &["XCLAIM", "jobs", "workers", "C", "0", &id(2)])?,
        format!("[{}]", entry(2, "n, 3"))
    );
    assert_eq!(read(&mut con, "B", 10)?, "(nil)");
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "C", 4000, 2), (1, "C", 4000, 2), (2, "C", 0, 2)])
    );
    let idle = settled(&mut con, "idle")?;
    assert_eq!(idle.count("reassigned")?, 1);
    Ok(())
}

/// One evaluation that reassigns one entry and dead-letters another applies both (one log
/// record holding the reassignment, the acknowledgement and the dead-letter append), and the
/// policy goes on evaluating.
#[test]
fn one_evaluation_can_reassign_one_entry_and_dead_letter_another() -> Result<()> {
    let (_server, clock, mut con) = start_with_workers(&[BACKOFF], &backoff_policy(2))?;
    xadd(&mut con, "jobs", &[("n", "1")])?;
    xadd(&mut con, "jobs", &[("n", "2")])?;
    assert_eq!(read(&mut con, "A", 1)?, jobs(&[entry(0, "n, 1")]));
    // A reads its history: entry 0's second delivery.
    assert_eq!(
        read_jobs(&mut con, "A", None, "0")?,
        jobs(&[entry(0, "n, 1")])
    );
    assert_eq!(read(&mut con, "A", 1)?, jobs(&[entry(1, "n, 2")]));
    assert_eq!(read(&mut con, "B", 1)?, "(nil)");
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "A", 0, 2), (1, "A", 0, 1)])
    );

    // Entry 0 has waited its 2 s after two deliveries: dead-lettered. Entry 1 has waited more
    // than its 1 s: B's. Both in the first evaluation at this time.
    clock.advance(2000);
    counted(&mut con, "backoff", "dead-lettered", 1)?;
    counted(&mut con, "backoff", "reassigned", 1)?;
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(1, "B", 0, 1)])
    );
    assert_eq!(
        cmd(&mut con, &["XRANGE", "jobs.dlq", "-", "+"])?,
        format!(
            "[[{}-0, [n, 1, dlq-reason, delivered 2 times, dlq-source, jobs, dlq-id, {}, \
             dlq-group, workers, dlq-deliveries, 2, dlq-owner, A, dlq-policy, backoff]]]",
            T0 + 2000,
            id(0)
        )
    );
    settled(&mut con, "backoff")?;
    assert_eq!(read(&mut con, "B", 10)?, jobs(&[entry(1, "n, 2")]));
    Ok(())
}
