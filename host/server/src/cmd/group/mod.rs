//! Consumer-group commands: creating and changing groups, reading on a consumer's behalf,
//! and the pending entries list (acknowledging, inspecting, claiming).
//!
//! # Layout
//! - [`xgroup`] — `XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP`.
//! - [`xreadgroup`] — `XREADGROUP`, blocking or not.
//! - [`xack`] — `XACK`.
//! - [`xnack`] — `XNACK` (Redis 8.8).
//! - [`xackdel`] — `XACKDEL` (Redis 8.2: acknowledge and delete).
//! - [`xpending`] — `XPENDING`.
//! - [`xclaim`] — `XCLAIM`, `XAUTOCLAIM`.

pub mod xack;
pub mod xackdel;
pub mod xclaim;
pub mod xgroup;
pub mod xnack;
pub mod xpending;
pub mod xreadgroup;
