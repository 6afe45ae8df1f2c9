//! Claim policies end to end: their decisions ([`decisions`]), `SLUICE POLICIES` and reloads
//! ([`admin`]), failing plugins ([`faults`]), restarts ([`restart`]), NACKed entries
//! ([`nacks`]), and shared helpers
//! ([`support`]).

mod admin;
mod decisions;
mod faults;
mod nacks;
mod restart;
pub mod support;
