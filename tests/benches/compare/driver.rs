//! The load generators: `redis-benchmark` for the throughput workloads (the same client drives
//! both servers, so neither gets a home advantage) and a pipelined `redis`-crate client for bulk
//! loading and for checking that a server answers a command the way the workload assumes.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use redis::aio::MultiplexedConnection;

use crate::server::RunningServer;

/// One `redis-benchmark` invocation: `-c clients -n requests [-P pipeline] --csv <command…>`.
#[derive(Clone, Debug)]
pub struct BenchmarkRun {
    pub clients: u32,
    pub requests: u64,
    /// Commands in flight per client; 1 = unpipelined.
    pub pipeline: u32,
    pub command: Vec<String>,
}

impl BenchmarkRun {
    /// Runs against `server` and returns the requests per second `redis-benchmark` reports.
    pub fn run(&self, redis_benchmark: &Path, server: &RunningServer) -> Result<f64> {
        let mut cmd = Command::new(redis_benchmark);
        cmd.args(["-h", "127.0.0.1", "-p"])
            .arg(server.port.to_string())
            .arg("-c")
            .arg(self.clients.to_string())
            .arg("-n")
            .arg(self.requests.to_string());
        if self.pipeline > 1 {
            cmd.arg("-P").arg(self.pipeline.to_string());
        }
        cmd.arg("--csv").args(&self.command);
        let out = cmd.output().context("running redis-benchmark")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "redis-benchmark failed ({}): {}{}",
                out.status,
                stdout,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        parse_csv_rps(&stdout).with_context(|| {
            format!(
                "reading redis-benchmark's output:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

/// Reads the `rps` column of `redis-benchmark --csv` output: a header line
/// `"test","rps",…` followed by one row per test; this takes the first row.
fn parse_csv_rps(csv: &str) -> Result<f64> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().context("empty output")?;
    let rps_column = split_csv(header)
        .iter()
        .position(|h| h == "rps")
        .context("no rps column in the header")?;
    let row = lines.next().context("no result row")?;
    let field = split_csv(row)
        .get(rps_column)
        .cloned()
        .context("result row is shorter than the header")?;
    let rps: f64 = field
        .parse()
        .with_context(|| format!("rps {field:?} is not a number"))?;
    if !(rps.is_finite() && rps > 0.0) {
        bail!("rps {rps} is not a positive number");
    }
    Ok(rps)
}

/// Splits one CSV line of quoted fields (`"a","b"`). The test name may contain commas inside
/// quotes, so this honours quotes; `redis-benchmark` never escapes quotes inside a field.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    fields.push(current);
    fields
}

/// Opens a `redis`-crate connection to `server`.
pub async fn connect(server: &RunningServer) -> Result<MultiplexedConnection> {
    let client = redis::Client::open(server.url()).context("building the client")?;
    client
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("connecting to {}", server.kind.label()))
}

/// Entries per pipelined round trip when bulk loading.
const LOAD_CHUNK: u64 = 1000;

/// Appends `count` entries to `key` with `XADD key * <fields(i)>`, `LOAD_CHUNK` commands per
/// round trip; fails on the first error reply.
pub async fn load_stream(
    server: &RunningServer,
    key: &str,
    count: u64,
    fields: impl Fn(u64, &mut redis::Pipeline),
) -> Result<()> {
    load_commands(server, count, |i, pipe| {
        pipe.cmd("XADD").arg(key).arg("*");
        fields(i, pipe);
        pipe.ignore();
    })
    .await
    .with_context(|| format!("loading {key}"))
}

/// Sends `count` rounds of commands, `write(i, pipe)` appending round `i`'s, `LOAD_CHUNK`
/// rounds per round trip; fails on the first error reply.
pub async fn load_commands(
    server: &RunningServer,
    count: u64,
    write: impl Fn(u64, &mut redis::Pipeline),
) -> Result<()> {
    let mut con = connect(server).await?;
    let mut next = 0;
    while next < count {
        let end = (next + LOAD_CHUNK).min(count);
        let mut pipe = redis::pipe();
        for i in next..end {
            write(i, &mut pipe);
        }
        pipe.query_async::<()>(&mut con)
            .await
            .with_context(|| format!("loading on {} (round {next})", server.kind.label()))?;
        next = end;
    }
    Ok(())
}

/// Runs one command and returns its reply, for checking a workload's assumptions.
pub async fn query(server: &RunningServer, args: &[String]) -> Result<redis::Value> {
    let (name, rest) = args.split_first().context("empty command")?;
    let mut con = connect(server).await?;
    let mut cmd = redis::cmd(name);
    for arg in rest {
        cmd.arg(arg);
    }
    cmd.query_async(&mut con)
        .await
        .with_context(|| format!("{} on {}", args.join(" "), server.kind.label()))
}
