//! `XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER | HELP`: managing a
//! stream's consumer groups.
//!
//! Redis 7.2's `xgroupCommand` checks things in a fixed order, and the replies show it: first
//! the trailing options (`MKSTREAM`, `ENTRIESREAD`), then that the key exists (unless
//! `CREATE … MKSTREAM`), then that the group exists (SETID, CREATECONSUMER, DELCONSUMER), then
//! the argument count, and only then the ID. Each handler here follows that order, so a
//! command with several mistakes gets the error Redis would give.

use bytes::Bytes;
use sluice_resp::{Args, Reply};
use sluice_streams::{NoGroupWording, Stream, StreamError, StreamId};

use crate::cmd::help::{help_command, help_reply};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, container, ok};
use crate::error::{self, CmdError};
use sluice_broker::persist::groups;

/// The `XGROUP` container.
pub const XGROUP: Command = Command {
    name: "xgroup",
    arity: -2,
    flags: 0,
    keys: NOKEYS,
    categories: &[],
    group: "stream",
    since: "5.0.0",
    summary: "A container for consumer groups commands.",
    syntax: "",
    handler: container,
    subcommands: SUBCOMMANDS,
};

/// `XGROUP`'s subcommands, in the order `COMMAND` lists them.
const SUBCOMMANDS: &[Command] = &[CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP];

/// The ACL categories of the subcommands that change a group.
const GROUP_WRITE: &[&str] = &["write", "stream", "slow"];

/// The positional arguments every subcommand but HELP has: `XGROUP <sub> <key> <group> …`.
struct Target<'a> {
    all: &'a [Bytes],
    key: &'a Bytes,
    group: &'a Bytes,
}

impl<'a> Target<'a> {
    /// Arity is checked by dispatch, so `key` and `group` are present; checked anyway.
    fn of(args: &'a Args) -> Result<Self, CmdError> {
        let all = args.all();
        match (all.get(2), all.get(3)) {
            (Some(key), Some(group)) => Ok(Target { all, key, group }),
            _ => Err(syntax(all)),
        }
    }

    /// The argument at `i` (0 = `XGROUP`).
    fn arg(&self, i: usize) -> Result<&'a Bytes, CmdError> {
        self.all.get(i).ok_or_else(|| syntax(self.all))
    }
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try XGROUP HELP.`
fn syntax(all: &[Bytes]) -> CmdError {
    error::subcommand_syntax("xgroup", all.get(1).map_or(&b""[..], |b| b.as_ref()))
}

/// The options after the ID: `MKSTREAM` (CREATE only) and `ENTRIESREAD n`, in any order,
/// the last `ENTRIESREAD` winning. `None` = no counter (absent or -1).
fn parse_options(all: &[Bytes], create: bool) -> Result<(bool, Option<u64>), CmdError> {
    let mut mkstream = false;
    let mut entries_read = None;
    let mut i = 5;
    while let Some(opt) = all.get(i) {
        if create && opt.eq_ignore_ascii_case(b"MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if opt.eq_ignore_ascii_case(b"ENTRIESREAD")
            && let Some(value) = all.get(i + 1)
        {
            let n = sluice_resp::request::parse_i64(value)
                .ok_or_else(|| CmdError(error::NOT_INTEGER.into()))?;
            entries_read = match n {
                -1 => None,
                n => Some(u64::try_from(n).map_err(|_| StreamError::EntriesReadInvalid)?),
            };
            i += 2;
        } else {
            return Err(syntax(all));
        }
    }
    Ok((mkstream, entries_read))
}

/// `$` (the stream's last ID, resolved once the stream is at hand) or an ID.
fn parse_group_id(arg: &[u8], strict: bool) -> Result<Option<StreamId>, CmdError> {
    if arg == b"$" {
        return Ok(None);
    }
    let id = if strict {
        StreamId::parse(arg, 0)?
    } else {
        StreamId::parse_with_specials(arg, 0)?
    };
    Ok(Some(id))
}

const CREATE: Command = Command {
    name: "create",
    arity: -5,
    flags: WRITE | DENYOOM,
    keys: SUB_KEY,
    categories: GROUP_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "Creates a consumer group.",
    syntax: "key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]",
    handler: create,
    subcommands: &[],
};

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]`
pub fn create(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let t = Target::of(args)?;
    let (mkstream, entries_read) = parse_options(t.all, true)?;
    let db = ctx.db();
    if !mkstream && !db.exists(t.key, ctx.now_ms) {
        return Err(StreamError::GroupKeyMissing.into());
    }
    if !(5..=8).contains(&t.all.len()) {
        return Err(syntax(t.all));
    }
    let id = parse_group_id(t.arg(4)?, true)?;
    let group = t.group;
    let make = |stream: &mut Stream| {
        let last = id.unwrap_or_else(|| stream.last_id());
        // Redis 8.2.2: a counter above entries-added is capped to it.
        let entries_read = entries_read.map(|n| n.min(stream.entries_added()));
        stream.create_group(group, last, entries_read)?;
        ctx.journal(|rec| {
            rec.begin(6 + 2 * usize::from(entries_read.is_some()))
                .arg(b"XGROUP")
                .arg(b"CREATE")
                .arg(t.key)
                .arg(group)
                .id(last)
                .arg(b"MKSTREAM");
            if let Some(read) = entries_read {
                rec.arg(b"ENTRIESREAD").int(read);
            }
        });
        Ok::<_, StreamError>(())
    };
    let created = if mkstream {
        db.write_or_create_as(t.key, ctx.now_ms, |stream: &mut Stream, _| make(stream))?
    } else {
        // The key may have gone since the check above.
        db.write_as(t.key, ctx.now_ms, |stream: &mut Stream| make(stream))?
            .unwrap_or(Err(StreamError::GroupKeyMissing))
    };
    created?;
    ok()
}

const SETID: Command = Command {
    name: "setid",
    arity: -5,
    flags: WRITE,
    keys: SUB_KEY,
    categories: GROUP_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "Sets the last-delivered ID of a consumer group.",
    syntax: "key group id|$ [ENTRIESREAD entries-read]",
    handler: setid,
    subcommands: &[],
};

/// `XGROUP SETID key group id|$ [ENTRIESREAD entries-read]`
pub fn setid(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let t = Target::of(args)?;
    let (_, entries_read) = parse_options(t.all, false)?;
    let argc = t.all.len();
    with_group(ctx, &t, |stream, group| {
        if argc != 5 && argc != 7 {
            return Err(syntax(t.all));
        }
        let id = parse_group_id(t.arg(4)?, false)?.unwrap_or_else(|| stream.last_id());
        // Redis 8.2.2: a counter above entries-added is capped to it.
        let entries_read = entries_read.map(|n| n.min(stream.entries_added()));
        if let Some(g) = stream.group_mut(group) {
            g.set_id(id, entries_read);
        }
        ctx.journal(|rec| groups::cursor(rec, t.key, group, stream));
        Ok(Reply::Ok)
    })
}

const DESTROY: Command = Command {
    name: "destroy",
    arity: 4,
    flags: WRITE,
    keys: SUB_KEY,
    categories: GROUP_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "Destroys a consumer group.",
    syntax: "key group",
    handler: destroy,
    subcommands: &[],
};

/// `XGROUP DESTROY key group`: 1 if the group existed. Clients blocked in `XREADGROUP` on
/// the group are woken: their retry finds no group and replies NOGROUP.
pub fn destroy(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let t = Target::of(args)?;
    let destroyed = ctx
        .db()
        .write_as(t.key, ctx.now_ms, |stream: &mut Stream| {
            let destroyed = stream.destroy_group(t.group);
            if destroyed {
                ctx.journal(|rec| {
                    rec.command(&[b"XGROUP", b"DESTROY", t.key, t.group]);
                });
            }
            destroyed
        })?
        .ok_or(StreamError::GroupKeyMissing)?;
    if destroyed {
        // Readers blocked in the group get NOGROUP.
        ctx.key_ready(t.key);
    }
    Ok(Reply::Int(i64::from(destroyed)).into())
}

const CREATECONSUMER: Command = Command {
    name: "createconsumer",
    arity: 5,
    flags: WRITE | DENYOOM,
    keys: SUB_KEY,
    categories: GROUP_WRITE,
    group: "stream",
    since: "6.2.0",
    summary: "Creates a consumer in a consumer group.",
    syntax: "key group consumer",
    handler: createconsumer,
    subcommands: &[],
};

/// `XGROUP CREATECONSUMER key group consumer`: 1 if created, 0 if it existed.
pub fn createconsumer(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let t = Target::of(args)?;
    let now = ctx.now_ms;
    with_group(ctx, &t, |stream, group| {
        let name = t.arg(4)?;
        let created = stream
            .group_mut(group)
            .is_some_and(|g| g.create_consumer(name, now));
        if created {
            ctx.journal(|rec| groups::consumer_created(rec, t.key, group, name));
        }
        Ok(Reply::Int(i64::from(created)))
    })
}

const DELCONSUMER: Command = Command {
    name: "delconsumer",
    arity: 5,
    flags: WRITE,
    keys: SUB_KEY,
    categories: GROUP_WRITE,
    group: "stream",
    since: "5.0.0",
    summary: "Deletes a consumer from a consumer group.",
    syntax: "key group consumer",
    handler: delconsumer,
    subcommands: &[],
};

/// `XGROUP DELCONSUMER key group consumer`: how many pending entries the consumer had (they
/// leave the group's PEL with it); 0 if there was no such consumer.
pub fn delconsumer(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let t = Target::of(args)?;
    with_group(ctx, &t, |stream, group| {
        let name = t.arg(4)?;
        let deleted = stream
            .group_mut(group)
            .and_then(|g| g.delete_consumer(name));
        if deleted.is_some() {
            ctx.journal(|rec| {
                rec.command(&[b"XGROUP", b"DELCONSUMER", t.key, group, name]);
            });
        }
        let pending = deleted.unwrap_or(0);
        Ok(Reply::count(pending))
    })
}

/// Runs `f` on the stream when the key and the group exist; otherwise Redis's errors (key
/// first, then group).
fn with_group(
    ctx: &Ctx<'_>,
    t: &Target<'_>,
    f: impl FnOnce(&mut Stream, &[u8]) -> Result<Reply, CmdError>,
) -> CmdResult {
    let reply = ctx
        .db()
        .write_as(t.key, ctx.now_ms, |stream: &mut Stream| {
            if stream.group(t.group).is_none() {
                return Err(error::no_group(NoGroupWording::GroupForKey, t.key, t.group));
            }
            f(stream, t.group)
        })?
        .ok_or(StreamError::GroupKeyMissing)??;
    Ok(reply.into())
}

const HELP: Command = help_command(&["stream", "slow"], "stream", "5.0.0", help);

/// `XGROUP HELP`
pub fn help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "xgroup",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    )
    .into())
}
