//! Hash commands: fields set and removed (`HSET`, `HDEL`…), read (`HGET`, `HGETALL`…),
//! counted (`HINCRBY`…), picked at random (`HRANDFIELD`) and walked (`HSCAN`).
//!
//! A missing key reads as an empty hash; a hash a command empties is removed. Each change is
//! logged as the `HSET`/`HDEL` that replays it, under the key's lock.
//!
//! # Layout
//! - [`write`] — `HSET`, `HMSET`, `HSETNX`, `HDEL`.
//! - [`read`] — `HGET`, `HMGET`, `HEXISTS`, `HSTRLEN`, `HLEN`, `HGETALL`, `HKEYS`, `HVALS`.
//! - [`counter`] — `HINCRBY`, `HINCRBYFLOAT`.
//! - [`random`] — `HRANDFIELD`.
//! - [`scan`] — `HSCAN`.

pub mod counter;
pub mod random;
pub mod read;
pub mod scan;
pub mod write;
