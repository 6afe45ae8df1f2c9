//! `COMMAND DOCS [command-name ...]`: each command's summary, version, group and argument
//! tree, in Redis 7's shape.
//!
//! `redis-cli` 7 builds its hints and `HELP` from this reply, so argument maps use Redis's keys
//! (`name`, `type`, `token`, `flags`, `arguments`) and flag words. The argument trees come from
//! each command's syntax line ([`super::syntax`]).

use sluice_resp::{Args, Reply};

use super::syntax::{ArgDoc, ArgKind, parse_syntax};
use super::{Named, all_commands, lookup_full};
use crate::cmd::{CmdResult, Command, Ctx};

/// `COMMAND DOCS`, a subcommand of [`super::COMMAND`]. Its arity, flags, categories and
/// version are those of `COMMAND LIST`, which came with it in Redis 7.0.
pub(super) const DOCS: Command = Command {
    name: "docs",
    summary: "Returns documentary information about one, multiple or all commands.",
    syntax: "[command-name ...]",
    handler: command_docs,
    ..super::LIST
};

/// `COMMAND DOCS [command-name ...]`: a map from full name to docs; unknown names are left
/// out, no names means every command.
pub fn command_docs(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let names = args.rest();
    let entries = if names.is_empty() {
        all_commands()
            .map(|c| (Reply::bulk(c.full_name()), docs_reply(&c)))
            .collect()
    } else {
        names
            .iter()
            .filter_map(|name| lookup_full(name))
            .map(|c| (Reply::bulk(c.full_name()), docs_reply(&c)))
            .collect()
    };
    Ok(Reply::Map(entries).into())
}

/// One command's docs map; containers list their subcommands' docs.
pub fn docs_reply(named: &Named) -> Reply {
    let command = named.command;
    let mut fields = vec![
        field("summary", Reply::bulk_static(command.summary)),
        field("since", Reply::bulk_static(command.since)),
        field("group", Reply::bulk_static(command.group)),
    ];
    let args = parse_syntax(command.syntax);
    if !args.is_empty() {
        fields.push(field(
            "arguments",
            Reply::Array(args.iter().map(arg_reply).collect()),
        ));
    }
    if !command.subcommands.is_empty() {
        let subs = named
            .subcommands()
            .map(|sub| (Reply::bulk(sub.full_name()), docs_reply(&sub)))
            .collect();
        fields.push(field("subcommands", Reply::Map(subs)));
    }
    Reply::Map(fields)
}

/// One argument's map, with its sub-arguments.
pub fn arg_reply(doc: &ArgDoc) -> Reply {
    let mut fields = vec![
        field("name", Reply::bulk(&doc.name)),
        field("type", Reply::bulk_static(doc.kind.type_name())),
    ];
    if let Some(token) = &doc.token {
        fields.push(field("token", Reply::bulk(token)));
    }
    let flags: Vec<Reply> = [(doc.optional, "optional"), (doc.multiple, "multiple")]
        .into_iter()
        .filter(|(set, _)| *set)
        .map(|(_, flag)| Reply::Simple(flag.into()))
        .collect();
    if !flags.is_empty() {
        fields.push(field("flags", Reply::Set(flags)));
    }
    if let ArgKind::OneOf(args) | ArgKind::Block(args) = &doc.kind {
        fields.push(field(
            "arguments",
            Reply::Array(args.iter().map(arg_reply).collect()),
        ));
    }
    Reply::Map(fields)
}

fn field(name: &'static str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk_static(name), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(map: &'a Reply, key: &str) -> Option<&'a Reply> {
        let Reply::Map(pairs) = map else {
            return None;
        };
        pairs
            .iter()
            .find(|(k, _)| *k == Reply::bulk(key))
            .map(|(_, v)| v)
    }

    #[test]
    fn docs_carry_arguments_and_subcommands() {
        let xadd = docs_reply(&lookup_full(b"xadd").expect("xadd"));
        assert_eq!(get(&xadd, "group"), Some(&Reply::bulk("stream")));
        // key, NOMKSTREAM, KEEPREF|DELREF|ACKED, IDMPAUTO|IDMP, trimming, id, fields.
        assert!(matches!(get(&xadd, "arguments"), Some(Reply::Array(a)) if a.len() == 7));

        let client = docs_reply(&lookup_full(b"client").expect("client"));
        let subs = get(&client, "subcommands").expect("subcommands");
        assert!(get(subs, "client|setname").is_some());
        assert!(get(&client, "arguments").is_none());
    }

    #[test]
    fn argument_maps_use_redis_keys() {
        let mut doc = parse_syntax("[COUNT count]").remove(0);
        doc.multiple = true;
        assert_eq!(
            arg_reply(&doc),
            Reply::Map(vec![
                field("name", Reply::bulk("count")),
                field("type", Reply::bulk("integer")),
                field("token", Reply::bulk("COUNT")),
                field(
                    "flags",
                    Reply::Set(vec![
                        Reply::Simple("optional".into()),
                        Reply::Simple("multiple".into())
                    ])
                ),
            ])
        );
    }

    /// The words of a syntax line: what is left without brackets, bars and ellipses.
    fn syntax_words(syntax: &str) -> Vec<&str> {
        syntax
            .split(|c: char| c.is_whitespace() || "[]()|".contains(c))
            .filter(|w| !w.is_empty() && *w != "...")
            .collect()
    }

    /// Every token and every value name in a derived argument tree.
    fn tree_words(docs: &[ArgDoc], out: &mut Vec<String>) {
        for doc in docs {
            if let Some(token) = &doc.token {
                out.push(token.clone());
            }
            match &doc.kind {
                ArgKind::OneOf(inner) | ArgKind::Block(inner) => tree_words(inner, out),
                ArgKind::PureToken => {}
                _ => out.push(doc.name.clone()),
            }
        }
    }

    #[test]
    fn every_table_syntax_derives_docs() {
        let mut checked = 0;
        for command in all_commands() {
            for named in std::iter::once(command).chain(command.subcommands()) {
                let c = named.command;
                let name = named.full_name();
                let docs = docs_reply(&named);
                assert_eq!(
                    get(&docs, "summary"),
                    Some(&Reply::bulk(c.summary)),
                    "{name}"
                );
                assert_eq!(get(&docs, "since"), Some(&Reply::bulk(c.since)), "{name}");
                assert_eq!(get(&docs, "group"), Some(&Reply::bulk(c.group)), "{name}");
                let args = parse_syntax(c.syntax);
                match get(&docs, "arguments") {
                    Some(Reply::Array(replies)) => assert_eq!(replies.len(), args.len(), "{name}"),
                    Some(other) => panic!("{name}: arguments are {other:?}"),
                    None => assert!(c.syntax.is_empty(), "{name}: no arguments derived"),
                }
                // Nothing is lost or invented: the tree's tokens and value names are exactly
                // the words of the syntax line.
                let mut derived = Vec::new();
                tree_words(&args, &mut derived);
                let mut written: Vec<String> = syntax_words(c.syntax)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                derived.sort();
                derived.dedup();
                written.sort();
                written.dedup();
                assert_eq!(derived, written, "{name}: {}", c.syntax);
                checked += 1;
            }
        }
        assert_eq!(checked, crate::cmd::catalog().len());
    }

    #[test]
    fn derived_docs_are_redis_shaped() {
        let bulk = Reply::bulk;
        let xlen = docs_reply(&lookup_full(b"xlen").expect("xlen"));
        assert_eq!(
            xlen,
            Reply::Map(vec![
                field(
                    "summary",
                    bulk("Return the number of messages in a stream.")
                ),
                field("since", bulk("5.0.0")),
                field("group", bulk("stream")),
                field(
                    "arguments",
                    Reply::Array(vec![Reply::Map(vec![
                        field("name", bulk("key")),
                        field("type", bulk("key")),
                    ])])
                ),
            ])
        );
        let token = |word: &str| {
            Reply::Map(vec![
                field("name", Reply::bulk(word.to_ascii_lowercase())),
                field("type", Reply::bulk("pure-token")),
                field("token", Reply::bulk(word)),
            ])
        };
        let flushall = docs_reply(&lookup_full(b"FLUSHALL").expect("flushall"));
        assert_eq!(
            flushall,
            Reply::Map(vec![
                field("summary", bulk("Removes all keys from all databases.")),
                field("since", bulk("1.0.0")),
                field("group", bulk("server")),
                field(
                    "arguments",
                    Reply::Array(vec![Reply::Map(vec![
                        field("name", bulk("async_sync")),
                        field("type", bulk("oneof")),
                        field("flags", Reply::Set(vec![Reply::Simple("optional".into())])),
                        field(
                            "arguments",
                            Reply::Array(vec![token("ASYNC"), token("SYNC")])
                        ),
                    ])])
                ),
            ])
        );
    }
}
