//! What access control needs to know about a command: its name, flags, key positions and
//! ACL categories, and nothing about how it runs.
//!
//! The command table ([`crate::cmd`]) describes each command in full (arity, docs, handler)
//! and hands the ACL one [`CommandInfo`] per command and subcommand
//! ([`crate::acl::catalog::Catalog::new`]). So the ACL depends on this small module, not on
//! the table or the handlers. The flags live here because both sides read them: the
//! permission check looks at `NO_AUTH` and `WRITE`, dispatch at the rest.

/// Command flags, as `COMMAND INFO` reports them.
pub mod flags {
    /// Changes data (`write`).
    pub const WRITE: u32 = 1;
    /// Only reads data (`readonly`).
    pub const READONLY: u32 = 1 << 1;
    /// Constant or logarithmic time (`fast`).
    pub const FAST: u32 = 1 << 2;
    /// May block the client (`blocking`).
    pub const BLOCKING: u32 = 1 << 3;
    /// An administrative command (`admin`).
    pub const ADMIN: u32 = 1 << 4;
    /// Not allowed in scripts (`noscript`).
    pub const NOSCRIPT: u32 = 1 << 5;
    /// Allowed while the data set loads (`loading`).
    pub const LOADING: u32 = 1 << 6;
    /// Allowed on a replica with stale data (`stale`).
    pub const STALE: u32 = 1 << 7;
    /// Allowed before authentication, and during `MULTI` runs at once instead of queueing.
    pub const NO_AUTH: u32 = 1 << 8;
    /// Needs the keyspace to itself: runs with the gate held exclusively.
    pub const EXCLUSIVE: u32 = 1 << 9;
    /// Not queued by `MULTI` (`EXEC`, `DISCARD`, `MULTI`, `WATCH`, `QUIT`, `RESET`).
    pub const NO_MULTI: u32 = 1 << 10;
    /// Runs without the keyspace gate (`SLUICE RELOAD` waits for route threads that take it).
    pub const UNGATED: u32 = 1 << 11;
    /// Adds data: refused with `OOM` once used memory is past `maxmemory`.
    pub const DENYOOM: u32 = 1 << 12;

    // What `COMMAND INFO` says of a command's keys and output beyond its flags. A write's key
    // spec is `RW update` and a read's `RO access` unless one of these says otherwise.
    /// The write only adds to its key (`SADD`): key spec `RW insert`.
    pub const KEY_INSERT: u32 = 1 << 13;
    /// The write only removes from its key (`SREM`): key spec `RW delete`.
    pub const KEY_DELETE: u32 = 1 << 14;
    /// The write also returns what it read (`HINCRBY`, `SPOP`): key spec `RW access …`.
    pub const KEY_ACCESS: u32 = 1 << 15;
    /// The read returns no data of the key, only facts about it (`SCARD`): key spec `RO`.
    pub const KEY_NO_ACCESS: u32 = 1 << 16;
    /// Moves data from its first key to its second (`SMOVE`): two key specs, the source's
    /// `RW access delete` and the destination's `RW insert`.
    pub const KEY_MOVE: u32 = 1 << 17;
    /// Replies at random (`SPOP`): tip `nondeterministic_output`.
    pub const TIP_RANDOM: u32 = 1 << 18;
    /// Replies in no set order (`SMEMBERS`): tip `nondeterministic_output_order`.
    pub const TIP_UNORDERED: u32 = 1 << 19;

    /// Names of the flags `COMMAND` reports.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (FAST, "fast"),
        (BLOCKING, "blocking"),
        (ADMIN, "admin"),
        (NOSCRIPT, "noscript"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (NO_AUTH, "no_auth"),
    ];
}

/// Redis's legacy key positions: the first key argument (0 = none), the last (-1 = the last
/// argument, -2 the one before…) and the step between keys.
pub type KeyRange = (i32, i32, i32);

/// One command or subcommand, as access control sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// Lower-case name; a subcommand's is its own word (`setname`).
    pub name: &'static str,
    /// Bits from [`flags`].
    pub flags: u32,
    /// Where its keys are, counted in the full argument list (name first; a subcommand's
    /// keys count the container's name too).
    pub keys: KeyRange,
    /// ACL categories without the `@`, as the table lists them.
    pub categories: &'static [&'static str],
}

impl CommandInfo {
    /// True if the command has `flag`.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}
