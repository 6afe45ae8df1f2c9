//! The plugin lifecycle both runtimes share: loading and compiling plugin files, watching
//! them and the config file, deploying a new version of a route or claim policy without losing
//! or repeating anything, and what both do with an event they give up on (dead-lettering).
//!
//! A reload (at start, on `SLUICE RELOAD`, or when the plugins folder or the config file
//! changes) re-reads the config's routes and policies, and for each whose spec or plugin file
//! changed builds and initialises the new instance *first*. Only then is the old version
//! stopped — after the batch or round it is on, whose commit is atomic — and the new one
//! started from the committed position. A file that fails to compile, link or initialise
//! leaves the old version running; the failure is reported in the log, `SLUICE ROUTES`,
//! `SLUICE POLICIES` and `SLUICE PLUGINS`.
//!
//! # Layout
//! - [`loader`]: the plugin engine and compiled files; start, reload, shutdown.
//! - [`deploy`]: swapping in a new set of routes or policies, one generic step for both.
//! - [`deployed`]: what a deployed route and policy share: spec, plugin, counters, state.
//! - [`watch`]: watching the plugins folder and the config file.
//! - [`spec`]: what the `[[route]]` and `[[claim_policy]]` tables share.
//! - [`dead_letter`]: the `dlq-*` fields a given-up event carries, and appending it.

pub mod dead_letter;
pub(crate) mod deploy;
pub mod deployed;
pub mod loader;
pub mod spec;
pub mod watch;

pub use deployed::{Deployed, WorkerStats};
pub use loader::{LoadedPlugin, Loader, ReloadStatus};

/// What a route or claim policy is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PluginState {
    /// Running (or waiting for work).
    Running = 0,
    /// A route stopped before an event that failed, with `on_error = "halt"`; a reload
    /// restarts it.
    Halted = 1,
    /// Its plugin could not be loaded; it has never run in this configuration.
    Failed = 2,
    /// The plugin cannot start (its `init` fails after a restart); retried every second.
    Retrying = 3,
    /// Stopped (being replaced or removed, or the server is shutting down).
    Stopped = 4,
}

impl PluginState {
    pub(crate) fn from_u8(n: u8) -> Self {
        match n {
            0 => PluginState::Running,
            1 => PluginState::Halted,
            2 => PluginState::Failed,
            3 => PluginState::Retrying,
            _ => PluginState::Stopped,
        }
    }

    /// The name `SLUICE ROUTES`, `SLUICE POLICIES` and `INFO` show.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginState::Running => "running",
            PluginState::Halted => "halted",
            PluginState::Failed => "failed",
            PluginState::Retrying => "retrying",
            PluginState::Stopped => "stopped",
        }
    }
}
