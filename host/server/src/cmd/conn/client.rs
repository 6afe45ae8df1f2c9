//! `CLIENT ID|SETNAME|GETNAME|SETINFO|LIST|INFO|HELP`: the connection's identity, and the
//! list of connections.
//!
//! These are what client libraries send on connect, so their replies and error texts follow
//! Redis 7.2 exactly.

use sluice_resp::{ArgError, Args, Reply};

use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, container, ok};
use crate::error::{self, CmdError};

/// The `CLIENT` container.
pub const CLIENT: Command = Command {
    name: "client",
    arity: -2,
    flags: 0,
    keys: NOKEYS,
    categories: &[],
    group: "connection",
    since: "2.4.0",
    summary: "A container for client connection commands.",
    syntax: "",
    handler: container,
    subcommands: SUBCOMMANDS,
};

/// `CLIENT`'s subcommands, in the order `COMMAND` lists them.
const SUBCOMMANDS: &[Command] = &[ID, SETNAME, GETNAME, SETINFO, LIST, INFO, HELP];

const ID: Command = Command {
    name: "id",
    arity: 2,
    flags: NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "connection",
    since: "5.0.0",
    summary: "Returns the unique client ID of the connection.",
    syntax: "",
    handler: client_id,
    subcommands: &[],
};

/// `CLIENT ID`.
pub fn client_id(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Reply::count(ctx.client.info.id).into())
}

const SETNAME: Command = Command {
    name: "setname",
    arity: 3,
    flags: NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "connection",
    since: "2.6.9",
    summary: "Sets the connection name.",
    syntax: "connection-name",
    handler: client_setname,
    subcommands: &[],
};

/// `CLIENT SETNAME name`; an empty name clears it.
pub fn client_setname(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let name = args.bytes()?;
    if !valid_client_attr(&name) {
        return Err(CmdError(error::CLIENT_NAME_INVALID.into()));
    }
    set_name(ctx, &name);
    ok()
}

const GETNAME: Command = Command {
    name: "getname",
    arity: 2,
    flags: NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "connection",
    since: "2.6.9",
    summary: "Returns the name of the connection.",
    syntax: "",
    handler: client_getname,
    subcommands: &[],
};

/// `CLIENT GETNAME`: the name, or null if none is set.
pub fn client_getname(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let name = ctx.client.info.name.lock();
    Ok(if name.is_empty() {
        Reply::Null
    } else {
        Reply::bulk(name.as_bytes())
    }
    .into())
}

const SETINFO: Command = Command {
    name: "setinfo",
    arity: 4,
    flags: NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "connection",
    since: "7.2.0",
    summary: "Sets information specific to the client or connection.",
    syntax: "LIB-NAME|LIB-VER value",
    handler: client_setinfo,
    subcommands: &[],
};

/// `CLIENT SETINFO LIB-NAME|LIB-VER value`; an empty value clears it.
pub fn client_setinfo(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let attr = args.bytes()?;
    let value = args.bytes()?;
    let info = &ctx.client.info;
    let slot = if attr.eq_ignore_ascii_case(b"LIB-NAME") {
        &info.lib_name
    } else if attr.eq_ignore_ascii_case(b"LIB-VER") {
        &info.lib_ver
    } else {
        return Err(error::setinfo_unrecognized(&attr));
    };
    if !valid_client_attr(&value) {
        return Err(error::setinfo_invalid(&attr));
    }
    *slot.lock() = String::from_utf8_lossy(&value).into_owned();
    ok()
}

const LIST: Command = Command {
    name: "list",
    arity: -2,
    flags: ADMIN | NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: &["admin", "slow", "dangerous", "connection"],
    group: "connection",
    since: "2.4.0",
    summary: "Lists open connections.",
    syntax: "[TYPE normal] [ID client-id ...]",
    handler: client_list,
    subcommands: &[],
};

/// `CLIENT LIST [TYPE normal|master|replica|pubsub] | [ID client-id ...]`.
pub fn client_list(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let clients = ctx.shared.clients.all();
    let rest = args.rest();
    let listed: Vec<_> = match rest {
        [] => clients.iter().collect(),
        [kw, kind] if kw.eq_ignore_ascii_case(b"TYPE") => match client_type(kind) {
            Some(ClientType::Normal) => clients.iter().collect(),
            // Sluice has no replicas, masters or pub/sub subscribers.
            Some(ClientType::Other) => Vec::new(),
            None => return Err(error::unknown_client_type(kind)),
        },
        [kw, ids @ ..] if kw.eq_ignore_ascii_case(b"ID") && !ids.is_empty() => {
            let mut listed = Vec::new();
            for id in ids {
                let id = sluice_resp::request::parse_i64(id)
                    .ok_or_else(|| CmdError(error::INVALID_CLIENT_ID.into()))?;
                listed.extend(clients.iter().filter(|c| i64::try_from(c.id) == Ok(id)));
            }
            listed
        }
        _ => return Err(ArgError::Syntax.into()),
    };
    let mut text = String::new();
    for client in listed {
        text.push_str(&client.describe(ctx.now_ms));
        text.push('\n');
    }
    Ok(Reply::Verbatim(text).into())
}

enum ClientType {
    Normal,
    Other,
}

fn client_type(name: &[u8]) -> Option<ClientType> {
    let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
    if is("normal") {
        Some(ClientType::Normal)
    } else if is("master") || is("replica") || is("slave") || is("pubsub") {
        Some(ClientType::Other)
    } else {
        None
    }
}

const INFO: Command = Command {
    name: "info",
    arity: 2,
    flags: NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: CONN_SLOW,
    group: "connection",
    since: "6.2.0",
    summary: "Returns information about the connection.",
    syntax: "",
    handler: client_info,
    subcommands: &[],
};

/// `CLIENT INFO`: this connection's `CLIENT LIST` line.
pub fn client_info(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let mut text = ctx.client.info.describe(ctx.now_ms);
    text.push('\n');
    Ok(Reply::Verbatim(text).into())
}

const HELP: Command = help_command(CONN_SLOW, "connection", "5.0.0", client_help);

/// `CLIENT HELP`.
pub fn client_help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "client",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "    * ID id [id ...]",
            "      Return clients of specified IDs only.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
        ],
    )
    .into())
}

/// Redis's rule for names and library attributes: printable ASCII without spaces.
pub(super) fn valid_client_attr(value: &[u8]) -> bool {
    value.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Sets (or, if empty, clears) the connection name; already validated.
pub(super) fn set_name(ctx: &Ctx<'_>, name: &[u8]) {
    *ctx.client.info.name.lock() = String::from_utf8_lossy(name).into_owned();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_attrs_follow_redis_rules() {
        assert!(valid_client_attr(b"redis-py"));
        assert!(valid_client_attr(b""));
        assert!(!valid_client_attr(b"a b"));
        assert!(!valid_client_attr(b"a\nb"));
        assert!(!valid_client_attr("José".as_bytes()));
    }
}
