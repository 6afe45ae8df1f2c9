//! The crate's one error type, [`StreamError`].
//!
//! Every variant's `Display` is Redis 7.2's exact error text without the leading `-`, so the
//! server can reply with `-{err}` and clients that match on error strings keep working.

use thiserror::Error;

/// Why a stream operation was refused. `Display` is the Redis reply text (without `-`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum StreamError {
    /// An ID argument is not `<ms>[-<seq>]` (or a special form where one is allowed).
    #[error("ERR Invalid stream ID specified as stream command argument")]
    InvalidId,
    /// XADD with an ID that is not greater than the stream's last ID.
    #[error("ERR The ID specified in XADD is equal or smaller than the target stream top item")]
    IdTooSmall,
    /// XADD with the explicit ID `0-0`.
    #[error("ERR The ID specified in XADD must be greater than 0-0")]
    IdZero,
    /// XADD on a stream whose last ID is already `18446744073709551615-18446744073709551615`.
    #[error("ERR The stream has exhausted the last possible ID, unable to add more items")]
    IdExhausted,
    /// An exclusive start bound `(<id>` that cannot be incremented (it is the maximum ID).
    #[error("ERR invalid start ID for the interval")]
    InvalidStartInterval,
    /// An exclusive end bound `(<id>` that cannot be decremented (it is `0-0`).
    #[error("ERR invalid end ID for the interval")]
    InvalidEndInterval,
    /// XSETID below the last live entry.
    #[error("ERR The ID specified in XSETID is smaller than the target stream top item")]
    SetIdSmallerThanTop,
    /// XSETID ENTRIESADDED below the stream's current length.
    #[error("ERR The entries_added specified in XSETID is smaller than the target stream length")]
    SetIdEntriesAddedSmall,
    /// XSETID with a MAXDELETEDID greater than the ID being set.
    #[error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")]
    SetIdMaxDeletedTooBig,
    /// XSETID below the stream's current max deleted entry ID.
    #[error("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")]
    SetIdSmallerThanMaxDeleted,
    /// XADD whose field names and values together exceed 1 GiB.
    #[error("ERR Elements are too large to be stored")]
    ElementsTooLarge,
}
