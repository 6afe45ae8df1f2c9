//! An instance killed (SIGKILL) at each point of a commit: before it writes anything, between
//! its outputs in other slots and the acknowledgement of the source entries, and after the
//! commit. The instance stops at the point through `SLUICE_ATTACH_TEST_PAUSE`, says so in
//! `sluice:test:paused:<instance>` on the cluster, and is killed there; a second instance
//! then takes over. In one slot every output is there exactly once; across slots exactly once
//! too while the seen keys last (the whole test).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::support::{Fixture, eu_route, instance_env, produce};

const SOURCE: &str = "orders:{eu}";
/// In the source's slot.
const KEPT: &str = "orders:{eu}:kept";
/// In another slot.
const ELSEWHERE: &str = "kept-elsewhere";
const EVENTS: usize = 600;

/// Starts instance `a` told to stop at `point`, writes the events, kills `a` once it stopped
/// there, starts `b`, and checks that `destination` holds every kept event exactly once.
fn killed_at(point: &str, destination: &str) -> Result<()> {
    let mut fx = Fixture::start(0, ("filter", "filter.wasm"))?;
    let routes = eu_route("eu", SOURCE, destination);
    let env = [("SLUICE_ATTACH_TEST_PAUSE", Path::new(point))];
    let a = instance_env(&fx.urls, "a", &fx.plugins, &routes, &env)?;
    produce(&mut fx.conn, SOURCE, 0..EVENTS)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let paused: Option<String> = redis::cmd("GET")
            .arg("sluice:test:paused:a")
            .query(&mut fx.conn)?;
        if paused.as_deref() == Some(point) {
            break;
        }
        if Instant::now() > deadline {
            bail!("a never stopped at {point} (says {paused:?})");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    a.kill()?;
    let _b = fx.instance("b", &routes)?;
    fx.assert_outputs(destination, EVENTS)
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn killed_before_a_commit_in_one_slot() -> Result<()> {
    killed_at("before-commit", KEPT)
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn killed_after_a_commit_in_one_slot() -> Result<()> {
    killed_at("after-commit", KEPT)
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn killed_before_a_commit_across_slots() -> Result<()> {
    killed_at("before-commit", ELSEWHERE)
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn killed_between_the_outputs_in_other_slots_and_the_acknowledgement() -> Result<()> {
    killed_at("mid-commit", ELSEWHERE)
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn killed_after_a_commit_across_slots() -> Result<()> {
    killed_at("after-commit", ELSEWHERE)
}
