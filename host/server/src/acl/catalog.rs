//! Every command and subcommand with a stable index, and Redis's ACL categories.
//!
//! Users keep their allowed commands as a bitset over these indices, so checking a command
//! costs one bit test. The command table builds the catalog from one [`CommandInfo`] per
//! command and subcommand ([`Catalog::new`]) and tells the check which index a request
//! resolved to; the ACL never sees the table or the handlers.

use std::collections::HashMap;
use std::ops::Range;

use crate::command_info::CommandInfo;

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

/// Whether Redis counts a command with `categories` (its table's, without the `@`) as `@slow`
/// too: it does for one marked neither fast nor slow. The ACL's category bits and what
/// `COMMAND INFO` reports both follow this rule.
pub fn implicitly_slow(categories: &[&str]) -> bool {
    !categories
        .iter()
        .any(|c| c.eq_ignore_ascii_case("fast") || c.eq_ignore_ascii_case("slow"))
}

/// The names of the categories set in `bits`, in [`CATEGORIES`] order: what tests compare.
#[cfg(test)]
pub(crate) fn category_names(bits: u32) -> Vec<&'static str> {
    CATEGORIES
        .iter()
        .filter(|c| bits & category_bit(c.as_bytes()).unwrap_or(0) != 0)
        .copied()
        .collect()
}

/// One command or subcommand of the catalog.
#[derive(Debug)]
pub struct Entry {
    /// The command (the subcommand itself for subcommands).
    pub info: CommandInfo,
    /// The container's name, for subcommands.
    pub parent: Option<&'static str>,
    /// Its ACL categories as a bitmask over [`CATEGORIES`].
    pub categories: u32,
    /// For a container: the indices of its subcommands.
    pub subcommands: Range<usize>,
}

impl Entry {
    /// The name Redis reports: `xadd`, `config|get`.
    pub fn full_name(&self) -> String {
        match self.parent {
            Some(parent) => format!("{parent}|{}", self.info.name),
            None => self.info.name.to_owned(),
        }
    }
}

/// The indexed commands: each top-level command followed by its subcommands, in the order
/// the table gave them.
pub struct Catalog {
    entries: Vec<Entry>,
    /// Index of each top-level command, in the order given to [`Catalog::new`].
    top: Vec<usize>,
    /// Index of each top-level command by its (lower-case) name.
    by_name: HashMap<&'static [u8], usize>,
}

impl std::fmt::Debug for Catalog {
    // Users and sessions hold the catalog; their debug output need not list every command.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// Indexes `commands`: each top-level command with its subcommands. The index of the
    /// `n`-th command is [`Catalog::top`]`(n)`; its subcommands follow it, in order.
    pub fn new<C, S>(commands: C) -> Catalog
    where
        C: IntoIterator<Item = (CommandInfo, S)>,
        S: IntoIterator<Item = CommandInfo>,
    {
        let mut catalog = Catalog {
            entries: Vec::new(),
            top: Vec::new(),
            by_name: HashMap::new(),
        };
        for (command, subcommands) in commands {
            let index = catalog.entries.len();
            catalog.top.push(index);
            catalog.by_name.insert(command.name.as_bytes(), index);
            catalog.entries.push(Entry {
                info: command,
                parent: None,
                categories: categories_of(&command),
                subcommands: index + 1..index + 1,
            });
            for sub in subcommands {
                catalog.entries.push(Entry {
                    info: sub,
                    parent: Some(command.name),
                    categories: categories_of(&sub),
                    subcommands: 0..0,
                });
            }
            let end = catalog.entries.len();
            if let Some(entry) = catalog.entries.get_mut(index) {
                entry.subcommands.end = end;
            }
        }
        catalog
    }

    /// Number of commands and subcommands.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the catalog is empty (never, in practice).
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

    /// The index of each top-level command, in the order given to [`Catalog::new`].
    pub fn top(&self) -> &[usize] {
        &self.top
    }

    /// The name Redis reports for the entry at `index` (empty if there is none).
    pub fn full_name(&self, index: usize) -> String {
        self.get(index).map(Entry::full_name).unwrap_or_default()
    }

    /// Finds `name` or `container|sub`, ignoring ASCII case, as ACL rules name commands.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        let mut parts = name.split(|&b| b == b'|');
        let first = parts.next()?.to_ascii_lowercase();
        let base = *self.by_name.get(first.as_slice())?;
        let entry = self.entries.get(base)?;
        match (parts.next(), parts.next()) {
            (None, _) => Some(base),
            (Some(sub), None) => entry.subcommands.clone().find(|&i| {
                self.entries
                    .get(i)
                    .is_some_and(|e| e.info.name.as_bytes().eq_ignore_ascii_case(sub))
            }),
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

/// The categories `COMMAND INFO` reports: the table's, plus `@slow` where
/// [`implicitly_slow`].
fn categories_of(command: &CommandInfo) -> u32 {
    let mut bits = command
        .categories
        .iter()
        .filter_map(|c| category_bit(c.as_bytes()))
        .fold(0, |acc, bit| acc | bit);
    if implicitly_slow(command.categories) {
        bits |= category_bit(b"slow").unwrap_or(0);
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::test_catalog::catalog;

    #[test]
    fn subcommands_follow_their_container() {
        let catalog = catalog();
        for &top in catalog.top() {
            let entry = catalog.get(top).expect("top-level entry");
            assert_eq!(entry.parent, None);
            assert_eq!(
                catalog.find(entry.info.name.to_uppercase().as_bytes()),
                Some(top)
            );
            for sub in entry.subcommands.clone() {
                let sub_entry = catalog.get(sub).expect("subcommand entry");
                assert_eq!(sub_entry.parent, Some(entry.info.name));
                let full = sub_entry.full_name();
                assert_eq!(full, format!("{}|{}", entry.info.name, sub_entry.info.name));
                assert_eq!(catalog.find(full.to_uppercase().as_bytes()), Some(sub));
            }
        }
        assert_eq!(catalog.find(b"nosuch"), None);
        assert_eq!(catalog.find(b"config|nosuch"), None);
        assert_eq!(catalog.find(b"config|get|x"), None);
        assert_eq!(catalog.find(b"xadd|x"), None);
    }

    #[test]
    fn unmarked_commands_are_slow() {
        let catalog = catalog();
        let cats = |name: &str| {
            let bits = catalog
                .get(catalog.find(name.as_bytes()).expect(name))
                .expect(name)
                .categories;
            category_names(bits)
        };
        assert_eq!(cats("xadd"), ["write", "stream", "fast"]);
        assert_eq!(cats("client"), ["slow"]);
        assert_eq!(cats("sluice"), ["admin", "slow", "dangerous"]);
    }
}
