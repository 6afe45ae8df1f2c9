//! The pieces of command metadata many commands share: the flags, common key positions and
//! ACL category lists. A command file starts with `use crate::cmd::meta::*;` and writes its
//! [`super::Command`] with these names.
//!
//! Nothing here refers to the rest of `cmd`: these are plain values (the flags themselves live
//! in [`crate::command_info`], beside what access control reads).

pub use crate::command_info::KeyRange;
pub use crate::command_info::flags::*;

/// No key arguments.
pub const NOKEYS: KeyRange = (0, 0, 0);
/// One key, the first argument (`XADD key …`).
pub const KEY1: KeyRange = (1, 1, 1);
/// Every argument is a key (`DEL key [key …]`).
pub const ALLKEYS: KeyRange = (1, -1, 1);
/// One key, the first argument after a subcommand's name (`XGROUP CREATE key …`).
pub const SUB_KEY: KeyRange = (2, 2, 1);

/// Fast connection commands (`PING`, `AUTH`).
pub const CONN: &[&str] = &["fast", "connection"];
/// Slow connection commands (`CLIENT …`, `COMMAND …`).
pub const CONN_SLOW: &[&str] = &["slow", "connection"];
/// Fast reads of the keyspace (`EXISTS`, `TTL`).
pub const KEYSPACE_READ: &[&str] = &["keyspace", "read", "fast"];
/// Fast writes to the keyspace (`EXPIRE`, `UNLINK`).
pub const KEYSPACE_WRITE: &[&str] = &["keyspace", "write", "fast"];
/// Slow stream reads (`XRANGE`, `XINFO STREAM`).
pub const STREAM_READ: &[&str] = &["read", "stream", "slow"];
/// Fast stream writes (`XADD`, `XACK`).
pub const STREAM_WRITE: &[&str] = &["write", "stream", "fast"];
/// Fast string writes.
pub const STRING_WRITE: &[&str] = &["write", "string", "fast"];
/// Slow string writes.
pub const STRING_WRITE_SLOW: &[&str] = &["write", "string", "slow"];
/// Fast string reads.
pub const STRING_READ: &[&str] = &["read", "string", "fast"];
/// Slow string reads.
pub const STRING_READ_SLOW: &[&str] = &["read", "string", "slow"];
/// Fast list writes.
pub const LIST_WRITE: &[&str] = &["write", "list", "fast"];
/// Slow list writes.
pub const LIST_WRITE_SLOW: &[&str] = &["write", "list", "slow"];
/// Fast list reads.
pub const LIST_READ: &[&str] = &["read", "list", "fast"];
/// Slow list reads.
pub const LIST_READ_SLOW: &[&str] = &["read", "list", "slow"];
/// Fast hash writes.
pub const HASH_WRITE: &[&str] = &["write", "hash", "fast"];
/// Fast hash reads.
pub const HASH_READ: &[&str] = &["read", "hash", "fast"];
/// Slow hash reads.
pub const HASH_READ_SLOW: &[&str] = &["read", "hash", "slow"];
/// Fast set writes.
pub const SET_WRITE: &[&str] = &["write", "set", "fast"];
/// Fast set reads.
pub const SET_READ: &[&str] = &["read", "set", "fast"];
/// Slow set reads.
pub const SET_READ_SLOW: &[&str] = &["read", "set", "slow"];
/// Blocking list writes (`BLPOP`, `BLMOVE`).
pub const LIST_BLOCKING: &[&str] = &["write", "list", "slow", "blocking"];
/// Slow reads of the keyspace (`KEYS`, `SCAN`).
pub const KEYSPACE_READ_SLOW: &[&str] = &["keyspace", "read", "slow"];
/// Slow writes to the keyspace (`DEL`, `RENAME`).
pub const KEYSPACE_WRITE_SLOW: &[&str] = &["keyspace", "write", "slow"];
/// Fast transaction commands (`MULTI`, `WATCH`).
pub const TRANSACTION: &[&str] = &["fast", "transaction"];
/// Administrative commands (`CONFIG SET`, `SAVE`, `ACL SETUSER`).
pub const ADMIN_CATS: &[&str] = &["admin", "slow", "dangerous"];
