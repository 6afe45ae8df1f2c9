//! The ACL file (`aclfile`): users saved with `ACL SAVE` survive a restart, `ACL LOAD` reads
//! an edited file (atomically: a bad line changes nothing), and the start-up rules. Also
//! `CONFIG SET requirepass`. Every expected reply and file was checked against
//! redis-server 7.0.15 and valkey-server 8.1 (Redis 7.2's wording where they differ).

use std::path::{Path, PathBuf};

use anyhow::Result;
use sluice_server::config::Secret;
use sluice_tests::{ChildServer, Config, TestServer, config_pair, tempdir};

use super::acl::{NOAUTH, SECRET_HASH, WRONGPASS, login};
use crate::replies::{a, b, expect};

/// What every refused `ACL LOAD` ends with.
const NO_CHANGE: &str =
    "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
/// `ACL LOAD`/`SAVE` without an ACL file.
const NO_FILE: &str = "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.\r\n";
/// The default user's `ACL LIST` line when the file does not declare it.
const DEFAULT_LINE: &str = "user default on nopass sanitize-payload ~* &* +@all";

/// An ACL file holding `text`, in a folder of its own, and a config that uses it.
fn aclfile(text: &str) -> Result<(PathBuf, Config)> {
    let path = tempdir()?.join("users.acl");
    std::fs::write(&path, text)?;
    let config = Config {
        aclfile: Some(path.clone()),
        ..Config::default()
    };
    Ok((path, config))
}

fn read(path: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(path)?)
}

#[test]
fn saved_users_survive_a_restart() -> Result<()> {
    let (path, config) = aclfile("")?;
    let data = tempdir()?;
    let clock = std::sync::Arc::new(sluice_server::SystemClock);
    let server = TestServer::start_in(&data, config.clone(), clock.clone())?;
    let mut admin = server.raw()?;
    expect(
        &mut admin,
        &[
            (&["ACL", "LIST"], a(&[b(DEFAULT_LINE)])),
            (
                &[
                    "ACL",
                    "SETUSER",
                    "alice",
                    "on",
                    ">secret",
                    "~orders*",
                    "%R~r*",
                    "&chan",
                    "+get",
                    "+xread",
                    "+select|0",
                    "-@dangerous",
                    "+config|get",
                ],
                "+OK\r\n".into(),
            ),
            (&["ACL", "SETUSER", "bob"], "+OK\r\n".into()),
            (&["ACL", "SAVE"], "+OK\r\n".into()),
        ],
    )?;
    // valkey-server 8.1 wrote these bytes for the same commands (Redis 7.0 orders the command
    // rules its own way).
    let alice = format!(
        "user alice on sanitize-payload #{SECRET_HASH} ~orders* %R~r* resetchannels &chan -@all +get +xread +select|0 -@dangerous +config|get"
    );
    let bob = "user bob off sanitize-payload resetchannels -@all";
    assert_eq!(read(&path)?, format!("{alice}\n{bob}\n{DEFAULT_LINE}\n"));
    // Nothing is left beside the file (the temporary file was renamed over it).
    assert_eq!(
        std::fs::read_dir(path.parent().expect("folder"))?.count(),
        1
    );
    drop(admin);
    drop(server);

    let server = TestServer::start_in(&data, config, clock)?;
    let mut alice_conn = login(&server, "alice", "secret")?;
    expect(
        &mut alice_conn,
        &[
            (&["GET", "orders1"], "$-1\r\n".into()),
            (
                &["GET", "other"],
                "-NOPERM No permissions to access a key\r\n".into(),
            ),
        ],
    )?;
    let mut admin = server.raw()?;
    assert_eq!(
        admin.cmd(&["ACL", "LIST"])?,
        a(&[b(&alice), b(bob), b(DEFAULT_LINE)])
    );
    Ok(())
}

#[test]
fn acl_load_reads_the_edited_file_or_changes_nothing() -> Result<()> {
    let (path, config) = aclfile(
        "user alice on >secret ~* +@all\nuser bob on nopass ~* +@all\nuser carol on nopass ~* +@all\n",
    )?;
    let server = TestServer::start_with(config)?;
    let mut alice = login(&server, "alice", "secret")?;
    let mut bob = login(&server, "bob", "x")?;
    let mut carol = login(&server, "carol", "x")?;
    let mut admin = server.raw()?;

    // A bad file: every error, each naming its line, and the users stay as they were.
    std::fs::write(
        &path,
        "user alice on >x +nosuch -nosuch2 ~x allkeys\nuser alice off\n  user   dave   on  \n# a comment\n",
    )?;
    let p = path.display();
    assert_eq!(
        admin.cmd(&["ACL", "LOAD"])?,
        format!(
            "-ERR {p}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             {p}:1: Error in applying operation '-nosuch2': Unknown command or category name in ACL. \
             WARNING: Duplicate user 'alice' found on line 2. {p}:3: Syntax error. \
             {p}:4 should start with user keyword followed by the username. {NO_CHANGE}\r\n"
        )
    );
    assert_eq!(bob.cmd(&["PING"])?, "+PONG\r\n");

    // Edited: alice loses PING, bob is gone, carol is unchanged, default gets a password.
    std::fs::write(
        &path,
        "user alice on >secret ~* +@all -ping\r\n\nuser carol on nopass ~* +@all\nuser default on >pw ~* +@all\n",
    )?;
    assert_eq!(admin.cmd(&["ACL", "LOAD"])?, "+OK\r\n");
    // Redis 7.2 keeps the connections of the users still there, under their new rules, and
    // closes those of the users gone at once.
    assert_eq!(
        alice.cmd(&["PING"])?,
        "-NOPERM User alice has no permissions to run the 'ping' command\r\n"
    );
    assert_eq!(bob.read_to_close()?, "");
    assert_eq!(carol.cmd(&["PING"])?, "+PONG\r\n");
    // The admin connection was made as `default` when it needed no password: it stays
    // authenticated, as in Redis.
    assert_eq!(admin.cmd(&["PING"])?, "+PONG\r\n");
    let mut fresh = server.raw()?;
    expect(
        &mut fresh,
        &[
            (&["PING"], NOAUTH.into()),
            (&["AUTH", "bob", "x"], WRONGPASS.into()),
            (&["AUTH", "pw"], "+OK\r\n".into()),
            (
                &["ACL", "USERS"],
                a(&[b("alice"), b("carol"), b("default")]),
            ),
        ],
    )?;

    // A missing file.
    std::fs::remove_file(&path)?;
    assert_eq!(
        admin.cmd(&["ACL", "LOAD"])?,
        format!("-ERR Error loading ACLs, opening file '{p}': No such file or directory\r\n")
    );
    // Saving where the file cannot be written: Redis's text, the reason in the log.
    std::fs::remove_dir_all(path.parent().expect("folder"))?;
    assert_eq!(
        admin.cmd(&["ACL", "SAVE"])?,
        "-ERR There was an error trying to save the ACLs. Please check the server logs for more information\r\n"
    );
    Ok(())
}

#[test]
fn without_an_acl_file_load_and_save_refuse() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["ACL", "LOAD"], NO_FILE.into()),
            (&["ACL", "SAVE"], NO_FILE.into()),
            (&["CONFIG", "GET", "aclfile"], config_pair("aclfile", "")),
            (
                &["CONFIG", "SET", "aclfile", "/tmp/x"],
                "-ERR CONFIG SET failed (possibly related to argument 'aclfile') - can't set immutable config\r\n"
                    .into(),
            ),
            (
                &["ACL", "LOAD", "x"],
                "-ERR wrong number of arguments for 'acl|load' command\r\n".into(),
            ),
        ],
    )?;
    Ok(())
}

#[test]
fn start_up_refuses_what_redis_refuses() -> Result<()> {
    // Users in the config beside an ACL file: Redis's refusal.
    let (path, config) = aclfile("user alice on\n")?;
    let with_users = Config {
        users: vec![Secret("bob on".into())],
        ..config.clone()
    };
    let err = TestServer::start_with(with_users).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "invalid setting: Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both."
    );
    // Redis starts with requirepass and an ACL file, then the file silently replaces the
    // password: Sluice refuses instead.
    let with_password = Config {
        requirepass: Some(Secret("pw".into())),
        ..config.clone()
    };
    let err = TestServer::start_with(with_password).expect_err("refused");
    assert!(
        err.to_string()
            .starts_with("invalid setting: requirepass cannot be combined with aclfile"),
        "{err}"
    );
    // A bad file stops the start, as Redis's "Aborting Redis startup because of ACL errors".
    std::fs::write(&path, "user bob on +nosuch\nfoo\n")?;
    let err = TestServer::start_with(config.clone()).expect_err("refused");
    let p = path.display();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid setting: {p}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             {p}:2 should start with user keyword followed by the username. {NO_CHANGE}"
        )
    );
    std::fs::remove_file(&path)?;
    let err = TestServer::start_with(config).expect_err("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "invalid setting: Error loading ACLs, opening file '{p}': No such file or directory"
        )
    );
    Ok(())
}

/// The real binary, `--aclfile` on its command line: saved users are there after a restart.
#[test]
fn the_binary_keeps_saved_users_across_a_restart() -> Result<()> {
    const BIN: &str = env!("CARGO_BIN_EXE_sluice-under-test");
    let (path, _) = aclfile("user default on nopass ~* &* +@all\n")?;
    let dir = tempdir()?;
    let args = [
        "--appendonly",
        "no",
        "--aclfile",
        path.to_str().expect("utf-8"),
    ];
    let server = ChildServer::start(BIN, &dir, &args)?;
    let mut admin = sluice_tests::RawClient::connect(server.addr)?;
    expect(
        &mut admin,
        &[
            (
                &["ACL", "SETUSER", "ops", "on", ">pw", "~*", "+@all"],
                "+OK\r\n".into(),
            ),
            (&["ACL", "SAVE"], "+OK\r\n".into()),
        ],
    )?;
    server.kill()?;
    let server = ChildServer::start(BIN, &dir, &args)?;
    let mut raw = sluice_tests::RawClient::connect(server.addr)?;
    expect(
        &mut raw,
        &[
            (&["AUTH", "ops", "pw"], "+OK\r\n".into()),
            (&["ACL", "WHOAMI"], b("ops")),
        ],
    )?;
    Ok(())
}

#[test]
fn config_set_requirepass_sets_the_default_password() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    // `sha256("newpw")`.
    let hash = "2a4cdf0b2ac88c34397e737f3c17910b9aebe64ffb6476459d1f3542fc12f4f1";
    expect(
        &mut admin,
        &[
            (
                &["CONFIG", "GET", "requirepass"],
                config_pair("requirepass", ""),
            ),
            (
                &["ACL", "SETUSER", "default", ">abc", ">def"],
                "+OK\r\n".into(),
            ),
            // ACL SETUSER does not change what CONFIG GET shows, as in Redis.
            (
                &["CONFIG", "GET", "requirepass"],
                config_pair("requirepass", ""),
            ),
            (&["CONFIG", "SET", "requirepass", "newpw"], "+OK\r\n".into()),
            (
                &["ACL", "LIST"],
                a(&[b(&format!(
                    "user default on sanitize-payload #{hash} ~* &* +@all"
                ))]),
            ),
            (
                &["CONFIG", "GET", "requirepass"],
                config_pair("requirepass", "newpw"),
            ),
            (
                &["CONFIG", "SET", "requirepass"],
                "-ERR wrong number of arguments for 'config|set' command\r\n".into(),
            ),
        ],
    )?;
    // The admin connection stays authenticated; new ones need the password.
    let mut fresh = server.raw()?;
    expect(
        &mut fresh,
        &[
            (&["PING"], NOAUTH.into()),
            (&["AUTH", "abc"], WRONGPASS.into()),
            (&["AUTH", "newpw"], "+OK\r\n".into()),
        ],
    )?;
    // Empty: no password (`nopass`).
    expect(
        &mut admin,
        &[
            (&["CONFIG", "SET", "requirepass", ""], "+OK\r\n".into()),
            (&["ACL", "LIST"], a(&[b(DEFAULT_LINE)])),
            (
                &["CONFIG", "GET", "requirepass"],
                config_pair("requirepass", ""),
            ),
        ],
    )?;
    assert_eq!(server.raw()?.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn a_password_set_at_run_time_lasts_once_saved() -> Result<()> {
    let (path, config) = aclfile("")?;
    let data = tempdir()?;
    let clock = std::sync::Arc::new(sluice_server::SystemClock);
    let server = TestServer::start_in(&data, config.clone(), clock.clone())?;
    let mut admin = server.raw()?;
    expect(
        &mut admin,
        &[
            (
                &["CONFIG", "SET", "requirepass", "secret"],
                "+OK\r\n".into(),
            ),
            (&["ACL", "SAVE"], "+OK\r\n".into()),
        ],
    )?;
    assert_eq!(
        read(&path)?,
        format!("user default on sanitize-payload #{SECRET_HASH} ~* &* +@all\n")
    );
    drop(admin);
    drop(server);
    let server = TestServer::start_in(&data, config, clock)?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["PING"], NOAUTH.into()),
            (&["AUTH", "secret"], "+OK\r\n".into()),
            (&["PING"], "+PONG\r\n".into()),
        ],
    )?;
    Ok(())
}
