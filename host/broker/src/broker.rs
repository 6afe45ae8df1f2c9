//! [`Broker`]: the data side as one value — the keyspace, blocked readers and the ready-key
//! list, the log and snapshots, memory accounting, the routes and claim policies with their
//! plugins. The front end (connections, commands, ACL, TLS) holds one; route and policy threads
//! get one and nothing else.
//!
//! What happens to an event after `XADD`: the command appends it under its key's lock and logs
//! it ([`crate::persist`]), then marks the key ready ([`ReadyKeys`]). Once the command (or
//! `EXEC`) has finished, [`Broker::serve_ready`] wakes the routes reading that key
//! ([`crate::routes`]) and re-runs the reads blocked on it ([`crate::ready`]). A route's thread
//! reads the new entries, runs its plugin, and commits outputs and its position as one log
//! record, marking the destinations ready in turn.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use parking_lot::Mutex;

use crate::background::Background;
use crate::clock::Clock;
use crate::config::{BrokerConfig, BrokerSettings, ConfigReader, PluginsConfig};
use crate::error::BrokerError;
use crate::evict::Evictor;
use crate::keyspace::Keyspace;
use crate::memory::Memory;
use crate::persist::Journal;
use crate::persist::replay::{ReplayReport, Replayer};
use crate::persist::snapshot::Saver;
use crate::persist::visibility::Visibility;
use crate::plugins::loader::Plugins;
use crate::policies::Policies;
use crate::ready::{Blocking, ReadyKeys};
use crate::routes::Routes;
use crate::store::Store;
use crate::store::embedded::EmbeddedStore;

/// The data side of a Sluice server.
pub struct Broker {
    /// What the broker was opened with.
    pub config: BrokerConfig,
    /// Data settings `CONFIG SET` may change.
    pub settings: BrokerSettings,
    /// The databases.
    pub keyspace: Keyspace,
    /// Clients blocked in `XREAD`/`XREADGROUP … BLOCK`, `BLPOP`, `BRPOP`, `BLMOVE`.
    pub blocking: Blocking,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// When the broker was made (memory measurements' age).
    pub started: Instant,
    /// Where changes are logged (empty with `appendonly no`).
    pub journal: Journal,
    /// What readers are not shown while the log cannot write it (a full disk).
    pub visibility: Visibility,
    /// Background snapshot state.
    pub saver: Saver,
    /// What start-up loaded.
    pub recovery: Mutex<ReplayReport>,
    /// The routes and their plugins.
    pub routes: Routes,
    /// The claim policies.
    pub policies: Policies,
    /// The plugin engine, compiled plugin files, and what reloads did.
    pub plugins: Plugins,
    /// The used-memory estimate (`maxmemory`).
    pub memory: Memory,
    /// Eviction's candidates between rounds (`maxmemory-policy`).
    pub evictor: Evictor,
    /// Time the active expiry cycle ran, µs (`INFO`'s `expire_cycle_cpu_milliseconds`).
    pub expire_cycle_us: AtomicU64,
    /// Reads the config file's routes and policies again on a reload.
    reader: Option<ConfigReader>,
    /// The expiry and auto-snapshot threads, once started.
    background: Mutex<Option<Background>>,
    /// This value's own `Arc`, for work that starts threads (`SLUICE RELOAD`).
    this: OnceLock<Weak<Broker>>,
    /// The store routes and policies work on when it is not this broker's keyspace (an
    /// attached Redis Cluster or server: `--attach`).
    external: OnceLock<Arc<dyn Store>>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("config", &self.config)
            .field("keyspace", &self.keyspace)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// An empty broker that logs nothing yet ([`Broker::recover`] loads the data folder).
    /// `reader` re-reads the routes and policies of `config.config_file` on a reload.
    pub fn new(
        config: BrokerConfig,
        clock: Arc<dyn Clock>,
        reader: Option<ConfigReader>,
    ) -> Result<Arc<Broker>, BrokerError> {
        if config.databases == 0 || config.databases > 1 << 16 {
            return Err(BrokerError::Invalid(
                "databases must be between 1 and 65536".into(),
            ));
        }
        config.plugins.validate().map_err(BrokerError::Invalid)?;
        let broker = Arc::new(Broker {
            settings: BrokerSettings::new(&config),
            keyspace: Keyspace::new(config.databases),
            blocking: Blocking::default(),
            clock,
            started: Instant::now(),
            journal: Journal::default(),
            visibility: Visibility::default(),
            saver: Saver::default(),
            recovery: Mutex::new(ReplayReport::default()),
            routes: Routes::default(),
            policies: Policies::default(),
            plugins: Plugins::default(),
            memory: Memory::default(),
            evictor: Evictor::default(),
            expire_cycle_us: AtomicU64::new(0),
            reader,
            background: Mutex::new(None),
            this: OnceLock::new(),
            external: OnceLock::new(),
            config,
        });
        let _ = broker.this.set(Arc::downgrade(&broker));
        let eviction = &broker.keyspace.eviction;
        eviction.set_policy(broker.config.maxmemory_policy);
        for (slot, value) in [
            (&eviction.samples, broker.config.maxmemory_samples),
            (&eviction.lfu_log_factor, broker.config.lfu_log_factor),
            (&eviction.lfu_decay_time, broker.config.lfu_decay_time),
        ] {
            slot.store(value, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(broker)
    }

    /// Opens the data folder: loads the newest snapshot, replays the log after it through
    /// `replayer` (the command layer that wrote it), then starts logging. Call once, before
    /// anything else changes the keyspace.
    pub fn recover(self: &Arc<Self>, replayer: &mut dyn Replayer) -> Result<(), BrokerError> {
        crate::persist::replay::recover(self, replayer)
    }

    /// This value's `Arc`.
    pub fn arc(&self) -> Option<Arc<Broker>> {
        self.this.get().and_then(Weak::upgrade)
    }

    /// The store the route and claim-policy runtimes work through: this broker's keyspace,
    /// or the one [`Broker::attach`] gave.
    pub fn store(self: &Arc<Self>) -> Arc<dyn Store> {
        match self.external.get() {
            Some(store) => store.clone(),
            None => Arc::new(EmbeddedStore::new(self.clone())),
        }
    }

    /// Makes routes and policies work on `store` instead of this broker's keyspace. Call
    /// before [`Broker::start`]; false if a store was attached already.
    pub fn attach(&self, store: Arc<dyn Store>) -> bool {
        self.external.set(store).is_ok()
    }

    /// The attached store, if routes and policies work on one.
    pub fn attached(&self) -> Option<&Arc<dyn Store>> {
        self.external.get()
    }

    /// The current time, Unix ms.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// True if a change to a key of database `db` may wake someone: a route reads the
    /// database, or a client is blocked (or about to block). A change made before this
    /// answers false needs no waking: a client that blocks later sees it when its
    /// registration re-checks ([`crate::ready::Blocking`]).
    pub fn listens(&self, db: usize) -> bool {
        (db == 0 && self.routes.any()) || !self.blocking.is_empty()
    }

    /// What happens once a command, an `EXEC`, or a route's or policy's commit has finished:
    /// the routes reading the keys it made ready are woken, and the clients blocked on them
    /// are served against the state at this point. Empties `ready`. Call with the keyspace
    /// gate held, so no other command runs in between.
    pub fn serve_ready(&self, ready: &mut ReadyKeys) {
        if !ready.is_empty() && !self.listens(0) {
            // Nobody to wake: the list keeps its room for the next command.
            ready.clear();
            return;
        }
        // In passes, as Redis does: serving a client can make more keys ready (`BLMOVE`
        // pushes to its destination), and those are served next, against the state then.
        while !ready.is_empty() {
            let mut batch = std::mem::take(ready);
            for (db, key) in batch.iter() {
                self.routes.key_written(db, key);
            }
            self.blocking.serve_ready(self, &batch, ready);
            if ready.is_empty() {
                // Served: the list goes back empty, keeping its room for the next command.
                batch.clear();
                *ready = batch;
            }
        }
    }

    /// The routes and policies of the config file as it is now (or, without a file, as the
    /// broker was opened with).
    pub(crate) fn plugins_config(&self) -> Result<PluginsConfig, String> {
        match &self.reader {
            Some(read) => read(),
            None => Ok(self.config.plugins.clone()),
        }
    }

    /// Starts the background work: active expiry, automatic snapshots, and the routes and
    /// claim policies (compiling their plugins first, so this takes a while). Problems with
    /// plugins are reported, not fatal.
    pub fn start(self: &Arc<Self>) {
        *self.background.lock() = Some(Background::start(self));
        crate::plugins::loader::start(self);
    }

    /// Stops the background work (each route after the batch it is on) and flushes the log:
    /// everything acknowledged is on disk when this returns.
    pub fn shutdown(&self) -> Result<(), BrokerError> {
        if let Some(background) = self.background.lock().take() {
            background.stop();
        }
        crate::plugins::loader::shutdown(self);
        if let Some(wal) = self.journal.wal() {
            wal.sync_all()?;
            tracing::info!("write-ahead log flushed");
        }
        Ok(())
    }
}
