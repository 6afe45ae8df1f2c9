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

use crate::acl::Catalog;
use crate::command_info::CommandInfo;
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

pub use crate::command_info::flags;

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

/// The table as access control sees it: one [`CommandInfo`] per command and subcommand.
static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::new(
        table::COMMANDS
            .iter()
            .map(|c| (c.info(), c.subcommands.iter().map(Command::info))),
    )
});

/// The commands as ACL rules name them and the permission check indexes them.
pub fn catalog() -> &'static Catalog {
    &CATALOG
}

/// Each top-level command by name, resolved without a subcommand.
static BY_NAME: LazyLock<HashMap<&'static [u8], Resolved>> = LazyLock::new(|| {
    table::COMMANDS
        .iter()
        .zip(catalog().top())
        .map(|(command, &index)| {
            let resolved = Resolved {
                command,
                sub: None,
                index,
            };
            (command.name.as_bytes(), resolved)
        })
        .collect()
});

/// Finds a top-level command by name, ignoring ASCII case, without allocating for short
/// names.
fn find(name: &[u8]) -> Option<Resolved> {
    let mut lower = [0u8; 32];
    let buf = lower.get_mut(..name.len())?;
    buf.copy_from_slice(name);
    buf.make_ascii_lowercase();
    BY_NAME.get(&*buf).copied()
}

/// Finds a command by name, ignoring ASCII case, without allocating for short names.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    find(name).map(|resolved| resolved.command)
}

/// What to run for a request: the command (or subcommand) and its display name for errors.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The container command (`client` for `CLIENT SETNAME`).
    pub command: &'static Command,
    /// The subcommand, if any.
    pub sub: Option<&'static Command>,
    /// Its index in the [`catalog`] (the subcommand's, if any): what the ACL checks.
    pub index: usize,
}

impl Resolved {
    /// Finds a top-level command by name, ignoring ASCII case: resolved without a
    /// subcommand, whether or not it has any.
    pub fn top(name: &[u8]) -> Option<Resolved> {
        find(name)
    }

    /// This container's subcommand `name`, ignoring ASCII case.
    pub fn subcommand(self, name: &[u8]) -> Option<Resolved> {
        let subs = self.command.subcommands;
        let position = subs
            .iter()
            .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))?;
        Some(Resolved {
            command: self.command,
            sub: subs.get(position),
            // The catalog lists a container's subcommands right after it, in table order.
            index: self.index + 1 + position,
        })
    }

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
    let top = find(args.name()).ok_or_else(|| error::unknown_command(all))?;
    let command = top.command;
    if command.subcommands.is_empty() {
        if !command.arity_ok(all.len()) {
            return Err(error::wrong_arity(command.name));
        }
        return Ok(top);
    }
    let Some(sub_name) = all.get(1) else {
        // A container that also works alone (`COMMAND`).
        if command.arity_ok(1) {
            return Ok(top);
        }
        return Err(error::wrong_arity(command.name));
    };
    let resolved = top
        .subcommand(sub_name)
        .ok_or_else(|| error::unknown_subcommand(command.name, sub_name))?;
    if !resolved.target().arity_ok(all.len()) {
        return Err(error::wrong_arity(&resolved.full_name()));
    }
    Ok(resolved)
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
    Err(CmdError(error::CONTAINER_WITHOUT_SUBCOMMAND.into()))
}

/// Replies `OK`.
pub fn ok() -> CmdResult {
    Ok(Outcome::Reply(Reply::Ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::catalog::{CATEGORIES, Entry, category_bit};
    use crate::acl::check::key_access;

    #[test]
    fn every_resolved_command_has_its_catalog_index() {
        let catalog = catalog();
        for command in table::COMMANDS {
            let top = Resolved::top(command.name.to_uppercase().as_bytes()).expect("top-level");
            assert!(std::ptr::eq(top.command, command));
            let entry = catalog.get(top.index).expect("indexed");
            assert_eq!(entry.info, command.info());
            assert_eq!(entry.full_name(), top.full_name());
            assert_eq!(catalog.find(command.name.as_bytes()), Some(top.index));
            for sub in command.subcommands {
                let resolved = top
                    .subcommand(sub.name.to_uppercase().as_bytes())
                    .expect("subcommand");
                assert!(resolved.sub.is_some_and(|s| std::ptr::eq(s, sub)));
                let entry = catalog.get(resolved.index).expect("indexed");
                assert_eq!(entry.info, sub.info());
                assert_eq!(entry.full_name(), resolved.full_name());
                assert_eq!(
                    catalog.find(resolved.full_name().as_bytes()),
                    Some(resolved.index)
                );
            }
        }
        assert_eq!(catalog.top().len(), table::COMMANDS.len());
    }

    #[test]
    fn the_acl_test_catalog_matches_the_table() {
        // The ACL's unit tests use a small catalog of their own; it must say what the table
        // says.
        for (command, subs) in crate::acl::test_catalog::COMMANDS {
            let top = Resolved::top(command.name.as_bytes()).expect(command.name);
            assert_eq!(top.command.info(), *command);
            for sub in *subs {
                let resolved = top.subcommand(sub.name.as_bytes()).expect(sub.name);
                assert_eq!(resolved.target().info(), *sub);
            }
        }
    }

    #[test]
    fn every_table_category_is_known() {
        for entry in catalog().entries() {
            for cat in entry.info.categories {
                assert!(
                    category_bit(cat.as_bytes()).is_some(),
                    "{}: unknown category {cat}",
                    entry.full_name()
                );
            }
        }
    }

    #[test]
    fn flags_and_categories_agree() {
        // Redis derives these categories from the flags; the table must list them.
        let has = |e: &Entry, c: &str| e.categories & category_bit(c.as_bytes()).unwrap_or(0) != 0;
        for entry in catalog().entries() {
            let c = &entry.info;
            let name = entry.full_name();
            assert!(
                !c.has(flags::WRITE) || has(entry, "write"),
                "{name}: @write"
            );
            assert!(
                !c.has(flags::READONLY) || has(entry, "read"),
                "{name}: @read"
            );
            assert!(
                !c.has(flags::ADMIN) || has(entry, "admin"),
                "{name}: @admin"
            );
            assert!(!c.has(flags::ADMIN) || has(entry, "dangerous"), "{name}");
            assert!(!c.has(flags::BLOCKING) || has(entry, "blocking"), "{name}");
        }
    }

    #[test]
    fn every_keyed_command_has_its_access() {
        for entry in catalog().entries() {
            let name = entry.full_name();
            let keyed = entry.info.keys.0 != 0 || matches!(name.as_str(), "xread" | "xreadgroup");
            assert_eq!(
                keyed,
                key_access(entry).is_some(),
                "{name}: add it to key_access"
            );
        }
    }

    #[test]
    fn categories_match_redis_where_sluice_fixed_them() {
        let cats = |name: &str| {
            let index = catalog().find(name.as_bytes()).expect(name);
            let bits = catalog().entries()[index].categories;
            CATEGORIES
                .iter()
                .filter(|c| bits & category_bit(c.as_bytes()).unwrap_or(0) != 0)
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(cats("xadd"), ["write", "stream", "fast"]);
        assert_eq!(cats("client|id"), ["slow", "connection"]);
        assert_eq!(cats("command"), ["slow", "connection"]);
        assert_eq!(cats("flushall"), ["keyspace", "write", "slow", "dangerous"]);
        for sub in [
            "routes",
            "plugins",
            "policies",
            "reassign",
            "redeliver",
            "reload",
            "help",
        ] {
            let cats = cats(&format!("sluice|{sub}"));
            assert!(
                cats.contains(&"admin") && cats.contains(&"dangerous"),
                "{sub}"
            );
        }
        assert_eq!(cats("sluice"), ["admin", "slow", "dangerous"]);
        assert_eq!(cats("acl|setuser"), ["admin", "slow", "dangerous"]);
        assert_eq!(cats("acl|whoami"), ["slow"]);
    }
}
