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

const fn info(
    name: &'static str,
    flags: u32,
    keys: KeyRange,
    categories: &'static [&'static str],
) -> CommandInfo {
    CommandInfo {
        name,
        flags,
        keys,
        categories,
    }
}

/// The sample commands: `(command, subcommands)`, as the table hands them over.
pub(crate) const COMMANDS: &[(CommandInfo, &[CommandInfo])] = &[
    (info("ping", FAST, NOKEYS, CONN), &[]),
    (
        info(
            "auth",
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
            NOKEYS,
            CONN,
        ),
        &[],
    ),
    (info("select", LOADING | STALE | FAST, NOKEYS, CONN), &[]),
    (
        info("client", 0, NOKEYS, &[]),
        &[
            info("id", NOSCRIPT | LOADING | STALE, NOKEYS, CONN_SLOW),
            info("setname", NOSCRIPT | LOADING | STALE, NOKEYS, CONN_SLOW),
        ],
    ),
    (
        info("config", 0, NOKEYS, &[]),
        &[
            info(
                "get",
                ADMIN | NOSCRIPT | LOADING | STALE,
                NOKEYS,
                ADMIN_CATS,
            ),
            info(
                "set",
                ADMIN | NOSCRIPT | LOADING | STALE,
                NOKEYS,
                ADMIN_CATS,
            ),
        ],
    ),
    (
        info(
            "del",
            WRITE | EXCLUSIVE,
            ALLKEYS,
            &["keyspace", "write", "slow"],
        ),
        &[],
    ),
    (
        info(
            "exists",
            READONLY | FAST,
            ALLKEYS,
            &["keyspace", "read", "fast"],
        ),
        &[],
    ),
    (
        info(
            "keys",
            READONLY,
            NOKEYS,
            &["keyspace", "read", "slow", "dangerous"],
        ),
        &[],
    ),
    (
        info(
            "rename",
            WRITE | EXCLUSIVE,
            (1, 2, 1),
            &["keyspace", "write", "slow"],
        ),
        &[],
    ),
    (
        info("xadd", WRITE | DENYOOM | FAST, KEY1, STREAM_WRITE),
        &[],
    ),
    (
        info("xlen", READONLY | FAST, KEY1, &["read", "stream", "fast"]),
        &[],
    ),
    (info("xrange", READONLY, KEY1, STREAM_READ), &[]),
    (info("xdel", WRITE | FAST, KEY1, STREAM_WRITE), &[]),
    (
        info(
            "xread",
            READONLY | BLOCKING,
            NOKEYS,
            &["read", "stream", "slow", "blocking"],
        ),
        &[],
    ),
    (
        info(
            "xreadgroup",
            WRITE | BLOCKING,
            NOKEYS,
            &["write", "stream", "slow", "blocking"],
        ),
        &[],
    ),
    (
        info("xgroup", 0, NOKEYS, &[]),
        &[info(
            "create",
            WRITE | DENYOOM,
            SUB_KEY,
            &["write", "stream", "slow"],
        )],
    ),
    (
        info("xinfo", 0, NOKEYS, &[]),
        &[info("stream", READONLY, SUB_KEY, STREAM_READ)],
    ),
    (
        info("sluice", 0, NOKEYS, ADMIN_CATS),
        &[
            info("routes", ADMIN | LOADING | STALE, NOKEYS, ADMIN_CATS),
            info(
                "reassign",
                WRITE,
                SUB_KEY,
                &["write", "stream", "slow", "admin", "dangerous"],
            ),
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
