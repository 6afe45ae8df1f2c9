//! `sluice-plugin-runner`: runs one plugin — a router over events given as JSON lines, or a claim
//! policy over pending lists given as JSON — the way the broker would, with no server. For plugin
//! authors to try a plugin on their laptop. The component's world decides which.
//!
//! Run with:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml
//! echo '{"key":"orders","id":"1-0","fields":{"region":"eu","id":"42"}}' |
//!   cargo run -p sluice-plugin-runner -- \
//!     --config field=region --config prefix=orders \
//!     target/plugins/wasm32-wasip2/release/router.wasm
//! echo '{"key":"orders","group":"g","pending":[{"id":"1-0","owner":"a","idle_ms":9000}],
//!        "consumers":[{"name":"a","seen_idle_ms":9000},{"name":"b"}]}' |
//!   cargo run -p sluice-plugin-runner -- --config idle_ms=5000 \
//!     target/plugins/wasm32-wasip2/release/reassign_idle.wasm
//! ```
//!
//! # Routers
//!
//! Input, one event per line (from `--events FILE`, or stdin): `{"key": "orders", "id":
//! "1-0", "fields": {"region": "eu"}}`. `id` may be omitted (IDs then count up from `1-0`);
//! `fields` is an object or a flat `["name", "value", ...]` array.
//!
//! Output, one JSON line per output or error, on stdout:
//! - `{"event":"1-0","key":"orders","destination":"orders.eu","fields":{...}}`
//! - `{"event":"2-0","key":"orders","error":"...","kind":"failed"}`: the plugin failed this event;
//!   `kind` is `failed`, `trap`, `timeout`, `out-of-memory`, `batch-error` or `contract`.
//!
//! Consecutive events of the same stream go to the plugin in batches (`--batch`). When a batch
//! traps, the runner retries its events one at a time to find the culprit, as the broker does.
//!
//! # Claim policies
//!
//! Input, one evaluation round per JSON object (see `policy`): `{"key": "orders", "group": "g",
//! "pending": [{"id": "1-0", "owner": "a", "idle_ms": 5000, "deliveries": 1}], "consumers":
//! [{"name": "a", "seen_idle_ms": 5000, "active_idle_ms": 5000, "pending": 1}]}`. An entry
//! handed back with `XNACK` adds `"nack": "retry"` or `"nack": "fatal"` (and has owner `""`).
//!
//! Output, one JSON line per decision: `{"entry":"1-0","key":"orders","group":"g",
//! "action":"reassign","consumer":"b"}` (or `"action":"dead-letter","dead_letter":...,
//! "reason":...`, or `"action":"ack"`); a failed round prints one line with `error` and `kind`
//! (`trap`, `timeout`, `out-of-memory`, `round-error` or `contract`).
//!
//! Plugin log lines go to stderr. The same runner is `sluice plugin test`; both call
//! `sluice_plugin_tool::run`.

use anyhow::Result;
use clap::Parser;
use sluice_plugin_tool::run::{RunOptions, run};

/// Runs a Sluice plugin without a server: a router over JSON-lines events, printing its outputs,
/// or a claim policy over pending lists given as JSON, printing its decisions; one JSON line
/// each. The component's world decides which.
///
/// Router input, one event per line: {"key":"orders","id":"1-0","fields":{"region":"eu"}}
///
/// Claim policy input, one round per JSON object: {"key":"orders","group":"g",
/// "pending":[{"id":"1-0","owner":"a","idle_ms":5000,"deliveries":1}],
/// "consumers":[{"name":"a","seen_idle_ms":5000,"active_idle_ms":5000,"pending":1}]}
#[derive(Parser, Debug)]
#[command(name = "sluice-plugin-runner", version, verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    options: RunOptions,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let options = Args::parse().options;
    match run(&options, &mut std::io::stdout().lock()) {
        // `| head` closed stdout: not an error for a command-line filter.
        Err(e)
            if e.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
                == Some(std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}
