//! Idempotent production (Redis 8.6): `XADD … IDMP pid iid` / `IDMPAUTO pid` remember, per
//! producer, which idempotent IDs (iids) were added and under which entry ID, so a retried
//! XADD returns the original ID and adds nothing. `XCFGSET` sets the window.
//!
//! Each producer keeps its iids in arrival order: at most `maxsize` of them (the oldest
//! evicted first), each for `duration` seconds from when it was added by the server clock
//! (`now_ms`), not by its entry ID — Redis ties expiry to entry IDs (#15836), which breaks
//! with explicit-ms IDs and clock jumps. Expired iids are dropped when their producer is
//! next used; views skip them. A changed configuration clears every producer's history;
//! the lifetime counters (`iids-added`, `iids-duplicates`) survive it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::mem::size_of;

use crate::{Stream, StreamId};

/// Default and bounds of `IDMP-DURATION` (seconds) and `IDMP-MAXSIZE` (iids per producer).
pub const IDMP_DURATION_DEFAULT: u64 = 100;
/// Smallest `IDMP-DURATION`, s.
pub const IDMP_DURATION_MIN: u64 = 1;
/// Largest `IDMP-DURATION`, s (a day).
pub const IDMP_DURATION_MAX: u64 = 86_400;
/// Default `IDMP-MAXSIZE`.
pub const IDMP_MAXSIZE_DEFAULT: u64 = 100;
/// Smallest `IDMP-MAXSIZE`.
pub const IDMP_MAXSIZE_MIN: u64 = 1;
/// Largest `IDMP-MAXSIZE`.
pub const IDMP_MAXSIZE_MAX: u64 = 10_000;

/// A stream's idempotency window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdmpConfig {
    /// How long an iid is remembered, s (1–86400).
    pub duration_s: u64,
    /// How many iids each producer keeps (1–10000).
    pub maxsize: u64,
}

impl Default for IdmpConfig {
    fn default() -> Self {
        IdmpConfig {
            duration_s: IDMP_DURATION_DEFAULT,
            maxsize: IDMP_MAXSIZE_DEFAULT,
        }
    }
}

/// One remembered iid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdmpRecord {
    /// The idempotent ID (for IDMPAUTO, the digest of the fields).
    pub iid: Box<[u8]>,
    /// The entry it added.
    pub id: StreamId,
    /// When it was added, Unix ms (server clock).
    pub added_ms: u64,
}

/// One producer's iids, oldest first, with an index by iid.
#[derive(Clone, Debug, Default)]
pub(crate) struct Producer {
    pub(crate) order: VecDeque<IdmpRecord>,
    pub(crate) index: HashMap<Box<[u8]>, StreamId>,
}

impl Producer {
    fn expire(&mut self, now_ms: u64, duration_s: u64) {
        while let Some(front) = self.order.front() {
            if front.added_ms.saturating_add(duration_s * 1000) > now_ms {
                break;
            }
            self.index.remove(&front.iid);
            self.order.pop_front();
        }
    }

    fn live(&self, now_ms: u64, duration_s: u64) -> usize {
        self.order
            .iter()
            .filter(|r| r.added_ms.saturating_add(duration_s * 1000) > now_ms)
            .count()
    }
}

/// A stream's idempotency state: its window (`None` = the server's defaults), producers and
/// lifetime counters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Idmp {
    pub(crate) config: Option<IdmpConfig>,
    pub(crate) producers: BTreeMap<Box<[u8]>, Producer>,
    pub(crate) iids_added: u64,
    pub(crate) iids_duplicates: u64,
}

/// What `XINFO STREAM` shows of the idempotency state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdmpInfo {
    /// `idmp-duration`, s.
    pub duration_s: u64,
    /// `idmp-maxsize`.
    pub maxsize: u64,
    /// `pids-tracked`: producers with an unexpired iid.
    pub pids_tracked: u64,
    /// `iids-tracked`: unexpired iids, all producers.
    pub iids_tracked: u64,
    /// `iids-added`: iids ever added (lifetime).
    pub iids_added: u64,
    /// `iids-duplicates`: XADDs answered from the window (lifetime).
    pub iids_duplicates: u64,
}

/// The idempotency state as plain values, for snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdmpState {
    /// Explicit window (`XCFGSET`), or `None` for the server's defaults.
    pub config: Option<IdmpConfig>,
    /// Producers in byte order, each with its iids oldest first.
    pub producers: Vec<(Box<[u8]>, Vec<IdmpRecord>)>,
    /// `iids-added`.
    pub iids_added: u64,
    /// `iids-duplicates`.
    pub iids_duplicates: u64,
}

impl Stream {
    fn idmp_mut(&mut self) -> &mut Idmp {
        self.idmp.get_or_insert_with(Box::default)
    }

    /// The window in force: the stream's own, else `defaults` (the server's configuration).
    pub fn idmp_config(&self, defaults: IdmpConfig) -> IdmpConfig {
        self.idmp
            .as_ref()
            .and_then(|i| i.config)
            .unwrap_or(defaults)
    }

    /// XADD IDMP, first half: the entry ID `(pid, iid)` added within the window, if any
    /// (counted as a duplicate). Drops the producer's expired iids.
    pub fn idmp_lookup(
        &mut self,
        pid: &[u8],
        iid: &[u8],
        now_ms: u64,
        defaults: IdmpConfig,
    ) -> Option<StreamId> {
        let duration = self.idmp_config(defaults).duration_s;
        let idmp = self.idmp.as_mut()?;
        let producer = idmp.producers.get_mut(pid)?;
        producer.expire(now_ms, duration);
        let found = producer.index.get(iid).copied();
        if producer.order.is_empty() {
            idmp.producers.remove(pid);
        }
        if found.is_some() {
            idmp.iids_duplicates += 1;
        }
        found
    }

    /// XADD IDMP, second half: remembers that `(pid, iid)` added entry `id` at `now_ms`,
    /// evicting the producer's oldest iids beyond `maxsize`.
    pub fn idmp_record(
        &mut self,
        pid: &[u8],
        iid: &[u8],
        id: StreamId,
        now_ms: u64,
        defaults: IdmpConfig,
    ) {
        let config = self.idmp_config(defaults);
        let idmp = self.idmp_mut();
        let producer = idmp.producers.entry(pid.into()).or_default();
        producer.expire(now_ms, config.duration_s);
        if producer.index.insert(iid.into(), id).is_some() {
            // Re-added after expiry raced with an old copy: keep one record.
            producer.order.retain(|r| &*r.iid != iid);
        }
        producer.order.push_back(IdmpRecord {
            iid: iid.into(),
            id,
            added_ms: now_ms,
        });
        while producer.order.len() as u64 > config.maxsize {
            if let Some(old) = producer.order.pop_front() {
                producer.index.remove(&old.iid);
            }
        }
        idmp.iids_added += 1;
    }

    /// XCFGSET: sets the window's duration and/or size; a value that differs from the one in
    /// force clears every producer's history. Returns whether it did.
    pub fn idmp_configure(
        &mut self,
        duration_s: Option<u64>,
        maxsize: Option<u64>,
        defaults: IdmpConfig,
    ) -> bool {
        let old = self.idmp_config(defaults);
        let new = IdmpConfig {
            duration_s: duration_s.unwrap_or(old.duration_s),
            maxsize: maxsize.unwrap_or(old.maxsize),
        };
        let idmp = self.idmp_mut();
        idmp.config = Some(new);
        if new != old {
            idmp.producers.clear();
            return true;
        }
        false
    }

    /// XINFO STREAM's idempotency fields at `now_ms`.
    pub fn idmp_info(&self, now_ms: u64, defaults: IdmpConfig) -> IdmpInfo {
        let config = self.idmp_config(defaults);
        let mut info = IdmpInfo {
            duration_s: config.duration_s,
            maxsize: config.maxsize,
            pids_tracked: 0,
            iids_tracked: 0,
            iids_added: 0,
            iids_duplicates: 0,
        };
        if let Some(idmp) = &self.idmp {
            for producer in idmp.producers.values() {
                let live = producer.live(now_ms, config.duration_s) as u64;
                info.pids_tracked += u64::from(live > 0);
                info.iids_tracked += live;
            }
            info.iids_added = idmp.iids_added;
            info.iids_duplicates = idmp.iids_duplicates;
        }
        info
    }

    /// The idempotency state as values (empty default when the stream never used it).
    pub fn idmp_state(&self) -> IdmpState {
        let Some(idmp) = &self.idmp else {
            return IdmpState::default();
        };
        IdmpState {
            config: idmp.config,
            producers: idmp
                .producers
                .iter()
                .map(|(pid, p)| (pid.clone(), p.order.iter().cloned().collect()))
                .collect(),
            iids_added: idmp.iids_added,
            iids_duplicates: idmp.iids_duplicates,
        }
    }

    /// Replaces the idempotency state (snapshot load). Records must be oldest first per
    /// producer; a repeated iid keeps its last record.
    pub fn set_idmp_state(&mut self, state: IdmpState) {
        if state == IdmpState::default() {
            self.idmp = None;
            return;
        }
        let mut idmp = Idmp {
            config: state.config,
            iids_added: state.iids_added,
            iids_duplicates: state.iids_duplicates,
            ..Idmp::default()
        };
        for (pid, records) in state.producers {
            let mut producer = Producer::default();
            for record in records {
                if producer
                    .index
                    .insert(record.iid.clone(), record.id)
                    .is_some()
                {
                    producer.order.retain(|r| r.iid != record.iid);
                }
                producer.order.push_back(record);
            }
            idmp.producers.insert(pid, producer);
        }
        self.idmp = Some(Box::new(idmp));
    }

    /// Approximate heap bytes of the idempotency state (each iid is stored twice).
    pub(crate) fn idmp_memory(&self) -> usize {
        self.idmp.as_ref().map_or(0, |idmp| {
            size_of::<Idmp>()
                + idmp
                    .producers
                    .iter()
                    .map(|(pid, p)| {
                        pid.len()
                            + size_of::<Producer>()
                            + p.order
                                .iter()
                                .map(|r| {
                                    2 * r.iid.len()
                                        + size_of::<IdmpRecord>()
                                        + 2 * size_of::<(Box<[u8]>, StreamId)>()
                                })
                                .sum::<usize>()
                    })
                    .sum::<usize>()
        })
    }
}
