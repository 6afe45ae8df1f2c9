//! Hot reload: watches the plugins folder and the config file, and reloads the routes once
//! changes have settled.
//!
//! Editors and `cp` write a file in several steps (create, write, write, close, or write a
//! temporary file and rename it), so a reload waits until no change has been seen for
//! [`SETTLE`]. The config file's folder is watched rather than the file itself, so a file
//! replaced by a rename is still seen.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::Broker;

/// Quiet time after the last change before reloading.
pub const SETTLE: Duration = Duration::from_millis(150);

enum Msg {
    Changed,
    Stop,
}

/// The file watcher and the thread that reloads. Dropping it stops both.
pub struct Watcher {
    watcher: Option<notify::RecommendedWatcher>,
    tx: mpsc::Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watcher")
    }
}

impl Watcher {
    /// Watches `plugins_dir` (its `.wasm` files) and `config_file`.
    pub fn start(
        broker: Weak<Broker>,
        plugins_dir: Option<PathBuf>,
        config_file: Option<PathBuf>,
    ) -> Result<Watcher, String> {
        let (tx, rx) = mpsc::channel();
        let config_file = config_file.map(|f| absolute(&f));
        let plugins_dir = plugins_dir.map(|d| absolute(&d));
        let wanted = {
            let config_file = config_file.clone();
            let plugins_dir = plugins_dir.clone();
            move |path: &Path| {
                let is_plugin = plugins_dir.as_deref().is_some_and(|dir| {
                    path.parent() == Some(dir) && path.extension().is_some_and(|e| e == "wasm")
                });
                is_plugin || config_file.as_deref() == Some(path)
            }
        };
        let events = tx.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                if event.paths.iter().any(|p| wanted(p)) {
                    let _ = events.send(Msg::Changed);
                }
            })
            .map_err(|e| format!("cannot watch files: {e}"))?;
        if let Some(dir) = &plugins_dir {
            watcher
                .watch(dir, RecursiveMode::NonRecursive)
                .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        }
        if let Some(parent) = config_file.as_deref().and_then(Path::parent) {
            watcher
                .watch(parent, RecursiveMode::NonRecursive)
                .map_err(|e| format!("cannot watch {}: {e}", parent.display()))?;
        }
        let thread = std::thread::Builder::new()
            .name("route-reload".into())
            .spawn(move || reload_loop(&broker, &rx))
            .map_err(|e| format!("cannot start the reload thread: {e}"))?;
        Ok(Watcher {
            watcher: Some(watcher),
            tx,
            thread: Some(thread),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.watcher = None;
        let _ = self.tx.send(Msg::Stop);
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

fn reload_loop(broker: &Weak<Broker>, rx: &mpsc::Receiver<Msg>) {
    loop {
        match rx.recv() {
            Ok(Msg::Changed) => {}
            Ok(Msg::Stop) | Err(_) => return,
        }
        // Let the writes settle.
        loop {
            match rx.recv_timeout(SETTLE) {
                Ok(Msg::Changed) => {}
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => break,
            }
        }
        let Some(broker) = broker.upgrade() else {
            return;
        };
        tracing::info!("plugins or config changed: reloading routes");
        // Problems are logged and recorded by `reload` itself.
        let _ = super::loader::reload(&broker);
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_owned())
}
