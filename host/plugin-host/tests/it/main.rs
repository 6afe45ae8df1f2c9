//! plugin-host's integration tests: real components, built from `plugins/` by the first test
//! that needs them (see `common`), run through the public API.
//!
//! - `routes`: the example plugins (filter, transform, router) on real events.
//! - `faults`: the misbehaving fixtures: trap, endless loop, memory hog, incompatible WIT
//!   version, sandbox probe.
//! - `policies`: the example claim policies, and the `policy-misbehave` fixture contained.
//! - `compat`: components built for WIT 0.1.0 (committed fixtures) on this host.

mod cache;
mod common;
mod compat;
mod faults;
mod policies;
mod routes;
