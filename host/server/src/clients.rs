//! The registry of connected clients, for `CLIENT LIST`, `CLIENT INFO` and `INFO clients`.
//!
//! Each connection owns its state; what other connections may read about it lives in a
//! [`ClientInfo`] here: atomics for what changes on every command, mutexes for what changes
//! rarely (names).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

use dashmap::DashMap;
use parking_lot::Mutex;

/// What other connections can see of one client.
#[derive(Debug)]
pub struct ClientInfo {
    /// `CLIENT ID`, unique for the server's life, from 1.
    pub id: u64,
    /// The peer's address.
    pub addr: SocketAddr,
    /// Our end of the connection.
    pub laddr: SocketAddr,
    /// When it connected, Unix ms.
    pub created_ms: u64,
    /// When it last sent a command, Unix ms.
    pub last_active_ms: AtomicU64,
    /// Selected database.
    pub db: AtomicUsize,
    /// Protocol version (2 or 3).
    pub resp: AtomicU8,
    /// Waiting in a blocking command.
    pub blocked: AtomicBool,
    /// Commands queued in `MULTI`, or -1 outside one (stored +1 so it fits unsigned).
    pub multi_plus_one: AtomicU64,
    /// The last command run: its catalog index plus one (0 before any), shown by `CLIENT
    /// LIST` as `cmd=xadd` or `cmd=client|list`.
    pub last_cmd: AtomicUsize,
    /// `CLIENT SETNAME`.
    pub name: Mutex<String>,
    /// `CLIENT SETINFO LIB-NAME`.
    pub lib_name: Mutex<String>,
    /// `CLIENT SETINFO LIB-VER`.
    pub lib_ver: Mutex<String>,
    /// The ACL user the connection is authenticated as (`default` until `AUTH`).
    pub user: Mutex<String>,
    /// Woken when the connection's user may have been deleted (`ACL DELUSER`, `ACL LOAD`):
    /// the connection checks, and closes if it is gone, as Redis closes such clients at
    /// once, even idle or blocked ones.
    pub user_changed: tokio::sync::Notify,
}

impl ClientInfo {
    /// One line of `CLIENT LIST` / the reply of `CLIENT INFO`, in Redis's field order.
    pub fn describe(&self, now_ms: u64) -> String {
        let multi = i64::try_from(self.multi_plus_one.load(Ordering::Relaxed)).unwrap_or(0) - 1;
        let flags = if self.blocked.load(Ordering::Relaxed) {
            "b"
        } else if multi >= 0 {
            "x"
        } else {
            "N"
        };
        format!(
            "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi={} \
             qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} \
             user={} redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.name.lock(),
            now_ms.saturating_sub(self.created_ms) / 1000,
            now_ms.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)) / 1000,
            flags,
            self.db.load(Ordering::Relaxed),
            multi,
            match self.last_cmd.load(Ordering::Relaxed) {
                0 => "NULL".to_owned(),
                index => crate::cmd::catalog().full_name(index - 1),
            },
            self.user.lock(),
            self.resp.load(Ordering::Relaxed),
            self.lib_name.lock(),
            self.lib_ver.lock(),
        )
    }
}

/// All connected clients.
#[derive(Debug, Default)]
pub struct Clients {
    map: DashMap<u64, Arc<ClientInfo>>,
    last_id: AtomicU64,
}

impl Clients {
    /// Registers a new connection and returns its info.
    pub fn add(&self, addr: SocketAddr, laddr: SocketAddr, now_ms: u64) -> Arc<ClientInfo> {
        let id = self.last_id.fetch_add(1, Ordering::Relaxed) + 1;
        let info = Arc::new(ClientInfo {
            id,
            addr,
            laddr,
            created_ms: now_ms,
            last_active_ms: AtomicU64::new(now_ms),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            blocked: AtomicBool::new(false),
            multi_plus_one: AtomicU64::new(0),
            last_cmd: AtomicUsize::new(0),
            name: Mutex::new(String::new()),
            lib_name: Mutex::new(String::new()),
            lib_ver: Mutex::new(String::new()),
            user: Mutex::new("default".into()),
            user_changed: tokio::sync::Notify::new(),
        });
        self.map.insert(id, info.clone());
        info
    }

    /// Forgets a closed connection.
    pub fn remove(&self, id: u64) {
        self.map.remove(&id);
    }

    /// Wakes the connections authenticated as any of `names` (users just deleted), so they
    /// check their user and close.
    pub fn recheck_users<N: AsRef<[u8]>>(&self, names: &[N]) {
        if names.is_empty() {
            return;
        }
        for client in &self.map {
            let user = client.user.lock();
            if names
                .iter()
                .any(|n| String::from_utf8_lossy(n.as_ref()) == *user)
            {
                // A permit is kept if the connection is not waiting right now.
                client.user_changed.notify_one();
            }
        }
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nobody is connected.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of clients waiting in a blocking command.
    pub fn blocked(&self) -> usize {
        self.map
            .iter()
            .filter(|c| c.blocked.load(Ordering::Relaxed))
            .count()
    }

    /// All clients, ordered by id.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        let mut all: Vec<_> = self.map.iter().map(|c| c.value().clone()).collect();
        all.sort_by_key(|c| c.id);
        all
    }
}
