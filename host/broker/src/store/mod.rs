//! The seam between the route and claim-policy runtimes and the data they work on.
//!
//! A runtime reads a batch after its position, calls its plugin with no lock held, and hands
//! the answer back as one [`BatchCommit`] (outputs, dead-letters and the new position,
//! applied together or not at all); a claim policy copies its group's pending entries and
//! consumers ([`GroupView`]) and hands back its decisions ([`PolicyCommit`]). [`Store`] is all
//! they may do. [`embedded::EmbeddedStore`] implements it over the broker's own keyspace and
//! log; a store over an external Redis or Valkey cluster is the other implementation the
//! design provides for.
//!
//! # Layout
//! - [`embedded`]: the store over the broker's keyspace, log and ready keys.

pub mod embedded;

use bytes::Bytes;
use sluice_plugin_host::{Batch, ConsumerInfo, PendingInfo, PolicyDecision};
use sluice_streams::StreamId;

use crate::policies::PolicyStats;
use crate::routes::RouteStats;
use crate::routes::spec::RouteSpec;

/// What the route and claim-policy runtimes need of the data, and nothing else.
pub trait Store: Send + Sync {
    /// False while the store refuses writes (the log cannot be written: a full disk): routes
    /// and policies wait, keeping their position, rather than commit.
    fn writable(&self) -> bool {
        true
    }

    /// Makes the batches committed so far survive a crash of the process, if they do not yet.
    /// [`Store::commit_batch`] may leave that for later; a route calls this once its oldest
    /// batch not handed over is a millisecond old, and before it waits for work.
    fn write_behind(&self) {}

    /// Every source stream of `spec` there is now.
    fn route_sources(&self, spec: &RouteSpec) -> Vec<Bytes>;

    /// Gives the route a position (its consumer group) in every source stream that has none:
    /// after the last entry (`start = "$"`) or before the first (`"0"`).
    fn create_positions(&self, spec: &RouteSpec);

    /// Fills `batch` with up to `max` entries after `group`'s position in `source`. Returns
    /// that position (`Some(None)`: the route has none there yet, and the batch holds the
    /// stream from its start), or `None` if the stream is gone.
    fn read_batch(
        &self,
        source: &[u8],
        group: &[u8],
        max: usize,
        batch: &mut Batch,
    ) -> Option<Option<StreamId>>;

    /// Appends a batch's outputs and dead-letters in order and moves the route's position,
    /// as one step; nothing at all if the position is no longer the one the batch was read
    /// after.
    fn commit_batch(&self, commit: &BatchCommit<'_>) -> Committed;

    /// `group`'s pending entries (oldest first) and consumers in `stream`, if both exist.
    /// Consumers whose names are not UTF-8 cannot be passed to a plugin: they and their
    /// entries are left out.
    fn group_view(&self, stream: &[u8], group: &[u8]) -> Option<GroupView>;

    /// Applies a policy's decisions as one step. A decision about an entry that changed since
    /// it was seen (other owner, other delivery count, acknowledged) is not applied.
    fn apply_decisions(&self, commit: &PolicyCommit<'_>) -> PolicyApplied;

    /// How the store commits the route's batches, for `SLUICE ROUTES` (`None`: atomically,
    /// in this broker's own keyspace).
    fn route_mode(&self, _spec: &RouteSpec) -> Option<String> {
        None
    }

    /// The route's runner stops (a reload, a removal, shutdown): hand back what this
    /// instance holds of it.
    fn release(&self, _spec: &RouteSpec) {}

    /// Whether this instance may run the claim policy `name` now (several instances sharing
    /// one store take turns through a lease lasting `ttl_ms`, renewed by each call).
    fn hold_lease(&self, _name: &str, _ttl_ms: u64) -> bool {
        true
    }

    /// Lines for `INFO` (`name:value`) describing the store, if it is not the embedded one.
    fn info(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// One batch of a route to commit.
#[derive(Debug)]
pub struct BatchCommit<'a> {
    /// The source stream.
    pub source: &'a [u8],
    /// The route's consumer group (its position).
    pub group: &'a [u8],
    /// The position the batch was read after (`None`: the route had none there).
    pub read_after: Option<StreamId>,
    /// The source entries the batch holds (an attached store acknowledges each one it
    /// commits).
    pub batch: &'a Batch,
    /// Entries to append, in order.
    pub appends: &'a [Append<'a>],
    /// The appends' fields, one after the other (see [`Append::fields`]).
    pub fields: &'a [&'a [u8]],
    /// The last source entry handled and how many were, if any: the new position.
    pub advance: Option<(StreamId, u64)>,
    /// Events the plugin filtered out (no output).
    pub dropped: u64,
    /// Failed events dropped (`on_error = "skip"`).
    pub skipped: u64,
    /// The route's counters: outputs, dead-letters, dropped and skipped events, events and
    /// batches are counted before anyone sees the new position or the batch's entries.
    pub stats: &'a RouteStats,
}

/// An entry a route appends: an output, or a failed event for its dead-letter stream.
#[derive(Debug)]
pub struct Append<'a> {
    /// The destination stream.
    pub key: &'a [u8],
    /// Where its field, value, field, value… are in [`BatchCommit::fields`].
    pub fields: std::ops::Range<usize>,
    /// The source event it comes from: its index in [`BatchCommit::batch`].
    pub event: usize,
    /// A dead-letter entry (counted apart from outputs).
    pub dead_letter: bool,
}

/// How a batch commit went.
#[derive(Debug, PartialEq, Eq)]
pub enum Committed {
    /// Applied (and counted); these appends a stream refused, with why.
    Done { refused: Vec<String> },
    /// The position moved, or the source is gone: nothing applied; read again.
    Stale,
}

/// A consumer group as a claim policy sees it.
#[derive(Debug, Clone, Default)]
pub struct GroupView {
    /// Pending entries, oldest first.
    pub pending: Vec<PendingInfo>,
    /// The group's consumers.
    pub consumers: Vec<ConsumerInfo>,
}

/// A claim policy's decisions to apply.
#[derive(Debug)]
pub struct PolicyCommit<'a> {
    /// The stream.
    pub stream: &'a [u8],
    /// The consumer group.
    pub group: &'a [u8],
    /// The policy's name (for dead-letter entries).
    pub policy: &'a str,
    /// The pending entries as the plugin saw them.
    pub seen: &'a [PendingInfo],
    /// What it decided, by index into `seen`.
    pub decisions: &'a [PolicyDecision],
    /// The policy's counters: acks, reassignments, dead-letters and stale decisions are
    /// counted before any reader sees their effect.
    pub stats: &'a PolicyStats,
}

/// What applying a policy's decisions did beyond its counters.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PolicyApplied {
    /// Decisions that failed, with why.
    pub errors: Vec<String>,
}
