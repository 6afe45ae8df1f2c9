//! Server commands: whole databases, snapshots and shutdown, `INFO`, `CONFIG` and `COMMAND`.
//!
//! # Layout
//! - [`db`] — `DBSIZE`, `FLUSHDB`, `FLUSHALL`, `SWAPDB`.
//! - [`save`] — `SAVE`, `BGSAVE`, `LASTSAVE`, `SHUTDOWN`.
//! - [`info`] — `INFO` and its sections.
//! - [`config_cmd`] — `CONFIG GET|SET|RESETSTAT|HELP` and the parameters they know.
//! - [`memory`] — `MEMORY USAGE|HELP`.
//! - [`command`] — `COMMAND`, `COMMAND COUNT|DOCS|INFO|LIST|HELP`.

pub mod command;
pub mod config_cmd;
pub mod db;
pub mod info;
pub mod memory;
pub mod save;
