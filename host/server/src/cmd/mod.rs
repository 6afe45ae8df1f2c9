//! Commands: what the server understands, one module per command family, and dispatch from
//! arguments to a command's handler.
//!
//! Each command is a [`Command`] constant beside its handler, carrying its own metadata
//! (arity, flags, key positions, ACL categories, docs); [`table::COMMANDS`] lists them. A
//! handler parses its own arguments from an [`Args`] cursor and returns an [`Outcome`]: a
//! reply value, or a request to block. Handlers never touch the socket. Arity and
//! subcommands are checked by [`dispatch`], generically, with Redis's error texts.
//!
//! # Layout
//! - [`meta`] — the flags, key positions and category lists commands share.
//! - [`table`] — the list of every command, in the order `COMMAND` reports them.
//! - [`dispatch`] — lookup, arity checks, subcommands, the ACL catalog.
//! - [`help`] — the `… HELP` reply every container shares.
//! - [`conn`] — `PING`, `ECHO`, `HELLO`, `AUTH`, `SELECT`, `QUIT`, `RESET`, `CLIENT …`, and
//!   `MULTI`/`EXEC`/`DISCARD`'s metadata.
//! - [`keys`] — generic key commands: `DEL`, `EXISTS`, `TYPE`, `KEYS`, `SCAN`, `RENAME`, expiry.
//! - [`stream`] — `XADD`, `XLEN`, `XRANGE`, `XREVRANGE`, `XDEL`, `XTRIM`, `XSETID`, `XREAD`,
//!   `XINFO …`, and the stream argument parsing they share.
//! - [`string`] — `GET`, `SET`, `MSET`, counters, `APPEND`, `GETRANGE`…
//! - [`list`] — `LPUSH`, `RPOP`, `LRANGE`, `LPOS`, `LMOVE`, the blocking `BLPOP`, `BRPOP`,
//!   `BLMOVE`…
//! - [`hash`] — `HSET`, `HGET`, `HGETALL`, `HDEL`, `HINCRBY`, `HRANDFIELD`, `HSCAN`…
//! - [`set`] — `SADD`, `SREM`, `SMEMBERS`, `SPOP`, `SMOVE`, `SINTER`, `SSCAN`…
//! - [`collection`] — what hashes and sets share: cursor walks and random picks.
//! - [`group`] — consumer groups: `XGROUP …`, `XREADGROUP`, `XACK`, `XPENDING`, `XCLAIM`,
//!   `XAUTOCLAIM`.
//! - [`server`] — `DBSIZE`, `FLUSHDB`, `FLUSHALL`, `SWAPDB`, `SAVE`…`SHUTDOWN`, `INFO`,
//!   `CONFIG …`, `COMMAND …`.
//! - [`acl`] — `ACL …`.
//! - [`sluice`] — Sluice's own `SLUICE …`.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use sluice_resp::{Args, Protocol, Reply};

use crate::command_info::{CommandInfo, KeyRange};
use crate::connection::ClientState;
use crate::error::{self, CmdError};
use crate::shared::Shared;
use sluice_broker::keyspace::Db;
use sluice_broker::persist::Record;
use sluice_broker::ready::BlockRequest;

pub mod acl;
pub mod collection;
pub mod conn;
pub mod dispatch;
pub mod group;
pub mod hash;
pub mod help;
pub mod keys;
pub mod list;
pub mod meta;
pub mod server;
pub mod set;
pub mod sluice;
pub mod stream;
pub mod string;
pub mod table;

pub use crate::command_info::flags;
pub use dispatch::{Resolved, catalog, execute, lookup, resolve};

/// What running a command produced.
#[derive(Debug)]
pub enum Outcome {
    /// Send this reply.
    Reply(Reply),
    /// Wait for a key to change (`XREAD … BLOCK`).
    Block(BlockRequest),
    /// Send this reply, then close the connection (`QUIT`).
    Close(Reply),
    /// Close the connection without a reply (`SHUTDOWN`).
    Disconnect,
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Self {
        Outcome::Reply(reply)
    }
}

/// What a handler returns.
pub type CmdResult = Result<Outcome, CmdError>;

/// A command's handler: its arguments (positioned after the name, or after the subcommand
/// name for subcommands) and the context it runs in.
pub type Handler = fn(&mut Ctx<'_>, &mut Args) -> CmdResult;

/// Everything a running command may use.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// Server-wide state.
    pub shared: &'a Shared,
    /// The calling connection.
    pub client: &'a mut ClientState,
    /// The time this command runs at, Unix ms (one reading per command, as Redis does).
    pub now_ms: u64,
    /// True inside `EXEC`: blocking commands answer at once instead of waiting.
    pub in_exec: bool,
}

impl Ctx<'_> {
    /// The client's selected database.
    pub fn db(&self) -> &Db {
        self.shared.broker.keyspace.db(self.client.db)
    }

    /// The connection's protocol version.
    pub fn proto(&self) -> Protocol {
        self.client.proto
    }

    /// Logs a change to the write-ahead log: `build` adds the commands that replay it. Call it
    /// while holding the lock of what changed (inside `Db::write`), or from a command that
    /// runs with the keyspace gate held exclusively.
    pub fn journal(&self, build: impl FnOnce(&mut Record)) {
        sluice_broker::persist::log(&self.shared.broker, self.client.db, build);
    }

    /// Marks `key` of the client's database ready: once the command (or `EXEC`) has finished,
    /// the clients blocked on it are served and the routes reading it woken. Call it for
    /// every change a blocked read could see: appends, deletions, group changes.
    pub fn key_ready(&mut self, key: &Bytes) {
        // Skipped when no route reads the database and nobody blocks: the change is already
        // made, so a client blocking from now on sees it when its registration re-checks.
        if self.shared.broker.listens(self.client.db) {
            self.client.ready.push(self.client.db, key);
        }
    }

    /// [`Ctx::key_ready`] for a key named by one of the request's arguments (`key`, a slice
    /// of `args`): the name shares the request's buffer, and is made only if anyone listens.
    pub fn arg_key_ready(&mut self, args: &Args, key: &[u8]) {
        if self.shared.broker.listens(self.client.db) {
            self.client.ready.push(self.client.db, &args.to_bytes(key));
        }
    }

    /// Counts a key lookup for `INFO stats` (`keyspace_hits`/`keyspace_misses`).
    pub fn count_lookup(&self, hit: bool) {
        let stats = &self.shared.stats;
        let counter = if hit {
            &stats.keyspace_hits
        } else {
            &stats.keyspace_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One command (or subcommand) the server knows, declared beside its handler.
#[derive(Debug)]
pub struct Command {
    /// Lower-case name; a subcommand's is its own word (`setname`).
    pub name: &'static str,
    /// Redis arity: `n` exactly n arguments including the name(s), `-n` at least n.
    pub arity: i32,
    /// Bits from [`flags`].
    pub flags: u32,
    /// Position of the first key argument (0 = none), of the last (-1 = last argument), step.
    pub keys: KeyRange,
    /// ACL categories without the `@`.
    pub categories: &'static [&'static str],
    /// Documentation group (`stream`, `generic`, `connection`, `server`, `transactions`).
    pub group: &'static str,
    /// Redis version that introduced it.
    pub since: &'static str,
    /// One-line summary for `COMMAND DOCS`.
    pub summary: &'static str,
    /// Argument syntax, e.g. `key [NOMKSTREAM] id field value [field value ...]`.
    pub syntax: &'static str,
    /// The handler; unused for containers with subcommands.
    pub handler: Handler,
    /// Subcommands (`CLIENT SETNAME`…); empty for plain commands.
    pub subcommands: &'static [Command],
}

impl Command {
    /// True if `argc` arguments satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// True if the command has `flag`.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// What access control needs to know of it.
    pub fn info(&self) -> CommandInfo {
        CommandInfo {
            name: self.name,
            flags: self.flags,
            keys: self.keys,
            categories: self.categories,
        }
    }
}

/// The handler of containers, never called: [`resolve`] always picks a subcommand.
pub fn container(_: &mut Ctx<'_>, _: &mut Args) -> CmdResult {
    Err(CmdError(error::CONTAINER_WITHOUT_SUBCOMMAND.into()))
}

/// Replies `OK`.
pub fn ok() -> CmdResult {
    Ok(Outcome::Reply(Reply::Ok))
}
