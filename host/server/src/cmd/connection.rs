//! Connection commands: `PING`, `ECHO`, `HELLO`, `AUTH`, `SELECT`, `QUIT`, `RESET` and the
//! `CLIENT` family.
//!
//! These are what every client library sends on connect, so their replies and error texts
//! follow Redis 7.2 exactly. Users and passwords live in [`crate::acl`].

use sluice_resp::{ArgError, Args, Protocol, Reply};

use super::help::help_reply;
use super::{CmdResult, Ctx, Outcome, ok};
use crate::acl::{DEFAULT_USER, Session};
use crate::error::{self, CmdError};

/// `PING [message]`: `+PONG`, or the message as a bulk string.
pub fn ping(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    match args.remaining() {
        0 => Ok(Reply::Simple("PONG".into()).into()),
        1 => Ok(Reply::Bulk(args.bytes()?).into()),
        _ => Err(error::wrong_arity("ping")),
    }
}

/// `ECHO message`.
pub fn echo(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    Ok(Reply::Bulk(args.bytes()?).into())
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`: switches the protocol and
/// describes the server. Nothing changes unless every option is valid.
pub fn hello(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let mut proto = None;
    if let Some(arg) = args.next_arg() {
        let version = sluice_resp::request::parse_i64(&arg)
            .ok_or_else(|| CmdError(error::PROTOVER_NOT_INTEGER.into()))?;
        proto = Some(match version {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(CmdError(error::NOPROTO.into())),
        });
    }
    let mut credentials = None;
    let mut name = None;
    while let Some(opt) = args.next_arg() {
        if opt.eq_ignore_ascii_case(b"AUTH") && args.remaining() >= 2 {
            credentials = Some((args.bytes()?, args.bytes()?));
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && args.remaining() >= 1 {
            let candidate = args.bytes()?;
            if !valid_client_attr(&candidate) {
                return Err(CmdError(error::CLIENT_NAME_INVALID.into()));
            }
            name = Some(candidate);
        } else {
            return Err(error::hello_syntax(&opt));
        }
    }
    if let Some((user, password)) = credentials {
        authenticate(ctx, &user, &password)?;
    }
    if !ctx.client.session.is_authenticated() {
        return Err(CmdError(error::HELLO_NOAUTH.into()));
    }
    if let Some(name) = name {
        set_name(ctx, &name);
    }
    if let Some(proto) = proto {
        ctx.client.set_proto(proto);
    }
    let proto = if ctx.proto() == Protocol::Resp3 { 3 } else { 2 };
    let field = |name: &'static str, value: Reply| (Reply::bulk_static(name), value);
    Ok(Reply::Map(vec![
        field("server", Reply::bulk_static("redis")),
        field("version", Reply::bulk_static(crate::REDIS_COMPAT_VERSION)),
        field("proto", Reply::Int(proto)),
        field("id", Reply::count(ctx.client.info.id)),
        field("mode", Reply::bulk_static("standalone")),
        field("role", Reply::bulk_static("master")),
        field("modules", Reply::Array(Vec::new())),
    ])
    .into())
}

/// `AUTH [username] password`: without a user name, the `default` user.
pub fn auth(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    match args.rest() {
        [password] => {
            // Redis's reply when the default user has no password and only a password is
            // given.
            if ctx.shared.acl.default_user().nopass {
                return Err(CmdError(error::AUTH_NOT_CONFIGURED.into()));
            }
            authenticate(ctx, DEFAULT_USER, password)?;
        }
        [user, password] => authenticate(ctx, user, password)?,
        _ => return Err(ArgError::Syntax.into()),
    }
    ok()
}

/// Logs the connection in as `user`. A wrong password, an unknown or disabled user all get
/// `WRONGPASS`, and leave the connection as it was.
fn authenticate(ctx: &mut Ctx<'_>, user: &[u8], password: &[u8]) -> Result<(), CmdError> {
    let session = ctx.shared.acl.authenticate(user, password).ok_or_else(|| {
        let denied = &ctx.shared.stats.acl_denied_auth;
        denied.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        CmdError(error::WRONGPASS.into())
    })?;
    ctx.client.set_session(session);
    Ok(())
}

/// `SELECT index`.
pub fn select(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    // Redis reads the index as a C int: anything wider is "not an integer".
    let index = i32::try_from(args.i64()?).map_err(|_| CmdError(error::NOT_C_INT.into()))?;
    let db = usize::try_from(index)
        .ok()
        .filter(|&db| db < ctx.shared.broker.keyspace.len())
        .ok_or_else(|| CmdError(error::DB_INDEX_OUT_OF_RANGE.into()))?;
    ctx.client.select(db);
    ok()
}

/// `QUIT`: `+OK`, then the connection closes.
pub fn quit(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Outcome::Close(Reply::Ok))
}

/// `RESET`: back to a fresh connection's state, as the default user (not authenticated if
/// that user needs a password).
pub fn reset(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    ctx.client.reset();
    ctx.client.set_session(Session::new(&ctx.shared.acl));
    Ok(Reply::Simple("RESET".into()).into())
}

/// `CLIENT ID`.
pub fn client_id(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(Reply::count(ctx.client.info.id).into())
}

/// `CLIENT SETNAME name`; an empty name clears it.
pub fn client_setname(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let name = args.bytes()?;
    if !valid_client_attr(&name) {
        return Err(CmdError(error::CLIENT_NAME_INVALID.into()));
    }
    set_name(ctx, &name);
    ok()
}

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

/// `CLIENT INFO`: this connection's `CLIENT LIST` line.
pub fn client_info(ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    let mut text = ctx.client.info.describe(ctx.now_ms);
    text.push('\n');
    Ok(Reply::Verbatim(text).into())
}

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

/// `MULTI`, `EXEC` and `DISCARD` are run by the connection before dispatch; reaching this
/// handler is a bug in the server, reported as an error rather than a panic.
pub fn transaction_misrouted(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    Err(error::transaction_misrouted(args.name()))
}

/// Redis's rule for names and library attributes: printable ASCII without spaces.
fn valid_client_attr(value: &[u8]) -> bool {
    value.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Sets (or, if empty, clears) the connection name; already validated.
fn set_name(ctx: &Ctx<'_>, name: &[u8]) {
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
