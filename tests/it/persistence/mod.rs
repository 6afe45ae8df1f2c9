//! Durability: the log and snapshots across restarts ([`log`]), and data folders written by
//! older versions ([`fixtures`]).

mod disk_full;
mod disk_full_reads;
mod fixtures;
mod log;
mod nack;
mod redis8;
