//! A small catalog for the ACL's unit tests: a few commands and subcommands with the same
//! names, flags, key positions and categories as the server's table.
//!
//! The ACL does not know the table; these tests build their own catalog from the
//! [`CommandInfo`]s they need. A test beside dispatch (`crate::cmd::dispatch`) checks that each
//! of them matches the real command exactly, so they cannot drift apart.

use std::sync::LazyLock;

use super::catalog::Catalog;
use crate::command_info::flags::*;
use crate::command_info::{CommandInfo, KeyRange};

const NOKEYS: KeyRange = (0, 0, 0);
const KEY1: KeyRange = (1, 1, 1);
const ALLKEYS: KeyRange = (1, -1, 1);
const SUB_KEY: KeyRange = (2, 2, 1);
const CONN: &[&str] = &["fast", "connection"];
const CONN_SLOW: &[&str] = &["slow", "connection"];
const ADMIN_CATS: &[&str] = &["admin", "slow", "dangerous"];
const STREAM_READ: &[&str] = &["read", "stream", "slow"];
const STREAM_WRITE: &[&str] = &["write", "stream", "fast"];

/// The sample commands: `(command, subcommands)`, as the table hands them over.
pub(crate) const COMMANDS: &[(CommandInfo, &[CommandInfo])] = &[
    (
        CommandInfo {
            name: "ping",
            flags: FAST,
            keys: NOKEYS,
            categories: CONN,
        },
        &[],
    ),
    (
        CommandInfo {
            name: "auth",
            flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
            keys: NOKEYS,
            categories: CONN,
        },
        &[],
    ),
    (
        CommandInfo {
            name: "select",
            flags: LOADING | STALE | FAST,
            keys: NOKEYS,
            categories: CONN,
        },
        &[],
    ),
    (
        CommandInfo {
            name: "client",
            flags: 0,
            keys: NOKEYS,
            categories: &[],
        },
        &[
            CommandInfo {
                name: "id",
                flags: NOSCRIPT | LOADING | STALE,
                keys: NOKEYS,
                categories: CONN_SLOW,
            },
            CommandInfo {
                name: "setname",
                flags: NOSCRIPT | LOADING | STALE,
                keys: NOKEYS,
                categories: CONN_SLOW,
            },
        ],
    ),
    (
        CommandInfo {
            name: "config",
            flags: 0,
            keys: NOKEYS,
            categories: &[],
        },
        &[
            CommandInfo {
                name: "get",
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                keys: NOKEYS,
                categories: ADMIN_CATS,
            },
            CommandInfo {
                name: "set",
                flags: ADMIN | NOSCRIPT | LOADING | STALE,
                keys: NOKEYS,
                categories: ADMIN_CATS,
            },
        ],
    ),
    (
        CommandInfo {
            name: "del",
            flags: WRITE | EXCLUSIVE,
            keys: ALLKEYS,
            categories: &["keyspace", "write", "slow"],
        },
        &[],
    ),
    (
        CommandInfo {
            name: "exists",
            flags: READONLY | FAST,
            keys: ALLKEYS,
            categories: &["keyspace", "read", "fast"],
        },
        &[],
    ),
    (
        CommandInfo {
            name: "keys",
            flags: READONLY,
            keys: NOKEYS,
            categories: &["keyspace", "read", "slow", "dangerous"],
        },
        &[],
    ),
    (
        CommandInfo {
            name: "rename",
            flags: WRITE | EXCLUSIVE,
            keys: (1, 2, 1),
            categories: &["keyspace", "write", "slow"],
        },
        &[],
    ),
    (
        CommandInfo {
            name: "xadd",
            flags: WRITE | DENYOOM | FAST,
            keys: KEY1,
            categories: STREAM_WRITE,
        },
        &[],
    ),
    (
        CommandInfo {
            name: "xlen",
            flags: READONLY | FAST,
            keys: KEY1,
            categories: &["read", "stream", "fast"],
        },
        &[],
    ),
    (
        CommandInfo {
            name: "xrange",
            flags: READONLY,
            keys: KEY1,
            categories: STREAM_READ,
        },
        &[],
    ),
    (
        CommandInfo {
            name: "xdel",
            flags: WRITE | FAST,
            keys: KEY1,
            categories: STREAM_WRITE,
        },
        &[],
    ),
    (
        CommandInfo {
            name: "xread",
            flags: READONLY | BLOCKING,
            keys: NOKEYS,
            categories: &["read", "stream", "slow", "blocking"],
        },
        &[],
    ),
    (
        CommandInfo {
            name: "xreadgroup",
            flags: WRITE | BLOCKING,
            keys: NOKEYS,
            categories: &["write", "stream", "slow", "blocking"],
        },
        &[],
    ),
    (
        CommandInfo {
            name: "xgroup",
            flags: 0,
            keys: NOKEYS,
            categories: &[],
        },
        &[CommandInfo {
            name: "create",
            flags: WRITE | DENYOOM,
            keys: SUB_KEY,
            categories: &["write", "stream", "slow"],
        }],
    ),
    (
        CommandInfo {
            name: "xinfo",
            flags: 0,
            keys: NOKEYS,
            categories: &[],
        },
        &[CommandInfo {
            name: "stream",
            flags: READONLY,
            keys: SUB_KEY,
            categories: STREAM_READ,
        }],
    ),
    (
        CommandInfo {
            name: "sluice",
            flags: 0,
            keys: NOKEYS,
            categories: ADMIN_CATS,
        },
        &[
            CommandInfo {
                name: "routes",
                flags: ADMIN | LOADING | STALE,
                keys: NOKEYS,
                categories: ADMIN_CATS,
            },
            CommandInfo {
                name: "reassign",
                flags: WRITE,
                keys: SUB_KEY,
                categories: &["write", "stream", "slow", "admin", "dangerous"],
            },
        ],
    ),
];

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::new(
        COMMANDS
            .iter()
            .map(|(command, subs)| (*command, subs.iter().copied())),
    )
});

/// The sample catalog.
pub(crate) fn catalog() -> &'static Catalog {
    &CATALOG
}
