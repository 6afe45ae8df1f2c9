//! Helpers shared by the claim-policy end-to-end tests: `decisions.rs` (the example policies),
//! `admin.rs` (the admin commands), `faults.rs` (misbehaving plugins, hot
//! reload) and `restart.rs` (SIGKILL and snapshots). They build on
//! `routes/support.rs`: the server's start ([`start`](crate::routes::support::start)), waits, and
//! the parsed maps of `SLUICE POLICIES` ([`Fields`]).
//!
//! Most tests run the server on a [`sluice_tests::ManualClock`]: the policy's idle times, the
//! entries' IDs and `XPENDING`'s idle column are then exact. A policy evaluates on its own
//! thread every `interval_ms` of real time, so tests wait on its counters in `SLUICE POLICIES`
//! ([`policy_until`], [`settled`]) and then assert exact replies; none asserts how long
//! anything took.

use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use redis::Value;
use sluice_tests::{ManualClock, TestServer};

use crate::routes::support::{Fields, fields_until, find, id, maps, render, start};

/// The example policies and the test policy, as (crate, file name) for
/// [`start`](crate::routes::support::start) and [`sluice_tests::plugins::folder`].
pub const REASSIGN_IDLE: (&str, &str) = ("reassign-idle", "reassign_idle.wasm");
pub const DEAD_LETTER_AFTER: (&str, &str) = ("dead-letter-after", "dead_letter_after.wasm");
pub const BACKOFF: (&str, &str) = ("backoff", "backoff.wasm");
pub const MISBEHAVE: (&str, &str) = ("policy-misbehave", "policy_misbehave.wasm");

/// Policy `idle`: `reassign-idle` on `jobs`/`workers`, entries idle 5 s or more.
pub fn idle_policy() -> String {
    policy_toml(
        "idle",
        "jobs",
        "workers",
        "reassign_idle.wasm",
        "{ idle_ms = 5000 }",
        20,
    )
}

/// One `[[claim_policy]]` table evaluated every `interval_ms`; `config` is a TOML inline table.
pub fn policy_toml(
    name: &str,
    stream: &str,
    group: &str,
    plugin: &str,
    config: &str,
    interval_ms: u64,
) -> String {
    format!(
        "[[claim_policy]]\nname = \"{name}\"\nstream = \"{stream}\"\ngroup = \"{group}\"\n\
         plugin = \"{plugin}\"\nconfig = {config}\ninterval_ms = {interval_ms}\n"
    )
}

/// Sends `args` and returns the reply [`render`]ed (`[a, [b, c]]`, `(nil)`, integers in
/// decimal): the form tests compare exactly. An error reply is an `Err`.
pub fn cmd(con: &mut redis::Connection, args: &[&str]) -> Result<String> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    let reply: Value = c.query(con).with_context(|| args.join(" "))?;
    Ok(render(&reply))
}

/// `XPENDING key group - + 100`, rendered: `[[id, consumer, idle-ms, deliveries], …]`.
pub fn xpending(con: &mut redis::Connection, key: &str, group: &str) -> Result<String> {
    cmd(con, &["XPENDING", key, group, "-", "+", "100"])
}

/// How the policy tests' consumers read group `workers` of `jobs`: `XREADGROUP GROUP workers
/// <consumer> [COUNT <count>] STREAMS jobs <from>`, rendered (`from` is `>` for entries new or
/// marked for redelivery, `0` for the consumer's own history).
pub fn read_jobs(
    con: &mut redis::Connection,
    consumer: &str,
    count: Option<u32>,
    from: &str,
) -> Result<String> {
    let count = count.map(|n| n.to_string());
    let mut args = vec!["XREADGROUP", "GROUP", "workers", consumer];
    if let Some(count) = &count {
        args.extend(["COUNT", count]);
    }
    args.extend(["STREAMS", "jobs", from]);
    cmd(con, &args)
}

/// `XGROUP CREATE jobs workers $ MKSTREAM`: the group the policy tests' policies watch.
pub fn create_workers(con: &mut redis::Connection) -> Result<()> {
    cmd(
        con,
        &["XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"],
    )?;
    Ok(())
}

/// Evaluations of policy `p`, successful or failed.
fn rounds(p: &Fields) -> Result<i64> {
    Ok(p.count("evaluations")? + p.count("failed-evaluations")?)
}

/// Policy `p` as (field, value) text pairs in reply order, each of `varying` (counters that
/// depend on how often the thread ran) checked to be an integer and shown as `*`.
pub fn masked_counters(p: &Fields, varying: &[&str]) -> Result<Vec<(String, String)>> {
    p.rendered()
        .into_iter()
        .map(|(k, v)| {
            if varying.contains(&k.as_str()) {
                p.count(&k)?;
                Ok((k, "*".to_owned()))
            } else {
                Ok((k, v))
            }
        })
        .collect()
}

/// `SLUICE POLICIES`: every policy, in config order.
pub fn sluice_policies(con: &mut redis::Connection) -> Result<Vec<Fields>> {
    maps(con, redis::cmd("SLUICE").arg("POLICIES"))
}

/// Policy `name` as `SLUICE POLICIES` shows it.
pub fn policy(con: &mut redis::Connection, name: &str) -> Result<Fields> {
    find(sluice_policies(con)?, "name", name)
        .with_context(|| format!("SLUICE POLICIES does not list {name}"))
}

/// Waits until policy `name` satisfies `done` (see [`fields_until`]).
pub fn policy_until(
    con: &mut redis::Connection,
    name: &str,
    what: &str,
    done: impl Fn(&Fields) -> Result<bool>,
) -> Result<Fields> {
    fields_until(&format!("policy {name} {what}"), || policy(con, name), done)
}

/// Waits until counter `field` of policy `name` is `n`; fails at once if it goes past.
pub fn counted(con: &mut redis::Connection, name: &str, field: &str, n: i64) -> Result<Fields> {
    policy_until(con, name, &format!("has {field} = {n}"), |p| {
        let got = p.count(field)?;
        ensure!(got <= n, "{field} went past {n}: {p:?}");
        Ok(got == n)
    })
}

/// Waits until policy `name` has started two more evaluations than now, so that at least one
/// ran wholly after this call (and saw the clock and the group as they are now).
pub fn settled(con: &mut redis::Connection, name: &str) -> Result<Fields> {
    let start = rounds(&policy(con, name)?)?;
    policy_until(con, name, "has evaluated twice more", |p| {
        Ok(rounds(p)? >= start + 2)
    })
}

/// `INFO policies`, its lines without the trailing `\r\n`.
pub fn info_policies(con: &mut redis::Connection) -> Result<Vec<String>> {
    let info: String = redis::cmd("INFO").arg("policies").query(con)?;
    Ok(info.lines().map(str::to_owned).collect())
}

/// [`start`]s a server with the plugins `files` and `policies`, and creates group `workers`
/// of `jobs`. Returns the server, its clock and a client.
pub fn start_with_workers(
    files: &[(&str, &str)],
    policies: &str,
) -> Result<(TestServer, Arc<ManualClock>, redis::Connection)> {
    let (server, clock, _dir) = start(files, policies)?;
    let mut con = server.client()?;
    create_workers(&mut con)?;
    Ok((server, clock, con))
}

/// `XREADGROUP GROUP workers <consumer> COUNT <count> STREAMS jobs >`, rendered.
pub fn read(con: &mut redis::Connection, consumer: &str, count: u32) -> Result<String> {
    read_jobs(con, consumer, Some(count), ">")
}

/// A `jobs` reply of `XREADGROUP` holding `entries` (each [`entry`]).
pub fn jobs(entries: &[String]) -> String {
    format!("[[jobs, [{}]]]", entries.join(", "))
}

/// One entry as rendered: `[<id>, [<fields>]]`, its ID `id(n)`.
pub fn entry(n: u64, fields: &str) -> String {
    format!("[{}, [{fields}]]", id(n))
}

/// An `XPENDING … - + n` reply: `(n, owner, idle ms, deliveries)` for entry `id(n)`.
pub fn pel(rows: &[(u64, &str, u64, u64)]) -> String {
    let rows: Vec<String> = rows
        .iter()
        .map(|(n, owner, idle, count)| format!("[{}, {owner}, {idle}, {count}]", id(*n)))
        .collect();
    format!("[{}]", rows.join(", "))
}
