//! [`Supervised`]: one plugin instance under the host's rules, whatever its world — its own
//! store, memory limit, per-call deadline, and restart after a trap. [`crate::RouterInstance`]
//! and [`crate::PolicyInstance`] are thin wrappers that add their world's call.
//!
//! Each instance owns one store (instances share nothing but the engine). Every call gets a
//! fresh deadline. A trap, a timeout or a refused memory growth leaves the guest in an unknown
//! state, so the store is dropped on the spot; the next call builds a new one and runs `init`
//! again with the same configuration.

use std::sync::Arc;

use wasmtime::component::{Instance, InstancePre};
use wasmtime::{Store, Trap};

use crate::bindings::{
    Claiming, ClaimingIndices, Lifecycle, LifecycleIndices, Routing, RoutingIndices,
};
use crate::host::{CompiledPlugin, Shared};
use crate::sandbox::StoreState;
use crate::{Limits, PluginError};

/// What a plugin says about itself (its `describe` export), and the WIT version it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// The plugin's own name (`"filter"`), as opposed to the route's name for it.
    pub name: String,
    /// The plugin's own version (`"0.1.0"`).
    pub version: String,
    /// The `sluice:plugin` package version it was built against (`"0.1.0"`).
    pub wit_version: String,
}

/// The exports of one world beyond `lifecycle`: how to find them in a component (once) and in
/// an instance (after every restart).
pub(crate) trait WorldExports: Sized {
    /// Where the exports are in the component, looked up once.
    type Indices;
    /// Looks the exports up in the component; fails if it lacks them.
    fn indices(pre: &InstancePre<StoreState>) -> wasmtime::Result<Self::Indices>;
    /// The exports of one instance.
    fn load(
        indices: &Self::Indices,
        store: &mut Store<StoreState>,
        instance: &Instance,
    ) -> wasmtime::Result<Self>;
}

/// Implements [`WorldExports`] for a world's generated exports: bindgen gives each world's
/// `GuestIndices` the same `new` and `load`, but no trait in common to call them through.
macro_rules! world_exports {
    ($exports:ty, $indices:ty) => {
        impl WorldExports for $exports {
            type Indices = $indices;

            fn indices(pre: &InstancePre<StoreState>) -> wasmtime::Result<Self::Indices> {
                <$indices>::new(pre)
            }

            fn load(
                indices: &Self::Indices,
                store: &mut Store<StoreState>,
                instance: &Instance,
            ) -> wasmtime::Result<Self> {
                indices.load(store, instance)
            }
        }
    };
}

world_exports!(Routing, RoutingIndices);
world_exports!(Claiming, ClaimingIndices);

/// Implements the accessors [`crate::RouterInstance`] and [`crate::PolicyInstance`] share,
/// passed through to the `plugin: Supervised<_>` each wraps. `$kind` (`"route"`, `"policy"`)
/// and `$instantiate` (the [`crate::PluginHost`] method that makes one) word the docs.
macro_rules! supervised_accessors {
    ($instance:ty, $kind:literal, $instantiate:ident) => {
        impl $instance {
            #[doc = concat!(
                        "The ", $kind, "'s name for this plugin, as given to [`crate::PluginHost::",
                        stringify!($instantiate), "`]."
                    )]
            pub fn name(&self) -> &str {
                self.plugin.name()
            }

            /// What the plugin says about itself.
            pub fn info(&self) -> &crate::PluginInfo {
                self.plugin.info()
            }

            /// The limits this instance runs under.
            pub fn limits(&self) -> crate::Limits {
                self.plugin.limits()
            }

            /// How many times the instance was re-created after a trap, timeout or memory
            /// exhaustion.
            pub fn restarts(&self) -> u64 {
                self.plugin.restarts()
            }
        }
    };
}
pub(crate) use supervised_accessors;

/// One plugin instance of the world whose exports are `E`, initialised, re-created after a
/// trap. `Send`.
pub(crate) struct Supervised<E: WorldExports> {
    shared: Arc<Shared>,
    pre: InstancePre<StoreState>,
    lifecycle: LifecycleIndices,
    exports: E::Indices,
    name: Arc<str>,
    config: Vec<(String, String)>,
    limits: Limits,
    deadline_ticks: u64,
    info: PluginInfo,
    live: Option<Live<E>>,
    restarts: u64,
}

/// A running instance: its store and its world's exports in it.
struct Live<E> {
    store: Store<StoreState>,
    exports: E,
}

/// Why a call stopped abnormally.
enum Stop {
    Timeout,
    OutOfMemory,
    Trap(String),
}

impl<E: WorldExports> Supervised<E> {
    /// Links `compiled`, finds its exports, then instantiates and initialises it once (so a
    /// refused configuration is reported now, not at the first call).
    pub(crate) fn new(
        shared: Arc<Shared>,
        compiled: &CompiledPlugin,
        name: &str,
        config: &[(String, String)],
        limits: Limits,
    ) -> Result<Self, PluginError> {
        let link = |e: wasmtime::Error| PluginError::Link {
            plugin: name.to_owned(),
            reason: format!("{e:#}"),
        };
        let pre = shared
            .linker
            .instantiate_pre(&compiled.component)
            .map_err(link)?;
        let lifecycle = LifecycleIndices::new(&pre).map_err(link)?;
        let exports = E::indices(&pre).map_err(link)?;
        let deadline_ticks = limits.deadline_ticks(shared.limits.epoch_tick);
        let mut this = Self {
            shared,
            pre,
            lifecycle,
            exports,
            name: name.into(),
            config: config.to_vec(),
            limits,
            deadline_ticks,
            info: PluginInfo {
                name: String::new(),
                version: String::new(),
                wit_version: compiled.wit_version().to_owned(),
            },
            live: None,
            restarts: 0,
        };
        let live = this.start()?;
        this.live = Some(live);
        Ok(this)
    }

    /// The configured name (the route's or the policy's name for the plugin).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// What the plugin says about itself.
    pub(crate) fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The limits this instance runs under.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// How many times the instance was re-created after a trap, timeout or memory exhaustion.
    pub(crate) fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Calls into the instance (re-creating it first if the last call stopped it) with a fresh
    /// deadline. `call` makes the one export call; its `Err(reason)` answer becomes
    /// [`PluginError::Plugin`]. A trap, timeout or memory exhaustion discards the instance.
    pub(crate) fn call<R>(
        &mut self,
        call: impl FnOnce(&E, &mut Store<StoreState>) -> wasmtime::Result<Result<R, String>>,
    ) -> Result<R, PluginError> {
        let live = match self.live.take() {
            Some(live) => live,
            None => {
                let live = self.start()?;
                self.restarts += 1;
                live
            }
        };
        let live = self.live.insert(live);
        live.store.set_epoch_deadline(self.deadline_ticks);
        match call(&live.exports, &mut live.store) {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(reason)) => Err(PluginError::Plugin {
                plugin: self.name.to_string(),
                reason,
            }),
            Err(error) => {
                let stop = stop_of(&live.store, &error);
                self.live = None;
                Err(self.call_error(stop))
            }
        }
    }

    /// [`PluginError::Contract`] for this plugin.
    pub(crate) fn contract(&self, reason: String) -> PluginError {
        PluginError::Contract {
            plugin: self.name.to_string(),
            reason,
        }
    }

    /// Creates a store and an instance, asks the plugin to describe itself and initialises it.
    fn start(&mut self) -> Result<Live<E>, PluginError> {
        let state = StoreState::new(self.name.clone(), self.limits.memory_bytes);
        let mut store = Store::new(&self.shared.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(self.deadline_ticks);

        let loaded = self.pre.instantiate(&mut store).and_then(|instance| {
            let lifecycle = self.lifecycle.load(&mut store, &instance)?;
            let exports = E::load(&self.exports, &mut store, &instance)?;
            Ok((lifecycle, exports))
        });
        let (lifecycle, exports): (Lifecycle, E) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => return Err(self.init_error(stop_of(&store, &e))),
        };
        let described = match lifecycle.call_describe(&mut store) {
            Ok(info) => info,
            Err(e) => return Err(self.init_error(stop_of(&store, &e))),
        };
        store.set_epoch_deadline(self.deadline_ticks);
        match lifecycle.call_init(&mut store, &self.config) {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                return Err(PluginError::Init {
                    plugin: self.name.to_string(),
                    reason,
                });
            }
            Err(e) => return Err(self.init_error(stop_of(&store, &e))),
        }
        self.info.name = described.name;
        self.info.version = described.version;
        Ok(Live { store, exports })
    }

    fn call_error(&self, stop: Stop) -> PluginError {
        let plugin = self.name.to_string();
        match stop {
            Stop::Timeout => PluginError::Timeout {
                plugin,
                deadline: self.limits.call_deadline,
            },
            Stop::OutOfMemory => PluginError::OutOfMemory {
                plugin,
                limit_bytes: self.limits.memory_bytes,
            },
            Stop::Trap(reason) => PluginError::Trap { plugin, reason },
        }
    }

    fn init_error(&self, stop: Stop) -> PluginError {
        let reason = match stop {
            Stop::Timeout => format!(
                "stopped after running longer than its {:?} limit",
                self.limits.call_deadline
            ),
            Stop::OutOfMemory => format!(
                "stopped at its memory limit of {} bytes",
                self.limits.memory_bytes
            ),
            Stop::Trap(reason) => format!("trapped: {reason}"),
        };
        PluginError::Init {
            plugin: self.name.to_string(),
            reason,
        }
    }
}

/// Classifies a failed call: the limiter's flag first (a Rust guest turns a refused allocation
/// into an abort, i.e. an ordinary trap), then the epoch interrupt, then any other trap.
fn stop_of(store: &Store<StoreState>, error: &wasmtime::Error) -> Stop {
    if store.data().limiter.refused() {
        return Stop::OutOfMemory;
    }
    let trap = error.downcast_ref::<Trap>();
    if let Some(Trap::Interrupt) = trap {
        return Stop::Timeout;
    }
    // One line, fit for a dead-letter entry: the trap itself (not the wasm backtrace around
    // it), after the guest's panic message when it left one on stderr.
    let what = trap.map_or_else(|| format!("{error:#}"), Trap::to_string);
    Stop::Trap(match store.data().last_words() {
        Some(words) => format!("{words} ({what})"),
        None => what,
    })
}
