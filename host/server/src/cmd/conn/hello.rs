//! `HELLO`: the handshake that picks the protocol version, and may authenticate and name the
//! connection in the same step.

use sluice_resp::{Args, Protocol, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `HELLO` command.
pub const HELLO: Command = Command {
    name: "hello",
    arity: -1,
    flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
    keys: NOKEYS,
    categories: CONN,
    group: "connection",
    since: "6.0.0",
    summary: "Handshakes with the Redis server.",
    syntax: "[protover [AUTH username password] [SETNAME clientname]]",
    handler: hello,
    subcommands: &[],
};

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
            if !super::client::valid_client_attr(&candidate) {
                return Err(CmdError(error::CLIENT_NAME_INVALID.into()));
            }
            name = Some(candidate);
        } else {
            return Err(error::hello_syntax(&opt));
        }
    }
    if let Some((user, password)) = credentials {
        let spelled = args.name().to_vec();
        super::auth::authenticate(ctx, &spelled, &user, &password)?;
    }
    if !ctx.client.session.is_authenticated() {
        return Err(CmdError(error::HELLO_NOAUTH.into()));
    }
    if let Some(name) = name {
        super::client::set_name(ctx, &name);
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
