//! Commands: the table of what the server understands, and dispatch from arguments to a
//! command's handler.
//!
//! A handler parses its own arguments from an [`Args`] cursor and returns an [`Outcome`]: a
//! reply value, or a request to block. Handlers never touch the socket. Arity and
//! subcommands are checked here, generically, with Redis's error texts.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use sluice_resp::{Args, Protocol, Reply};

use crate::connection::ClientState;
use crate::error::{self, CmdError};
use crate::shared::Shared;
use sluice_broker::keyspace::Db;
use sluice_broker::persist::Record;
use sluice_broker::ready::BlockRequest;

pub mod acl;
pub mod command;
pub mod command_docs;
pub mod config_cmd;
pub mod connection;
pub mod help;
pub mod info;
pub mod keys;
pub mod persistence;
pub mod server;
pub mod sluice;
pub mod stream_args;
pub mod syntax;
pub mod table;
pub mod xack;
pub mod xadd;
pub mod xclaim;
pub mod xdel;
pub mod xgroup;
pub mod xinfo;
pub mod xpending;
pub mod xrange;
pub mod xread;
pub mod xreadgroup;
pub mod xsetid;
pub mod xtrim;

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
        self.client.ready.push(self.client.db, key);
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

/// Command flags, as `COMMAND INFO` reports them.
pub mod flags {
    pub const WRITE: u32 = 1;
    pub const READONLY: u32 = 1 << 1;
    pub const FAST: u32 = 1 << 2;
    pub const BLOCKING: u32 = 1 << 3;
    pub const ADMIN: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const LOADING: u32 = 1 << 6;
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

/// One command (or subcommand) the server knows.
#[derive(Debug)]
pub struct Command {
    /// Lower-case name; a subcommand's is its own word (`setname`).
    pub name: &'static str,
    /// Redis arity: `n` exactly n arguments including the name(s), `-n` at least n.
    pub arity: i32,
    /// Bits from [`flags`].
    pub flags: u32,
    /// Position of the first key argument (0 = none), of the last (-1 = last argument), step.
    pub keys: (i32, i32, i32),
    /// ACL categories without the `@`.
    pub categories: &'static [&'static str],
    /// Documentation group (`stream`, `generic`, `connection`, `server`, `transactions`).
    pub group: &'static str,
    /// One-line summary for `COMMAND DOCS`.
    pub summary: &'static str,
    /// Redis version that introduced it.
    pub since: &'static str,
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
}

static BY_NAME: LazyLock<HashMap<&'static [u8], &'static Command>> = LazyLock::new(|| {
    table::COMMANDS
        .iter()
        .map(|c| (c.name.as_bytes(), c))
        .collect()
});

/// Finds a command by name, ignoring ASCII case, without allocating for short names.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut lower = [0u8; 32];
    let buf = lower.get_mut(..name.len())?;
    buf.copy_from_slice(name);
    buf.make_ascii_lowercase();
    BY_NAME.get(&*buf).copied()
}

/// What to run for a request: the command (or subcommand) and its display name for errors.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The container command (`client` for `CLIENT SETNAME`).
    pub command: &'static Command,
    /// The subcommand, if any.
    pub sub: Option<&'static Command>,
}

impl Resolved {
    /// The command whose handler and flags apply.
    pub fn target(&self) -> &'static Command {
        self.sub.unwrap_or(self.command)
    }

    /// Name as Redis reports it: `xadd`, `client|setname`.
    pub fn full_name(&self) -> String {
        match self.sub {
            Some(sub) => format!("{}|{}", self.command.name, sub.name),
            None => self.command.name.to_owned(),
        }
    }
}

/// Finds the command for `args` and checks its arity; the errors are Redis's replies.
pub fn resolve(args: &Args) -> Result<Resolved, CmdError> {
    let all = args.all();
    let command = lookup(args.name()).ok_or_else(|| error::unknown_command(all))?;
    if command.subcommands.is_empty() {
        if !command.arity_ok(all.len()) {
            return Err(error::wrong_arity(command.name));
        }
        return Ok(Resolved { command, sub: None });
    }
    let Some(sub_name) = all.get(1) else {
        // A container that also works alone (`COMMAND`).
        if command.arity_ok(1) {
            return Ok(Resolved { command, sub: None });
        }
        return Err(error::wrong_arity(command.name));
    };
    let sub = command
        .subcommands
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(sub_name))
        .ok_or_else(|| error::unknown_subcommand(command.name, sub_name))?;
    if !sub.arity_ok(all.len()) {
        return Err(error::wrong_arity(&format!(
            "{}|{}",
            command.name, sub.name
        )));
    }
    Ok(Resolved {
        command,
        sub: Some(sub),
    })
}

/// Runs a resolved command. The caller holds the keyspace gate as the command's flags ask.
pub fn execute(ctx: &mut Ctx<'_>, resolved: Resolved, mut args: Args) -> CmdResult {
    if resolved.sub.is_some() {
        // Skip the subcommand name: the cursor starts after the command name.
        let _ = args.next_arg();
    }
    (resolved.target().handler)(ctx, &mut args)
}

/// A handler for containers, never called: `resolve` always picks a subcommand.
pub fn container(_: &mut Ctx<'_>, _: &mut Args) -> CmdResult {
    Err(CmdError::err(
        "internal error: container command called without a subcommand",
    ))
}

/// Replies `OK`.
pub fn ok() -> CmdResult {
    Ok(Outcome::Reply(Reply::Ok))
}
