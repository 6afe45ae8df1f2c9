//! The one host-side bindings module: `wasmtime::component::bindgen!` output for the `router`
//! world of `wit/sluice.wit`.
//!
//! Everything generated stays in here; the rest of the crate converts to and from its own types
//! so that a change of the WIT shows up as compile errors in exactly one place.
//!
//! The crate calls exports through the per-interface `GuestIndices` rather than the per-world
//! structs, so that `lifecycle` (which every world exports) is loaded by one piece of code.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "router",
});

pub(crate) use exports::sluice::plugin::lifecycle::{
    Guest as Lifecycle, GuestIndices as LifecycleIndices,
};
pub(crate) use exports::sluice::plugin::routing::{
    Guest as Routing, GuestIndices as RoutingIndices, Output as RawOutput, Routed as RawRouted,
};
pub(crate) use sluice::plugin::log::Level;
