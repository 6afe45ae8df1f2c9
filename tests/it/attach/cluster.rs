//! Several instances attached to a 3-master Redis Cluster.

use std::time::Duration;

use anyhow::Result;
use redis::Commands;

use super::support::{Fixture, counts, eu_route, pending_count, produce, signal, wait_len};

/// A route whose source, output and dead-letter stream share the slot of `{eu}`.
const SOURCE: &str = "orders:{eu}";
const KEPT: &str = "orders:{eu}:kept";
const FILTER: (&str, &str) = ("filter", "filter.wasm");

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn two_instances_share_a_route_exactly_once_through_a_sigkill() -> Result<()> {
    let mut fx = Fixture::start(0, FILTER)?;
    let routes = eu_route("eu", SOURCE, KEPT);
    let a = fx.instance("a", &routes)?;
    let _b = fx.instance("b", &routes)?;
    // Killed mid-batch (entries delivered to it, not committed): they are claimed by the
    // other instance once idle for the route's `claim_idle_ms`.
    fx.stop_a_mid_batch(&a, "eu", SOURCE, 0..3000)?;
    a.kill()?;
    fx.assert_outputs(KEPT, 3000)?;
    assert_eq!(pending_count(&mut fx.conn, SOURCE, "sluice:route:eu")?, 0);
    Ok(())
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn an_instance_stalled_past_the_claim_time_adds_no_duplicate_when_it_resumes() -> Result<()> {
    let mut fx = Fixture::start(0, FILTER)?;
    let routes = eu_route("eu", SOURCE, KEPT);
    let a = fx.instance("a", &routes)?;
    let _b = fx.instance("b", &routes)?;
    // Stalled mid-batch; b claims what it held once idle past `claim_idle_ms`, and a's late
    // commit finds those entries no longer its own.
    fx.stop_a_mid_batch(&a, "eu", SOURCE, 0..2000)?;
    wait_len(&mut fx.conn, KEPT, 1000, Duration::from_secs(60))?;
    signal(a.pid(), "CONT")?;
    produce(&mut fx.conn, SOURCE, 2000..2400)?;
    fx.assert_outputs(KEPT, 2400)
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn a_cross_slot_route_loses_nothing_and_doubles_nothing_through_a_sigkill() -> Result<()> {
    let mut fx = Fixture::start(0, FILTER)?;
    let elsewhere = "kept-elsewhere";
    let slot = |key: &str, conn: &mut redis::cluster::ClusterConnection| -> Result<i64> {
        Ok(redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query(conn)?)
    };
    assert_ne!(slot(SOURCE, &mut fx.conn)?, slot(elsewhere, &mut fx.conn)?);
    let routes = eu_route("cross", SOURCE, elsewhere);
    let a = fx.instance("a", &routes)?;
    let b = fx.instance("b", &routes)?;
    fx.stop_a_mid_batch(&a, "cross", SOURCE, 0..3000)?;
    a.kill()?;
    // Each output once within the window its seen key lasts (here: all of the test).
    fx.assert_outputs(elsewhere, 3000)?;
    let mut raw = sluice_tests::RawClient::connect(b.addr)?;
    let routes = raw.cmd(&["SLUICE", "ROUTES"])?;
    assert!(
        routes.contains("exactly-once per slot; effectively-once across slots"),
        "{routes}"
    );
    Ok(())
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn a_glob_source_picks_up_a_new_partition() -> Result<()> {
    let mut fx = Fixture::start(0, FILTER)?;
    // Partitions on different masters; each routes into its own slot.
    let routes = r#"
[[route]]
name = "parts"
source = "part:{*}"
plugin = "filter.wasm"
config = { field = "region", equals = "eu", destination = "kept" }
start = "0"
claim_idle_ms = 1000
"#;
    produce(&mut fx.conn, "part:{0}", 0..100)?;
    let _a = fx.instance("a", routes)?;
    wait_len(&mut fx.conn, "kept", 50, Duration::from_secs(30))?;
    // A partition that did not exist when the route started (another slot, likely another
    // master): found by the periodic rescan, read from its start.
    produce(&mut fx.conn, "part:{7}", 100..200)?;
    fx.assert_outputs("kept", 200)
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn a_claim_policy_runs_on_one_instance_and_its_lease_moves_when_that_one_dies() -> Result<()> {
    let mut fx = Fixture::start(0, ("dead-letter-after", "dead_letter_after.wasm"))?;
    let policies = r#"
[[claim_policy]]
name = "dla"
stream = "jobs:{q}"
group = "workers"
plugin = "dead_letter_after.wasm"
config = { max_deliveries = "2", dead_letter = "jobs:{q}:dlq" }
interval_ms = 100
"#;
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("jobs:{q}")
        .arg("workers")
        .arg("0")
        .arg("MKSTREAM")
        .query(&mut fx.conn)?;
    let a = fx.instance("a", policies)?;
    let b = fx.instance("b", policies)?;
    let lease = "sluice:lease:policy:dla";
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let holder = loop {
        let holder: Option<String> = fx.conn.get(lease)?;
        if let Some(h) = holder {
            break h;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nobody took the lease"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Entries delivered three times (new, then twice again from the history): over
    // `max_deliveries`.
    let deliver =
        |conn: &mut redis::cluster::ClusterConnection, from: usize, to: usize| -> Result<()> {
            produce(conn, "jobs:{q}", from..to)?;
            for start in [">", "0", "0"] {
                let _: redis::Value = redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg("workers")
                    .arg("w1")
                    .arg("STREAMS")
                    .arg("jobs:{q}")
                    .arg(start)
                    .query(conn)?;
            }
            Ok(())
        };
    deliver(&mut fx.conn, 0, 10)?;
    wait_len(&mut fx.conn, "jobs:{q}:dlq", 10, Duration::from_secs(20))?;
    // The holder dies: the other instance takes the lease once it lapses.
    let (dead, survivor) = if holder == "a" { (a, "b") } else { (b, "a") };
    dead.kill()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now: Option<String> = fx.conn.get(lease)?;
        if now.as_deref() == Some(survivor) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the lease stayed with {now:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    deliver(&mut fx.conn, 10, 20)?;
    wait_len(&mut fx.conn, "jobs:{q}:dlq", 20, Duration::from_secs(20))?;
    std::thread::sleep(Duration::from_millis(500));
    let dead_lettered = counts(&mut fx.conn, "jobs:{q}:dlq", "n")?;
    assert_eq!(dead_lettered.len(), 20);
    assert!(dead_lettered.values().all(|c| *c == 1), "{dead_lettered:?}");
    Ok(())
}

#[test]
#[ignore = "needs redis-server and redis-cli (.ci/run installs them)"]
fn a_master_failover_under_load_loses_and_doubles_no_committed_output() -> Result<()> {
    let mut fx = Fixture::start(1, FILTER)?;
    // Each commit waits for the replica, so a failover cannot drop what was committed.
    let routes = format!("{}wait_replicas = 1\n", eu_route("eu", SOURCE, KEPT));
    let _a = fx.instance("a", &routes)?;
    let _b = fx.instance("b", &routes)?;
    let producer = super::support::produce_in_background(fx.urls.clone(), SOURCE, 0..3000, true);
    std::thread::sleep(Duration::from_millis(300));
    fx.cluster.fail_over(SOURCE)?;
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("producer panicked"))??;
    // Right after the failover a client may still hold the old topology: read through a new
    // connection each time until every produced event is there.
    let source = settled_counts(&mut fx, SOURCE, 3000, Duration::from_secs(30))?;
    // A manual failover loses no acknowledged write.
    anyhow::ensure!(
        source.len() == 3000,
        "{SOURCE} holds {} of the 3000 events after 30 s; the nodes: {}",
        source.len(),
        nodes_view(&fx.cluster, SOURCE)
    );
    let expected: usize = source
        .iter()
        .filter(|(n, _)| n.parse::<usize>().is_ok_and(|n| n % 2 == 0))
        .map(|(_, c)| c)
        .sum();
    let kept = settled_counts(&mut fx, KEPT, 1500, Duration::from_secs(60))?;
    if kept.len() < 1500 {
        let e = format!("{KEPT} holds {} kept events after 60 s", kept.len());
        // What the instances say, for the failure's message.
        let mut said = Vec::new();
        for sluice in [&_a, &_b] {
            let mut raw = sluice_tests::RawClient::connect(sluice.addr)?;
            said.push(raw.cmd(&["SLUICE", "ROUTES"])?);
        }
        anyhow::bail!(
            "{e}; SLUICE ROUTES: {said:?}; the nodes: {}",
            nodes_view(&fx.cluster, SOURCE)
        );
    }
    std::thread::sleep(Duration::from_millis(1500));
    let kept = settled_counts(&mut fx, KEPT, 1500, Duration::from_secs(5))?;
    for (n, times) in &source {
        let even = n.parse::<usize>().is_ok_and(|n| n % 2 == 0);
        let out = kept.get(n).copied().unwrap_or(0);
        assert_eq!(
            out,
            if even { *times } else { 0 },
            "event {n}: in the source {times} times, out {out}"
        );
    }
    assert_eq!(kept.values().sum::<usize>(), expected);
    Ok(())
}

/// What each node of `cluster` says of itself and of `key` (its role, the key's length or
/// the redirect, the group's pending count, its view of the cluster) and the end of its log,
/// for a failure's message: an error is shown, not raised.
fn nodes_view(cluster: &sluice_tests::cluster::RedisCluster, key: &str) -> String {
    let mut view = String::new();
    for &port in &cluster.ports {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let said = sluice_tests::RawClient::connect(addr).map(|mut raw| {
            let mut said = Vec::new();
            for args in [
                &["ROLE"][..],
                &["XLEN", key],
                &["XPENDING", key, "sluice:route:eu"],
                &["CLUSTER", "NODES"],
            ] {
                said.push(format!("{args:?} -> {:?}", raw.cmd(args)));
            }
            said.join("; ")
        });
        view.push_str(&format!(
            "\n  node {port}: {said:?}\n  its log:\n{}",
            cluster.log_tail(port, 40)
        ));
    }
    view
}

/// The counts of field `n` in `key`, read again (through a new connection each time) until at
/// least `distinct` values are there, for up to `limit`.
fn settled_counts(
    fx: &mut Fixture,
    key: &str,
    distinct: usize,
    limit: Duration,
) -> Result<std::collections::HashMap<String, usize>> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let got = counts(&mut fx.conn, key, "n")?;
        if got.len() >= distinct || std::time::Instant::now() > deadline {
            return Ok(got);
        }
        std::thread::sleep(Duration::from_millis(200));
        fx.conn = fx.cluster.client()?;
    }
}
