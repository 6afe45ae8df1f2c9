//! Attached instances as child processes (so they can be killed and stopped for real), and
//! the counting every scenario ends with.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use redis::Commands;
use sluice_tests::ChildServer;

/// The tests' copy of the `sluice` binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");

/// Starts an instance attached to `urls`, named `instance`, running `routes_toml` with the
/// plugins of `plugins_dir`.
pub fn instance(
    urls: &[String],
    instance: &str,
    plugins_dir: &Path,
    routes_toml: &str,
) -> Result<ChildServer> {
    instance_env(urls, instance, plugins_dir, routes_toml, &[])
}

/// [`instance`] with `env` added to its environment.
pub fn instance_env(
    urls: &[String],
    instance: &str,
    plugins_dir: &Path,
    routes_toml: &str,
    env: &[(&str, &Path)],
) -> Result<ChildServer> {
    let dir = sluice_tests::tempdir()?;
    let config = dir.join("sluice.toml");
    std::fs::write(&config, routes_toml)?;
    let mut args: Vec<String> = Vec::new();
    for url in urls {
        args.push("--attach".into());
        args.push(url.clone());
    }
    args.extend([
        "--config".into(),
        config.display().to_string(),
        "--plugins".into(),
        plugins_dir.display().to_string(),
        "--instance-id".into(),
        instance.into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ChildServer::start_env(BIN, &dir, &args, env)
}

/// Sends `signal` (`STOP`, `CONT`) to process `pid`.
pub fn signal(pid: u32, signal: &str) -> Result<()> {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()?;
    if !status.success() {
        bail!("kill -{signal} {pid} failed");
    }
    Ok(())
}

/// How many times each value of field `field` appears in stream `key`.
pub fn counts(
    conn: &mut impl redis::ConnectionLike,
    key: &str,
    field: &str,
) -> Result<HashMap<String, usize>> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(key)
        .arg("-")
        .arg("+")
        .query(conn)?;
    let mut counts = HashMap::new();
    for entry in reply.ids {
        let value: String = entry
            .get(field)
            .with_context(|| format!("{key} {}: no field {field}", entry.id))?;
        *counts.entry(value).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Waits (at most `limit`) until stream `key` holds `expected` entries; fails with what it
/// holds otherwise.
pub fn wait_len(
    conn: &mut impl redis::ConnectionLike,
    key: &str,
    expected: usize,
    limit: Duration,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let len: usize = redis::cmd("XLEN").arg(key).query(conn)?;
        if len >= expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{key} holds {len} entries after {limit:?}, expected {expected}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Appends `range` events to `key`, field `n` the number and `region` alternating eu/us
/// (even numbers are eu).
pub fn produce(
    conn: &mut impl redis::ConnectionLike,
    key: &str,
    range: std::ops::Range<usize>,
) -> Result<()> {
    for n in range {
        let region = if n % 2 == 0 { "eu" } else { "us" };
        let _: String = conn.xadd(key, "*", &[("n", n.to_string()), ("region", region.into())])?;
    }
    Ok(())
}

/// Asserts that `counts` holds every even number below `total` exactly once and nothing else.
pub fn assert_exactly_once(counts: &HashMap<String, usize>, total: usize) {
    let doubled: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(doubled.is_empty(), "doubled outputs: {doubled:?}");
    let missing: Vec<usize> = (0..total)
        .step_by(2)
        .filter(|n| !counts.contains_key(&n.to_string()))
        .collect();
    assert!(missing.is_empty(), "lost outputs: {missing:?}");
    assert_eq!(counts.len(), total.div_ceil(2), "unexpected outputs");
}

/// A route keeping the `eu` events of `source` in `destination`, claiming entries another
/// instance has held for a second.
pub fn eu_route(name: &str, source: &str, destination: &str) -> String {
    format!(
        r#"
[[route]]
name = "{name}"
source = "{source}"
plugin = "filter.wasm"
config = {{ field = "region", equals = "eu", destination = "{destination}" }}
start = "0"
claim_idle_ms = 1000
"#
    )
}

/// Stops process `pid` (SIGSTOP) at a moment when entries of `source` were delivered to its
/// consumer `consumer` in `group` and not yet committed (retrying for up to 20 s while a
/// producer writes); returns how many it holds. The caller then kills it or lets it go on.
pub fn stop_holding(
    pid: u32,
    conn: &mut impl redis::ConnectionLike,
    source: &str,
    group: &str,
    consumer: &str,
) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        signal(pid, "STOP")?;
        let held: Vec<redis::Value> = redis::cmd("XPENDING")
            .arg(source)
            .arg(group)
            .arg("-")
            .arg("+")
            .arg(100)
            .arg(consumer)
            .query(conn)
            .unwrap_or_default();
        if !held.is_empty() {
            return Ok(held.len());
        }
        signal(pid, "CONT")?;
        if Instant::now() > deadline {
            bail!("{consumer} never held an entry of {source}");
        }
        std::thread::sleep(Duration::from_millis(3));
    }
}

/// Produces `range` to `key` on a thread of its own, through a connection to `urls`, 2 ms
/// apart every 10 events. `retrying`: an append that fails (a failover) is tried again for up
/// to 30 s (it may then be in the source twice; the counts compare per source entry).
pub fn produce_in_background(
    urls: Vec<String>,
    key: &'static str,
    range: std::ops::Range<usize>,
    retrying: bool,
) -> std::thread::JoinHandle<Result<()>> {
    std::thread::spawn(move || {
        let mut conn = redis::cluster::ClusterClient::new(urls)?.get_connection()?;
        for n in range {
            let deadline = Instant::now() + Duration::from_secs(30);
            while let Err(e) = produce(&mut conn, key, n..n + 1) {
                if !retrying || Instant::now() > deadline {
                    bail!("append {n} failed: {e}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if n % 10 == 9 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        Ok(())
    })
}

/// How many entries of `key` are pending in `group` (`XPENDING key group`'s count).
pub fn pending_count(
    conn: &mut impl redis::ConnectionLike,
    key: &str,
    group: &str,
) -> Result<usize> {
    let reply: redis::streams::StreamPendingReply =
        redis::cmd("XPENDING").arg(key).arg(group).query(conn)?;
    Ok(reply.count())
}

/// A cluster, a client of it and a plugins folder: what every cluster scenario starts from.
pub struct Fixture {
    pub cluster: sluice_tests::cluster::RedisCluster,
    pub urls: Vec<String>,
    pub conn: redis::cluster::ClusterConnection,
    pub plugins: std::path::PathBuf,
}

impl Fixture {
    /// A 3-master cluster (each with `replicas` replicas) and a folder holding the plugin
    /// `(crate, file)`.
    pub fn start(replicas: usize, plugin: (&str, &str)) -> Result<Fixture> {
        let cluster = sluice_tests::cluster::RedisCluster::start(3, replicas)?;
        let urls = cluster.seed_urls();
        let conn = cluster.client()?;
        let plugins = sluice_tests::plugins::folder(&[plugin])?;
        Ok(Fixture {
            cluster,
            urls,
            conn,
            plugins,
        })
    }

    /// An instance named `name` attached to the cluster, running `toml`.
    pub fn instance(&self, name: &str, toml: &str) -> Result<ChildServer> {
        instance(&self.urls, name, &self.plugins, toml)
    }

    /// Appends `produced` events to `source` in the background and stops instance `a`
    /// (SIGSTOP) at a moment it holds uncommitted entries of route `route`; returns once the
    /// producer is done, `a` still stopped (the caller kills it or lets it go on).
    pub fn stop_a_mid_batch(
        &mut self,
        a: &ChildServer,
        route: &str,
        source: &'static str,
        produced: std::ops::Range<usize>,
    ) -> Result<()> {
        let producer = produce_in_background(self.urls.clone(), source, produced, false);
        let group = format!("sluice:route:{route}");
        let held = stop_holding(a.pid(), &mut self.conn, source, &group, "a")?;
        anyhow::ensure!(held > 0, "a held nothing");
        producer
            .join()
            .map_err(|_| anyhow::anyhow!("producer panicked"))?
    }

    /// Waits until `key` holds `expected` entries, gives a late duplicate time to show, and
    /// checks that `key` holds every even event below `total` exactly once.
    pub fn assert_outputs(&mut self, key: &str, total: usize) -> Result<()> {
        wait_len(
            &mut self.conn,
            key,
            total.div_ceil(2),
            Duration::from_secs(60),
        )?;
        std::thread::sleep(Duration::from_millis(1500));
        assert_exactly_once(&counts(&mut self.conn, key, "n")?, total);
        Ok(())
    }
}
