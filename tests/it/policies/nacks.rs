//! Claim policies and `XNACK`: a policy sees which entries are NACKed (WIT 0.1.1
//! `pending-state`), `dead-letter-after` dead-letters `FATAL` ones at once, and a policy's
//! decisions and clients' `XREADGROUP … CLAIM` never both take one entry.

use anyhow::Result;

use crate::policies::support::{
    DEAD_LETTER_AFTER, REASSIGN_IDLE, cmd, counted, entry, idle_policy, jobs, pel, policy_toml,
    read, settled, start_with_workers, xpending,
};
use crate::routes::support::{T0, id, xadd};

/// `XREADGROUP GROUP workers <consumer> COUNT 10 CLAIM <min_idle> STREAMS jobs >`, rendered.
fn read_claim(con: &mut redis::Connection, consumer: &str, min_idle: &str) -> Result<String> {
    cmd(
        con,
        &[
            "XREADGROUP",
            "GROUP",
            "workers",
            consumer,
            "COUNT",
            "10",
            "CLAIM",
            min_idle,
            "STREAMS",
            "jobs",
            ">",
        ],
    )
}

/// `XNACK jobs workers <mode> IDS 1 <id>`, rendered.
fn nack(con: &mut redis::Connection, mode: &str, id: &str) -> Result<String> {
    cmd(con, &["XNACK", "jobs", "workers", mode, "IDS", "1", id])
}

/// A consumer NACKs one entry `FATAL` and another `FAIL`. `dead-letter-after`, set to wait for
/// 1000 deliveries and a minute of idleness, dead-letters the FATAL one at its next round —
/// acked, gone from the PEL, its dead-letter entry saying why — and leaves the FAIL one, which
/// another consumer's `XREADGROUP … CLAIM` then takes.
#[test]
fn a_fatal_nack_is_dead_lettered_at_once() -> Result<()> {
    let policies = policy_toml(
        "poison",
        "jobs",
        "workers",
        "dead_letter_after.wasm",
        "{ max_deliveries = 1000, idle_ms = 60000 }",
        20,
    );
    let (_server, _clock, mut con) = start_with_workers(&[DEAD_LETTER_AFTER], &policies)?;
    xadd(&mut con, "jobs", &[("job", "resize")])?;
    xadd(&mut con, "jobs", &[("job", "crop")])?;
    assert_eq!(
        read(&mut con, "A", 10)?,
        jobs(&[entry(0, "job, resize"), entry(1, "job, crop")])
    );
    assert_eq!(nack(&mut con, "FATAL", &id(0))?, "1");
    assert_eq!(nack(&mut con, "FAIL", &id(1))?, "1");

    counted(&mut con, "poison", "dead-lettered", 1)?;
    assert_eq!(
        cmd(&mut con, &["XRANGE", "jobs.dlq", "-", "+"])?,
        format!(
            "[[{T0}-0, [job, resize, dlq-reason, NACKed FATAL, dlq-source, jobs, dlq-id, {}, \
             dlq-group, workers, dlq-deliveries, 9223372036854775807, dlq-owner, , \
             dlq-policy, poison]]]",
            id(0)
        )
    );
    settled(&mut con, "poison")?;
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(1, "", 0, 1)])
    );
    assert_eq!(cmd(&mut con, &["XACK", "jobs", "workers", &id(0)])?, "0");
    assert_eq!(
        read_claim(&mut con, "B", "60000")?,
        format!("[[jobs, [[{}, [job, crop], 0, 1]]]]", id(1))
    );
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(1, "B", 0, 2)])
    );
    Ok(())
}

/// An entry NACKed and then reassigned by a policy is the new owner's and no longer NACKed:
/// another consumer's `XREADGROUP … CLAIM` (which takes NACKed entries whatever their idle
/// time) does not take it, and the new owner's `>` read gets it.
#[test]
fn an_entry_a_policy_reassigned_is_not_claimed_as_nacked() -> Result<()> {
    let (_server, clock, mut con) = start_with_workers(&[REASSIGN_IDLE], &idle_policy())?;
    xadd(&mut con, "jobs", &[("n", "1")])?;
    assert_eq!(read(&mut con, "A", 10)?, jobs(&[entry(0, "n, 1")]));
    assert_eq!(read(&mut con, "B", 10)?, "(nil)");
    assert_eq!(nack(&mut con, "FAIL", &id(0))?, "1");
    assert_eq!(
        xpending(&mut con, "jobs", "workers")?,
        pel(&[(0, "", 0, 1)])
    );

    clock.advance(5000);
    counted(&mut con, "idle", "reassigned", 1)?;
    let owner = cmd(&mut con, &["XPENDING", "jobs", "workers", "-", "+", "10"])?;
    let to = if owner.contains(", A, ") { "A" } else { "B" };
    assert_eq!(owner, pel(&[(0, to, 0, 1)]));
    let other = if to == "A" { "B" } else { "A" };
    assert_eq!(read_claim(&mut con, other, "1000")?, "(nil)");
    assert_eq!(
        read(&mut con, to, 10)?,
        jobs(&[entry(0, "n, 1")]),
        "the reassigned entry goes to {to}"
    );
    Ok(())
}
