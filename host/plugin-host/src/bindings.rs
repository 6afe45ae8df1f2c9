//! The one host-side bindings module: `wasmtime::component::bindgen!` output for the `router`
//! and `claim-policy` worlds of `wit/sluice.wit`.
//!
//! Everything generated stays in here; the rest of the crate converts to and from its own types
//! so that a change of the WIT shows up as compile errors in exactly one place.
//!
//! The crate calls exports through the per-interface `GuestIndices` rather than the per-world
//! structs, so that `lifecycle` (which both worlds export) is loaded by one piece of code.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "router",
});

/// The `claim-policy` world. Its `types` and `log` imports are the ones generated above, so one
/// `log` implementation serves both worlds; its own are `pending-state` and its exports.
mod policy {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "claim-policy",
        with: {
            "sluice:plugin/types": super::sluice::plugin::types,
            "sluice:plugin/log": super::sluice::plugin::log,
        },
    });
}

pub(crate) use exports::sluice::plugin::lifecycle::{
    Guest as Lifecycle, GuestIndices as LifecycleIndices,
};
pub(crate) use exports::sluice::plugin::routing::{
    Guest as Routing, GuestIndices as RoutingIndices, Output as RawOutput, Routed as RawRouted,
};
#[cfg(test)]
pub(crate) use policy::exports::sluice::plugin::claiming::DeadLetter as RawDeadLetter;
pub(crate) use policy::exports::sluice::plugin::claiming::{
    Action as RawAction, Consumer as RawConsumer, Decision as RawDecision, Guest as Claiming,
    GuestIndices as ClaimingIndices, PendingEntry as RawPendingEntry,
};
pub(crate) use policy::sluice::plugin::pending_state::{
    Host as PendingStateHost, Nack as RawNack, add_to_linker as add_pending_state_to_linker,
};
pub(crate) use sluice::plugin::log::Level;
pub(crate) use sluice::plugin::types::EntryId as RawEntryId;
