//! Set commands: members added and removed (`SADD`, `SREM`, `SMOVE`), read (`SMEMBERS`,
//! `SISMEMBER`…), picked at random (`SPOP`, `SRANDMEMBER`), combined (`SINTER`, `SUNION`,
//! `SDIFF`) and walked (`SSCAN`).
//!
//! A missing key reads as an empty set; a set a command empties is removed. Each change is
//! logged as the `SADD`/`SREM` that replays it, under the key's lock; a random choice is
//! logged as what it chose.
//!
//! # Layout
//! - [`write`] — `SADD`, `SREM`, `SMOVE`.
//! - [`read`] — `SMEMBERS`, `SISMEMBER`, `SMISMEMBER`, `SCARD`.
//! - [`random`] — `SPOP`, `SRANDMEMBER`.
//! - [`algebra`] — `SINTER`, `SUNION`, `SDIFF`.
//! - [`scan`] — `SSCAN`.

pub mod algebra;
pub mod random;
pub mod read;
pub mod scan;
pub mod write;
