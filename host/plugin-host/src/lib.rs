//! The wasmtime embedding for Sluice plugins: compile components, check the WIT version they
//! were built for, instantiate them in a sandbox with memory and time limits, call them with
//! batches of events, and restart them when they trap.
//!
//! No sockets, no async runtime: calls are synchronous and bounded by a per-call deadline, so
//! the server runs them on a thread of its choosing.
//!
//! Two worlds: a router ([`RouterInstance`]) sees batches of events and answers with outputs; a
//! claim policy ([`PolicyInstance`]) sees a consumer group's pending entries and consumers and
//! answers with a [`PolicyDecision`] per entry it acts on.
//!
//! ```no_run
//! # fn main() -> Result<(), sluice_plugin_host::PluginError> {
//! use sluice_plugin_host::{EntryId, EventRef, Limits, OutputFields, PluginHost};
//! let host = PluginHost::new(Limits::default())?;
//! # let bytes: Vec<u8> = vec![];
//! let compiled = host.compile(&bytes)?; // off the hot path
//! let config = [("field".to_owned(), "region".to_owned()), ("equals".to_owned(), "eu".to_owned())];
//! let mut route = host.instantiate_router(&compiled, "eu-orders", &config)?;
//! let fields: &[&[u8]] = &[b"region", b"eu"];
//! let routed = route.route("orders", &[EventRef { id: EntryId { ms: 1, seq: 0 }, fields }])?;
//! for out in routed.outputs() {
//!     let _ = (out.event, out.destination, matches!(out.fields, OutputFields::Same));
//! }
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `host`: [`PluginHost`] (the engine, linker and epoch ticker) and [`CompiledPlugin`].
//! - `version`: the WIT package version spoken ([`WIT_VERSION`]) and the semver rule.
//! - `supervised`: one instance of any world: its store, limits, deadline and restart after a
//!   trap; [`PluginInfo`].
//! - `router`: [`RouterInstance`], a route's plugin.
//! - `policy`: [`PolicyInstance`], a claim policy's plugin.
//! - `claims`: [`PendingInfo`], [`ConsumerInfo`] in, [`PolicyDecision`] out, checked.
//! - `batch`: [`Batch`], events packed in the layout the WIT documents.
//! - `routed`: [`Routed`], the plugin's answer, checked, read through views.
//! - `sandbox`: the store's data: an empty WASI context, the `log` import, the limiter.
//! - `limits`: [`Limits`] and the memory limiter.
//! - `bindings`: the generated bindings, and nothing else.
//! - `error`: [`PluginError`].

#![warn(missing_docs)]

mod batch;
mod bindings;
mod claims;
mod error;
mod host;
mod limits;
mod policy;
mod routed;
mod router;
mod sandbox;
mod supervised;
mod version;

pub use batch::{Batch, EntryId, EventRef};
pub use claims::{ConsumerInfo, Nack, PendingInfo, PolicyAction, PolicyDecision};
pub use error::PluginError;
pub use host::{CompiledPlugin, PluginHost};
pub use limits::Limits;
pub use policy::PolicyInstance;
pub use routed::{Decision, Failure, Output, OutputFields, PackedFields, PackedFieldsIter, Routed};
pub use router::RouterInstance;
pub use supervised::PluginInfo;
pub use version::WIT_VERSION;
