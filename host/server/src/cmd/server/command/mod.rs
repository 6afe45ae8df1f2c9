//! `COMMAND`, `COMMAND COUNT|INFO|LIST|HELP`: the command table as Redis 7 reports it.
//!
//! Client libraries read this to learn arities, flags and key positions (cluster clients,
//! `redis-cli`), so the reply keeps Redis 7's ten-element shape: name, arity, flags, first key,
//! last key, step, ACL categories, tips, key specs, subcommands. `COMMAND DOCS` lives in
//! [`docs`], and the argument trees it derives from each syntax line in [`syntax`].

use sluice_resp::{ArgError, Args, Reply};

use crate::acl::catalog::implicitly_slow;
use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, flags, lookup, table};
use sluice_broker::glob;

pub mod docs;
pub mod syntax;

/// The `COMMAND` container. Unlike the others it also runs alone, so it has categories of
/// its own, as in Redis.
pub const COMMAND: Command = Command {
    name: "command",
    arity: -1,
    flags: LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "server",
    since: "2.8.13",
    summary: "Returns detailed information about all commands.",
    syntax: "",
    handler: command_all,
    subcommands: SUBCOMMANDS,
};

/// `COMMAND`'s subcommands, in the order `COMMAND` lists them.
const SUBCOMMANDS: &[Command] = &[COUNT, docs::DOCS, INFO, LIST, HELP];

/// A command or subcommand with the name Redis reports for it (`xadd`, `client|setname`).
#[derive(Debug, Clone, Copy)]
pub struct Named {
    /// The command (the subcommand itself for subcommands).
    pub command: &'static Command,
    /// The container, for subcommands.
    pub parent: Option<&'static Command>,
}

impl Named {
    /// A top-level command.
    pub fn top(command: &'static Command) -> Self {
        Self {
            command,
            parent: None,
        }
    }

    /// `name` or `container|name`.
    pub fn full_name(&self) -> String {
        match self.parent {
            Some(parent) => format!("{}|{}", parent.name, self.command.name),
            None => self.command.name.to_owned(),
        }
    }

    /// The subcommands, with this command as their container.
    pub fn subcommands(&self) -> impl Iterator<Item = Named> + '_ {
        self.command.subcommands.iter().map(|sub| Named {
            command: sub,
            parent: Some(self.command),
        })
    }
}

/// Finds `name` or `container|sub`, ignoring ASCII case, as `COMMAND INFO`/`DOCS` accept them.
pub fn lookup_full(name: &[u8]) -> Option<Named> {
    let mut parts = name.split(|&b| b == b'|');
    let first = parts.next()?;
    let container = lookup(first)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(Named::top(container)),
        (Some(sub), None) => container
            .subcommands
            .iter()
            .find(|c| c.name.as_bytes().eq_ignore_ascii_case(sub))
            .map(|command| Named {
                command,
                parent: Some(container),
            }),
        (Some(_), Some(_)) => None,
    }
}

/// Every top-level command, in table order.
pub fn all_commands() -> impl Iterator<Item = Named> {
    table::COMMANDS.iter().map(Named::top)
}

/// ACL categories as reported, `@` included: the table's, then `@slow` where
/// [`implicitly_slow`].
pub fn categories(command: &Command) -> Vec<String> {
    let mut cats: Vec<String> = command.categories.iter().map(|c| format!("@{c}")).collect();
    if implicitly_slow(command.categories) {
        cats.push("@slow".into());
    }
    cats
}

/// `COMMAND`: every command's info.
pub fn command_all(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Reply::Array(all_commands().map(|c| info_reply(&c)).collect()).into())
}

const COUNT: Command = Command {
    name: "count",
    arity: 2,
    flags: LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "server",
    since: "2.8.13",
    summary: "Returns a count of commands.",
    syntax: "",
    handler: command_count,
    subcommands: &[],
};

/// `COMMAND COUNT`: number of top-level commands.
pub fn command_count(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Reply::count(table::COMMANDS.len()).into())
}

const INFO: Command = Command {
    name: "info",
    arity: -2,
    flags: LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "server",
    since: "2.8.13",
    summary: "Returns information about one, multiple or all commands.",
    syntax: "[command-name ...]",
    handler: command_info,
    subcommands: &[],
};

/// `COMMAND INFO [command-name ...]`: info for each name (null if unknown), or for all.
pub fn command_info(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let names = args.rest();
    if names.is_empty() {
        return command_all(ctx, args);
    }
    let infos = names
        .iter()
        .map(|name| lookup_full(name).map_or(Reply::Null, |c| info_reply(&c)))
        .collect();
    Ok(Reply::Array(infos).into())
}

const LIST: Command = Command {
    name: "list",
    arity: -2,
    flags: LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "server",
    since: "7.0.0",
    summary: "Returns a list of command names.",
    syntax: "[FILTERBY MODULE|ACLCAT|PATTERN value]",
    handler: command_list,
    subcommands: &[],
};

/// `COMMAND LIST [FILTERBY MODULE|ACLCAT|PATTERN value]`: names of commands and subcommands.
pub fn command_list(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let filter = match args.rest() {
        [] => Filter::None,
        [kw, kind, value] if kw.eq_ignore_ascii_case(b"FILTERBY") => {
            if kind.eq_ignore_ascii_case(b"MODULE") {
                // Sluice has no modules: nothing belongs to one.
                return Ok(Reply::Array(Vec::new()).into());
            } else if kind.eq_ignore_ascii_case(b"ACLCAT") {
                Filter::Category(value.to_vec())
            } else if kind.eq_ignore_ascii_case(b"PATTERN") {
                Filter::Pattern(value.to_vec())
            } else {
                return Err(ArgError::Syntax.into());
            }
        }
        _ => return Err(ArgError::Syntax.into()),
    };
    let mut names = Vec::new();
    for command in all_commands() {
        for named in std::iter::once(command).chain(command.subcommands()) {
            if filter.keeps(&named) {
                names.push(Reply::bulk(named.full_name()));
            }
        }
    }
    Ok(Reply::Array(names).into())
}

enum Filter {
    None,
    Category(Vec<u8>),
    Pattern(Vec<u8>),
}

impl Filter {
    fn keeps(&self, named: &Named) -> bool {
        match self {
            Filter::None => true,
            Filter::Category(cat) => categories(named.command).iter().any(|c| {
                c.strip_prefix('@')
                    .unwrap_or(c)
                    .as_bytes()
                    .eq_ignore_ascii_case(cat)
            }),
            Filter::Pattern(pattern) => glob::matches(pattern, named.full_name().as_bytes(), true),
        }
    }
}

const HELP: Command = help_command(CONN_SLOW, "server", "5.0.0", command_help);

/// `COMMAND HELP`.
pub fn command_help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "command",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
        ],
    )
    .into())
}

/// One command's `COMMAND INFO` entry.
pub fn info_reply(named: &Named) -> Reply {
    let command = named.command;
    let flag_names = flags::NAMES
        .iter()
        .filter(|(bit, _)| command.has(*bit))
        .map(|(_, name)| Reply::Simple((*name).into()))
        .collect();
    let (first, last, step) = command.keys;
    let subcommands = if command.subcommands.is_empty() {
        Reply::Set(Vec::new())
    } else {
        Reply::Array(named.subcommands().map(|sub| info_reply(&sub)).collect())
    };
    Reply::Array(vec![
        Reply::bulk(named.full_name()),
        Reply::Int(command.arity.into()),
        Reply::Set(flag_names),
        Reply::Int(first.into()),
        Reply::Int(last.into()),
        Reply::Int(step.into()),
        Reply::Set(categories(command).into_iter().map(Reply::Simple).collect()),
        Reply::Set(tips(command)),
        Reply::Set(key_specs(command)),
        subcommands,
    ])
}

/// The command's tips (`nondeterministic_output`…).
fn tips(command: &Command) -> Vec<Reply> {
    [
        (flags::TIP_RANDOM, "nondeterministic_output"),
        (flags::TIP_UNORDERED, "nondeterministic_output_order"),
    ]
    .into_iter()
    .filter(|&(bit, _)| command.has(bit))
    .map(|(_, tip)| Reply::bulk_static(tip))
    .collect()
}

/// Redis 7 key specs derived from the legacy `(first, last, step)` triple: one range spec,
/// or one spec per key for a command that moves data between two keys.
fn key_specs(command: &Command) -> Vec<Reply> {
    let (first, last, step) = command.keys;
    if first <= 0 {
        return Vec::new();
    }
    if command.has(flags::KEY_MOVE) {
        return vec![
            key_spec(&["RW", "access", "delete"], first, 0, 1),
            key_spec(&["RW", "insert"], first + 1, 0, 1),
        ];
    }
    let access: &[&str] = if command.has(flags::WRITE) {
        match (
            command.has(flags::KEY_ACCESS),
            command.has(flags::KEY_INSERT),
            command.has(flags::KEY_DELETE),
        ) {
            (false, true, _) => &["RW", "insert"],
            (false, _, true) => &["RW", "delete"],
            (true, _, true) => &["RW", "access", "delete"],
            (true, _, _) => &["RW", "access", "update"],
            (false, false, false) => &["RW", "update"],
        }
    } else if command.has(flags::KEY_NO_ACCESS) {
        &["RO"]
    } else {
        &["RO", "access"]
    };
    // `lastkey` counts from the first key; negative values count from the end as given.
    let lastkey = if last < 0 { last } else { last - first };
    vec![key_spec(access, first, lastkey, step)]
}

/// One key spec: keys found by index `first`, then a range of `lastkey` more, `step` apart.
fn key_spec(access: &[&str], first: i32, lastkey: i32, step: i32) -> Reply {
    let bulk = Reply::bulk_static;
    Reply::Map(vec![
        (
            bulk("flags"),
            Reply::Set(access.iter().map(|f| Reply::Simple((*f).into())).collect()),
        ),
        (
            bulk("begin_search"),
            Reply::Map(vec![
                (bulk("type"), bulk("index")),
                (
                    bulk("spec"),
                    Reply::Map(vec![(bulk("index"), Reply::Int(first.into()))]),
                ),
            ]),
        ),
        (
            bulk("find_keys"),
            Reply::Map(vec![
                (bulk("type"), bulk("range")),
                (
                    bulk("spec"),
                    Reply::Map(vec![
                        (bulk("lastkey"), Reply::Int(lastkey.into())),
                        (bulk("keystep"), Reply::Int(step.into())),
                        (bulk("limit"), Reply::Int(0)),
                    ]),
                ),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_names_resolve_case_insensitively() {
        let named = lookup_full(b"CLIENT|SetName").expect("client|setname exists");
        assert_eq!(named.full_name(), "client|setname");
        assert!(lookup_full(b"client|nosuch").is_none());
        assert!(lookup_full(b"client|setname|x").is_none());
        assert_eq!(
            lookup_full(b"xadd").map(|n| n.full_name()).as_deref(),
            Some("xadd")
        );
    }

    #[test]
    fn containers_are_slow() {
        let client = lookup_full(b"client").expect("client exists");
        assert_eq!(categories(client.command), vec!["@slow".to_owned()]);
    }

    #[test]
    fn info_has_ten_fields_and_a_key_spec() {
        let xadd = lookup_full(b"xadd").expect("xadd exists");
        let Reply::Array(fields) = info_reply(&xadd) else {
            panic!("not an array");
        };
        assert_eq!(fields.len(), 10);
        assert_eq!(fields[1], Reply::Int(-5));
        let Reply::Set(specs) = &fields[8] else {
            panic!("key specs not a set");
        };
        assert_eq!(specs.len(), 1);
    }
}
