//! Attached mode (`--attach`): a route run by Sluice instances over a 3-master Redis Cluster
//! (`redis-server --cluster-enabled yes`, joined with `redis-cli --cluster create`), against
//! the same route in the embedded broker. The load is the same for both: `redis-benchmark`, 50
//! clients, unpipelined `XADD <source> * region eu n 1` (on the cluster, to the source's master),
//! and
//! the figure is routed events/s: from the load's start until the route has taken in every
//! event (`SLUICE ROUTES`'s `events-in`). Both rows judge Sluice's own figure:
//! - [`AttachedRoute::per_instance`]: one attached instance over the embedded route, same
//!   plugin (`filter`, forwarding every event) and load: the ratio, target ≥ 0.5. The note
//!   also gives each side's catch-up rate (a backlog of events routed with no load running),
//!   which is what the route alone can do.
//! - [`AttachedRoute::scaling`]: two instances sharing the route (one consumer group, one
//!   source stream) over one instance, under the same load.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use sluice_tests::ChildServer;
use sluice_tests::cluster::RedisCluster;

use crate::driver;
use crate::resp::Conn;
use crate::routes::{PluginFolder, count, filter_route, plugin_folder, set_routes, sluice_entry};
use crate::server::RunningServer;
use crate::workloads::{Baseline, Ctx, Goal, Sample, Workload};

/// The rows, in table order.
pub fn workloads() -> Vec<Box<dyn Workload>> {
    vec![
        Box::new(AttachedRoute::per_instance()),
        Box::new(AttachedRoute::scaling()),
    ]
}

/// Events each catch-up routes.
const EVENTS: u64 = 200_000;

/// See the module's documentation.
pub struct AttachedRoute {
    /// Two instances over one (else one instance over the embedded route).
    scaling: bool,
    plugins: OnceLock<PluginFolder>,
    cluster: Mutex<Option<RedisCluster>>,
}

impl AttachedRoute {
    fn per_instance() -> Self {
        AttachedRoute {
            scaling: false,
            plugins: OnceLock::new(),
            cluster: Mutex::new(None),
        }
    }

    fn scaling() -> Self {
        AttachedRoute {
            scaling: true,
            ..AttachedRoute::per_instance()
        }
    }
}

impl Workload for AttachedRoute {
    fn name(&self) -> String {
        if self.scaling {
            "route attached, 2 instances / 1".to_owned()
        } else {
            "route attached / embedded".to_owned()
        }
    }
    fn unit(&self) -> &'static str {
        "x"
    }
    fn goal(&self) -> Goal {
        if self.scaling {
            Goal::Info
        } else {
            Goal::ValueAtLeast(0.5)
        }
    }
    fn baseline(&self) -> Baseline {
        Baseline::Empty
    }

    fn prepare(&self, _ctx: &Ctx, _server: &RunningServer) -> Result<()> {
        plugin_folder(&self.plugins)?;
        let cluster = RedisCluster::start(3, 0).context("a 3-master redis-server cluster")?;
        *self
            .cluster
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))? = Some(cluster);
        Ok(())
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let guard = self
            .cluster
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        let cluster = guard.as_ref().context("no cluster")?;
        let plugins = plugin_folder(&self.plugins)?;
        let setup = Setup {
            ctx,
            server,
            cluster,
            plugins,
        };
        let one = setup.attached(&format!("a{run}"), 1, Load::Producers)?;
        if self.scaling {
            let two = setup.attached(&format!("b{run}"), 2, Load::Producers)?;
            return Ok(Sample::noted(
                two / one,
                format!(
                    "under load: 1 instance {one:.0} events/s, 2 instances {two:.0} events/s \
                     ({EVENTS} events, one source stream, 3 masters, all on this machine's 2 \
                     cores)"
                ),
            ));
        }
        let embedded = setup.embedded(run, Load::Producers)?;
        let one_backlog = setup.attached(&format!("c{run}"), 1, Load::Backlog)?;
        let embedded_backlog = setup.embedded(run + 1000, Load::Backlog)?;
        Ok(Sample::noted(
            one / embedded,
            format!(
                "under load: attached {one:.0} events/s, embedded {embedded:.0} events/s; \
                 catching up with a backlog: attached {one_backlog:.0}, embedded \
                 {embedded_backlog:.0} events/s ({:.2}x) ({EVENTS} events)",
                one_backlog / embedded_backlog
            ),
        ))
    }
}

/// What the route is measured on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Load {
    /// 50 `redis-benchmark` clients appending while the route runs.
    Producers,
    /// A backlog appended before the route starts (its own capacity).
    Backlog,
}

/// What a measurement needs.
struct Setup<'a> {
    ctx: &'a Ctx,
    server: &'a RunningServer,
    cluster: &'a RedisCluster,
    plugins: &'a std::path::Path,
}

impl Setup<'_> {
    /// The embedded route's rate on the Sluice under test.
    fn embedded(&self, run: usize, load: Load) -> Result<f64> {
        let source = format!("embedded:src:{run}");
        let name = format!("embedded-{run}");
        let config = format!("field = \"region\", equals = \"eu\", destination = \"{source}:out\"");
        let route = |start| filter_route(&name, &source, &config, start);
        let rate = match load {
            Load::Backlog => {
                self.ctx.rt.block_on(driver::load_stream(
                    self.server,
                    &source,
                    EVENTS,
                    |i, pipe| {
                        pipe.arg("region").arg("eu").arg("n").arg(i);
                    },
                ))?;
                set_routes(self.server, self.plugins, &[route("0")])?;
                rate_of(&[self.server.port], &name, None)?
            }
            Load::Producers => {
                set_routes(self.server, self.plugins, &[route("$")])?;
                let started = Instant::now();
                self.produce(&["-p", &self.server.port.to_string()], &source)?;
                rate_of(&[self.server.port], &name, Some(started))?
            }
        };
        set_routes(self.server, self.plugins, &[])?;
        let mut conn = Conn::connect(self.server.port)?;
        conn.call_ok(&["DEL", &source, &format!("{source}:out")])?;
        Ok(rate)
    }

    /// The rate of `instances` instances attached to the cluster.
    fn attached(&self, tag: &str, instances: usize, load: Load) -> Result<f64> {
        let source = format!("attached:{{{tag}}}");
        let mut conn = self.cluster.client()?;
        if load == Load::Backlog {
            let mut next = 0;
            while next < EVENTS {
                let mut pipe = redis::cluster::cluster_pipe();
                for i in next..(next + 1000).min(EVENTS) {
                    pipe.cmd("XADD")
                        .arg(&source)
                        .arg("*")
                        .arg("region")
                        .arg("eu")
                        .arg("n")
                        .arg(i)
                        .ignore();
                }
                pipe.query::<()>(&mut conn)?;
                next += 1000;
            }
        }
        let name = format!("attached-{tag}");
        let route = format!(
            "{}claim_idle_ms = 60000\n",
            filter_route(
                &name,
                &source,
                &format!("field = \"region\", equals = \"eu\", destination = \"{source}:out\""),
                "0"
            )
        );
        let bin = self
            .server
            .bin()
            .context("the attached rows need a sluice binary")?;
        let mut children = Vec::new();
        for i in 0..instances {
            let dir = sluice_tests::tempdir()?;
            let file = dir.join("sluice.toml");
            std::fs::write(&file, &route)?;
            let mut args: Vec<String> = Vec::new();
            for url in self.cluster.seed_urls() {
                args.extend(["--attach".into(), url]);
            }
            args.extend([
                "--config".into(),
                file.display().to_string(),
                "--plugins".into(),
                self.plugins.display().to_string(),
                "--instance-id".into(),
                format!("i{i}"),
            ]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            children.push(ChildServer::start(&bin.display().to_string(), &dir, &args)?);
        }
        let ports: Vec<u16> = children.iter().map(|c| c.addr.port()).collect();
        let rate = match load {
            Load::Backlog => rate_of(&ports, &name, None),
            Load::Producers => {
                let started = Instant::now();
                // redis-benchmark's --cluster routes only its own tests: aim at the master.
                let port = self.cluster.master_port_of(&source)?.to_string();
                self.produce(&["-p", &port], &source)?;
                rate_of(&ports, &name, Some(started))
            }
        };
        drop(children);
        let _: () = redis::cmd("DEL")
            .arg(&source)
            .arg(format!("{source}:out"))
            .query(&mut conn)?;
        rate
    }

    /// `redis-benchmark <target…> -c 50 -n EVENTS XADD <source> * region eu n 1`.
    fn produce(&self, target: &[&str], source: &str) -> Result<()> {
        let out = std::process::Command::new(&self.ctx.redis_benchmark)
            .args(["-h", "127.0.0.1"])
            .args(target)
            .args(["-c", "50", "-n", &EVENTS.to_string(), "-q"])
            .args(["XADD", source, "*", "region", "eu", "n", "1"])
            .output()
            .context("running redis-benchmark")?;
        ensure!(
            out.status.success(),
            "redis-benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }
}

/// Events/s of route `name` run by the servers on `ports`: from `started` (else from the
/// first event any takes in) to the last of [`EVENTS`].
fn rate_of(ports: &[u16], name: &str, started: Option<Instant>) -> Result<f64> {
    let mut conns = ports
        .iter()
        .map(|p| Conn::connect(*p))
        .collect::<Result<Vec<_>>>()?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut first: Option<(Instant, u64)> = started.map(|t| (t, 0));
    loop {
        let mut total = 0;
        for conn in &mut conns {
            for (key, value) in sluice_entry(conn, "ROUTES", name)? {
                if key == b"events-in" {
                    total += count(&value)?;
                }
            }
        }
        let now = Instant::now();
        if total > 0 && first.is_none() {
            first = Some((now, total));
        }
        if total >= EVENTS {
            let (t0, at_t0) = first.context("no first sample")?;
            let secs = now.duration_since(t0).as_secs_f64();
            ensure!(secs > 0.0, "route {name} took everything in one poll");
            return Ok((EVENTS - at_t0) as f64 / secs);
        }
        if now > deadline {
            bail!("route {name} took {total} of {EVENTS} events in 300 s");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
