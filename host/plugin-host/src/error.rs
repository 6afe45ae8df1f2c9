//! [`PluginError`]: everything that can go wrong loading or calling a plugin.
//!
//! The call errors are split the way the route runner has to react to them: a plugin that
//! trapped, ran out of time or out of memory has had its instance thrown away (the next call
//! makes a fresh one); an error the plugin returned leaves the instance as it was.

use std::time::Duration;

/// The one error type of this crate. Messages name the plugin and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The engine could not be set up (a wasmtime configuration error, or no thread for the
    /// epoch ticker).
    #[error("cannot set up the plugin engine: {reason}")]
    Engine {
        /// What failed.
        reason: String,
    },

    /// The bytes are not a valid WebAssembly component (or not one this engine can compile).
    #[error("cannot compile the plugin: {reason}")]
    Compile {
        /// The compiler's explanation.
        reason: String,
    },

    /// The component was built against a version of the `sluice:plugin` WIT package that this
    /// host does not speak.
    #[error(
        "the plugin was built for sluice:plugin@{plugin_version}, but this broker speaks \
         sluice:plugin@{host_version}; {why}: rebuild the plugin against sluice-plugin-sdk \
         {host_version} (or run a broker that speaks {plugin_version})"
    )]
    Incompatible {
        /// The package version the component names (`"2.0.0"`).
        plugin_version: String,
        /// The package version this host implements ([`crate::WIT_VERSION`]).
        host_version: &'static str,
        /// Which semver rule refused it.
        why: &'static str,
    },

    /// The component is not a plugin of the expected world, or imports something the host does
    /// not provide.
    #[error("plugin {plugin}: cannot link it: {reason}")]
    Link {
        /// The plugin's configured name.
        plugin: String,
        /// Which import or export is missing or mistyped.
        reason: String,
    },

    /// Creating the instance, `describe` or `init` failed: the plugin refused its configuration,
    /// or trapped, timed out or ran out of memory while starting.
    #[error("plugin {plugin} failed to initialise: {reason}")]
    Init {
        /// The plugin's configured name.
        plugin: String,
        /// The plugin's own message, or what stopped it.
        reason: String,
    },

    /// The plugin trapped (a panic, an `unreachable`, a bad memory access, a stack overflow).
    /// The instance was discarded.
    #[error("plugin {plugin} trapped: {reason}")]
    Trap {
        /// The plugin's configured name.
        plugin: String,
        /// The trap, with the plugin's last words on stderr (its panic message) when it left any.
        reason: String,
    },

    /// The call ran past its deadline and was interrupted. The instance was discarded.
    #[error(
        "plugin {plugin} was stopped after running longer than its {deadline:?} limit per call"
    )]
    Timeout {
        /// The plugin's configured name.
        plugin: String,
        /// The per-call deadline in force.
        deadline: Duration,
    },

    /// The plugin tried to grow its memory past its limit. The instance was discarded.
    #[error("plugin {plugin} was stopped at its memory limit of {limit_bytes} bytes")]
    OutOfMemory {
        /// The plugin's configured name.
        plugin: String,
        /// The limit in force, in bytes.
        limit_bytes: usize,
    },

    /// The plugin returned an error for the whole call: a route's batch (per-event errors are
    /// not this: they are in [`crate::Routed::failures`]) or a policy's evaluation. The
    /// instance is kept.
    #[error("plugin {plugin} failed the call: {reason}")]
    Plugin {
        /// The plugin's configured name.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },

    /// The plugin's answer breaks the contract of the WIT (an output for an event that is not in
    /// the batch, a span outside its buffer, a reassignment to an unknown consumer, ...). The
    /// answer is discarded; the instance is kept.
    #[error("plugin {plugin} answered outside the contract: {reason}")]
    Contract {
        /// The plugin's configured name.
        plugin: String,
        /// What was wrong.
        reason: String,
    },

    /// An event is too large to hand to a plugin (a field, or all fields together, over 4 GiB).
    #[error("event {ms}-{seq} is too large to pass to a plugin")]
    EventTooLarge {
        /// The event ID's milliseconds part.
        ms: u64,
        /// The event ID's sequence part.
        seq: u64,
    },
}

impl PluginError {
    /// Whether the plugin's instance was discarded by this error (trap, timeout, out of
    /// memory): the next call re-instantiates it and runs `init` again.
    pub fn restarts_instance(&self) -> bool {
        matches!(
            self,
            Self::Trap { .. } | Self::Timeout { .. } | Self::OutOfMemory { .. }
        )
    }
}
