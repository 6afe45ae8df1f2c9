//! The ACL file (`aclfile`, Redis's `users.acl`): one `user <name> <rule> …` line per user,
//! read at start-up and by `ACL LOAD`, written by `ACL SAVE`.
//!
//! Reading follows Redis 7.2's `ACLLoadFromFile` byte for byte, so a file Redis accepts
//! loads here and a file it refuses is refused with the same text: lines are split on `\n`
//! and trimmed of spaces, tabs, `\r`; empty lines are skipped (there are no comments); the
//! words are split on single spaces; every line is checked and every error reported, after
//! which nothing changes. Each user starts blank (`off`, no rights), `default` included; a
//! file without `default` gets Redis's default one (`on nopass ~* &* +@all`).
//!
//! Writing is `ACL LIST`'s lines, each ended by `\n`, to a temporary file beside the target
//! that is fsynced, then renamed over it (the folder fsynced too), so a crash leaves the old
//! file or the new one, never half of one.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::catalog::Catalog;
use super::rules::{self, RuleError};
use super::{DEFAULT_USER, User};

/// What every refused ACL file's error ends with.
const NO_CHANGE: &str =
    "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";

/// Reads the ACL file at `path`: its users (ids 0, for the registry to assign), or Redis's
/// error text (without `ERR`).
pub fn read(catalog: &'static Catalog, path: &Path) -> Result<Vec<User>, String> {
    let text = std::fs::read(path).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{}': {}",
            path.display(),
            os_error_text(&e)
        )
    })?;
    parse(catalog, &path.display().to_string(), &text)
}

/// The users an ACL file's `text` declares; `path` is how errors name the file.
pub fn parse(catalog: &'static Catalog, path: &str, text: &[u8]) -> Result<Vec<User>, String> {
    // Redis reads the file as a C string: a NUL ends it.
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    let mut errors = String::new();
    let mut users: Vec<User> = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let line = trim_start(trim_end(line, b" \t\r\n"), b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let words: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        // Redis compares the keyword case-sensitively.
        let (Some(&b"user"), Some(&name)) = (words.first(), words.get(1)) else {
            errors.push_str(&format!(
                "{path}:{number} should start with user keyword followed by the username. "
            ));
            continue;
        };
        if rules::has_spaces(name) {
            errors.push_str(&format!(
                "'{path}:{number}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.iter().any(|u| u.name == *name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {number}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let mut user = User::new(name, 0, catalog);
        // After one error other than an unknown command, later ones may only follow from it:
        // Redis reports the first.
        let mut syntax_error = false;
        for rule in &words[2..] {
            let rule = trim_end(trim_start(rule, b"\t\r\n"), b"\t\r\n");
            match rules::apply(&mut user, rule) {
                Ok(()) => {}
                Err(RuleError::UnknownName) => errors.push_str(&format!(
                    "{path}:{number}: Error in applying operation '{}': {}. ",
                    String::from_utf8_lossy(rule),
                    RuleError::UnknownName.reason()
                )),
                Err(e) if !syntax_error => {
                    syntax_error = true;
                    errors.push_str(&format!("{path}:{number}: {}. ", e.reason()));
                }
                Err(_) => {}
            }
        }
        user.finish();
        users.push(user);
    }
    if !errors.is_empty() {
        errors.push_str(NO_CHANGE);
        return Err(errors);
    }
    if !users.iter().any(|u| u.name == DEFAULT_USER) {
        users.push(User::default_user(0, catalog));
    }
    Ok(users)
}

fn trim_start<'a>(bytes: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = bytes
        .iter()
        .position(|b| !set.contains(b))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn trim_end<'a>(bytes: &'a [u8], set: &[u8]) -> &'a [u8] {
    let end = bytes
        .iter()
        .rposition(|b| !set.contains(b))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// The file's text for `users` (ordered by name): `ACL LIST`'s lines, each ended by `\n`.
pub fn render<'a>(users: impl IntoIterator<Item = &'a User>) -> Vec<u8> {
    let mut out = Vec::new();
    for user in users {
        out.extend_from_slice(b"user ");
        out.extend_from_slice(&user.name);
        out.push(b' ');
        out.extend_from_slice(&user.describe());
        out.push(b'\n');
    }
    out
}

/// Replaces the file at `path` with `contents`: written to a temporary file in the same
/// folder, fsynced, renamed over `path`, and the folder fsynced.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    // Unique per call: two `ACL SAVE`s on two connection threads must not share one.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(format!(".tmp-{}-{n}", std::process::id()));
    let temp = Path::new(&temp_name);
    let written = (|| {
        let mut file = File::create(temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(temp);
        return written;
    }
    // The rename lasts once the folder is synced (Unix; elsewhere a folder cannot be opened).
    #[cfg(unix)]
    {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(folder)?.sync_all()?;
    }
    Ok(())
}

/// An I/O error as C's `strerror` words it (`No such file or directory`), without Rust's
/// ` (os error 2)`.
fn os_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::test_catalog::catalog;

    fn names(users: &[User]) -> Vec<String> {
        users.iter().map(User::display_name).collect()
    }

    #[test]
    fn reads_what_redis_reads() {
        let users = parse(
            catalog(),
            "u.acl",
            b"user alice on >x ~orders.* +@read\r\n\n   \n  user bob\t\n",
        )
        .expect("valid");
        assert_eq!(names(&users), ["alice", "bob", "default"]);
        assert_eq!(
            String::from_utf8_lossy(&users[2].describe()),
            "on nopass sanitize-payload ~* &* +@all"
        );
        assert!(users[0].accepts(b"x") && !users[1].enabled);
        // A NUL ends the file, as it ends Redis's C string.
        let users = parse(catalog(), "u.acl", b"user a\0b on\nuser c on\n").expect("valid");
        assert_eq!(names(&users), ["a", "default"]);
        // A `default` line replaces the default user, which starts blank.
        let users = parse(catalog(), "u.acl", b"user default on >pw").expect("valid");
        assert_eq!(names(&users), ["default"]);
        assert!(users[0].requires_auth() && !users[0].allows_everything);
    }

    /// The texts are redis-server 7.0.15's and valkey-server 8.1's, for the same files.
    #[test]
    fn reports_every_error_as_redis_does() {
        let err = |text: &[u8]| parse(catalog(), "/tmp/r.acl", text).expect_err("refused");
        assert_eq!(
            err(b"user bob on +nosuch -nosuch2 ~x allkeys\nuser bob off\n  user   carol   on  \n"),
            "/tmp/r.acl:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             /tmp/r.acl:1: Error in applying operation '-nosuch2': Unknown command or category name in ACL. \
             WARNING: Duplicate user 'bob' found on line 2. /tmp/r.acl:3: Syntax error. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
        assert_eq!(
            err(b"user bob on <nopw #abc +nosuch\n"),
            "/tmp/r.acl:1: The password you are trying to remove from the user does not exist. \
             /tmp/r.acl:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
        assert_eq!(
            err(b"user alice on >x\n\n# comment\n"),
            "/tmp/r.acl:3 should start with user keyword followed by the username. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
        assert!(err(b"USER alice on\n").starts_with("/tmp/r.acl:1 should start with user"));
        assert!(err(b"user\n").starts_with("/tmp/r.acl:1 should start with user"));
        assert!(err(b"user\tx on\n").starts_with("/tmp/r.acl:1 should start with user"));
        assert_eq!(
            err(b"user x\ton\n"),
            "'/tmp/r.acl:1: username 'x\ton' contains invalid characters. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
        assert!(err(b"user alice on \">a b\"\n").starts_with("/tmp/r.acl:1: Syntax error. "));
        assert!(err(b"user x on\tnopass\n").starts_with("/tmp/r.acl:1: Syntax error. "));
    }

    #[test]
    fn renders_acl_list_lines() {
        let users = parse(
            catalog(),
            "u.acl",
            b"user bob off\nuser alice on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~o* &c +@read -xadd\n",
        )
        .expect("valid");
        let mut users = users;
        users.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(
            String::from_utf8_lossy(&render(&users)),
            "user alice on sanitize-payload #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~o* resetchannels &c -@all +@read -xadd\n\
             user bob off sanitize-payload resetchannels -@all\n\
             user default on nopass sanitize-payload ~* &* +@all\n"
        );
    }

    #[test]
    fn writes_replace_the_file_whole() {
        let dir = std::env::temp_dir().join(format!("sluice-aclfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("users.acl");
        write_atomically(&path, b"user a on\n").expect("write");
        write_atomically(&path, b"user b on\n").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"user b on\n");
        assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 1);
        let missing = dir.join("nope").join("users.acl");
        assert!(write_atomically(&missing, b"").is_err());
        let err = read(catalog(), &missing).expect_err("missing");
        assert_eq!(
            err,
            format!(
                "Error loading ACLs, opening file '{}': No such file or directory",
                missing.display()
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
