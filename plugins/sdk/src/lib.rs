//! Guest SDK for Sluice plugins: write a routing rule or a claim policy as a small trait impl,
//! export it with one macro, build it for `wasm32-wasip2`, and the broker runs it as a
//! sandboxed component.
//!
//! ```ignore
//! use sluice_plugin_sdk::{Config, Event, Outputs, Router, export_router};
//!
//! struct EuOnly { destination: String }
//!
//! impl Router for EuOnly {
//!     fn init(config: &Config) -> Result<Self, String> {
//!         Ok(Self { destination: config.require("destination")?.to_owned() })
//!     }
//!
//!     fn route(&mut self, event: &Event<'_>, out: &mut Outputs) -> Result<(), String> {
//!         if event.str("region") == Some("eu") {
//!             out.forward(&self.destination);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_router!(EuOnly);
//! ```
//!
//! The host hands the plugin events in batches, packed in one byte list; [`Event`] reads
//! fields in place (by name, as bytes, text or numbers) and [`Outputs`] records answers in the
//! compact form the WIT asks for. See `plugins/README.md` for the walk from a new crate to a
//! deployed route.
//!
//! A claim policy ([`ClaimPolicy`], [`export_claim_policy!`]) is shown a consumer group's
//! pending entries and consumers as an [`Evaluation`] and answers per entry through
//! [`Decisions`]: reassign, dead-letter, acknowledge, or leave it.
//!
//! ```ignore
//! use sluice_plugin_sdk::{Balancer, ClaimPolicy, Config, Decisions, Evaluation};
//!
//! struct ReassignAfter { idle_ms: u64 }
//!
//! impl ClaimPolicy for ReassignAfter {
//!     fn init(config: &Config) -> Result<Self, String> {
//!         Ok(Self { idle_ms: config.parse("idle_ms")?.unwrap_or(30_000) })
//!     }
//!
//!     fn evaluate(&mut self, eval: &Evaluation, out: &mut Decisions) -> Result<(), String> {
//!         let mut alive = Balancer::alive(eval, 60_000);
//!         for entry in eval.pending().filter(|e| e.idle_ms() >= self.idle_ms) {
//!             if let Some(to) = alive.pick_for(entry) {
//!                 out.reassign(entry, to);
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! sluice_plugin_sdk::export_claim_policy!(ReassignAfter);
//! ```
//!
//! # Layout
//!
//! - `bindings`: the wit-bindgen output for the `router` world (the `claim-policy` world's is
//!   the crate `sluice-plugin-sdk-policy-bindings`, see there why).
//! - `export`: the [`Router`] trait, the [`export_router!`] macro and the glue behind it.
//! - `policy`: the [`ClaimPolicy`] trait, the [`export_claim_policy!`] macro and their glue.
//! - `evaluation`: [`Evaluation`], [`PendingEntry`], [`Consumer`]: what a policy is shown.
//! - `decisions`: [`Decisions`], [`Action`]: what it answers.
//! - `balance`: [`Balancer`], the least-loaded consumer to reassign to.
//! - `event`: [`Event`], [`Fields`], [`Value`]: views over the packed batch.
//! - `outputs`: [`Outputs`], [`NewFields`]: building the answer.
//! - `config`: [`Config`], the route's key/values.
//! - [`log`]: writing to the broker's log.

#![warn(missing_docs)]

extern crate self as sluice_plugin_sdk;

mod balance;
#[doc(hidden)]
pub mod bindings;
mod config;
mod decisions;
mod evaluation;
mod event;
mod export;
pub mod log;
mod outputs;
mod policy;

pub use balance::Balancer;
pub use config::Config;
pub use decisions::{Action, Decisions, EntryRef};
pub use evaluation::{Consumer, Evaluation, Nack, PendingEntry};
pub use event::{EntryId, Event, Fields, FieldsIter, Value};
pub use export::Router;
pub use outputs::{NewFields, Outputs, pack_fields};
pub use policy::ClaimPolicy;

/// The `sluice:plugin` WIT package version this SDK builds plugins for: read from
/// `wit/sluice.wit` when the SDK is built (see `build.rs`).
pub const WIT_VERSION: &str = env!("SLUICE_WIT_VERSION");

#[doc(hidden)]
pub mod __private {
    pub use crate::export::{Describe, RouterExport};
    pub use crate::policy::PolicyExport;
    pub use sluice_plugin_sdk_policy_bindings as policy_bindings;
    pub use wit_bindgen;
}
