//! Generic key commands, applied to keys of every type.
//!
//! Replies and error texts are Redis 7.2's. Keyspace hits and misses (`INFO stats`) are
//! counted where Redis counts them: the read lookups of `EXISTS`, `TOUCH`, `TYPE`,
//! `TTL`/`PTTL` and `SCAN … TYPE`; never by writes, `KEYS` or a plain `SCAN`.
//!
//! # Layout
//! - [`del`] — `DEL`, `UNLINK`.
//! - [`exists`] — `EXISTS`, `TOUCH`.
//! - [`key_type`] — `TYPE`.
//! - [`scan`] — `KEYS`, `SCAN`.
//! - [`rename`] — `RENAME`.
//! - [`copy`] — `COPY`.
//! - [`dump`] — `DUMP`, `RESTORE`, in Redis's payload format.
//! - [`object`] — `OBJECT ENCODING|FREQ|REFCOUNT|HELP`.
//! - [`expire`] — `EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT`, `TTL`, `PTTL`, `PERSIST`.

pub mod copy;
pub mod del;
pub mod dump;
pub mod exists;
pub mod expire;
pub mod key_type;
pub mod object;
pub mod rename;
pub mod scan;
