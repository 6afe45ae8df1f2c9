//! Authentication: `requirepass`, ACL users from the config, `AUTH`, `HELLO … AUTH`, `RESET`,
//! the `redis` crate logging in from its URL, and refusing a config with a bad rule. Every
//! expected reply was checked against redis-server (Redis 7.2's wording where 7.0 differs).

use anyhow::{Context, Result};
use sluice_server::config::Secret;
use sluice_tests::{Config, RawClient, TestServer};

use crate::replies::{a, b, expect};

/// The default user's password.
pub(crate) const PASSWORD: &str = "topsecret";
/// `sha256("topsecret")`.
pub(crate) const PASSWORD_HASH: &str =
    "53336a676c64c1396553b2b7c92f38126768827c93b64d9142069c10eda7a721";
/// `sha256("secret")`.
pub(crate) const SECRET_HASH: &str =
    "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
pub(crate) const NOAUTH: &str = "-NOAUTH Authentication required.\r\n";
pub(crate) const WRONGPASS: &str =
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

/// The users every test here starts with.
const USERS: &[&str] = &[
    "alice on >secret ~orders.* +@read +xadd -@admin",
    "ops on >ops ~* +@all -@admin",
    "reader on >r %R~logs.* ~orders.* +@all",
    "dave off >pw ~* +@all",
];

/// A server with [`PASSWORD`] and [`USERS`].
pub(crate) fn server() -> Result<TestServer> {
    TestServer::start_with(Config {
        requirepass: Some(Secret(PASSWORD.into())),
        users: USERS.iter().map(|u| Secret((*u).into())).collect(),
        ..Config::default()
    })
}

/// A raw connection logged in as `user`.
pub(crate) fn login(server: &TestServer, user: &str, password: &str) -> Result<RawClient> {
    let mut raw = server.raw()?;
    let reply = raw.cmd(&["AUTH", user, password])?;
    anyhow::ensure!(reply == "+OK\r\n", "AUTH {user}: {reply}");
    Ok(raw)
}

/// `NOPERM` for a command.
pub(crate) fn noperm(user: &str, command: &str) -> String {
    format!("-NOPERM User {user} has no permissions to run the '{command}' command\r\n")
}

#[test]
fn unauthenticated_clients_may_only_authenticate() -> Result<()> {
    let server = server()?;
    let mut raw = server.raw()?;
    let hello_noauth = "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n";
    expect(
        &mut raw,
        &[
            (&["PING"], NOAUTH.into()),
            (&["XADD", "s", "*", "a", "1"], NOAUTH.into()),
            (&["ACL", "WHOAMI"], NOAUTH.into()),
            (&["MULTI"], NOAUTH.into()),
            // Unknown commands and wrong arity are found before authentication, as in Redis.
            (
                &["NOSUCH", "x"],
                "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n".into(),
            ),
            (
                &["XADD", "s"],
                "-ERR wrong number of arguments for 'xadd' command\r\n".into(),
            ),
            (
                &["EXEC"],
                "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"
                    .into(),
            ),
            (&["HELLO", "3"], hello_noauth.into()),
            (&["HELLO"], hello_noauth.into()),
            (
                &["HELLO", "3", "AUTH", "default", "wrong"],
                WRONGPASS.into(),
            ),
            (&["AUTH", "wrong"], WRONGPASS.into()),
            (&["AUTH", "default", "wrong"], WRONGPASS.into()),
            (&["AUTH", "nobody", "x"], WRONGPASS.into()),
            (&["AUTH", "a", "b", "c"], "-ERR syntax error\r\n".into()),
            (&["PING"], NOAUTH.into()),
            (&["AUTH", PASSWORD], "+OK\r\n".into()),
            (&["PING"], "+PONG\r\n".into()),
            (&["ACL", "WHOAMI"], b("default")),
            // RESET logs out: the default user needs a password again.
            (&["RESET"], "+RESET\r\n".into()),
            (&["PING"], NOAUTH.into()),
            (&["AUTH", "default", PASSWORD], "+OK\r\n".into()),
            (&["PING"], "+PONG\r\n".into()),
        ],
    )?;
    let mut other = server.raw()?;
    other.send(b"*1\r\n$4\r\nQUIT\r\n")?;
    assert_eq!(other.read_to_close()?, "+OK\r\n");
    Ok(())
}

#[test]
fn acl_users_log_in_with_two_argument_auth() -> Result<()> {
    let server = server()?;
    let mut alice = server.raw()?;
    let mut admin = login(&server, "default", PASSWORD)?;
    expect(
        &mut alice,
        &[
            (&["AUTH", "alice", "wrong"], WRONGPASS.into()),
            (&["AUTH", "alice", "secret"], "+OK\r\n".into()),
            (&["XADD", "orders.1", "1-1", "a", "1"], b("1-1")),
            // A failed AUTH leaves the connection logged in as it was.
            (&["AUTH", "alice", "wrong"], WRONGPASS.into()),
            (&["XLEN", "orders.1"], ":1\r\n".into()),
            // A disabled user cannot log in, whatever the password.
            (&["AUTH", "dave", "pw"], WRONGPASS.into()),
            (&["XLEN", "orders.1"], ":1\r\n".into()),
        ],
    )?;
    // CLIENT LIST shows who each connection is.
    let list = admin.cmd(&["CLIENT", "LIST"])?;
    assert_eq!(list.matches(" user=alice ").count(), 1, "{list}");
    assert_eq!(list.matches(" user=default ").count(), 1, "{list}");
    let info = admin.cmd(&["CLIENT", "INFO"])?;
    assert!(
        info.contains(" cmd=client|info user=default redir=-1 "),
        "{info}"
    );
    // An enabled user logs in; once enabled, dave works.
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "dave", "on"])?, "+OK\r\n");
    assert_eq!(alice.cmd(&["AUTH", "dave", "pw"])?, "+OK\r\n");
    assert_eq!(alice.cmd(&["ACL", "WHOAMI"])?, b("dave"));
    Ok(())
}

#[test]
fn hello_authenticates_and_switches_protocol_at_once() -> Result<()> {
    let server = server()?;
    let mut raw = server.raw()?;
    // A wrong password changes nothing: the connection stays unauthenticated, in RESP2.
    assert_eq!(
        raw.cmd(&["HELLO", "3", "AUTH", "ops", "wrong", "SETNAME", "n"])?,
        WRONGPASS
    );
    assert_eq!(raw.cmd(&["PING"])?, NOAUTH);
    let hello = raw.cmd(&["HELLO", "3", "AUTH", "ops", "ops", "SETNAME", "worker"])?;
    let client_id = hello
        .split("$2\r\nid\r\n:")
        .nth(1)
        .and_then(|rest| rest.split("\r\n").next())
        .context("HELLO reports the client id")?;
    assert_eq!(
        hello,
        format!(
            "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n8.10.0\r\n$5\r\nproto\r\n:3\r\n\
             $2\r\nid\r\n:{client_id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
             $7\r\nmodules\r\n*0\r\n"
        )
    );
    // RESP3 from here on, as ops, named.
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, b("worker"));
    assert_eq!(raw.cmd(&["ACL", "WHOAMI"])?, b("ops"));
    assert_eq!(raw.cmd(&["XREAD", "STREAMS", "nokey", "0"])?, "_\r\n");
    // HELLO without AUTH on an authenticated connection just switches.
    assert!(raw.cmd(&["HELLO", "2"])?.starts_with("*14\r\n"));
    Ok(())
}

#[test]
fn the_redis_crate_logs_in_from_its_url() -> Result<()> {
    let server = server()?;
    for url in [
        format!("redis://alice:secret@{}", server.addr),
        format!("redis://alice:secret@{}/?protocol=resp3", server.addr),
    ] {
        let mut client = redis::Client::open(url.as_str())?.get_connection()?;
        let id: String = redis::cmd("XADD")
            .arg("orders.eu")
            .arg("*")
            .arg("amount")
            .arg("12")
            .query(&mut client)?;
        let len: i64 = redis::cmd("XLEN").arg("orders.eu").query(&mut client)?;
        assert!(id.contains('-') && len >= 1, "{url}: {id} {len}");
        let denied = redis::cmd("XADD")
            .arg("payments")
            .arg("*")
            .arg("a")
            .arg("1")
            .query::<String>(&mut client)
            .expect_err("outside ~orders.*");
        assert_eq!(denied.code(), Some("NOPERM"), "{url}: {denied}");
    }
    // The password alone logs in as default.
    let url = format!("redis://:{PASSWORD}@{}", server.addr);
    let mut client = redis::Client::open(url)?.get_connection()?;
    let who: String = redis::cmd("ACL").arg("WHOAMI").query(&mut client)?;
    assert_eq!(who, "default");
    let wrong = format!("redis://alice:nope@{}", server.addr);
    assert!(redis::Client::open(wrong)?.get_connection().is_err());
    Ok(())
}

#[test]
fn a_bad_rule_in_the_config_refuses_to_start() -> Result<()> {
    let start = |users: &[&str]| {
        TestServer::start_with(Config {
            users: users.iter().map(|u| Secret((*u).into())).collect(),
            ..Config::default()
        })
        .map(drop)
        .map_err(|e| e.to_string())
    };
    assert_eq!(
        start(&["alice on >secret ~orders.* +nosuch"]),
        Err("invalid setting: users: user 'alice', rule '+nosuch': Unknown command or category name in ACL".into())
    );
    // A password is never repeated in the message.
    let err = start(&["alice on <secret"]).expect_err("no such password");
    assert_eq!(
        err,
        "invalid setting: users: user 'alice', rule '<<password hidden>': The password you are trying to remove from the user does not exist"
    );
    assert_eq!(
        start(&["bob on", "bob off"]),
        Err(
            "invalid setting: users: user 'bob' is defined twice (a user can only be defined once)"
                .into()
        )
    );
    // From a file, the same check.
    let dir = sluice_tests::tempdir()?;
    let file = dir.join("sluice.toml");
    std::fs::write(&file, "users = [\"carol on %X~k\"]\n")?;
    let err = Config::from_file(&file)?.validate().expect_err("bad rule");
    assert_eq!(
        err.to_string(),
        "invalid setting: users: user 'carol', rule '%X~k': Syntax error"
    );
    std::fs::remove_dir_all(&dir)?;
    assert_eq!(start(&["carol on >x ~* +@all"]), Ok(()));
    Ok(())
}

#[test]
fn without_a_password_everyone_is_default_and_authenticated() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    expect(
        &mut raw,
        &[
            (&["ACL", "WHOAMI"], b("default")),
            (
                &["ACL", "LIST"],
                a(&[b("user default on nopass sanitize-payload ~* &* +@all")]),
            ),
            (
                &["ACL", "SETUSER", "bob", "on", ">pw", "~*", "+@all"],
                "+OK\r\n".into(),
            ),
            (&["AUTH", "bob", "pw"], "+OK\r\n".into()),
            (&["ACL", "WHOAMI"], b("bob")),
            // RESET: back to default, which needs no password.
            (&["RESET"], "+RESET\r\n".into()),
            (&["ACL", "WHOAMI"], b("default")),
        ],
    )?;
    Ok(())
}
