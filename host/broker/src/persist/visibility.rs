//! What readers see while the log cannot be written (a full disk): nothing whose log record a
//! crash would lose.
//!
//! The writes caught by the failure are applied in memory, and their records are kept by the
//! log for the retry. Once the log is failed, a pass ([`Visibility::tick`], on a thread of its
//! own, with the keyspace gate held exclusively so no command is half-way) reads those records
//! and hides their changes:
//!
//! - **stream appends** (`XADD`, with the trims and IDMP entries that come with them) are
//!   withheld: the entries at and above the first unwritten ID are taken off the stream
//!   ([`Stream::withhold_from`]), so `XLEN`, `XRANGE`, `XREAD`, `$`, groups and routes see the
//!   stream as the log has it; a stream the caught appends created is taken out whole.
//! - **any other change** (a string, hash, list or set written, a group's deliveries or
//!   position) cannot be shown as it was before, so its keys are fenced
//!   ([`crate::keyspace::fence`]): a read of one is answered only once the log has written the
//!   change. A change whose keys are not known fences its whole database.
//! - removals (`DEL`, `UNLINK`, `XDEL`, `XTRIM`, `FLUSHDB`, `FLUSHALL`) show at once: what a
//!   crash could bring back was never shown as gone and then lost.
//!
//! Once a retry has written and fsynced the records, the next pass puts the entries back,
//! lifts the fences, and serves the readers and routes waiting on those keys; the writers whose
//! replies waited for the retry wait for that too ([`Visibility::until_shown`]), so a client
//! that got "stored" reads what it stored.
//!
//! Between the failure and the pass, and for a read that ran while the log was healthy, the
//! connection holds a read's reply until the log has written everything appended when the read
//! ran ([`Visibility::covers`] says when that is not needed).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use sluice_storage::{Lsn, Wal};
use sluice_streams::{Stream, StreamId, Withheld};
use tokio::sync::watch;

use crate::Broker;
use crate::keyspace::KeyEntry;
use crate::ready::ReadyKeys;

/// Calls `visit` with each key a logged command (name first) touches, in the database it runs
/// in; false if the command's keys are not known. The server knows every command's keys.
pub type KeyFinder = dyn Fn(&[Bytes], &mut dyn FnMut(&[u8])) -> bool + Send + Sync;

/// Hides changes the log has not written while it is failed; see the module documentation.
pub struct Visibility {
    /// Changes are hidden: set and cleared with the keyspace gate held exclusively.
    hiding: AtomicBool,
    /// Every record up to this LSN was looked at by the last pass (while `hiding`).
    covered: AtomicU64,
    held: Mutex<Held>,
    /// `hiding`, for the writers that wait until their change is shown again.
    hiding_tx: watch::Sender<bool>,
    finder: OnceLock<Box<KeyFinder>>,
}

impl std::fmt::Debug for Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visibility")
            .field("hiding", &self.hiding)
            .field("covered", &self.covered)
            .finish_non_exhaustive()
    }
}

impl Default for Visibility {
    fn default() -> Self {
        Visibility {
            hiding: AtomicBool::new(false),
            covered: AtomicU64::new(0),
            held: Mutex::new(Held::default()),
            hiding_tx: watch::channel(false).0,
            finder: OnceLock::new(),
        }
    }
}

/// What a pass took away, to give back in reverse order.
#[derive(Debug, Default)]
struct Held {
    /// `(db, key, entries)` withheld from streams.
    streams: Vec<(usize, Bytes, Withheld)>,
    /// `(db, key, entry)`: streams the caught appends created, taken out whole.
    keys: Vec<(usize, Bytes, KeyEntry)>,
}

/// [`Plan::whole`]'s key for every database.
const EVERY_DB: usize = usize::MAX;

/// What one pass found in the records not written.
#[derive(Debug, Default)]
struct Plan {
    /// Per stream key: the first unwritten ID appended.
    appends: HashMap<(usize, Bytes), StreamId>,
    /// Per key: the LSN of its last unwritten change that cannot be withheld.
    fenced: HashMap<(usize, Bytes), Lsn>,
    /// Per database: the LSN of its last change whose keys are unknown ([`EVERY_DB`]: of
    /// a record that could not be read).
    whole: HashMap<usize, Lsn>,
}

impl Visibility {
    /// Sets how the keys of a logged command are found (the server, at start).
    pub fn set_key_finder(&self, finder: Box<KeyFinder>) {
        let _ = self.finder.set(finder);
    }

    /// True if what a read that just ran saw is written, withheld or fenced, the log's last
    /// LSN being `appended()`: its reply need not wait for the log. Call right after the read,
    /// with the keyspace gate still held. One relaxed load while the log is healthy.
    pub fn covers(&self, appended: impl FnOnce() -> Lsn) -> bool {
        self.hiding.load(Ordering::Relaxed) && self.covered.load(Ordering::Relaxed) >= appended()
    }

    /// True while changes the log has not written are hidden. Call with the keyspace gate held.
    pub fn hiding(&self) -> bool {
        self.hiding.load(Ordering::Relaxed)
    }

    /// Resolves once no change is hidden. Take it with the keyspace gate held (shared), so a
    /// pass cannot start or end between the check and the wait.
    pub fn until_shown(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.hiding_tx.subscribe();
        async move {
            let _ = rx.wait_for(|hiding| !*hiding).await;
        }
    }

    /// Hides what the failed log has not written, or shows it again once written. Called
    /// often (every few milliseconds); a load or two while the log is healthy.
    pub(crate) fn tick(&self, broker: &Broker) {
        let Some(wal) = broker.journal.wal() else {
            return;
        };
        let hiding = self.hiding.load(Ordering::Acquire);
        if wal.failed() {
            if !hiding || wal.appended_lsn() > self.covered.load(Ordering::Acquire) {
                self.hide(broker, wal);
            }
        } else if hiding {
            self.show(broker, wal);
        }
    }

    fn hide(&self, broker: &Broker, wal: &Wal) {
        let _gate = broker.keyspace.gate.write();
        if !wal.failed() {
            return;
        }
        // Under the gate nothing appends: the records are exactly those not written.
        let after = if self.hiding.load(Ordering::Relaxed) {
            self.covered.load(Ordering::Relaxed)
        } else {
            0
        };
        let mut plan = Plan::default();
        wal.for_each_unwritten(|lsn, payload| {
            if lsn > after {
                self.classify(lsn, payload, &mut plan);
            }
        });
        let mut held = self.held.lock();
        let now = broker.now_ms();
        for ((db, key), lsn) in &plan.fenced {
            broker.keyspace.db(*db).fence_key(key, *lsn);
        }
        for (&db, &lsn) in &plan.whole {
            if db == EVERY_DB {
                broker.keyspace.dbs().for_each(|db| db.fence_all(lsn));
            } else {
                broker.keyspace.db(db).fence_all(lsn);
            }
        }
        let limits = broker.settings.node_limits();
        for ((db_index, key), from) in plan.appends {
            if plan.fenced.contains_key(&(db_index, key.clone())) {
                continue;
            }
            let db = broker.keyspace.db(db_index);
            let taken = db.write_as(&key, now, |stream: &mut Stream| {
                let withheld = stream.withhold_from(from);
                let created =
                    stream.entries_added() == 0 && stream.is_empty() && stream.group_count() == 0;
                if created {
                    stream.restore(withheld, limits);
                    None
                } else {
                    Some(withheld)
                }
            });
            match taken {
                Ok(Some(Some(withheld))) => held.streams.push((db_index, key, withheld)),
                Ok(Some(None)) => {
                    if let Some(entry) = db.take(&key, now) {
                        held.keys.push((db_index, key, entry));
                    }
                }
                // Gone or another type since: a later record removed or replaced it.
                Ok(None) | Err(_) => {}
            }
        }
        if !self.hiding.load(Ordering::Relaxed) {
            tracing::warn!(
                withheld_streams = held.streams.len() + held.keys.len(),
                fenced_keys = plan.fenced.len(),
                "changes the write-ahead log could not write are hidden from readers until it can"
            );
        }
        self.covered.store(wal.appended_lsn(), Ordering::Relaxed);
        self.hiding.store(true, Ordering::Release);
        self.hiding_tx.send_replace(true);
    }

    /// Sorts the commands of one unwritten record into `plan`.
    fn classify(&self, lsn: Lsn, payload: &[u8], plan: &mut Plan) {
        let Ok(record) = super::record::decode(payload) else {
            // Not expected of a record this build wrote: hide every key of every database.
            plan.whole.insert(EVERY_DB, lsn);
            return;
        };
        let db = record.db;
        for command in &record.commands {
            let Some(name) = command.first() else {
                continue;
            };
            let upper = name.to_ascii_uppercase();
            let key = command.get(1).cloned().unwrap_or_default();
            match upper.as_slice() {
                b"XADD" => {
                    let id = command.get(2).and_then(|id| StreamId::parse(id, 0).ok());
                    match id {
                        Some(id) => {
                            let first = plan.appends.entry((db, key)).or_insert(id);
                            *first = (*first).min(id);
                        }
                        None => {
                            plan.fenced.insert((db, key), lsn);
                        }
                    }
                }
                b"DEL" | b"UNLINK" | b"XDEL" | b"XTRIM" | b"FLUSHDB" | b"FLUSHALL" => {}
                b"SLUICE"
                    if command
                        .get(1)
                        .is_some_and(|sub| sub.eq_ignore_ascii_case(b"IDMPRECORD")) => {}
                b"SLUICE" => {
                    if let Some(key) = command.get(2) {
                        plan.fenced.insert((db, key.clone()), lsn);
                    }
                }
                _ => {
                    let mut found = |key: &[u8]| {
                        plan.fenced.insert((db, Bytes::copy_from_slice(key)), lsn);
                    };
                    let known = self
                        .finder
                        .get()
                        .is_some_and(|finder| finder(command, &mut found));
                    if !known {
                        plan.whole.insert(db, lsn);
                    }
                }
            }
        }
    }

    fn show(&self, broker: &Broker, wal: &Wal) {
        let _gate = broker.keyspace.gate.write();
        if wal.failed() {
            return;
        }
        let held = std::mem::take(&mut *self.held.lock());
        let now = broker.now_ms();
        let limits = broker.settings.node_limits();
        let mut ready = ReadyKeys::default();
        for (db_index, key, withheld) in held.streams.into_iter().rev() {
            let db = broker.keyspace.db(db_index);
            let _ = db.write_as(&key, now, |stream: &mut Stream| {
                stream.restore(withheld, limits)
            });
            ready.push(db_index, &key);
        }
        for (db_index, key, entry) in held.keys.into_iter().rev() {
            let db = broker.keyspace.db(db_index);
            if !db.exists(&key, now) {
                db.put(&key, entry, now);
                ready.push(db_index, &key);
            }
        }
        for db in broker.keyspace.dbs() {
            db.clear_fences();
        }
        self.hiding.store(false, Ordering::Release);
        self.covered.store(0, Ordering::Relaxed);
        // Blocked readers and routes get the entries now that they are written.
        broker.serve_ready(&mut ready);
        self.hiding_tx.send_replace(false);
        tracing::info!("changes the write-ahead log has now written are shown to readers");
    }
}
