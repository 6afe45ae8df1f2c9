//! The permission check: may this user run this command on these keys?
//!
//! Keys are found from the command's `(first, last, step)`, except `XREAD`/`XREADGROUP` (the
//! first half of the arguments after `STREAMS`, as Redis's key specs say). Each key needs the
//! access Redis's key-spec flags give it: read (`ACCESS`), write (`INSERT`, `DELETE`,
//! `UPDATE`), both, or neither (`EXISTS`, `TYPE`, `XLEN` only look at the key's existence or
//! size, so any pattern that matches will do).

use bytes::Bytes;

use super::catalog::Entry;
use super::user::{READ, User, WRITE};
use crate::command_info::flags;
use sluice_broker::glob;

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The user may not run the command.
    Command,
    /// The argument at this position (in the full argument list) is a key the user may not
    /// touch.
    Key(usize),
}

impl User {
    /// Checks the command at catalog index `index` with its full arguments (`args[0]` is the
    /// command name).
    #[inline]
    pub fn check(&self, index: usize, args: &[Bytes]) -> Result<(), Denied> {
        if self.allows_everything {
            return Ok(());
        }
        self.check_restricted(index, args)
    }

    fn check_restricted(&self, index: usize, args: &[Bytes]) -> Result<(), Denied> {
        let entry = self.commands.catalog.get(index).ok_or(Denied::Command)?;
        // As in Redis, commands allowed before authentication are allowed to everyone.
        if !self.commands.all
            && !entry.info.has(flags::NO_AUTH)
            && !self.commands.allowed(index)
            && !self.first_arg_allowed(index, entry, args)
        {
            return Err(Denied::Command);
        }
        if !self.all_keys {
            let mut denied = None;
            for_each_key(entry, args, |position, access| {
                if self.key_allowed(&args[position], access) {
                    true
                } else {
                    denied = Some(Denied::Key(position));
                    false
                }
            });
            if let Some(denied) = denied {
                return Err(denied);
            }
        }
        Ok(())
    }

    /// `+cmd|arg`: the command is allowed with that first argument.
    fn first_arg_allowed(&self, index: usize, entry: &Entry, args: &[Bytes]) -> bool {
        let position = if entry.parent.is_some() { 2 } else { 1 };
        let Some(arg) = args.get(position) else {
            return false;
        };
        self.commands
            .first_args
            .iter()
            .find(|(i, _)| *i == index)
            .is_some_and(|(_, allowed)| allowed.iter().any(|a| a.eq_ignore_ascii_case(arg)))
    }

    fn key_allowed(&self, key: &[u8], access: u8) -> bool {
        self.keys
            .iter()
            .any(|p| p.access & access == access && glob::matches(&p.pattern, key, false))
    }
}

/// The command and subcommand names of a catalog entry: `("xinfo", Some("stream"))`.
fn names(entry: &Entry) -> (&'static str, Option<&'static str>) {
    match entry.parent {
        Some(parent) => (parent, Some(entry.info.name)),
        None => (entry.info.name, None),
    }
}

/// Calls `visit(position, access)` for each key argument of the command, in order, until it
/// returns false. `access` is [`READ`], [`WRITE`], both, or 0 (any pattern will do).
pub fn for_each_key(entry: &Entry, args: &[Bytes], mut visit: impl FnMut(usize, u8) -> bool) {
    match names(entry) {
        ("xread", None) => stream_keys(args, 1, &mut visit),
        ("xreadgroup", None) => stream_keys(args, 4, &mut visit),
        ("rename", None) => {
            // The source is read and deleted; the destination only written.
            if args.len() > 1 && visit(1, READ | WRITE) && args.len() > 2 {
                visit(2, WRITE);
            }
        }
        ("lmove" | "blmove" | "smove" | "copy", None) => {
            // The source is read (and, but for COPY, changed); the destination written.
            let source = if names(entry).0 == "copy" {
                READ
            } else {
                READ | WRITE
            };
            if args.len() > 1 && visit(1, source) && args.len() > 2 {
                visit(2, WRITE);
            }
        }
        ("set", None) => {
            // SET reads the old value only with GET (Redis's variable key-spec flags).
            let get = args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"GET"));
            if args.len() > 1 {
                visit(1, if get { READ | WRITE } else { WRITE });
            }
        }
        _ => {
            let (first, last, step) = entry.info.keys;
            let (Ok(first), Ok(step)) = (usize::try_from(first), usize::try_from(step)) else {
                return;
            };
            if first == 0 {
                return;
            }
            let last = if last < 0 {
                args.len().checked_sub(last.unsigned_abs() as usize)
            } else {
                usize::try_from(last).ok()
            };
            let Some(last) = last else { return };
            let access = key_access(entry).unwrap_or_else(|| fallback_access(entry));
            let mut position = first;
            while position <= last && position < args.len() {
                if !visit(position, access) {
                    return;
                }
                position += step.max(1);
            }
        }
    }
}

/// `XREAD`/`XREADGROUP`: the first half of the arguments after the first `STREAMS` at or
/// after `start_from`.
fn stream_keys(args: &[Bytes], start_from: usize, visit: &mut impl FnMut(usize, u8) -> bool) {
    let Some(streams) = args
        .iter()
        .skip(start_from)
        .position(|a| a.eq_ignore_ascii_case(b"STREAMS"))
        .map(|i| i + start_from)
    else {
        return;
    };
    let first = streams + 1;
    let count = args.len().saturating_sub(first) / 2;
    for position in first..first + count {
        if !visit(position, READ) {
            return;
        }
    }
}

/// The access each keyed command needs, from Redis 7.2's key specs (`COMMAND INFO`): read
/// for `ACCESS`, write for `INSERT`, `UPDATE` or `DELETE`, none for a command that only looks
/// at a key's existence or size.
pub fn key_access(entry: &Entry) -> Option<u8> {
    Some(match names(entry) {
        (
            "exists" | "touch" | "type" | "xlen" | "strlen" | "hexists" | "hlen" | "hstrlen"
            | "llen" | "sismember" | "scard",
            None,
        ) => 0,
        ("object", Some("encoding" | "freq" | "idletime" | "refcount"))
        | ("memory", Some("usage")) => 0,
        (
            "ttl" | "pttl" | "xrange" | "xrevrange" | "xpending" | "xread" | "xreadgroup" | "get"
            | "mget" | "getrange" | "dump" | "hget" | "hmget" | "hgetall" | "hkeys" | "hvals"
            | "hrandfield" | "hscan" | "lrange" | "lindex" | "lpos" | "smembers" | "smismember"
            | "srandmember" | "sinter" | "sunion" | "sdiff" | "sscan",
            None,
        ) => READ,
        ("xinfo", Some("stream" | "groups" | "consumers")) => READ,
        (
            "getdel" | "getex" | "getset" | "incr" | "incrby" | "decr" | "decrby" | "incrbyfloat"
            | "hincrby" | "hincrbyfloat" | "lpop" | "rpop" | "blpop" | "brpop" | "spop",
            None,
        ) => READ | WRITE,
        (
            "del" | "unlink" | "expire" | "pexpire" | "expireat" | "pexpireat" | "persist" | "xadd"
            | "xdel" | "xdelex" | "xackdel" | "xcfgset" | "xtrim" | "xsetid" | "xack" | "xnack"
            | "xclaim" | "xautoclaim" | "setnx" | "setex" | "psetex" | "mset" | "msetnx" | "append"
            | "setrange" | "restore" | "hset" | "hsetnx" | "hmset" | "hdel" | "lpush" | "rpush"
            | "lpushx" | "rpushx" | "lset" | "linsert" | "lrem" | "ltrim" | "sadd" | "srem",
            None,
        ) => WRITE,
        ("xgroup", Some("create" | "setid" | "destroy" | "createconsumer" | "delconsumer")) => {
            WRITE
        }
        // Sluice's own: they change consumer-group state, as XCLAIM does.
        ("sluice", Some("reassign" | "redeliver" | "idmprecord")) => WRITE,
        // Their keys differ: see `for_each_key` (the source's access here).
        ("rename" | "lmove" | "blmove" | "smove", None) => READ | WRITE,
        ("set", None) | ("copy", None) => READ,
        _ => return None,
    })
}

/// For a keyed command missing from [`key_access`]: the most a command with its flags could
/// need.
fn fallback_access(entry: &Entry) -> u8 {
    if entry.info.has(flags::WRITE) {
        READ | WRITE
    } else {
        READ
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::test_catalog::catalog;

    fn entry(name: &str) -> &'static Entry {
        let index = catalog().find(name.as_bytes()).expect(name);
        catalog().get(index).expect(name)
    }

    /// The catalog index a request resolves to: the container's subcommand when it has one.
    fn resolve(args: &[Bytes]) -> usize {
        let name = String::from_utf8_lossy(&args[0]).into_owned();
        let index = catalog().find(name.as_bytes()).expect("a known command");
        let has_subs = !catalog().get(index).expect("entry").subcommands.is_empty();
        match args.get(1) {
            Some(sub) if has_subs => {
                let full = format!("{name}|{}", String::from_utf8_lossy(sub));
                catalog().find(full.as_bytes()).expect("a known subcommand")
            }
            _ => index,
        }
    }

    fn keys(name: &str, args: &[&str]) -> Vec<(String, u8)> {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        let mut out = Vec::new();
        for_each_key(entry(name), &args, |i, access| {
            out.push((String::from_utf8_lossy(&args[i]).into_owned(), access));
            true
        });
        out
    }

    #[test]
    fn keys_are_found_where_redis_finds_them() {
        let k = |s: &str, a| (s.to_owned(), a);
        assert_eq!(keys("xadd", &["XADD", "s", "*", "f", "v"]), [k("s", WRITE)]);
        assert_eq!(
            keys("del", &["DEL", "a", "b"]),
            [k("a", WRITE), k("b", WRITE)]
        );
        assert_eq!(keys("exists", &["EXISTS", "a"]), [k("a", 0)]);
        assert_eq!(
            keys("rename", &["RENAME", "a", "b"]),
            [k("a", READ | WRITE), k("b", WRITE)]
        );
        assert_eq!(
            keys("xgroup|create", &["XGROUP", "CREATE", "s", "g", "$"]),
            [k("s", WRITE)]
        );
        assert_eq!(
            keys("xinfo|stream", &["XINFO", "STREAM", "s"]),
            [k("s", READ)]
        );
        assert_eq!(
            keys(
                "xread",
                &["XREAD", "COUNT", "1", "streams", "a", "b", "0", "0"]
            ),
            [k("a", READ), k("b", READ)]
        );
        // The group and consumer names are not searched for STREAMS.
        assert_eq!(
            keys(
                "xreadgroup",
                &[
                    "XREADGROUP",
                    "GROUP",
                    "streams",
                    "streams",
                    "STREAMS",
                    "s",
                    ">"
                ]
            ),
            [k("s", READ)]
        );
        assert_eq!(
            keys("xread", &["XREAD", "STREAMS", "a", "b", "c"]),
            [k("a", READ)]
        );
        assert_eq!(keys("xread", &["XREAD", "COUNT", "1"]), []);
        assert_eq!(keys("keys", &["KEYS", "*"]), []);
        assert_eq!(
            keys(
                "sluice|reassign",
                &["SLUICE", "REASSIGN", "s", "g", "c", "0", "1-1"]
            ),
            [k("s", WRITE)]
        );
    }

    #[test]
    fn checks_commands_then_keys() {
        let mut user = User::new(b"alice", 1, catalog());
        for rule in ["on", "%R~r.*", "~orders.*", "+@read", "+xadd", "+select|0"] {
            super::super::rules::apply(&mut user, rule.as_bytes()).expect(rule);
        }
        user.finish();
        let check = |args: &[&str]| {
            let args: Vec<Bytes> = args
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect();
            user.check(resolve(&args), &args)
        };
        assert_eq!(check(&["XADD", "orders.1", "*", "f", "v"]), Ok(()));
        assert_eq!(
            check(&["XADD", "other", "*", "f", "v"]),
            Err(Denied::Key(1))
        );
        assert_eq!(check(&["XADD", "r.1", "*", "f", "v"]), Err(Denied::Key(1)));
        assert_eq!(check(&["XRANGE", "r.1", "-", "+"]), Ok(()));
        assert_eq!(
            check(&["XREAD", "STREAMS", "orders.1", "x", "0", "0"]),
            Err(Denied::Key(3))
        );
        assert_eq!(check(&["XDEL", "orders.1", "1-1"]), Err(Denied::Command));
        assert_eq!(check(&["SELECT", "0"]), Ok(()));
        assert_eq!(check(&["SELECT", "1"]), Err(Denied::Command));
        assert_eq!(check(&["AUTH", "x"]), Ok(()));
        assert_eq!(check(&["CONFIG", "GET", "x"]), Err(Denied::Command));
    }
}
