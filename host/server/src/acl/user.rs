//! An ACL user: flags, password hashes, key and channel patterns, allowed commands; and how
//! `ACL LIST` and `ACL GETUSER` describe it.
//!
//! Passwords are kept only as SHA-256 hex digests, as Redis keeps them, and compared without
//! an early exit. Command rules are kept as the user wrote them (Redis 7.2's `command_rules`)
//! next to the bitset they produce, so `ACL LIST` shows them back in order.

use sha2::{Digest, Sha256};
use sluice_resp::Reply;

use super::catalog::Catalog;

/// Read access to a key (`%R~`).
pub const READ: u8 = 1;
/// Write access to a key (`%W~`).
pub const WRITE: u8 = 2;

/// A key pattern and the access it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    /// A glob pattern, as `KEYS` takes.
    pub pattern: Vec<u8>,
    /// [`READ`], [`WRITE`] or both.
    pub access: u8,
}

/// One `+…`/`-…` command rule as written (lower-cased): `+@read`, `-xadd`, `+config|get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRule {
    /// `+` (true) or `-`.
    pub allow: bool,
    /// The command, `cmd|sub`, `cmd|first-arg` or `@category`.
    pub name: Vec<u8>,
}

/// What commands a user may run.
#[derive(Debug, Clone)]
pub struct Commands {
    /// The commands the bits are indexed over.
    pub catalog: &'static Catalog,
    /// Every command allowed (`+@all` and nothing removed since): the bitset is not consulted.
    pub all: bool,
    /// Started from `+@all` (allows commands added later); decides `+@all`/`-@all` in
    /// `ACL LIST`.
    pub from_all: bool,
    /// Bit `i` set: the command with catalog index `i` is allowed.
    pub bits: Vec<u64>,
    /// First arguments allowed for commands whose bit is clear (`+select|0`): catalog index
    /// and lower-cased arguments.
    pub first_args: Vec<(usize, Vec<Vec<u8>>)>,
    /// The rules after the leading `+@all`/`-@all`, in order.
    pub rules: Vec<CommandRule>,
}

impl Commands {
    fn none(catalog: &'static Catalog) -> Commands {
        Commands {
            catalog,
            all: false,
            from_all: false,
            bits: vec![0; catalog.len().div_ceil(64)],
            first_args: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// True if the command with catalog index `index` is allowed by its bit.
    pub fn allowed(&self, index: usize) -> bool {
        self.bits
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }
}

/// A user, as `ACL SETUSER` builds it. Connections hold an `Arc<User>` snapshot; changes
/// replace the whole value.
#[derive(Debug, Clone)]
pub struct User {
    /// The name (no spaces or NULs).
    pub name: Vec<u8>,
    /// Unique for the server's life; a user deleted and created again gets a new one, so
    /// connections of the old one can tell.
    pub id: u64,
    /// `on`: may authenticate.
    pub enabled: bool,
    /// `nopass`: any password works.
    pub nopass: bool,
    /// `skip-sanitize-payload` (kept for `ACL LIST`; Sluice has no `RESTORE`).
    pub skip_sanitize: bool,
    /// SHA-256 digests, lower-case hex, in the order added.
    pub passwords: Vec<String>,
    /// `~*`/`allkeys`: every key, patterns unused.
    pub all_keys: bool,
    /// Key patterns, in the order added.
    pub keys: Vec<KeyPattern>,
    /// `&*`/`allchannels`.
    pub all_channels: bool,
    /// Channel patterns (kept for `ACL LIST`; Sluice has no pub/sub).
    pub channels: Vec<Vec<u8>>,
    /// Allowed commands.
    pub commands: Commands,
    /// Every command on every key: the check is one branch.
    pub allows_everything: bool,
}

impl User {
    /// A user as `ACL SETUSER` creates it: off, no passwords, no keys, no channels, no
    /// commands (of `catalog`).
    pub fn new(name: &[u8], id: u64, catalog: &'static Catalog) -> User {
        User {
            name: name.to_vec(),
            id,
            enabled: false,
            nopass: false,
            skip_sanitize: false,
            passwords: Vec::new(),
            all_keys: false,
            keys: Vec::new(),
            all_channels: false,
            channels: Vec::new(),
            commands: Commands::none(catalog),
            allows_everything: false,
        }
    }

    /// The `default` user as Redis starts it: `on nopass ~* &* +@all`.
    pub fn default_user(id: u64, catalog: &'static Catalog) -> User {
        let mut user = User::new(b"default", id, catalog);
        user.enabled = true;
        user.nopass = true;
        user.all_keys = true;
        user.all_channels = true;
        super::rules::allow_all_commands(&mut user.commands);
        user.finish();
        user
    }

    /// Recomputes what is derived from the rules; call after changing them.
    pub fn finish(&mut self) {
        self.allows_everything = self.commands.all && self.all_keys;
    }

    /// The name for messages and `CLIENT LIST` (invalid UTF-8 replaced).
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// True if connections authenticated as nobody must authenticate: the default user is
    /// the one such connections are, and it has a password or is off.
    pub fn requires_auth(&self) -> bool {
        !(self.nopass && self.enabled)
    }

    /// True if `password` is one of the user's (or the user is `nopass`); never true for a
    /// disabled user. Every stored hash is compared in full.
    pub fn accepts(&self, password: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hashed = hash_password(password);
        let mut found = false;
        for stored in &self.passwords {
            found |= same_bytes(stored.as_bytes(), hashed.as_bytes());
        }
        found
    }

    /// The user's line in `ACL LIST`, without the leading `user <name> `:
    /// `on sanitize-payload #<hash> ~orders.* resetchannels -@all +@read`.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for flag in self.flags() {
            out.extend_from_slice(flag.as_bytes());
            out.push(b' ');
        }
        for hash in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(hash.as_bytes());
            out.push(b' ');
        }
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for key in &self.keys {
                out.extend_from_slice(&key_pattern_text(key));
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for channel in &self.channels {
                out.push(b'&');
                out.extend_from_slice(channel);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.command_rules());
        out
    }

    /// `+@all` or `-@all`, then the rules in order.
    pub fn command_rules(&self) -> Vec<u8> {
        let mut out = if self.commands.from_all {
            b"+@all".to_vec()
        } else {
            b"-@all".to_vec()
        };
        for rule in &self.commands.rules {
            out.push(b' ');
            out.push(if rule.allow { b'+' } else { b'-' });
            out.extend_from_slice(&rule.name);
        }
        out
    }

    /// The flags in Redis's order: `on`/`off`, `nopass`, `skip-sanitize-payload` or
    /// `sanitize-payload`.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        flags.push(if self.skip_sanitize {
            "skip-sanitize-payload"
        } else {
            "sanitize-payload"
        });
        flags
    }

    /// The reply of `ACL GETUSER`: flags, passwords (hashes), commands, keys, channels,
    /// selectors (always empty: Sluice has only the root selector).
    pub fn getuser_reply(&self) -> Reply {
        let field = |name: &'static str, value: Reply| (Reply::bulk_static(name), value);
        let keys = if self.all_keys {
            b"~*".to_vec()
        } else {
            join(self.keys.iter().map(key_pattern_text))
        };
        let channels = if self.all_channels {
            b"&*".to_vec()
        } else {
            join(self.channels.iter().map(|c| [b"&", c.as_slice()].concat()))
        };
        Reply::Map(vec![
            field(
                "flags",
                Reply::Set(self.flags().into_iter().map(Reply::bulk_static).collect()),
            ),
            field(
                "passwords",
                Reply::Array(self.passwords.iter().map(Reply::bulk).collect()),
            ),
            field("commands", Reply::bulk(self.command_rules())),
            field("keys", Reply::bulk(keys)),
            field("channels", Reply::bulk(channels)),
            field("selectors", Reply::Array(Vec::new())),
        ])
    }
}

/// `~pattern`, `%R~pattern` or `%W~pattern`.
fn key_pattern_text(key: &KeyPattern) -> Vec<u8> {
    let prefix: &[u8] = match key.access {
        READ => b"%R~",
        WRITE => b"%W~",
        _ => b"~",
    };
    [prefix, key.pattern.as_slice()].concat()
}

fn join(items: impl Iterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(&item);
    }
    out
}

/// SHA-256 of `password`, lower-case hex (64 characters), as Redis stores passwords.
pub fn hash_password(password: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(password);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// True if `hash` is what `#<hash>` accepts: exactly 64 lower-case hex characters.
pub fn valid_hash(hash: &[u8]) -> bool {
    hash.len() == 64 && hash.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Compares without stopping at the first difference, so the time taken says nothing about
/// where two hashes differ.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::test_catalog::catalog;

    #[test]
    fn passwords_are_sha256_hex() {
        // `echo -n secret | sha256sum`, and Redis's `ACL LIST` for `>secret`.
        assert_eq!(
            hash_password(b"secret"),
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
        assert!(valid_hash(hash_password(b"").as_bytes()));
        assert!(!valid_hash(
            b"2BB80D537B1DA3E38BD30361AA855686BDE0EACD7162FEF6A25FE97BF527A25B"
        ));
        assert!(!valid_hash(b"abc"));
    }

    #[test]
    fn accepts_checks_state_and_every_hash() {
        let mut user = User::new(b"u", 1, catalog());
        user.passwords = vec![hash_password(b"a"), hash_password(b"b")];
        assert!(!user.accepts(b"a"), "off users cannot authenticate");
        user.enabled = true;
        assert!(user.accepts(b"a") && user.accepts(b"b") && !user.accepts(b"c"));
        user.nopass = true;
        assert!(user.accepts(b"anything"));
    }

    #[test]
    fn default_user_is_described_as_redis_7_2_does() {
        let user = User::default_user(0, catalog());
        assert_eq!(
            String::from_utf8_lossy(&user.describe()),
            "on nopass sanitize-payload ~* &* +@all"
        );
        assert!(user.allows_everything && !user.requires_auth());
    }
}
