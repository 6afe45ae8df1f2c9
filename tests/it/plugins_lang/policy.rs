//! The Python `dead-letter-after` claim policy on a real consumer group.

use anyhow::Result;
use sluice_tests::plugins::Lang;
use sluice_tests::{ManualClock, TestServer, plugins};

use super::folder_with;
use crate::policies::support::{cmd, counted, create_workers, entry, jobs, policy_toml, read};
use crate::routes::support::{T0, id, xadd};

/// An entry delivered twice is moved to `jobs.dlq` with its history and acknowledged, exactly
/// as the Rust policy does it; the entry delivered once stays pending.
#[test]
fn python_dead_letter_after_moves_an_entry_delivered_too_often() -> Result<()> {
    let Some(dir) = folder_with(Lang::Python, "dead_letter_after.wasm", "dla.wasm")? else {
        return Ok(());
    };
    let toml = policy_toml(
        "poison",
        "jobs",
        "workers",
        "dla.wasm",
        "{ max_deliveries = 2 }",
        20,
    );
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(plugins::config(&dir, &toml)?, clock.clone())?;
    let mut con = server.client()?;
    create_workers(&mut con)?;
    xadd(&mut con, "jobs", &[("job", "resize")])?;
    xadd(&mut con, "jobs", &[("job", "crop")])?;
    assert_eq!(read(&mut con, "A", 1)?, jobs(&[entry(0, "job, resize")]));
    // A second delivery of the first entry, by A's own XCLAIM.
    clock.advance(1000);
    cmd(&mut con, &["XCLAIM", "jobs", "workers", "A", "0", &id(0)])?;
    assert_eq!(read(&mut con, "B", 1)?, jobs(&[entry(1, "job, crop")]));
    counted(&mut con, "poison", "dead-lettered", 1)?;
    assert_eq!(
        cmd(&mut con, &["XRANGE", "jobs.dlq", "-", "+"])?,
        format!(
            "[[{}-0, [job, resize, dlq-reason, delivered 2 times, dlq-source, jobs, dlq-id, {}, \
             dlq-group, workers, dlq-deliveries, 2, dlq-owner, A, dlq-policy, poison]]]",
            T0 + 1000,
            id(0)
        )
    );
    assert_eq!(
        cmd(&mut con, &["XPENDING", "jobs", "workers", "-", "+", "10"])?,
        format!("[[{}, B, 0, 1]]", id(1))
    );
    Ok(())
}
