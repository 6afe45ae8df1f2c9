//! `ACL LOG`: the recent refusals — commands, keys and failed `AUTH`s — as Redis 7.2 keeps
//! them.
//!
//! Newest first. A refusal like one of the ten newest entries (same reason, context, object
//! and user, that entry updated at most 60 s ago) counts into it instead of adding one: its
//! count grows, its client and update time are replaced, and it moves to the front. The log
//! holds at most `acllog-max-len` entries (default 128); the oldest go first. Entry ids keep
//! growing across `ACL LOG RESET`, as in Redis.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use sluice_resp::Reply;

/// `acllog-max-len`'s default.
pub const DEFAULT_MAX_LEN: u64 = 128;
/// Entries this close in time (ms) may be grouped (Redis's `ACL_LOG_GROUPING_MAX_TIME_DELTA`).
const GROUPING_MAX_DELTA_MS: u64 = 60_000;
/// How many of the newest entries a refusal is compared with.
const GROUPING_SCAN: usize = 10;

/// Why a request was refused (the entry's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The user may not run the command.
    Command,
    /// The user may not touch a key.
    Key,
    /// `AUTH` or `HELLO … AUTH` failed.
    Auth,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Auth => "auth",
        }
    }
}

/// Where the refused request ran (the entry's `context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Sent by the client on its own.
    Toplevel,
    /// Sent inside `MULTI`, or run by `EXEC`.
    Multi,
}

impl Context {
    fn as_str(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
        }
    }
}

/// A refusal to record.
#[derive(Debug, Clone)]
pub struct Refused<'a> {
    pub reason: Reason,
    pub context: Context,
    /// The command's full name (`config|set`), the key, or for `auth` the command as the
    /// client spelled it (`AUTH`, `hello`).
    pub object: &'a [u8],
    /// The user refused, or for `auth` the user name tried.
    pub username: &'a [u8],
}

#[derive(Debug, Clone)]
struct Entry {
    count: u64,
    reason: Reason,
    context: Context,
    object: Vec<u8>,
    username: Vec<u8>,
    /// `CLIENT INFO` of the client refused last.
    client_info: String,
    entry_id: u64,
    /// Unix ms.
    created_ms: u64,
    /// Unix ms; what `age-seconds` counts from and grouping compares.
    updated_ms: u64,
}

#[derive(Debug, Default)]
struct Entries {
    newest_first: VecDeque<Entry>,
    next_id: u64,
}

/// The log, shared by all connections.
#[derive(Debug)]
pub struct AclLog {
    entries: Mutex<Entries>,
    /// `acllog-max-len`.
    pub max_len: AtomicU64,
}

impl Default for AclLog {
    fn default() -> Self {
        AclLog::new(DEFAULT_MAX_LEN)
    }
}

impl AclLog {
    /// An empty log keeping at most `max_len` entries.
    pub fn new(max_len: u64) -> Self {
        AclLog {
            entries: Mutex::default(),
            max_len: AtomicU64::new(max_len),
        }
    }

    /// Records a refusal at `now_ms` by the client `client_info` describes.
    pub fn add(&self, refused: &Refused<'_>, client_info: String, now_ms: u64) {
        let max_len = usize::try_from(self.max_len.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        let mut entries = self.entries.lock();
        let similar = entries
            .newest_first
            .iter()
            .take(GROUPING_SCAN)
            .position(|e| {
                e.reason == refused.reason
                    && e.context == refused.context
                    && now_ms.abs_diff(e.updated_ms) <= GROUPING_MAX_DELTA_MS
                    && e.object == refused.object
                    && e.username == refused.username
            });
        if let Some(entry) = similar.and_then(|at| entries.newest_first.remove(at)) {
            let entry = Entry {
                count: entry.count + 1,
                client_info,
                updated_ms: now_ms,
                ..entry
            };
            entries.newest_first.push_front(entry);
            return;
        }
        let entry_id = entries.next_id;
        entries.next_id += 1;
        entries.newest_first.push_front(Entry {
            count: 1,
            reason: refused.reason,
            context: refused.context,
            object: refused.object.to_vec(),
            username: refused.username.to_vec(),
            client_info,
            entry_id,
            created_ms: now_ms,
            updated_ms: now_ms,
        });
        entries.newest_first.truncate(max_len);
    }

    /// `ACL LOG RESET`: forgets every entry (ids go on from where they were).
    pub fn reset(&self) {
        self.entries.lock().newest_first.clear();
    }

    /// `ACL LOG [count]`: the `count` newest entries, each a map of Redis 7.2's fields.
    pub fn reply(&self, count: usize, now_ms: u64) -> Reply {
        let entries = self.entries.lock();
        let field = |name: &'static str, value: Reply| (Reply::bulk_static(name), value);
        let int = |n: u64| Reply::Int(i64::try_from(n).unwrap_or(i64::MAX));
        let shown = entries.newest_first.iter().take(count).map(|e| {
            Reply::Map(vec![
                field("count", int(e.count)),
                field("reason", Reply::bulk_static(e.reason.as_str())),
                field("context", Reply::bulk_static(e.context.as_str())),
                field("object", Reply::bulk(&e.object)),
                field("username", Reply::bulk(&e.username)),
                field(
                    "age-seconds",
                    Reply::Double(now_ms.saturating_sub(e.updated_ms) as f64 / 1000.0),
                ),
                field("client-info", Reply::bulk(&e.client_info)),
                field("entry-id", int(e.entry_id)),
                field("timestamp-created", int(e.created_ms)),
                field("timestamp-last-updated", int(e.updated_ms)),
            ])
        });
        Reply::Array(shown.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused<'a>(reason: Reason, object: &'a str) -> Refused<'a> {
        Refused {
            reason,
            context: Context::Toplevel,
            object: object.as_bytes(),
            username: b"alice",
        }
    }

    /// (object, count, entry id) of each entry, newest first.
    fn shown(log: &AclLog) -> Vec<(String, i64, i64)> {
        let Reply::Array(entries) = log.reply(usize::MAX, 0) else {
            panic!("an array");
        };
        entries
            .iter()
            .map(|e| {
                let Reply::Map(fields) = e else {
                    panic!("a map")
                };
                let (Reply::Bulk(object), Reply::Int(count), Reply::Int(id)) =
                    (&fields[3].1, &fields[0].1, &fields[7].1)
                else {
                    panic!("fields");
                };
                (String::from_utf8_lossy(object).into_owned(), *count, *id)
            })
            .collect()
    }

    /// The sequence of valkey-server 8.1's and redis-server 7.0.15's run: `GET other`,
    /// `SET x 1`, `GET other`, `MULTI`, `GET other2`, `SET y 1` refused in turn.
    #[test]
    fn groups_like_entries_and_moves_them_first() {
        let log = AclLog::default();
        for (at, (reason, object)) in [
            (Reason::Key, "other"),
            (Reason::Command, "set"),
            (Reason::Key, "other"),
            (Reason::Command, "multi"),
            (Reason::Key, "other2"),
            (Reason::Command, "set"),
        ]
        .into_iter()
        .enumerate()
        {
            log.add(&refused(reason, object), String::new(), at as u64 * 100);
        }
        let s = |o: &str, c, i| (o.to_owned(), c, i);
        assert_eq!(
            shown(&log),
            [
                s("set", 2, 1),
                s("other2", 1, 3),
                s("multi", 1, 2),
                s("other", 2, 0)
            ]
        );
        // A minute later the same refusal is a new entry; a reset keeps the ids going.
        log.add(&refused(Reason::Command, "set"), String::new(), 70_000);
        assert_eq!(shown(&log)[0], s("set", 1, 4));
        log.reset();
        log.add(&refused(Reason::Auth, "AUTH"), String::new(), 70_000);
        assert_eq!(shown(&log), [s("AUTH", 1, 5)]);
    }

    #[test]
    fn keeps_at_most_max_len() {
        let log = AclLog::default();
        log.max_len.store(2, Ordering::Relaxed);
        for object in ["a", "b", "c"] {
            log.add(&refused(Reason::Key, object), String::new(), 0);
        }
        let objects: Vec<String> = shown(&log).into_iter().map(|e| e.0).collect();
        assert_eq!(objects, ["c", "b"]);
        log.max_len.store(0, Ordering::Relaxed);
        log.add(&refused(Reason::Key, "d"), String::new(), 0);
        assert!(shown(&log).is_empty());
    }
}
