//! [`RouterInstance`]: one route's plugin instance, with its own store, limits and restart
//! rule.
//!
//! Each instance owns one store (instances share nothing but the engine). Every call gets a
//! fresh deadline. A trap, a timeout or a refused memory growth leaves the guest in an unknown
//! state, so the store is dropped on the spot; the next call builds a new one and runs `init`
//! again with the same configuration.

use std::sync::Arc;

use wasmtime::{Store, Trap};

use crate::batch::{Batch, EventRef};
use crate::bindings::{RawRouted, Router, RouterPre};
use crate::host::{CompiledPlugin, Shared};
use crate::sandbox::StoreState;
use crate::{Limits, PluginError, Routed};

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

/// A router plugin instance, initialised and ready to route batches. `Send`: move it to the
/// thread that runs its route. Calls block for at most the per-call deadline.
pub struct RouterInstance {
    shared: Arc<Shared>,
    pre: RouterPre<StoreState>,
    name: Arc<str>,
    config: Vec<(String, String)>,
    limits: Limits,
    deadline_ticks: u64,
    info: PluginInfo,
    live: Option<Live>,
    batch: Batch,
    restarts: u64,
}

/// A running instance: its store and the bindings into it.
struct Live {
    store: Store<StoreState>,
    router: Router,
}

/// Why a call stopped abnormally.
enum Stop {
    Timeout,
    OutOfMemory,
    Trap(String),
}

impl RouterInstance {
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
        let pre = RouterPre::new(pre).map_err(link)?;
        let deadline_ticks = limits.deadline_ticks(shared.limits.epoch_tick);
        let mut this = Self {
            shared,
            pre,
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
            batch: Batch::new(),
            restarts: 0,
        };
        let live = this.start()?;
        this.live = Some(live);
        Ok(this)
    }

    /// The route's name for this plugin, as given to [`crate::PluginHost::instantiate_router`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the plugin says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The limits this instance runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many times the instance was re-created after a trap, timeout or memory exhaustion.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Routes one batch of events read from the stream `source_key`, in stream order.
    ///
    /// On [`PluginError::Trap`], [`PluginError::Timeout`] or [`PluginError::OutOfMemory`] the
    /// whole batch failed and the instance was discarded; the next call re-creates it. To find
    /// which event was at fault, route the batch's events one at a time.
    pub fn route(
        &mut self,
        source_key: &str,
        events: &[EventRef<'_>],
    ) -> Result<Routed, PluginError> {
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        let result = events
            .iter()
            .try_for_each(|e| batch.push(e.id, e.fields))
            .and_then(|()| self.route_batch(source_key, &batch));
        self.batch = batch;
        result
    }

    /// [`RouterInstance::route`] over events already packed into a [`Batch`].
    pub fn route_batch(&mut self, source_key: &str, batch: &Batch) -> Result<Routed, PluginError> {
        if batch.is_empty() {
            let empty = RawRouted {
                destinations: Vec::new(),
                outputs: Vec::new(),
                new_fields: Vec::new(),
                failures: Vec::new(),
            };
            return Routed::check(empty, 0).map_err(|reason| self.contract(reason));
        }
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
        let answer = live.router.sluice_plugin_routing().call_route(
            &mut live.store,
            source_key,
            batch.count(),
            batch.as_bytes(),
        );
        match answer {
            Ok(Ok(raw)) => Routed::check(raw, batch.len()).map_err(|reason| self.contract(reason)),
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

    /// Creates a store and an instance, asks the plugin to describe itself and initialises it.
    fn start(&mut self) -> Result<Live, PluginError> {
        let state = StoreState::new(self.name.clone(), self.limits.memory_bytes);
        let mut store = Store::new(&self.shared.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(self.deadline_ticks);

        let router = match self.pre.instantiate(&mut store) {
            Ok(router) => router,
            Err(e) => return Err(self.init_error(stop_of(&store, &e))),
        };
        let lifecycle = router.sluice_plugin_lifecycle();
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
        Ok(Live { store, router })
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

    fn contract(&self, reason: String) -> PluginError {
        PluginError::Contract {
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
