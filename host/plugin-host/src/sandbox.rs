//! What a plugin's store holds, and the little it is allowed to reach: an empty WASI context
//! (no preopened directories, no environment, no arguments, no network, stdin closed, stdout
//! discarded, clocks frozen at the Unix epoch), the `log` and `pending-state` imports, and the
//! memory limiter.
//!
//! The WASI interfaces are linked at all only because a Rust `wasm32-wasip2` component imports
//! them through its standard library; every call into them finds nothing to act on. Clocks are
//! frozen so that a plugin's answer depends only on its events and configuration.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{self, Level, PendingStateHost, RawNack};
use crate::limits::MemoryLimiter;

/// Longest log line kept, in bytes; the rest is cut (a plugin must not flood the broker's log).
const MAX_LOG_LINE: usize = 4096;
/// How much of a plugin's stderr is kept, in bytes: enough for a panic message.
const STDERR_CAPACITY: usize = 4096;
/// How much of the kept stderr a trap report quotes, in bytes (from the end).
const STDERR_QUOTED: usize = 512;

/// The data of one plugin instance's store.
pub(crate) struct StoreState {
    /// The plugin's configured name, for log lines.
    plugin: Arc<str>,
    wasi: WasiCtx,
    table: ResourceTable,
    /// Where the plugin's stderr goes: kept only to quote a panic message in a trap report.
    stderr: MemoryOutputPipe,
    pub(crate) limiter: MemoryLimiter,
    /// What the `pending-state` import answers: set by a policy's `evaluate` for the length
    /// of the call, empty otherwise.
    pub(crate) nacks: Vec<Option<RawNack>>,
}

impl StoreState {
    pub(crate) fn new(plugin: Arc<str>, memory_bytes: usize) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            plugin,
            wasi,
            table: ResourceTable::new(),
            stderr,
            limiter: MemoryLimiter::new(memory_bytes),
            nacks: Vec::new(),
        }
    }

    /// What the plugin last wrote to stderr, on one line: a Rust guest's panic message
    /// (`panicked at src/lib.rs:27:13: boom`) when there is one, else the end of the text.
    pub(crate) fn last_words(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let text = match text.rfind("panicked at ") {
            Some(at) => &text[at..],
            None => &text,
        };
        let line = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
            .collect::<Vec<_>>()
            .join(" ");
        if line.is_empty() {
            return None;
        }
        let mut start = line.len().saturating_sub(STDERR_QUOTED);
        while !line.is_char_boundary(start) {
            start += 1;
        }
        Some(line[start..].to_owned())
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl bindings::sluice::plugin::types::Host for StoreState {}

impl PendingStateHost for StoreState {
    fn nacks(&mut self) -> Vec<Option<RawNack>> {
        self.nacks.clone()
    }
}

impl bindings::sluice::plugin::log::Host for StoreState {
    fn log(&mut self, level: Level, mut message: String) {
        if message.len() > MAX_LOG_LINE {
            let mut end = MAX_LOG_LINE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push_str(" [truncated]");
        }
        let plugin = &*self.plugin;
        match level {
            Level::Trace => tracing::trace!(target: "sluice::plugin", plugin, "{message}"),
            Level::Debug => tracing::debug!(target: "sluice::plugin", plugin, "{message}"),
            Level::Info => tracing::info!(target: "sluice::plugin", plugin, "{message}"),
            Level::Warn => tracing::warn!(target: "sluice::plugin", plugin, "{message}"),
            Level::Error => tracing::error!(target: "sluice::plugin", plugin, "{message}"),
        }
    }
}

/// A wall clock and a monotonic clock that never move: both read zero (the Unix epoch).
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}
