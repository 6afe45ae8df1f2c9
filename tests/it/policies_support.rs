//! Helpers shared by the claim-policy end-to-end tests: `policies.rs` (the example policies and
//! the admin commands), `policies_faults.rs` (misbehaving plugins, hot reload) and
//! `policies_restart.rs` (SIGKILL and snapshots).
//!
//! Most tests run the server on a [`ManualClock`]: the policy's idle times, the entries' IDs
//! and `XPENDING`'s idle column are then exact. A policy evaluates on its own thread every
//! `interval_ms` of real time, so tests wait on its counters in `SLUICE POLICIES`
//! ([`policy_until`], [`settled`]) and then assert exact replies; none asserts how long
//! anything took.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};
use redis::Value;
use sluice_tests::{ManualClock, TestServer, plugins};

use super::routes_support::{T0, render, wait_until};

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

/// A server with the plugins `files` (as for [`plugins::folder`]) and the claim policies in
/// `policies_toml`, its clock at [`T0`]. Also returns the plugins folder.
pub fn start(
    files: &[(&str, &str)],
    policies_toml: &str,
) -> Result<(TestServer, Arc<ManualClock>, PathBuf)> {
    let dir = plugins::folder(files)?;
    let config = plugins::config(&dir, policies_toml)?;
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(config, clock.clone())?;
    Ok((server, clock, dir))
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

/// One map of `SLUICE POLICIES`: (field, value) in reply order.
#[derive(Debug)]
pub struct PolicyFields(Vec<(String, Value)>);

impl PolicyFields {
    fn get(&self, name: &str) -> Result<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .with_context(|| format!("no field {name:?} in {self:?}"))
    }

    /// An integer field.
    pub fn count(&self, name: &str) -> Result<i64> {
        match self.get(name)? {
            Value::Int(n) => Ok(*n),
            other => bail!("{name} is not an integer: {other:?}"),
        }
    }

    /// A text field; `None` for a null.
    pub fn text(&self, name: &str) -> Result<Option<String>> {
        match self.get(name)? {
            Value::Nil => Ok(None),
            Value::BulkString(b) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
            other => bail!("{name} is not text: {other:?}"),
        }
    }

    /// Evaluations, successful or failed.
    pub fn rounds(&self) -> Result<i64> {
        Ok(self.count("evaluations")? + self.count("failed-evaluations")?)
    }

    /// The map as (field, value) text pairs in reply order, each of `varying` (counters that
    /// depend on how often the thread ran) checked to be an integer and shown as `*`.
    pub fn masked(&self, varying: &[&str]) -> Result<Vec<(String, String)>> {
        self.0
            .iter()
            .map(|(k, v)| {
                if varying.contains(&k.as_str()) {
                    ensure!(matches!(v, Value::Int(_)), "{k} is not an integer: {v:?}");
                    Ok((k.clone(), "*".to_owned()))
                } else {
                    Ok((k.clone(), render(v)))
                }
            })
            .collect()
    }
}

/// `SLUICE POLICIES`: every policy, in config order.
pub fn sluice_policies(con: &mut redis::Connection) -> Result<Vec<PolicyFields>> {
    let reply: Value = redis::cmd("SLUICE").arg("POLICIES").query(con)?;
    let Value::Array(items) = reply else {
        bail!("SLUICE POLICIES: expected an array, got {reply:?}");
    };
    items
        .into_iter()
        .map(|item| {
            let pairs: Vec<(Value, Value)> = match item {
                Value::Map(pairs) => pairs,
                Value::Array(flat) => {
                    ensure!(flat.len() % 2 == 0, "odd-length map: {flat:?}");
                    flat.chunks(2)
                        .map(|p| (p[0].clone(), p[1].clone()))
                        .collect()
                }
                other => bail!("expected a map, got {other:?}"),
            };
            let fields = pairs
                .into_iter()
                .map(|(k, v)| match k {
                    Value::BulkString(k) => Ok((String::from_utf8_lossy(&k).into_owned(), v)),
                    other => bail!("map key is not a bulk string: {other:?}"),
                })
                .collect::<Result<_>>()?;
            Ok(PolicyFields(fields))
        })
        .collect()
}

/// Policy `name` as `SLUICE POLICIES` shows it.
pub fn policy(con: &mut redis::Connection, name: &str) -> Result<PolicyFields> {
    for p in sluice_policies(con)? {
        if p.text("name")?.as_deref() == Some(name) {
            return Ok(p);
        }
    }
    bail!("SLUICE POLICIES does not list {name}")
}

/// Waits until policy `name` satisfies `done`.
pub fn policy_until(
    con: &mut redis::Connection,
    name: &str,
    what: &str,
    done: impl Fn(&PolicyFields) -> Result<bool>,
) -> Result<PolicyFields> {
    wait_until(&format!("policy {name} {what}"), || {
        let p = policy(con, name)?;
        Ok(if done(&p)? {
            ControlFlow::Break(p)
        } else {
            ControlFlow::Continue(format!("{p:?}"))
        })
    })
}

/// Waits until counter `field` of policy `name` is `n`; fails at once if it goes past.
pub fn counted(
    con: &mut redis::Connection,
    name: &str,
    field: &str,
    n: i64,
) -> Result<PolicyFields> {
    policy_until(con, name, &format!("has {field} = {n}"), |p| {
        let got = p.count(field)?;
        ensure!(got <= n, "{field} went past {n}: {p:?}");
        Ok(got == n)
    })
}

/// Waits until policy `name` has started two more evaluations than now, so that at least one
/// ran wholly after this call (and saw the clock and the group as they are now).
pub fn settled(con: &mut redis::Connection, name: &str) -> Result<PolicyFields> {
    let start = policy(con, name)?.rounds()?;
    policy_until(con, name, "has evaluated twice more", |p| {
        Ok(p.rounds()? >= start + 2)
    })
}

/// `INFO policies`, its lines without the trailing `\r\n`.
pub fn info_policies(con: &mut redis::Connection) -> Result<Vec<String>> {
    let info: String = redis::cmd("INFO").arg("policies").query(con)?;
    Ok(info.lines().map(str::to_owned).collect())
}
