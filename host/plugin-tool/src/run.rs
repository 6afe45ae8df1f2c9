//! Running one plugin the way the broker would, with no server: a router over events given
//! as JSON lines, or a claim policy over rounds given as JSON (`sluice plugin test`, and the
//! example host `sluice-plugin-runner`). The component's world decides which.
//!
//! # Routers
//!
//! Input, one event per line: `{"key": "orders", "id": "1-0", "fields": {"region": "eu"}}`.
//! `id` may be omitted (IDs then count up from `1-0`); `fields` is an object or a flat
//! `["name", "value", ...]` array.
//!
//! Output, one JSON line per output or error:
//! - `{"event":"1-0","key":"orders","destination":"orders.eu","fields":{...}}`
//! - `{"event":"2-0","key":"orders","error":"...","kind":"failed"}`: the plugin failed this event;
//!   `kind` is `failed`, `trap`, `timeout`, `out-of-memory`, `batch-error` or `contract`.
//!
//! Consecutive events of the same stream go to the plugin in batches. When a batch traps, the
//! events are retried one at a time to find the culprit, as the broker does.
//!
//! # Claim policies
//!
//! Input, one evaluation round per JSON object (see `policy`); output, one JSON line per
//! decision, or one line with `error` and `kind` for a failed round.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sluice_plugin_host::{EntryId, EventRef, Limits, OutputFields, PluginError, RouterInstance};

/// What to run and how: the arguments of `sluice plugin test` and `sluice-plugin-runner`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunOptions {
    /// The plugin component (`.wasm`, built for wasm32-wasip2): a router or a claim policy.
    pub plugin: PathBuf,
    /// A config key/value for the plugin's `init`, as `key=value`; repeat for more.
    #[arg(short, long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// Read the input (events, or a policy's rounds) from this file instead of stdin.
    #[arg(short, long, visible_alias = "input", value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Largest batch of events handed to a router at once.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// The plugin's memory limit, in MiB (the broker's default plugin-max-memory).
    #[arg(long, default_value_t = 16)]
    pub memory_mib: usize,
    /// The plugin's time limit per call, in milliseconds (the broker's default
    /// plugin-call-timeout-ms).
    #[arg(long, default_value_t = 100)]
    pub deadline_ms: u64,
}

/// One input line.
#[derive(Deserialize)]
struct InputEvent {
    key: String,
    id: Option<String>,
    fields: Value,
}

/// An event read from the input, owned.
struct Event {
    key: String,
    id: EntryId,
    fields: Vec<Vec<u8>>,
}

/// `key=value` pairs as the config a plugin's `init` gets.
pub fn parse_config(pairs: &[String]) -> Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => Ok((k.to_owned(), v.to_owned())),
            None => bail!("--config {kv:?}: expected KEY=VALUE"),
        })
        .collect()
}

/// Loads the plugin, runs it over the input and writes one JSON line per outcome to `out`;
/// what was loaded goes to stderr.
pub fn run(options: &RunOptions, out: &mut impl Write) -> Result<()> {
    let config = parse_config(&options.config)?;
    let limits = Limits {
        memory_bytes: options.memory_mib << 20,
        call_deadline: Duration::from_millis(options.deadline_ms),
        ..Limits::default()
    };
    let host = crate::plugin_host(limits)?;
    let bytes = std::fs::read(&options.plugin)
        .with_context(|| format!("reading {}", options.plugin.display()))?;
    let compiled = host.compile(&bytes)?;
    let name = plugin_name(&options.plugin);
    let input: Box<dyn BufRead> = match &options.events {
        Some(path) => Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    if compiled.is_policy() {
        let mut plugin = host.instantiate_policy(&compiled, &name, &config)?;
        let info = plugin.info();
        eprintln!(
            "loaded claim policy {} {} (sluice:plugin@{})",
            info.name, info.version, info.wit_version
        );
        return crate::policy::run(&mut plugin, input, out);
    }
    let mut plugin = host.instantiate_router(&compiled, &name, &config)?;
    let info = plugin.info();
    eprintln!(
        "loaded router {} {} (sluice:plugin@{})",
        info.name, info.version, info.wit_version
    );
    route_all(&mut plugin, input, options.batch, out)
}

/// The plugin's name in log lines: its file's stem.
fn plugin_name(path: &Path) -> String {
    path.file_stem()
        .map_or("plugin".into(), |s| s.to_string_lossy().into_owned())
}

/// Routes every event of `input` (JSON lines) and prints the outcome.
pub fn route_all(
    plugin: &mut RouterInstance,
    input: impl BufRead,
    batch: usize,
    out: &mut impl Write,
) -> Result<()> {
    let mut pending: Vec<Event> = Vec::new();
    let mut last_id = EntryId { ms: 1, seq: 0 };
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let event = parse_event(&line, &mut last_id).with_context(|| format!("line {}", n + 1))?;
        if pending.len() >= batch.max(1) || pending.first().is_some_and(|p| p.key != event.key) {
            run_batch(plugin, &pending, out)?;
            pending.clear();
        }
        pending.push(event);
    }
    run_batch(plugin, &pending, out)?;
    Ok(())
}

fn parse_event(line: &str, last_id: &mut EntryId) -> Result<Event> {
    let input: InputEvent = serde_json::from_str(line)?;
    let id = match input.id.as_deref() {
        None | Some("*") => EntryId {
            ms: last_id.ms,
            seq: last_id.seq + 1,
        },
        Some(text) => parse_id(text)?,
    };
    *last_id = id;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    };
    let fields = match &input.fields {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| [k.clone().into_bytes(), text(v)])
            .collect(),
        Value::Array(items) => items.iter().map(text).collect(),
        _ => bail!("`fields` must be an object or a flat array"),
    };
    Ok(Event {
        key: input.key,
        id,
        fields,
    })
}

/// An entry ID written `"<ms>-<seq>"` or `"<ms>"` (sequence 0).
pub(crate) fn parse_id(text: &str) -> Result<EntryId> {
    let (ms, seq) = text.split_once('-').unwrap_or((text, "0"));
    Ok(EntryId {
        ms: ms.parse().with_context(|| format!("bad id {text:?}"))?,
        seq: seq.parse().with_context(|| format!("bad id {text:?}"))?,
    })
}

/// Routes `events` (all from one stream) and prints the outcome; on a trap, timeout or memory
/// exhaustion, routes them again one at a time so only the culprit is reported.
fn run_batch(plugin: &mut RouterInstance, events: &[Event], out: &mut impl Write) -> Result<()> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    let flat: Vec<Vec<&[u8]>> = events
        .iter()
        .map(|e| e.fields.iter().map(Vec::as_slice).collect())
        .collect();
    let refs: Vec<EventRef<'_>> = events
        .iter()
        .zip(&flat)
        .map(|(e, fields)| EventRef { id: e.id, fields })
        .collect();
    match plugin.route(&first.key, &refs) {
        Ok(routed) => {
            // `Routed` checked every index against the batch; `get` keeps this panic-free anyway.
            for o in routed.outputs() {
                let Some(event) = events.get(o.event) else {
                    continue;
                };
                let fields = match o.fields {
                    OutputFields::Same => to_json(
                        event
                            .fields
                            .chunks(2)
                            .map(|p| (p[0].as_slice(), p.get(1).map_or(&[][..], Vec::as_slice))),
                    ),
                    OutputFields::New(f) => to_json(f.iter()),
                };
                let line = json!({"event": event.id.to_string(), "key": event.key,
                                  "destination": o.destination, "fields": fields});
                writeln!(out, "{line}")?;
            }
            for f in routed.failures() {
                let Some(event) = events.get(f.event) else {
                    continue;
                };
                let line = json!({"event": event.id.to_string(), "key": event.key,
                                  "error": f.reason, "kind": "failed"});
                writeln!(out, "{line}")?;
            }
        }
        Err(e) if e.restarts_instance() && events.len() > 1 => {
            for one in events.chunks(1) {
                run_batch(plugin, one, out)?;
            }
        }
        Err(e) => {
            let Some(kind) = error_kind(&e, "batch-error") else {
                return Err(e.into());
            };
            for event in events {
                let line = json!({"event": event.id.to_string(), "key": event.key,
                                  "error": e.to_string(), "kind": kind});
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(())
}

/// The `kind` a failed call's line says, `plugin` for an error the plugin returned itself;
/// `None` for an error that is the runner's problem (loading errors cannot happen mid-run).
pub(crate) fn error_kind(e: &PluginError, plugin: &'static str) -> Option<&'static str> {
    match e {
        PluginError::Trap { .. } => Some("trap"),
        PluginError::Timeout { .. } => Some("timeout"),
        PluginError::OutOfMemory { .. } => Some("out-of-memory"),
        PluginError::Plugin { .. } => Some(plugin),
        PluginError::Contract { .. } => Some("contract"),
        _ => None,
    }
}

/// Fields as a JSON object (values as text; bytes that are not UTF-8 are replaced).
fn to_json<'a>(fields: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Value {
    let map: Map<String, Value> = fields
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into_owned(),
                Value::String(String::from_utf8_lossy(v).into_owned()),
            )
        })
        .collect();
    Value::Object(map)
}
