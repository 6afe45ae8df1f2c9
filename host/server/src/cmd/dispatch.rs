//! Dispatch: from a request's arguments to the command (or subcommand) to run, its arity
//! checked with Redis's errors, and its index in the ACL's catalog.
//!
//! The table ([`super::table::COMMANDS`]) is turned once into a map by name and into the
//! [`Catalog`] access control checks against; a subcommand is found by a short scan of its
//! container's list.

use std::collections::HashMap;
use std::sync::LazyLock;

use sluice_resp::Args;

use super::{CmdResult, Command, Ctx, table};
use crate::acl::Catalog;
use crate::error::{self, CmdError};

/// The table as access control sees it: one [`CommandInfo`](crate::command_info::CommandInfo)
/// per command and subcommand.
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

/// Each top-level command by name, resolved without a subcommand. Hashed with foldhash: the
/// table's keys are fixed, so a client's names can only look up, never crowd a bucket.
static BY_NAME: LazyLock<HashMap<&'static [u8], Resolved, foldhash::fast::RandomState>> =
    LazyLock::new(|| {
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
    let top = find(args.name()).ok_or_else(|| error::unknown_command(args.all()))?;
    let command = top.command;
    if command.subcommands.is_empty() {
        if !command.arity_ok(args.argc()) {
            return Err(error::wrong_arity(command.name));
        }
        return Ok(top);
    }
    let Some(sub_name) = args.get(1) else {
        // A container that also works alone (`COMMAND`).
        if command.arity_ok(1) {
            return Ok(top);
        }
        return Err(error::wrong_arity(command.name));
    };
    let resolved = top
        .subcommand(sub_name)
        .ok_or_else(|| error::unknown_subcommand(command.name, sub_name))?;
    if !resolved.target().arity_ok(args.argc()) {
        return Err(error::wrong_arity(&resolved.full_name()));
    }
    Ok(resolved)
}

/// Runs a resolved command. The caller holds the keyspace gate as the command's flags ask.
pub fn execute(ctx: &mut Ctx<'_>, resolved: Resolved, args: &mut Args) -> CmdResult {
    if resolved.sub.is_some() {
        // Skip the subcommand name: the cursor starts after the command name.
        args.skip();
    }
    (resolved.target().handler)(ctx, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::catalog::{Entry, category_bit, category_names};
    use crate::acl::check::key_access;
    use crate::cmd::flags;

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
            category_names(catalog().entries()[index].categories)
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
