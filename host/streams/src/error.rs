//! The crate's one error type, [`StreamError`].
//!
//! Every variant's `Display` is Redis 7.2's exact error text without the leading `-`, so the
//! server can reply with `-{err}` and clients that match on error strings keep working.
//!
//! Redis's NOGROUP replies quote the key and group names, which a `Copy` enum cannot carry:
//! the engine reports [`StreamError::NoGroup`] and the server builds the command's exact text
//! with [`no_group_text`] (three wordings, see [`NoGroupWording`]). Likewise
//! `ERR Unrecognized XCLAIM option '<opt>'` quotes its argument and is the server's to format.

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

    // Consumer groups.
    /// XGROUP CREATE of a group name the stream already has.
    #[error("BUSYGROUP Consumer Group name already exists")]
    BusyGroup,
    /// The named group does not exist. The text here is generic: the server must reply with
    /// the command's wording from [`no_group_text`], which quotes the key and group names.
    #[error("NOGROUP No such key or consumer group")]
    NoGroup,
    /// XGROUP (other than HELP, and CREATE with MKSTREAM) on a missing key.
    #[error(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want \
         to use the MKSTREAM option to create an empty stream automatically."
    )]
    GroupKeyMissing,
    /// XGROUP CREATE / SETID with `ENTRIESREAD` below -1.
    #[error("ERR value for ENTRIESREAD must be positive or -1")]
    EntriesReadInvalid,
    /// XREADGROUP without `GROUP <group> <consumer>`.
    #[error("ERR Missing GROUP option for XREADGROUP")]
    ReadGroupMissingGroup,
    /// XREAD with `GROUP`.
    #[error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")]
    GroupOptionOnlyInReadGroup,
    /// XREAD with `NOACK`.
    #[error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")]
    NoackOnlyInReadGroup,
    /// XREAD with the `>` ID.
    #[error(
        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> \
         <consumer> option."
    )]
    GreaterIdOnlyInReadGroup,
    /// XREADGROUP with the `$` ID.
    #[error(
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history \
         of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ \
         ID would just return an empty result set."
    )]
    DollarIdInReadGroup,
    /// XREADGROUP with the `+` ID (which only XREAD takes, since Redis 7.4).
    #[error(
        "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history \
         of this consumer by specifying a proper ID, or use the > ID to get new messages. The + \
         ID would just return an empty result set."
    )]
    PlusIdInReadGroup,
    /// XCLAIM's min-idle-time is not an integer.
    #[error("ERR Invalid min-idle-time argument for XCLAIM")]
    ClaimMinIdleInvalid,
    /// XCLAIM `IDLE` value is not an integer.
    #[error("ERR Invalid IDLE option argument for XCLAIM")]
    ClaimIdleInvalid,
    /// XCLAIM `TIME` value is not an integer.
    #[error("ERR Invalid TIME option argument for XCLAIM")]
    ClaimTimeInvalid,
    /// XCLAIM `RETRYCOUNT` value is not an integer.
    #[error("ERR Invalid RETRYCOUNT option argument for XCLAIM")]
    ClaimRetryCountInvalid,
    /// XAUTOCLAIM's min-idle-time is not an integer.
    #[error("ERR Invalid min-idle-time argument for XAUTOCLAIM")]
    AutoClaimMinIdleInvalid,
    /// XAUTOCLAIM `COUNT` outside `1 ..= i64::MAX / 16`.
    #[error("ERR COUNT must be > 0")]
    AutoClaimCountInvalid,
    /// [`ConsumerGroup::reassign`](crate::ConsumerGroup::reassign) of an ID the group PEL
    /// does not hold (acknowledged, or never delivered). Sluice's own: Redis has no such
    /// command.
    #[error("ERR The ID is not pending in the consumer group")]
    NotPending,
}

/// The three ways Redis words a missing key or group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoGroupWording {
    /// XREADGROUP: `NOGROUP No such key '<key>' or consumer group '<group>' in XREADGROUP with
    /// GROUP option`.
    ReadGroup,
    /// XPENDING, XCLAIM, XAUTOCLAIM: `NOGROUP No such key '<key>' or consumer group '<group>'`.
    KeyOrGroup,
    /// XGROUP SETID / CREATECONSUMER / DELCONSUMER, XINFO CONSUMERS:
    /// `NOGROUP No such consumer group '<group>' for key name '<key>'`.
    GroupForKey,
}

/// The exact NOGROUP reply text (without `-`) for `key` and `group`, as Redis formats it:
/// each name ends at its first NUL byte (Redis prints them with `%s`), CR and LF become spaces
/// (Redis keeps error replies on one line), and other non-UTF-8 bytes are replaced.
pub fn no_group_text(wording: NoGroupWording, key: &[u8], group: &[u8]) -> String {
    let key = c_str(key);
    let group = c_str(group);
    let text = match wording {
        NoGroupWording::ReadGroup => format!(
            "NOGROUP No such key '{key}' or consumer group '{group}' in XREADGROUP with GROUP option"
        ),
        NoGroupWording::KeyOrGroup => {
            format!("NOGROUP No such key '{key}' or consumer group '{group}'")
        }
        NoGroupWording::GroupForKey => {
            format!("NOGROUP No such consumer group '{group}' for key name '{key}'")
        }
    };
    text.replace(['\r', '\n'], " ")
}

/// `bytes` up to the first NUL, as text.
fn c_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nogroup_texts_quote_names_like_redis() {
        assert_eq!(
            no_group_text(NoGroupWording::ReadGroup, b"k", b"g"),
            "NOGROUP No such key 'k' or consumer group 'g' in XREADGROUP with GROUP option"
        );
        assert_eq!(
            no_group_text(NoGroupWording::KeyOrGroup, b"k\0tail", b"a\r\nb"),
            "NOGROUP No such key 'k' or consumer group 'a  b'"
        );
        assert_eq!(
            no_group_text(NoGroupWording::GroupForKey, b"k", b"g"),
            "NOGROUP No such consumer group 'g' for key name 'k'"
        );
    }

    #[test]
    fn multiline_texts_have_single_spaces() {
        let text = StreamError::GroupKeyMissing.to_string();
        assert!(text.contains("you may want to use the MKSTREAM"), "{text}");
        assert!(!text.contains("  "), "{text}");
        let text = StreamError::DollarIdInReadGroup.to_string();
        assert!(text.ends_with("The $ ID would just return an empty result set."));
    }
}
