//! [`EmbeddedStore`]: the runtimes' [`Store`] over the broker's own keyspace and log.
//!
//! A batch commit writes one log record holding all of it, so recovery replays the whole
//! batch or none of it. A batch whose outputs go to one stream commits beside the clients'
//! commands, holding one key's lock at a time (the source's position is checked, the outputs
//! appended and the record logged under the destination's lock, then the position moved);
//! outputs to several streams hold the keyspace gate exclusively, so no command runs between
//! the first output and the position. A policy's decisions are one log record too, applied
//! under the gate (exclusively when a dead-letter stream is written, so the append and the
//! acknowledgement are one step for every client). Either way, the keys written are marked
//! ready and served before the gate is released. A policy's record is handed to the OS after;
//! a batch's within about a millisecond, by the route's [`Store::write_behind`] unless a
//! client's reply writes it first.
//!
//! # Layout
//! - [`batch`]: reading a route's batch and committing it.
//! - [`claims`]: a group's pending entries for a policy, and applying its decisions.

mod batch;
mod claims;

use std::sync::Arc;

use bytes::Bytes;
use sluice_plugin_host::Batch;
use sluice_streams::{AddId, NodeLimits, Stream, StreamId};

use super::{BatchCommit, Committed, GroupView, PolicyApplied, PolicyCommit, Store};
use crate::Broker;
use crate::keyspace::Db;
use crate::persist::Record;
use crate::routes::spec::RouteSpec;

/// The store over `broker`'s keyspace (database 0).
#[derive(Debug)]
pub struct EmbeddedStore {
    broker: Arc<Broker>,
}

impl EmbeddedStore {
    /// The store of `broker`.
    pub fn new(broker: Arc<Broker>) -> Self {
        EmbeddedStore { broker }
    }
}

impl Store for EmbeddedStore {
    fn writable(&self) -> bool {
        self.broker.journal.wal().is_none_or(|wal| !wal.failed())
    }

    fn write_behind(&self) {
        self.broker.journal.write_behind();
    }

    fn route_sources(&self, spec: &RouteSpec) -> Vec<Bytes> {
        let mut keys = Vec::new();
        self.broker
            .keyspace
            .db(0)
            .for_each(self.broker.now_ms(), |key, _, _| {
                if spec.is_source(key) {
                    keys.push(Bytes::copy_from_slice(key));
                }
            });
        keys
    }

    fn create_positions(&self, spec: &RouteSpec) {
        batch::create_positions(&self.broker, spec);
    }

    fn read_batch(
        &self,
        source: &[u8],
        group: &[u8],
        max: usize,
        batch: &mut Batch,
    ) -> Option<Option<StreamId>> {
        batch::read(&self.broker, source, group, max, batch)
    }

    fn commit_batch(&self, commit: &BatchCommit<'_>) -> Committed {
        batch::commit(&self.broker, commit)
    }

    fn group_view(&self, stream: &[u8], group: &[u8]) -> Option<GroupView> {
        claims::view(&self.broker, stream, group)
    }

    fn apply_decisions(&self, commit: &PolicyCommit<'_>) -> PolicyApplied {
        claims::apply(&self.broker, commit)
    }
}

/// Appends `fields` to `key` (creating the stream) with a new ID, and logs it as `XADD key
/// <id> fields…`. Call with the gate held.
fn append_logged(
    db: &Db,
    record: &mut Record,
    key: &Bytes,
    fields: &[&[u8]],
    now: u64,
    limits: NodeLimits,
) -> Result<StreamId, String> {
    let added = db.write_or_create_as(key, now, |stream: &mut Stream, created| {
        (stream.add(AddId::Auto, fields, now, limits), created)
    });
    match added.map_err(|e| e.to_string())? {
        (Ok(id), _) => {
            record.begin(3 + fields.len()).arg(b"XADD").arg(key).id(id);
            for f in fields {
                record.arg(f);
            }
            Ok(id)
        }
        (Err(e), created) => {
            if created {
                // Nothing went in: leave no empty stream behind.
                db.remove(key, now);
            }
            Err(e.to_string())
        }
    }
}
