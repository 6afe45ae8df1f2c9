//! `<CONTAINER> HELP` (`CLIENT HELP`, `CONFIG HELP`, `XINFO HELP`…): its metadata, the same
//! for every container but for a few fields, and its reply, built the way Redis's
//! `addReplyHelp` builds it, so every container's help looks the same.

use sluice_resp::Reply;

use crate::cmd::meta::*;
use crate::cmd::{Command, Handler};

/// A container's `HELP` subcommand. Redis gives every one the same arity, flags and summary;
/// they differ in their ACL `categories`, documentation `group`, the version that brought
/// them (`since`) and the `handler` that lists the container's subcommands.
pub const fn help_command(
    categories: &'static [&'static str],
    group: &'static str,
    since: &'static str,
    handler: Handler,
) -> Command {
    Command {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: NOKEYS,
        categories,
        group,
        since,
        summary: "Returns helpful text about the different subcommands.",
        syntax: "",
        handler,
        subcommands: &[],
    }
}

/// An array of status lines: Redis's header naming `command` (upper-cased), then `lines`, then
/// the `HELP` entry every container has.
pub fn help_reply(command: &str, lines: &[&str]) -> Reply {
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Reply::Simple(format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        command.to_ascii_uppercase()
    )));
    out.extend(lines.iter().map(|line| Reply::Simple((*line).to_owned())));
    out.push(Reply::Simple("HELP".into()));
    out.push(Reply::Simple("    Prints this help.".into()));
    Reply::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_has_redis_header_and_footer() {
        let Reply::Array(lines) = help_reply("client", &["ID", "    Return the ID."]) else {
            panic!("not an array");
        };
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[0],
            Reply::Simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
        );
        assert_eq!(lines[4], Reply::Simple("    Prints this help.".into()));
    }
}
