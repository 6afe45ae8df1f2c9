//! [`PluginHost`]: the one wasmtime engine, its linker, the epoch ticker, and compilation.
//!
//! Compiling is the slow part (cranelift, milliseconds to seconds), so it happens off the hot
//! path, once per `.wasm` file: [`PluginHost::compile`] gives a [`CompiledPlugin`] that any
//! number of instances are made from, cheaply.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Cache, CacheConfig, Config, Engine, OptLevel};

use crate::bindings::{Router, add_pending_state_to_linker};
use crate::sandbox::StoreState;
use crate::supervised::Supervised;
use crate::version::{WIT_VERSION, compatible, host_version, version_of_item};
use crate::{Limits, PluginError, PolicyInstance, RouterInstance};

/// Loads and runs plugins. One per process: it owns the wasmtime engine and the ticker thread
/// that enforces call deadlines. Cheap to clone (clones share the engine).
#[derive(Clone)]
pub struct PluginHost {
    shared: Arc<Shared>,
}

/// What the host and every instance made by it share. Instances keep it alive, so their
/// deadlines keep being enforced even if the [`PluginHost`] handle is dropped first.
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<StoreState>,
    pub(crate) limits: Limits,
    /// The on-disk cache of compiled components, if any (its hit and miss counters).
    cache: Option<Cache>,
    _ticker: Ticker,
}

impl PluginHost {
    /// Creates the engine (with epoch interruption on), links the host's imports and starts
    /// the ticker thread. `limits` applies to every instance made by this host unless
    /// overridden per instance.
    pub fn new(limits: Limits) -> Result<Self, PluginError> {
        Self::with_cache(limits, None)
    }

    /// [`PluginHost::new`] keeping compiled components in the folder `cache_dir` (created if
    /// missing): a file compiled once, by this process or an earlier one, is loaded from there
    /// instead of compiled again. Entries are keyed by a hash of the component's bytes and the
    /// engine's settings, so a changed file or another wasmtime version never reuses one.
    pub fn with_cache(limits: Limits, cache_dir: Option<&Path>) -> Result<Self, PluginError> {
        let mut config = Config::new();
        let cache = if let Some(dir) = cache_dir {
            let mut cache = CacheConfig::new();
            cache.with_directory(dir);
            let cache = Cache::new(cache).map_err(|e| PluginError::Engine {
                reason: format!(
                    "cannot use {} as the compiled-plugin cache: {e:#}",
                    dir.display()
                ),
            })?;
            config.cache(Some(cache.clone()));
            Some(cache)
        } else {
            None
        };
        config.wasm_component_model(true);
        // Deadlines: each store gets a deadline in epoch ticks before every call; the ticker
        // thread advances the epoch. Much cheaper per call than fuel.
        config.epoch_interruption(true);
        config.cranelift_opt_level(OptLevel::Speed);
        let engine = Engine::new(&config).map_err(|e| PluginError::Engine {
            reason: format!("{e:#}"),
        })?;

        let mut linker = Linker::new(&engine);
        let link = |e: wasmtime::Error| PluginError::Engine {
            reason: format!("cannot link the host's imports: {e:#}"),
        };
        // Only the WASI a Rust guest's standard library imports, over an empty context (see
        // `sandbox`).
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(link)?;
        // The `router` world's imports; the `claim-policy` world imports the same `log`.
        Router::add_to_linker::<StoreState, HasSelf<StoreState>>(&mut linker, |s| s)
            .map_err(link)?;
        // The `claim-policy` world's own import (0.1.1); policies built for 0.1.0 do not use it.
        add_pending_state_to_linker::<StoreState, HasSelf<StoreState>>(&mut linker, |s| s)
            .map_err(link)?;

        let ticker = Ticker::start(engine.clone(), limits.epoch_tick)?;
        Ok(Self {
            shared: Arc::new(Shared {
                engine,
                linker,
                limits,
                cache,
                _ticker: ticker,
            }),
        })
    }

    /// How many compilations the on-disk cache answered, and how many it could not (both 0
    /// without a cache).
    pub fn cache_hits_and_misses(&self) -> (usize, usize) {
        self.shared
            .cache
            .as_ref()
            .map_or((0, 0), |c| (c.cache_hits(), c.cache_misses()))
    }

    /// The limits instances get by default.
    pub fn limits(&self) -> Limits {
        self.shared.limits
    }

    /// Compiles a component and checks which version of the `sluice:plugin` package it was
    /// built for and which world it targets. Slow (cranelift): call it off the hot path, once
    /// per file.
    pub fn compile(&self, bytes: &[u8]) -> Result<CompiledPlugin, PluginError> {
        let component =
            Component::new(&self.shared.engine, bytes).map_err(|e| PluginError::Compile {
                reason: format!("{e:#}"),
            })?;
        let ty = component.component_type();
        let engine = &self.shared.engine;
        let names = ty
            .imports(engine)
            .map(|(name, _)| name)
            .chain(ty.exports(engine).map(|(name, _)| name));
        let host = host_version();
        let mut found = None;
        let (mut is_router, mut is_policy) = (false, false);
        for name in names {
            let Some(version) = version_of_item(name) else {
                continue;
            };
            let version = version.map_err(|reason| PluginError::Compile { reason })?;
            if !compatible(&version, &host) {
                return Err(PluginError::Incompatible {
                    plugin_version: version.to_string(),
                    host_version: WIT_VERSION,
                    why: if version.major != host.major {
                        "a different major version is incompatible"
                    } else {
                        "before 1.0, a different minor version is incompatible"
                    },
                });
            }
            is_router |= name.starts_with("sluice:plugin/routing@");
            is_policy |= name.starts_with("sluice:plugin/claiming@");
            found = Some(version);
        }
        let Some(version) = found else {
            return Err(PluginError::Compile {
                reason: "this component is not a sluice plugin: it uses no `sluice:plugin` \
                         interface (build it with sluice-plugin-sdk)"
                    .into(),
            });
        };
        Ok(CompiledPlugin {
            component,
            wit_version: version.to_string(),
            is_router,
            is_policy,
        })
    }

    /// The names of the interfaces `compiled` imports (`sluice:plugin/log@0.1.1`,
    /// `wasi:io/streams@0.2.0`, ...), as the component declares them.
    pub fn imports(&self, compiled: &CompiledPlugin) -> Vec<String> {
        let engine = &self.shared.engine;
        compiled
            .component
            .component_type()
            .imports(engine)
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// Makes a router instance of `compiled`, named `name` (the route's name, used in log lines
    /// and errors), and initialises it with `config`. Fails if the component is not a router,
    /// imports something the host does not provide, or refuses its configuration.
    pub fn instantiate_router(
        &self,
        compiled: &CompiledPlugin,
        name: &str,
        config: &[(String, String)],
    ) -> Result<RouterInstance, PluginError> {
        self.instantiate_router_with_limits(compiled, name, config, self.shared.limits)
    }

    /// [`PluginHost::instantiate_router`] with limits of its own (the epoch tick stays the
    /// host's).
    pub fn instantiate_router_with_limits(
        &self,
        compiled: &CompiledPlugin,
        name: &str,
        config: &[(String, String)],
        limits: Limits,
    ) -> Result<RouterInstance, PluginError> {
        if !compiled.is_router {
            return Err(wrong_world(compiled, name, "routing", "router"));
        }
        let plugin = Supervised::new(self.shared.clone(), compiled, name, config, limits)?;
        Ok(RouterInstance::new(plugin))
    }

    /// Makes a claim policy instance of `compiled`, named `name` (the policy's name, used in log
    /// lines and errors), and initialises it with `config`. Fails if the component is not a
    /// claim policy, imports something the host does not provide, or refuses its configuration.
    pub fn instantiate_policy(
        &self,
        compiled: &CompiledPlugin,
        name: &str,
        config: &[(String, String)],
    ) -> Result<PolicyInstance, PluginError> {
        self.instantiate_policy_with_limits(compiled, name, config, self.shared.limits)
    }

    /// [`PluginHost::instantiate_policy`] with limits of its own (the epoch tick stays the
    /// host's).
    pub fn instantiate_policy_with_limits(
        &self,
        compiled: &CompiledPlugin,
        name: &str,
        config: &[(String, String)],
        limits: Limits,
    ) -> Result<PolicyInstance, PluginError> {
        if !compiled.is_policy {
            return Err(wrong_world(compiled, name, "claiming", "claim policy"));
        }
        let plugin = Supervised::new(self.shared.clone(), compiled, name, config, limits)?;
        Ok(PolicyInstance::new(plugin))
    }
}

/// The error for a component instantiated as a world it does not target.
fn wrong_world(
    compiled: &CompiledPlugin,
    name: &str,
    interface: &str,
    wanted: &str,
) -> PluginError {
    let actually = match (compiled.is_router, compiled.is_policy) {
        (true, _) => " (it is a router plugin)",
        (_, true) => " (it is a claim policy plugin)",
        _ => "",
    };
    PluginError::Link {
        plugin: name.to_owned(),
        reason: format!(
            "the component does not export sluice:plugin/{interface}@{}: it is not a {wanted} \
             plugin{actually}",
            compiled.wit_version
        ),
    }
}

/// A compiled plugin component, ready to instantiate. Cheap to clone.
#[derive(Clone)]
pub struct CompiledPlugin {
    pub(crate) component: Component,
    wit_version: String,
    is_router: bool,
    is_policy: bool,
}

impl CompiledPlugin {
    /// The `sluice:plugin` package version the component was built against (`"0.1.0"`).
    pub fn wit_version(&self) -> &str {
        &self.wit_version
    }

    /// Whether the component targets the `router` world.
    pub fn is_router(&self) -> bool {
        self.is_router
    }

    /// Whether the component targets the `claim-policy` world.
    pub fn is_policy(&self) -> bool {
        self.is_policy
    }
}

/// The thread that advances the engine's epoch every tick, until it is dropped.
struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine, tick: Duration) -> Result<Self, PluginError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sluice-plugin-epoch".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| PluginError::Engine {
                reason: format!("cannot start the epoch ticker thread: {e}"),
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        // Closing the channel ends the thread at its next wake-up.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
