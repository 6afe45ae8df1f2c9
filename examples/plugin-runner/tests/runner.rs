//! The runner binary end to end: real components (built from `plugins/` by
//! `sluice-build-plugins`), input on stdin, exact JSON lines on stdout.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the runner on the plugin crate `crate_name` with `args`, feeding `input`; returns
/// stdout, panicking with stderr if it fails.
fn run(crate_name: &str, args: &[&str], input: &str) -> String {
    let wasm = plugins_dir().join(format!("{}.wasm", crate_name.replace('-', "_")));
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice-plugin-runner"))
        .args(args)
        .arg(&wasm)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the runner");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write input");
    let output = child.wait_with_output().expect("runner output");
    assert!(
        output.status.success(),
        "runner failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn a_policy_prints_one_line_per_decision() {
    // Two rounds: one per line, then one pretty-printed over several lines.
    let input = r#"{"key":"orders","group":"g","pending":[{"id":"1-0","owner":"a","idle_ms":5000,"deliveries":1},{"id":"2-0","owner":"a","idle_ms":10,"deliveries":1}],"consumers":[{"name":"a","seen_idle_ms":5000,"active_idle_ms":5000,"pending":2},{"name":"b","seen_idle_ms":3}]}
{
  "key": "orders", "group": "g",
  "pending": [{"id": "3-0", "owner": "b", "idle_ms": 9000}],
  "consumers": [{"name": "a"}, {"name": "b"}]
}
"#;
    let out = run("reassign-idle", &["--config", "idle_ms=1000"], input);
    assert_eq!(
        out,
        concat!(
            r#"{"entry":"1-0","key":"orders","group":"g","action":"reassign","consumer":"b"}"#,
            "\n",
            r#"{"entry":"3-0","key":"orders","group":"g","action":"reassign","consumer":"a"}"#,
            "\n",
        )
    );
}

#[test]
fn a_policy_outside_the_contract_is_reported_per_round() {
    let input = r#"{"key":"s","group":"g","pending":[{"id":"1-0","owner":"a","idle_ms":0}],"consumers":[{"name":"a"}]}"#;
    let out = run("policy-misbehave", &["-c", "mode=unknown-consumer"], input);
    let line: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(line["kind"], "contract");
    assert!(
        line["error"]
            .as_str()
            .is_some_and(|e| e.contains("no-such-consumer")),
        "{line}"
    );
}

#[test]
fn a_router_prints_one_line_per_output() {
    let input = "{\"key\":\"orders\",\"id\":\"1-0\",\"fields\":{\"region\":\"eu\"}}\n";
    let out = run("router", &["-c", "field=region"], input);
    assert_eq!(
        out,
        "{\"event\":\"1-0\",\"key\":\"orders\",\"destination\":\"orders.eu\",\"fields\":{\"region\":\"eu\"}}\n"
    );
}

/// The built plugins; panics with cargo's output if they do not build.
fn plugins_dir() -> &'static std::path::Path {
    sluice_build_plugins::built().unwrap_or_else(|e| panic!("{e}"))
}
