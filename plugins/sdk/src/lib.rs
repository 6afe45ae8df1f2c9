//! Guest SDK for Sluice plugins: write a routing rule as a small trait impl, export it with one
//! macro, build it for `wasm32-wasip2`, and the broker runs it as a sandboxed component.
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
//! # Layout
//!
//! - `bindings`: the wit-bindgen output (the one guest-side bindings module).
//! - `export`: the [`Router`] trait, the [`export_router!`] macro and the glue behind it.
//! - `event`: [`Event`], [`Fields`], [`Value`]: views over the packed batch.
//! - `outputs`: [`Outputs`], [`NewFields`]: building the answer.
//! - `config`: [`Config`], the route's key/values.
//! - [`log`]: writing to the broker's log.

#![warn(missing_docs)]

extern crate self as sluice_plugin_sdk;

#[doc(hidden)]
pub mod bindings;
mod config;
mod event;
mod export;
pub mod log;
mod outputs;

pub use config::Config;
pub use event::{EntryId, Event, Fields, FieldsIter, Value};
pub use export::Router;
pub use outputs::{NewFields, Outputs, pack_fields};

/// The `sluice:plugin` WIT package version this SDK builds plugins for.
pub const WIT_VERSION: &str = "0.1.0";

#[doc(hidden)]
pub mod __private {
    pub use crate::export::{Describe, RouterExport};
    pub use wit_bindgen;
}
