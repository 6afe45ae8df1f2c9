//! `--metrics-port`: `/metrics` scraped over HTTP with a real client after a known workload —
//! names, labels and values — and the Grafana dashboard's queries all answered by it.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use anyhow::{Context, Result, ensure};
use sluice_tests::{Config, TestServer};

use crate::policies::support::{DEAD_LETTER_AFTER, policy_toml};
use crate::routes::support::{FORWARD_ALL, route_toml, wait_until};

/// A scrape: status, content type, body.
fn scrape(server: &TestServer, path: &str) -> Result<(u16, String, String)> {
    let addr = server.metrics_addr.context("metrics endpoint")?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent.get(&format!("http://{addr}{path}")).call()?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.into_body().read_to_string()?;
    Ok((status, content_type, body))
}

/// The `/metrics` text.
fn metrics(server: &TestServer) -> Result<String> {
    let (status, content_type, body) = scrape(server, "/metrics")?;
    ensure!(status == 200, "status {status}: {body}");
    ensure!(
        content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8",
        "{content_type}"
    );
    ensure!(body.ends_with("# EOF\n"), "{body}");
    Ok(body)
}

/// The value of sample `sample` (name and labels as written, `sluice_keys` or
/// `sluice_commands_total{command="xadd"}`).
fn value(body: &str, sample: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

/// [`value`], required.
fn must(body: &str, sample: &str) -> Result<f64> {
    value(body, sample).with_context(|| format!("no sample {sample} in:\n{body}"))
}

/// The `calls=…,…` fields of `INFO commandstats` for `command`.
fn commandstat(con: &mut redis::Connection, command: &str, field: &str) -> Result<f64> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(con)?;
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:")))
        .with_context(|| format!("no cmdstat_{command} in {info}"))?;
    line.split(',')
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .context("field")?
        .parse()
        .context("number")
}

#[test]
fn commands_clients_log_and_snapshots() -> Result<()> {
    let config = Config {
        metrics_port: Some(0),
        ..Config::default()
    };
    let server = TestServer::start_with(config)?;
    let mut con = server.client()?;
    // Each write fsyncs before its reply: the fsync histogram has something to count.
    let _: () = redis::cmd("CONFIG")
        .arg(&["SET", "appendfsync", "always"])
        .query(&mut con)?;
    for _ in 0..3 {
        let _: String = redis::cmd("XADD")
            .arg("s")
            .arg("*")
            .arg("f")
            .arg("v")
            .query(&mut con)?;
    }
    let bad: redis::RedisResult<String> = redis::cmd("XADD")
        .arg("s")
        .arg("bad")
        .arg("f")
        .arg("v")
        .query(&mut con);
    ensure!(bad.is_err(), "{bad:?}");
    let _: redis::RedisResult<String> = redis::cmd("NOSUCHCOMMAND").query(&mut con);
    let _: () = redis::cmd("SAVE").query(&mut con)?;
    let body = metrics(&server)?;

    for (field, metric) in [
        ("calls", "commands_total"),
        ("failed_calls", "command_errors_total"),
    ] {
        assert_eq!(
            must(&body, &format!("sluice_{metric}{{command=\"xadd\"}}"))?,
            commandstat(&mut con, "xadd", field)?,
            "{metric}"
        );
    }
    assert_eq!(must(&body, "sluice_commands_total{command=\"xadd\"}")?, 4.0);
    assert_eq!(
        must(&body, "sluice_command_errors_total{command=\"xadd\"}")?,
        1.0
    );
    assert_eq!(must(&body, "sluice_commands_total{command=\"save\"}")?, 1.0);
    assert_eq!(
        must(&body, "sluice_commands_total{command=\"config|set\"}")?,
        1.0
    );
    assert!(
        must(
            &body,
            "sluice_command_duration_seconds_total{command=\"xadd\"}"
        )? > 0.0
    );
    assert_eq!(must(&body, "sluice_connected_clients")?, 1.0);
    assert_eq!(must(&body, "sluice_blocked_clients")?, 0.0);
    assert_eq!(must(&body, "sluice_keys")?, 1.0);
    assert_eq!(must(&body, "sluice_log_records_total")?, 3.0);
    assert_eq!(must(&body, "sluice_log_write_failing")?, 0.0);
    assert_eq!(must(&body, "sluice_snapshots_total")?, 1.0);
    assert_eq!(must(&body, "sluice_snapshot_last_failed")?, 0.0);
    assert!(must(&body, "sluice_snapshot_bytes")? > 0.0);
    assert!(must(&body, "sluice_memory_used_bytes")? > 0.0);
    let fsyncs = must(&body, "sluice_log_fsyncs_total")?;
    assert!(fsyncs >= 3.0, "each XADD fsyncs: {fsyncs}");
    assert_eq!(
        must(&body, "sluice_log_fsync_duration_seconds_count")?,
        fsyncs
    );
    assert_eq!(
        must(
            &body,
            "sluice_log_fsync_duration_seconds_bucket{le=\"+Inf\"}"
        )?,
        fsyncs
    );
    assert!(body.contains("# TYPE sluice_log_fsync_duration_seconds histogram\n"));

    // Another path, another method.
    assert_eq!(scrape(&server, "/")?.0, 404);
    let addr = server.metrics_addr.context("metrics endpoint")?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = agent.post(&format!("http://{addr}/metrics")).send("")?;
    assert_eq!(post.status().as_u16(), 405);
    assert_eq!(
        post.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, HEAD")
    );
    Ok(())
}

/// A route forwarding `src` to `dst` and `dead-letter-after` on `jobs`/`workers`, after three
/// events routed and one entry NACKed `FATAL`: per-route, per-policy and per-stream figures,
/// and every metric the Grafana dashboard queries is among those served.
#[test]
fn routes_policies_streams_and_the_dashboard() -> Result<()> {
    let dir = sluice_tests::plugins::folder(&[("filter", "filter.wasm"), DEAD_LETTER_AFTER])?;
    let toml = format!(
        "{}{}",
        route_toml("r", "src", "filter.wasm", FORWARD_ALL),
        policy_toml(
            "poison",
            "jobs",
            "workers",
            "dead_letter_after.wasm",
            "{ max_deliveries = 1000, idle_ms = 60000 }",
            20,
        )
    );
    let config = Config {
        metrics_port: Some(0),
        ..sluice_tests::plugins::config(&dir, &toml)?
    };
    let server = TestServer::start_with(config)?;
    let mut con = server.client()?;
    for seq in 0..3 {
        let _: String = redis::cmd("XADD")
            .arg("src")
            .arg("*")
            .arg("seq")
            .arg(seq)
            .query(&mut con)?;
    }
    let _: () = redis::cmd("XGROUP")
        .arg(&["CREATE", "jobs", "workers", "0", "MKSTREAM"])
        .query(&mut con)?;
    let id: String = redis::cmd("XADD")
        .arg(&["jobs", "*", "job", "x"])
        .query(&mut con)?;
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg(&["GROUP", "workers", "a", "STREAMS", "jobs", ">"])
        .query(&mut con)?;
    let _: i64 = redis::cmd("XNACK")
        .arg(&["jobs", "workers", "FATAL", "IDS", "1", &id])
        .query(&mut con)?;
    // Group names are the clients' to choose: one that would end the label and the line.
    let _: () = redis::cmd("XGROUP")
        .arg(&["CREATE", "jobs", "x\"} 1\nsluice_forged 1\n#\\", "$"])
        .query(&mut con)?;

    let body = wait_until("three events routed and one dead-lettered", || {
        let body = metrics(&server)?;
        let routed = value(&body, "sluice_route_events_out_total{route=\"r\"}");
        let dead = value(
            &body,
            "sluice_policy_dead_lettered_total{policy=\"poison\"}",
        );
        // Counters move before the commit they count is applied: wait for the entry to have
        // left the group too.
        let pending = value(
            &body,
            "sluice_group_pending{stream=\"jobs\",group=\"workers\"}",
        );
        Ok(
            if routed == Some(3.0) && dead == Some(1.0) && pending == Some(0.0) {
                ControlFlow::Break(body)
            } else {
                ControlFlow::Continue(format!(
                    "routed {routed:?}, dead-lettered {dead:?}, pending {pending:?}"
                ))
            },
        )
    })?;
    for (sample, want) in [
        ("sluice_route_events_in_total{route=\"r\"}", 3.0),
        ("sluice_route_dropped_total{route=\"r\"}", 0.0),
        ("sluice_route_dead_lettered_total{route=\"r\"}", 0.0),
        ("sluice_route_restarts_total{route=\"r\"}", 0.0),
        ("sluice_route_lag{route=\"r\"}", 0.0),
        ("sluice_stream_length{stream=\"src\"}", 3.0),
        (
            "sluice_group_pending{stream=\"src\",group=\"sluice:route:r\"}",
            0.0,
        ),
        (
            "sluice_group_lag{stream=\"src\",group=\"sluice:route:r\"}",
            0.0,
        ),
        ("sluice_policy_reassigned_total{policy=\"poison\"}", 0.0),
        ("sluice_stream_length{stream=\"jobs\"}", 1.0),
        (
            "sluice_group_pending{stream=\"jobs\",group=\"workers\"}",
            0.0,
        ),
        ("sluice_plugin_reloads_total{result=\"failed\"}", 0.0),
    ] {
        assert_eq!(must(&body, sample)?, want, "{sample}");
    }
    ensure!(
        must(
            &body,
            "sluice_route_plugin_duration_seconds_count{route=\"r\"}"
        )? >= 1.0
    );
    ensure!(must(&body, "sluice_policy_evaluations_total{policy=\"poison\"}")? >= 1.0);
    ensure!(
        must(
            &body,
            "sluice_policy_evaluation_duration_seconds_count{policy=\"poison\"}"
        )? >= 1.0
    );
    assert_eq!(
        must(
            &body,
            "sluice_group_pending{stream=\"jobs\",group=\"x\\\"} 1\\nsluice_forged 1\\n#\\\\\"}"
        )?,
        0.0
    );
    assert!(
        body.lines()
            .all(|l| l.starts_with("sluice_") || l.starts_with('#')),
        "a line that is not a sample: {body}"
    );
    // `dst` and `jobs.dlq` are outputs, not sources: not reported.
    assert!(!body.contains("stream=\"dst\""), "{body}");

    let served: BTreeSet<&str> = body
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let dashboard = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/grafana/sluice.json"),
    )?;
    let queried = dashboard_metrics(&serde_json::from_str(&dashboard)?);
    ensure!(queried.len() >= 10, "the dashboard queries {queried:?}");
    let missing: Vec<_> = queried
        .iter()
        .filter(|m| !served.contains(m.as_str()))
        .collect();
    assert!(missing.is_empty(), "queried, not served: {missing:?}");
    Ok(())
}

/// Every `sluice_…` metric name in the `expr` of the dashboard's panels' targets.
fn dashboard_metrics(json: &serde_json::Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![json];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(expr)) = map.get("expr") {
                    let mut rest = expr.as_str();
                    while let Some(at) = rest.find("sluice_") {
                        let tail = &rest[at..];
                        let end = tail
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(tail.len());
                        names.insert(tail[..end].to_owned());
                        rest = &tail[end..];
                    }
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    names
}
