//! Every command and subcommand with a stable index, and Redis's ACL categories.
//!
//! Users keep their allowed commands as a bitset over these indices, so checking a command
//! costs one bit test. A [`Resolved`] command is turned into its index by address arithmetic
//! on the static table (no hashing): top-level commands live in [`table::COMMANDS`] and each
//! container's subcommands in its own static slice.

use std::sync::LazyLock;

use crate::cmd::{Command, Resolved, table};

/// Redis 7's ACL categories, in the order `ACL CAT` lists them. A command's categories are a
/// bitmask over this list.
pub const CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The category bit for `name` (without the `@`), ignoring ASCII case.
pub fn category_bit(name: &[u8]) -> Option<u32> {
    CATEGORIES
        .iter()
        .position(|c| c.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// One command or subcommand of the table.
#[derive(Debug)]
pub struct Entry {
    /// The command (the subcommand itself for subcommands).
    pub command: &'static Command,
    /// The container, for subcommands.
    pub parent: Option<&'static Command>,
    /// Its ACL categories as a bitmask over [`CATEGORIES`].
    pub categories: u32,
    /// For a container: the indices of its subcommands.
    pub subcommands: std::ops::Range<usize>,
}

impl Entry {
    /// The name Redis reports: `xadd`, `config|get`.
    pub fn full_name(&self) -> String {
        match self.parent {
            Some(parent) => format!("{}|{}", parent.name, self.command.name),
            None => self.command.name.to_owned(),
        }
    }
}

/// The indexed command table.
#[derive(Debug)]
pub struct Catalog {
    entries: Vec<Entry>,
    /// Index of each top-level command, by its position in [`table::COMMANDS`].
    top: Vec<usize>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::build);

/// The catalog of the server's command table.
pub fn catalog() -> &'static Catalog {
    &CATALOG
}

impl Catalog {
    fn build() -> Catalog {
        let mut entries = Vec::new();
        let mut top = Vec::with_capacity(table::COMMANDS.len());
        for command in table::COMMANDS {
            let index = entries.len();
            top.push(index);
            let first_sub = index + 1;
            entries.push(Entry {
                command,
                parent: None,
                categories: categories_of(command),
                subcommands: first_sub..first_sub + command.subcommands.len(),
            });
            for sub in command.subcommands {
                entries.push(Entry {
                    command: sub,
                    parent: Some(command),
                    categories: categories_of(sub),
                    subcommands: 0..0,
                });
            }
        }
        Catalog { entries, top }
    }

    /// Number of commands and subcommands.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the table is empty (never, in practice).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, by index: each top-level command followed by its subcommands.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry at `index`.
    pub fn get(&self, index: usize) -> Option<&Entry> {
        self.entries.get(index)
    }

    /// The index of a resolved command (its subcommand's, if it has one).
    pub fn index_of(&self, resolved: Resolved) -> Option<usize> {
        let top = position(table::COMMANDS, resolved.command)?;
        let base = *self.top.get(top)?;
        match resolved.sub {
            None => Some(base),
            Some(sub) => Some(base + 1 + position(resolved.command.subcommands, sub)?),
        }
    }

    /// Finds `name` or `container|sub`, ignoring ASCII case, as ACL rules name commands.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        let mut parts = name.split(|&b| b == b'|');
        let first = parts.next()?;
        let command = crate::cmd::lookup(first)?;
        let top = position(table::COMMANDS, command)?;
        let base = *self.top.get(top)?;
        match (parts.next(), parts.next()) {
            (None, _) => Some(base),
            (Some(sub), None) => command
                .subcommands
                .iter()
                .position(|s| s.name.as_bytes().eq_ignore_ascii_case(sub))
                .map(|i| base + 1 + i),
            (Some(_), Some(_)) => None,
        }
    }

    /// Indices of the commands and subcommands in the category `bit`.
    pub fn in_category(&self, bit: u32) -> impl Iterator<Item = usize> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.categories & bit != 0)
            .map(|(i, _)| i)
    }
}

/// Position of `item` in the static slice `slice`, by address.
fn position(slice: &'static [Command], item: &'static Command) -> Option<usize> {
    let size = std::mem::size_of::<Command>();
    let offset = (item as *const Command as usize).checked_sub(slice.as_ptr() as usize)?;
    let index = offset / size;
    // The address must be exactly that element's: anything else is not from this table.
    slice
        .get(index)
        .filter(|c| std::ptr::eq(*c, item))
        .map(|_| index)
}

/// The categories `COMMAND INFO` reports: the table's, plus `@slow` for a command marked
/// neither fast nor slow (as Redis does).
fn categories_of(command: &Command) -> u32 {
    let mut bits = command
        .categories
        .iter()
        .filter_map(|c| category_bit(c.as_bytes()))
        .fold(0, |acc, bit| acc | bit);
    let fast_or_slow = category_bit(b"fast").unwrap_or(0) | category_bit(b"slow").unwrap_or(0);
    if bits & fast_or_slow == 0 {
        bits |= category_bit(b"slow").unwrap_or(0);
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::flags;

    #[test]
    fn every_table_category_is_known() {
        for entry in catalog().entries() {
            for cat in entry.command.categories {
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
            let c = entry.command;
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
    fn every_resolved_command_has_its_index() {
        let catalog = catalog();
        for (top, command) in table::COMMANDS.iter().enumerate() {
            let resolved = Resolved { command, sub: None };
            let index = catalog.index_of(resolved).expect("indexed");
            assert_eq!(index, catalog.top[top]);
            assert!(std::ptr::eq(catalog.entries[index].command, command));
            assert_eq!(
                catalog.find(command.name.to_uppercase().as_bytes()),
                Some(index)
            );
            for sub in command.subcommands {
                let resolved = Resolved {
                    command,
                    sub: Some(sub),
                };
                let index = catalog.index_of(resolved).expect("indexed");
                assert!(std::ptr::eq(catalog.entries[index].command, sub));
                assert!(
                    catalog.entries[top_index(catalog, command)]
                        .subcommands
                        .contains(&index)
                );
                let full = format!("{}|{}", command.name, sub.name);
                assert_eq!(catalog.find(full.as_bytes()), Some(index));
            }
        }
        assert_eq!(catalog.find(b"nosuch"), None);
        assert_eq!(catalog.find(b"config|nosuch"), None);
        assert_eq!(catalog.find(b"config|get|x"), None);
        assert_eq!(catalog.find(b"xadd|x"), None);
    }

    fn top_index(catalog: &Catalog, command: &'static Command) -> usize {
        catalog.find(command.name.as_bytes()).expect("top-level")
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
