//! Eviction: while used memory is over `maxmemory`, before a command that may add data, keys
//! are removed under `maxmemory-policy` until it is under again, as Redis's
//! `performEvictions` does. When nothing the policy may take is left, the command gets `OOM`.
//!
//! Streams are never evicted (a broker does not drop events it acknowledged): only strings,
//! hashes, lists and sets, and under a `volatile-*` policy only those with a deadline.
//!
//! The approximation is Redis's: each round samples `maxmemory-samples` keys per database,
//! keeps the best candidates seen in a pool of [`POOL_SIZE`], and evicts the best of the
//! pool (scores are read again first, so a key touched since it entered the pool is judged
//! by its new clock). Redis samples a hash table's buckets at random; a sharded map offers no
//! random access, so each database keeps a *reservoir*: up to [`RESERVOIR`] names drawn at
//! random from its evictable keys in one pass, handed out a sample at a time until used up.
//!
//! An evicted key is removed as `DEL` removes it: logged (so it stays gone after a restart),
//! counted in `INFO stats` (`evicted_keys`), and its readers served.

use std::sync::atomic::Ordering;

use parking_lot::Mutex;

use crate::Broker;
use crate::keyspace::{Key, Policy};
use crate::persist::Record;
use crate::ready::ReadyKeys;

/// Candidates kept between rounds (Redis's `EVPOOL_SIZE`).
const POOL_SIZE: usize = 16;
/// Names drawn per database at a time.
const RESERVOIR: usize = 4096;
/// Redis's upper bound for `maxmemory-samples`.
pub const MAX_SAMPLES: u64 = 64;

/// Eviction's state across rounds.
#[derive(Debug, Default)]
pub struct Evictor {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The policy the pool and reservoirs were filled under.
    policy: Policy,
    /// Per database, names not yet sampled.
    reservoirs: Vec<Vec<Key>>,
    /// The best candidates so far: `(score, db, name)`, best last.
    pool: Vec<(u64, usize, Key)>,
    /// Where the random policies look first, round robin over the databases.
    next_db: usize,
}

impl Broker {
    /// Evicts keys under the policy while `over()` says used memory is over the limit;
    /// returns `over()` at the end: true when nothing the policy may evict is left (or the
    /// policy is `noeviction`). Takes the keyspace gate shared: call without holding it.
    pub fn evict_while(&self, over: impl Fn() -> bool) -> bool {
        let policy = self.keyspace.eviction.policy();
        if policy == Policy::NoEviction {
            return over();
        }
        let mut state = self.evictor.state.lock();
        if state.policy != policy || state.reservoirs.len() != self.keyspace.len() {
            *state = State {
                policy,
                reservoirs: vec![Vec::new(); self.keyspace.len()],
                ..State::default()
            };
        }
        let gate = self.keyspace.gate.read();
        let now = self.now_ms();
        let mut ready = ReadyKeys::default();
        let mut last_lsn = None;
        while over() {
            let Some((db, key)) = state.pick(self, now) else {
                break;
            };
            let log = || {
                if self.journal.active() {
                    let mut record = Record::new(db);
                    record.command(&[b"DEL", &key]);
                    last_lsn = self.journal.commit(record).or(last_lsn);
                }
            };
            if let Some(bytes) = self.keyspace.db(db).evict(&key, now, log) {
                self.keyspace.evicted_keys.fetch_add(1, Ordering::Relaxed);
                self.memory.note_freed(bytes as u64);
                ready.push(db, &bytes::Bytes::copy_from_slice(&key));
            }
        }
        drop(state);
        self.serve_ready(&mut ready);
        drop(gate);
        // The removals are in the OS before the command that needed the room runs.
        self.journal.write_background(last_lsn);
        over()
    }
}

impl State {
    /// The next key to evict, or `None` if no database has one the policy may take.
    fn pick(&mut self, broker: &Broker, now: u64) -> Option<(usize, Key)> {
        let samples = broker.keyspace.eviction.samples.load(Ordering::Relaxed);
        let samples = usize::try_from(samples.clamp(1, MAX_SAMPLES)).unwrap_or(5);
        let dbs = self.reservoirs.len();
        loop {
            if matches!(self.policy, Policy::AllKeysRandom | Policy::VolatileRandom) {
                for _ in 0..dbs {
                    let db = self.next_db % dbs;
                    self.next_db = db + 1;
                    if let Some(key) = self.draw(broker, db, 1).pop() {
                        return Some((db, key));
                    }
                }
                return None;
            }
            let mut drew = false;
            for db in 0..dbs {
                for key in self.draw(broker, db, samples) {
                    drew = true;
                    self.pool.retain(|(_, d, k)| (*d, k) != (db, &key));
                    self.pool.push((0, db, key));
                }
            }
            // Scores read now: a key touched since it entered the pool is judged afresh.
            let policy = self.policy;
            self.pool.retain_mut(|(score, db, key)| {
                match broker.keyspace.db(*db).eviction_score(key, policy, now) {
                    Some(s) => {
                        *score = s;
                        true
                    }
                    None => false,
                }
            });
            self.pool.sort_by_key(|(score, _, _)| *score);
            let excess = self.pool.len().saturating_sub(POOL_SIZE);
            self.pool.drain(..excess);
            if let Some((_, db, key)) = self.pool.pop() {
                return Some((db, key));
            }
            if !drew {
                return None;
            }
        }
    }

    /// Up to `n` names from database `db`'s reservoir, refilled first if empty.
    fn draw(&mut self, broker: &Broker, db: usize, n: usize) -> Vec<Key> {
        let Some(reservoir) = self.reservoirs.get_mut(db) else {
            return Vec::new();
        };
        if reservoir.is_empty() {
            let volatile = self.policy.is_volatile();
            *reservoir = broker.keyspace.db(db).sample_evictable(RESERVOIR, volatile);
        }
        let keep = reservoir.len().saturating_sub(n);
        reservoir.split_off(keep)
    }
}
