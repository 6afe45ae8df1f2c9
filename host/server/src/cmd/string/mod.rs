//! String commands: values set and read whole (`SET`, `GET`, `MSET`…), counters (`INCR`…),
//! and parts of a value (`APPEND`, `GETRANGE`…).
//!
//! # Layout
//! - [`get`] — `GET`, `GETDEL`, `GETEX`, `MGET`.
//! - [`set`] — `SET`, `SETNX`, `SETEX`, `PSETEX`, `GETSET`, `MSET`, `MSETNX`.
//! - [`counter`] — `INCR`, `INCRBY`, `DECR`, `DECRBY`, `INCRBYFLOAT`.
//! - [`range`] — `APPEND`, `STRLEN`, `GETRANGE`, `SETRANGE`.
//! - [`expiry`] — the `EX`/`PX`/`EXAT`/`PXAT`/`KEEPTTL`/`PERSIST` options.
//! - [`float`] — `INCRBYFLOAT`'s arithmetic, as Redis prints it.

pub mod counter;
pub mod expiry;
pub mod float;
pub mod get;
pub mod range;
pub mod set;
