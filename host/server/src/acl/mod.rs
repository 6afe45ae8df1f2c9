//! Authentication and access control, Redis 7.2's ACLs: users with passwords, allowed
//! commands and key patterns; `AUTH`; the check every command goes through.
//!
//! The registry ([`Acl`]) holds the users; a change replaces a user's `Arc` and bumps a
//! generation counter. Each connection holds a [`Session`]: an `Arc<User>` snapshot and the
//! generation it was taken at. A command costs one atomic load and one branch when the user
//! may run everything; otherwise a bit test per command and a glob match per key when the
//! user has key patterns. No lock is taken per command.
//!
//! The commands come from the table as a [`Catalog`] of small records
//! ([`crate::command_info`]); a request is checked by its index in that catalog.
//!
//! Layout: [`catalog`] (command indices, categories), [`user`] (a user and how it is
//! described), [`rules`] (`ACL SETUSER` modifiers), [`check`] (the permission check, key
//! positions), [`session`] (a connection's user, its refusals), [`file`] (the ACL file),
//! [`log`] (`ACL LOG`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::RwLock;

pub mod catalog;
pub mod check;
pub mod file;
pub mod log;
pub mod rules;
pub mod session;
#[cfg(test)]
pub(crate) mod test_catalog;
pub mod user;

pub use catalog::Catalog;

pub use check::Denied;
pub use session::{Denial, Refusal, Session, check_blocked};
pub use user::User;

/// The name of the user every connection starts as.
pub const DEFAULT_USER: &[u8] = b"default";

/// The users, shared by all connections.
#[derive(Debug)]
pub struct Acl {
    /// The commands users' rules are checked against.
    catalog: &'static Catalog,
    users: RwLock<BTreeMap<Vec<u8>, Arc<User>>>,
    /// Bumped after every change, so sessions know to look their user up again.
    generation: AtomicU64,
    next_id: AtomicU64,
}

impl Acl {
    /// The `default` user as Redis starts it (`on nopass ~* &* +@all`), nobody else; rules
    /// name the commands of `catalog`.
    pub fn new(catalog: &'static Catalog) -> Acl {
        let acl = Acl {
            catalog,
            users: RwLock::new(BTreeMap::new()),
            generation: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
        };
        let default = User::default_user(acl.new_id(), catalog);
        acl.users
            .write()
            .insert(DEFAULT_USER.to_vec(), Arc::new(default));
        acl
    }

    /// The users the configuration declares: `requirepass` sets the default user's password,
    /// then each entry of `users` (`"<name> <rule> <rule> …"`) creates a user, or resets and
    /// redefines `default`. The error names the user and the rule.
    pub fn from_config(
        catalog: &'static Catalog,
        requirepass: Option<&str>,
        users: &[String],
    ) -> Result<Acl, String> {
        let acl = Acl::new(catalog);
        let mut map = BTreeMap::new();
        let mut default = User::default_user(acl.new_id(), catalog);
        if let Some(password) = requirepass.filter(|p| !p.is_empty()) {
            default.passwords = vec![user::hash_password(password.as_bytes())];
            default.nopass = false;
        }
        let mut seen: Vec<&str> = Vec::new();
        for definition in users {
            let mut words = definition.split_ascii_whitespace();
            let name = words
                .next()
                .ok_or("users: an entry is empty (expected \"<name> <rule> …\")")?;
            if seen.contains(&name) {
                return Err(format!(
                    "users: user '{name}' is defined twice (a user can only be defined once)"
                ));
            }
            if rules::has_spaces(name.as_bytes()) {
                return Err(format!("users: user name {name:?} contains a NUL"));
            }
            seen.push(name);
            let mut user = if name.as_bytes() == DEFAULT_USER {
                let mut user = default.clone();
                rules::apply(&mut user, b"reset").map_err(|e| e.reason().to_owned())?;
                user
            } else {
                User::new(name.as_bytes(), acl.new_id(), catalog)
            };
            for rule in words {
                rules::apply(&mut user, rule.as_bytes()).map_err(|e| {
                    format!(
                        "users: user '{name}', rule '{}': {}",
                        rule_for_log(rule),
                        e.reason()
                    )
                })?;
            }
            user.finish();
            if name.as_bytes() == DEFAULT_USER {
                default = user;
            } else {
                map.insert(name.as_bytes().to_vec(), Arc::new(user));
            }
        }
        map.insert(DEFAULT_USER.to_vec(), Arc::new(default));
        *acl.users.write() = map;
        Ok(acl)
    }

    /// The users of the ACL file at `path` (`aclfile`); the error is Redis's text, naming
    /// the file and the lines at fault.
    pub fn from_file(catalog: &'static Catalog, path: &std::path::Path) -> Result<Acl, String> {
        let acl = Acl::new(catalog);
        acl.replace_users(file::read(catalog, path)?);
        Ok(acl)
    }

    /// Replaces every user with `users` (`ACL LOAD`). A user whose name was there before
    /// keeps its identity, so its connections stay and follow the new rules, as in Redis
    /// 7.2; the names of the users that are gone are returned, for their connections to be
    /// closed.
    pub fn replace_users(&self, users: Vec<User>) -> Vec<Vec<u8>> {
        let mut map = self.users.write();
        let mut next = BTreeMap::new();
        for mut user in users {
            user.id = match map.get(&user.name) {
                Some(old) => old.id,
                None => self.new_id(),
            };
            next.insert(user.name.clone(), Arc::new(user));
        }
        let gone = map
            .keys()
            .filter(|name| !next.contains_key(*name))
            .cloned()
            .collect();
        *map = next;
        self.generation.fetch_add(1, Ordering::Release);
        gone
    }

    /// `ACL SAVE`'s file: every user's `ACL LIST` line.
    pub fn file_text(&self) -> Vec<u8> {
        file::render(self.users().iter().map(|u| &**u))
    }

    /// `CONFIG SET requirepass`: the default user's passwords become `password` alone, or
    /// `nopass` when it is empty (Redis's `resetpass` then `>password` or `nopass`).
    pub fn set_default_password(&self, password: &[u8]) {
        let mut users = self.users.write();
        let Some(default) = users.get(DEFAULT_USER) else {
            return;
        };
        let mut user = User::clone(default);
        user.passwords.clear();
        user.nopass = password.is_empty();
        if !password.is_empty() {
            user.passwords.push(user::hash_password(password));
        }
        user.finish();
        users.insert(DEFAULT_USER.to_vec(), Arc::new(user));
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// A registry nobody can use: what the server falls back to if the configured users
    /// cannot be built (they are validated before start, so this is never expected).
    pub fn locked(catalog: &'static Catalog) -> Acl {
        let acl = Acl::new(catalog);
        let mut default = User::new(DEFAULT_USER, acl.new_id(), catalog);
        default.finish();
        acl.users
            .write()
            .insert(DEFAULT_USER.to_vec(), Arc::new(default));
        acl
    }

    /// Logs a warning for each disabled user: in a configuration that is usually a missing
    /// `on`.
    pub fn warn_disabled_users(&self) {
        for user in self.users().iter().filter(|u| !u.enabled) {
            tracing::warn!(
                "ACL user '{}' is disabled (no 'on' in its rules): it cannot authenticate",
                user.display_name()
            );
        }
    }

    /// The commands users' rules are checked against.
    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The current generation; it changes after every change to the users.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The user named `name`.
    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users.read().get(name).cloned()
    }

    /// The `default` user (never deleted).
    pub fn default_user(&self) -> Arc<User> {
        self.get(DEFAULT_USER).unwrap_or_else(|| {
            // Unreachable: `default` cannot be deleted. Fail closed if it ever is.
            Arc::new(User::new(DEFAULT_USER, 0, self.catalog))
        })
    }

    /// Every user, ordered by name (as `ACL LIST` and `ACL USERS` show them).
    pub fn users(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// The session of a connection that authenticates as `name` with `password`, if the
    /// password is right and the user is on.
    pub fn authenticate(&self, name: &[u8], password: &[u8]) -> Option<Session> {
        // Read before the lookup: at worst the session looks its user up once more.
        let generation = self.generation();
        let user = self.get(name).filter(|user| user.accepts(password))?;
        Some(Session::with(user, generation, true))
    }

    /// `ACL SETUSER`: creates or changes `name` with `rules`, all or nothing. The error is
    /// the reply text.
    pub fn set_user(&self, name: &[u8], rules: &[Bytes]) -> Result<(), String> {
        let mut users = self.users.write();
        let mut user = match users.get(name) {
            Some(existing) => User::clone(existing),
            None => User::new(name, self.new_id(), self.catalog),
        };
        for rule in rules {
            rules::apply(&mut user, rule).map_err(|e| {
                format!(
                    "ERR Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(rule),
                    e.reason()
                )
            })?;
        }
        user.finish();
        users.insert(name.to_vec(), Arc::new(user));
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// `ACL DELUSER`: removes the users named (never `default`; the caller refuses it) and
    /// returns how many existed. The caller wakes their connections
    /// ([`crate::clients::Clients::recheck_users`]), which then close.
    pub fn delete_users(&self, names: &[Bytes]) -> usize {
        let mut users = self.users.write();
        let deleted = names
            .iter()
            .filter(|name| name.as_ref() != DEFAULT_USER && users.remove(name.as_ref()).is_some())
            .count();
        if deleted > 0 {
            self.generation.fetch_add(1, Ordering::Release);
        }
        deleted
    }
}

/// A rule as it may appear in a log: passwords are not shown.
fn rule_for_log(rule: &str) -> String {
    match rule.as_bytes().first() {
        Some(b'>' | b'<') => format!("{}<password hidden>", &rule[..1]),
        _ => rule.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::test_catalog::catalog;

    fn users(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn config_builds_users_and_names_bad_rules() {
        let acl = Acl::from_config(
            catalog(),
            Some("pw"),
            &users(&["alice on >secret ~orders.* +@read", "bob"]),
        )
        .expect("valid");
        let names: Vec<_> = acl.users().iter().map(|u| u.display_name()).collect();
        assert_eq!(names, ["alice", "bob", "default"]);
        assert!(acl.authenticate(b"default", b"pw").is_some());
        assert!(acl.authenticate(b"default", b"x").is_none());
        assert!(acl.authenticate(b"alice", b"secret").is_some());
        assert!(acl.authenticate(b"bob", b"").is_none(), "bob is off");

        let err = Acl::from_config(catalog(), None, &users(&["alice on >secret +nosuch"]))
            .expect_err("bad");
        assert_eq!(
            err,
            "users: user 'alice', rule '+nosuch': Unknown command or category name in ACL"
        );
        let err = Acl::from_config(catalog(), None, &users(&["alice <secret"])).expect_err("bad");
        assert!(
            err.contains("'<<password hidden>'") && !err.contains("secret"),
            "{err}"
        );
        assert!(Acl::from_config(catalog(), None, &users(&["a on", "a off"])).is_err());
        assert!(Acl::from_config(catalog(), None, &users(&[" "])).is_err());
    }

    #[test]
    fn a_default_entry_replaces_requirepass() {
        let acl = Acl::from_config(
            catalog(),
            Some("pw"),
            &users(&["default on >other ~* +@all"]),
        )
        .expect("valid");
        assert!(acl.authenticate(b"default", b"pw").is_none());
        assert!(acl.authenticate(b"default", b"other").is_some());
    }

    #[test]
    fn sessions_follow_changes_and_deletions() {
        let acl = Acl::new(catalog());
        acl.set_user(
            b"u",
            &[Bytes::from_static(b"on"), Bytes::from_static(b"nopass")],
        )
        .expect("valid");
        let mut session = acl.authenticate(b"u", b"x").expect("nopass");
        let args = sluice_resp::Args::new(vec![Bytes::from_static(b"PING")]);
        let resolved = catalog().find(b"ping").expect("ping");
        assert_eq!(
            session.admit(&acl, resolved, &args),
            Err(Refusal::Denied(Denial {
                reply: "NOPERM User u has no permissions to run the 'ping' command".into(),
                reason: log::Reason::Command,
                object: Bytes::from_static(b"ping"),
            }))
        );
        acl.set_user(b"u", &[Bytes::from_static(b"+ping")])
            .expect("valid");
        assert_eq!(session.admit(&acl, resolved, &args), Ok(()));
        acl.delete_users(&[Bytes::from_static(b"u")]);
        acl.set_user(b"u", &[Bytes::from_static(b"+@all")])
            .expect("valid");
        assert_eq!(session.admit(&acl, resolved, &args), Err(Refusal::UserGone));
    }
}
