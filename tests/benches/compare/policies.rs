//! Claim-policy workloads: what evaluating a consumer group of `PENDING` (100k) pending entries
//! costs, and whether it holds up anyone else. The targets: under 50 ms per
//! evaluation, and no stall of XADD/XREADGROUP on other streams.
//! - [`PolicyEvaluation`]: `last-evaluation-us` of `SLUICE POLICIES` over several evaluations of
//!   a `reassign-idle` policy that decides nothing (`idle_ms` past any entry's idle time: the
//!   pure cost of copying the group and asking the plugin), or that reassigns every entry every
//!   round (applying included). Policies are Sluice's alone, so these rows are judged on
//!   Sluice's own median, in ms.
//! - [`NeighbourLoad`]: the `xadd` row's load, or an XREADGROUP load, on another stream of a
//!   Sluice whose policy evaluates the 100k group every 100 ms, against the same Sluice (same
//!   group) without the policy: a Sluice-vs-Sluice row.
//!
//! The policy is installed as an operator would: `plugins_dir` and a `[[claim_policy]]` table
//! appended to the config file the harness started Sluice with, then `SLUICE RELOAD`. The
//! plugin is built by `sluice_tests::plugins` and copied to a folder of the workload's own.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use sluice_tests::plugins;

use crate::driver::BenchmarkRun;
use crate::groups;
use crate::resp::Conn;
use crate::routes;
use crate::server::{Durability, Kind, RunningServer};
use crate::workloads::{Baseline, Ctx, Goal, Sample, Workload, args, stream_len};

/// The policy rows, in table order.
pub fn workloads() -> Vec<Box<dyn Workload>> {
    vec![
        Box::new(PolicyEvaluation::new(Decides::Nothing)),
        Box::new(PolicyEvaluation::new(Decides::ReassignAll)),
        Box::new(NeighbourLoad::new(Load::Xadd, Decides::Nothing)),
        Box::new(NeighbourLoad::new(Load::Xreadgroup, Decides::Nothing)),
        Box::new(NeighbourLoad::new(Load::Xadd, Decides::ReassignAll)),
    ]
}

/// Pending entries of the evaluated group: the size, not scaled down by `--quick`.
const PENDING: u64 = 100_000;
/// The evaluated stream, its group (`g`, consumers `c1` and `c2`: as `groups::deliver` names
/// them) and the policy.
const STREAM: &str = "jobs";
const GROUP: &str = "g";
const POLICY: &str = "bench";
const INTERVAL_MS: u64 = 100;
/// The bar for one evaluation of `PENDING` entries, ms.
const TARGET_MS: f64 = 50.0;
/// Evaluations timed per run (odd, so the median is one of them).
const EVALUATIONS_PER_RUN: usize = 5;

/// What the `reassign-idle` policy decides each round.
#[derive(Clone, Copy, Debug)]
enum Decides {
    /// Nothing: no entry is idle long enough.
    Nothing,
    /// Every entry goes to the group's other consumer (`c1` ↔ `c2`), both alive throughout.
    ReassignAll,
}

impl Decides {
    /// The inside of the policy's `config` inline table.
    fn config(self) -> &'static str {
        match self {
            Decides::Nothing => "idle_ms = 1000000000",
            Decides::ReassignAll => "idle_ms = 0, alive_ms = 1000000000",
        }
    }
}

/// A copy of the built plugin, removed when the workload is dropped.
struct PluginFolder(PathBuf);

impl Drop for PluginFolder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The workload's plugin folder, building the plugins on first use (not at listing time).
fn plugin_folder(cell: &OnceLock<PluginFolder>) -> Result<&Path> {
    if cell.get().is_none() {
        let dir = plugins::folder(&[("reassign-idle", "reassign_idle.wasm")])
            .context("building the plugins")?;
        // Workloads run one at a time; a lost race would only drop a spare copy.
        let _ = cell.set(PluginFolder(dir));
    }
    Ok(&cell.get().context("plugin folder")?.0)
}

/// Where the harness's own settings end in Sluice's config file and the policy begins.
const POLICIES_MARKER: &str = "# --- claim policies of the compare bench ---\n";

/// Makes `STREAM` a stream of `PENDING` entries (IDs `1-0..`), all delivered to consumer `c1`
/// of group `g` and none acknowledged, and adds an idle consumer `c2`; checks the count.
fn build_group(server: &RunningServer) -> Result<()> {
    let mut conn = Conn::connect(server.port)?;
    groups::build_pending(&mut conn, STREAM, PENDING, PENDING)?;
    conn.call_ok(&["XGROUP", "CREATECONSUMER", STREAM, GROUP, "c2"])?;
    Ok(())
}

/// Starts the policy on `STREAM`/`g`: rewrites the policy part of Sluice's config file, sends
/// `SLUICE RELOAD`, and waits for a first evaluation that saw the whole group.
fn start_policy(server: &RunningServer, plugins: &Path, decides: Decides) -> Result<()> {
    let path = server
        .config_file()
        .context("claim policies need sluice, not redis-server")?;
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let base = text
        .split_once(POLICIES_MARKER)
        .map_or(text.as_str(), |(b, _)| b);
    let dir = plugins.display().to_string();
    ensure!(!dir.contains('\''), "plugins folder {dir} has a quote");
    let new = format!(
        "{base}{POLICIES_MARKER}plugins_dir = '{dir}'\n[[claim_policy]]\nname = \"{POLICY}\"\n\
         stream = \"{STREAM}\"\ngroup = \"{GROUP}\"\nplugin = \"reassign_idle.wasm\"\n\
         config = {{ {} }}\ninterval_ms = {INTERVAL_MS}\n",
        decides.config()
    );
    // Renamed into place: the server watches the file and must never read half of it.
    let tmp = path.with_extension("toml.tmp");
    fs::write(&tmp, new).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
    let mut conn = Conn::connect(server.port)?;
    conn.call_ok(&["SLUICE", "RELOAD"])?;
    let first = next_rounds(&mut conn, 1)?;
    ensure!(
        first.iter().all(|s| s.last_pending == PENDING),
        "the policy's first round should see {PENDING} pending: {first:?}"
    );
    Ok(())
}

/// The figures of policy `POLICY` in `SLUICE POLICIES`.
#[derive(Clone, Debug, Default)]
struct PolicyStatus {
    state: String,
    evaluations: u64,
    failed: u64,
    reassigned: u64,
    stale: u64,
    last_pending: u64,
    last_evaluation_us: u64,
    last_error: Option<String>,
}

impl PolicyStatus {
    /// Evaluations begun and ended, whether they ran to the end or failed (a plugin call over
    /// its time limit, say): each stores its duration and the pending count it saw.
    fn rounds(&self) -> u64 {
        self.evaluations + self.failed
    }
}

fn policy_status(conn: &mut Conn) -> Result<PolicyStatus> {
    let mut status = PolicyStatus::default();
    for (key, value) in routes::sluice_entry(conn, "POLICIES", POLICY)? {
        match key.as_slice() {
            b"state" => status.state = routes::text(&value)?.unwrap_or_default(),
            b"evaluations" => status.evaluations = routes::count(&value)?,
            b"failed-evaluations" => status.failed = routes::count(&value)?,
            b"reassigned" => status.reassigned = routes::count(&value)?,
            b"stale" => status.stale = routes::count(&value)?,
            b"last-pending" => status.last_pending = routes::count(&value)?,
            b"last-evaluation-us" => status.last_evaluation_us = routes::count(&value)?,
            b"last-error" => status.last_error = routes::text(&value)?,
            _ => {}
        }
    }
    Ok(status)
}

/// How often the policy's counters are polled, how long after a new evaluation is counted
/// they are read again, and how long one evaluation may take to show up.
const POLL: Duration = Duration::from_millis(5);
const SETTLE: Duration = Duration::from_millis(2);
const EVALUATION_DEADLINE: Duration = Duration::from_secs(60);

/// Waits for the policy's next `count` rounds and returns its status after each. The server
/// counts a round just before it stores the round's duration, so a status is read again
/// `SETTLE` after the count moves; the next round is `INTERVAL_MS` away, so that read sees the
/// thread asleep, every counter of the round final.
fn next_rounds(conn: &mut Conn, count: usize) -> Result<Vec<PolicyStatus>> {
    let mut seen = policy_status(conn)?.rounds();
    let mut since = Instant::now();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        std::thread::sleep(POLL);
        let status = policy_status(conn)?;
        ensure!(
            status.state == "running",
            "policy {POLICY} is not evaluating: {status:?}"
        );
        if status.rounds() == seen {
            ensure!(
                since.elapsed() < EVALUATION_DEADLINE,
                "policy {POLICY} did not finish an evaluation within {EVALUATION_DEADLINE:?}: \
                 {status:?}"
            );
            continue;
        }
        std::thread::sleep(SETTLE);
        let settled = policy_status(conn)?;
        if settled.rounds() != status.rounds() {
            // The poll fell behind by a whole interval; take the next round instead.
            continue;
        }
        seen = settled.rounds();
        since = Instant::now();
        out.push(settled);
    }
    Ok(out)
}

/// A `reassign-idle` policy on a group of `PENDING` pending entries, evaluated every
/// `INTERVAL_MS`. Each run times `EVALUATIONS_PER_RUN` evaluations (`last-evaluation-us`, read
/// after each: copy, plugin and apply) after one more that marks where the run starts, and
/// checks every one saw the whole group and decided what it should. The value is the run's
/// median, ms; the note has its max.
pub struct PolicyEvaluation {
    decides: Decides,
    plugins: OnceLock<PluginFolder>,
}

impl PolicyEvaluation {
    fn new(decides: Decides) -> Self {
        PolicyEvaluation {
            decides,
            plugins: OnceLock::new(),
        }
    }
}

impl Workload for PolicyEvaluation {
    fn name(&self) -> String {
        match self.decides {
            Decides::Nothing => "policy evaluation, 100k pending".to_owned(),
            Decides::ReassignAll => "policy evaluation, 100k pending, all reassigned".to_owned(),
        }
    }
    fn unit(&self) -> &'static str {
        "ms"
    }
    fn goal(&self) -> Goal {
        Goal::ValueAtMost(TARGET_MS)
    }
    fn baseline(&self) -> Baseline {
        Baseline::Empty
    }

    fn prepare(&self, _ctx: &Ctx, server: &RunningServer) -> Result<()> {
        build_group(server)?;
        start_policy(server, plugin_folder(&self.plugins)?, self.decides)
    }

    fn measure(&self, _ctx: &Ctx, server: &RunningServer, _run: usize) -> Result<Sample> {
        let mut conn = Conn::connect(server.port)?;
        let statuses = next_rounds(&mut conn, EVALUATIONS_PER_RUN + 1)?;
        let (Some(start), Some(end)) = (statuses.first(), statuses.last()) else {
            bail!("no evaluations");
        };
        let timed = statuses.get(1..).unwrap_or_default();
        ensure!(
            timed.iter().all(|s| s.last_pending == PENDING),
            "every evaluation should see {PENDING} pending: {timed:?}"
        );
        // A failed evaluation (a plugin call over its time limit, on a loaded box) is timed
        // like the others, and counted in the note.
        let failed = end.failed - start.failed;
        let evaluated = end.evaluations - start.evaluations;
        let reassigned = end.reassigned - start.reassigned;
        let expected = match self.decides {
            Decides::Nothing => 0,
            Decides::ReassignAll => evaluated * PENDING,
        };
        ensure!(
            reassigned == expected && end.stale == start.stale,
            "{evaluated} evaluations should have reassigned {expected} entries, not \
             {reassigned}: {start:?} → {end:?}"
        );
        let mut ms: Vec<f64> = timed
            .iter()
            .map(|s| s.last_evaluation_us as f64 / 1e3)
            .collect();
        ms.sort_by(f64::total_cmp);
        let (Some(&median), Some(&max)) = (ms.get(ms.len() / 2), ms.last()) else {
            bail!("no evaluations timed");
        };
        Ok(Sample::noted(
            median,
            format!(
                "median {median:.1} max {max:.1} ms of {} evaluations ({:.2}x / {:.2}x the \
                 {TARGET_MS:.0} ms target){}",
                ms.len(),
                median / TARGET_MS,
                max / TARGET_MS,
                failed_note(failed, end)
            ),
        ))
    }
}

/// `; N failed (<last error>)` when evaluations failed, else nothing.
fn failed_note(failed: u64, status: &PolicyStatus) -> String {
    if failed == 0 {
        return String::new();
    }
    let error = status.last_error.as_deref().unwrap_or("no error recorded");
    format!("; {failed} FAILED ({error})")
}

/// The load a [`NeighbourLoad`] row puts on a stream other than the policy's.
#[derive(Clone, Copy, Debug)]
enum Load {
    /// `XADD neighbour:xadd:<run> * f1 v1 f2 v2`, `xadd_requests` of them: the `xadd` row.
    Xadd,
    /// `XREADGROUP GROUP g c1 COUNT 1 STREAMS neighbour:read:<run> >` (a worker taking one job),
    /// as many as the XADD load, on a stream preloaded with exactly one entry per call.
    Xreadgroup,
}

/// `redis-benchmark` (`clients` connections, unpipelined) runs `load` on another stream, against
/// Sluice with the policy evaluating `STREAM`'s `PENDING` entries every `INTERVAL_MS`, and
/// against a Sluice with the same group but no policy. The note counts the evaluations that
/// overlapped the load. The stream keys differ per run, so whether one shares a lock shard
/// with `STREAM` varies from run to run (the spread of run ratios shows it, if it matters).
pub struct NeighbourLoad {
    load: Load,
    decides: Decides,
    plugins: OnceLock<PluginFolder>,
}

impl NeighbourLoad {
    fn new(load: Load, decides: Decides) -> Self {
        NeighbourLoad {
            load,
            decides,
            plugins: OnceLock::new(),
        }
    }

    /// The key `run` loads; a fresh one per run, so the checks see only that run's work.
    fn key(&self, run: usize) -> String {
        match self.load {
            Load::Xadd => format!("neighbour:xadd:{run}"),
            Load::Xreadgroup => format!("neighbour:read:{run}"),
        }
    }

    /// What the load needs before it starts (not timed): XREADGROUP's entries and group.
    fn preload(&self, ctx: &Ctx, server: &RunningServer, key: &str) -> Result<()> {
        if let Load::Xreadgroup = self.load {
            let mut conn = Conn::connect(server.port)?;
            let entries = ctx.scale.xadd_requests;
            groups::load(&mut conn, key, entries, |i| format!("{}-0", i + 1))?;
            conn.call_ok(&["XGROUP", "CREATE", key, "g", "0"])?;
        }
        Ok(())
    }

    /// Runs the load on `key`; returns ops/s after checking that every request did its work
    /// (`redis-benchmark` counts error and empty replies as requests).
    fn run_load(&self, ctx: &Ctx, server: &RunningServer, key: &str) -> Result<f64> {
        let (requests, command) = match self.load {
            Load::Xadd => (
                ctx.scale.xadd_requests,
                args(&["XADD", key, "*", "f1", "v1", "f2", "v2"]),
            ),
            Load::Xreadgroup => (
                ctx.scale.xadd_requests,
                args(&[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c1",
                    "COUNT",
                    "1",
                    "STREAMS",
                    key,
                    ">",
                ]),
            ),
        };
        let bench = BenchmarkRun {
            clients: ctx.scale.clients,
            requests,
            pipeline: 1,
            command,
        };
        let rps = bench.run(&ctx.redis_benchmark, server)?;
        match self.load {
            Load::Xadd => {
                let len = stream_len(ctx, server, key)?;
                ensure!(
                    len >= requests,
                    "{key} holds {len} entries after {requests} XADDs: the server answered errors"
                );
            }
            Load::Xreadgroup => {
                let mut conn = Conn::connect(server.port)?;
                let reply = conn.call_ok(&["XPENDING", key, "g"])?;
                let pending = match reply.array()?.first() {
                    Some(count) => count.int()?,
                    None => bail!("XPENDING {key} g answered {reply:?}"),
                };
                ensure!(
                    u64::try_from(pending) == Ok(requests),
                    "{requests} XREADGROUPs of one entry left {pending} pending: some calls got \
                     errors or nothing"
                );
            }
        }
        Ok(rps)
    }

    /// Whether `server` is the column that runs the policy: Sluice in Sluice's column (the
    /// baseline column, and a calibration run's Redis, stay without).
    fn has_policy(server: &RunningServer) -> bool {
        server.kind == Kind::Sluice && server.flavour() == Kind::Sluice
    }
}

impl Workload for NeighbourLoad {
    fn name(&self) -> String {
        let load = match self.load {
            Load::Xadd => "XADD",
            Load::Xreadgroup => "XREADGROUP",
        };
        let policy = match self.decides {
            Decides::Nothing => "evaluates",
            Decides::ReassignAll => "reassigns",
        };
        format!("{load} on another stream while a policy {policy} 100k pending")
    }
    fn unit(&self) -> &'static str {
        "ops/s"
    }
    fn goal(&self) -> Goal {
        Goal::AtLeast(0.9)
    }
    fn baseline(&self) -> Baseline {
        Baseline::Sluice(Durability::Default)
    }

    fn prepare(&self, _ctx: &Ctx, server: &RunningServer) -> Result<()> {
        build_group(server)?;
        if Self::has_policy(server) {
            start_policy(server, plugin_folder(&self.plugins)?, self.decides)?;
        }
        Ok(())
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, run: usize) -> Result<Sample> {
        let key = self.key(run);
        self.preload(ctx, server, &key)?;
        if !Self::has_policy(server) {
            return Ok(Sample::plain(self.run_load(ctx, server, &key)?));
        }
        let mut conn = Conn::connect(server.port)?;
        let before = policy_status(&mut conn)?;
        let started = Instant::now();
        let rps = self.run_load(ctx, server, &key)?;
        let secs = started.elapsed().as_secs_f64();
        let after = policy_status(&mut conn)?;
        Ok(Sample::noted(
            rps,
            format!(
                "{} evaluations in {:.0} ms of load (last {:.1} ms, {} pending; {} reassigned){}",
                after.rounds() - before.rounds(),
                secs * 1e3,
                after.last_evaluation_us as f64 / 1e3,
                after.last_pending,
                after.reassigned - before.reassigned,
                failed_note(after.failed - before.failed, &after)
            ),
        ))
    }
}
