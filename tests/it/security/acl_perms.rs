//! ACL permissions: commands, subcommands and categories, key patterns (read/write),
//! transactions, rule changes reaching connected clients, and the `ACL` command's replies.
//! Every expected reply was checked against redis-server (Redis 7.2's wording where 7.0
//! differs).

use anyhow::Result;
use sluice_tests::TestServer;

use crate::replies::{a, b, expect, flat, i, map3};
use crate::security::acl::{PASSWORD, PASSWORD_HASH, SECRET_HASH, login, noperm, server};

const NOKEY: &str = "-NOPERM No permissions to access a key\r\n";

#[test]
fn commands_subcommands_and_categories_need_permission() -> Result<()> {
    let server = server()?;
    // ops: +@all -@admin.
    let mut ops = login(&server, "ops", "ops")?;
    expect(
        &mut ops,
        &[
            (&["XADD", "s", "1-1", "a", "1"], b("1-1")),
            (&["SLUICE", "ROUTES"], noperm("ops", "sluice|routes")),
            (&["SLUICE", "HELP"], noperm("ops", "sluice|help")),
            (
                &["CONFIG", "SET", "proto-max-bulk-len", "2mb"],
                noperm("ops", "config|set"),
            ),
            (&["CONFIG", "GET", "port"], noperm("ops", "config|get")),
            (&["ACL", "LIST"], noperm("ops", "acl|list")),
            (&["SAVE"], noperm("ops", "save")),
            (&["SHUTDOWN"], noperm("ops", "shutdown")),
            // Not @admin, but @dangerous in Redis: -@admin leaves it.
            (&["KEYS", "*"], a(&[b("s")])),
            (&["ACL", "WHOAMI"], b("ops")),
        ],
    )?;
    let mut admin = login(&server, "default", PASSWORD)?;
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "ops", "-@dangerous", "+config|get"])?,
        "+OK\r\n"
    );
    expect(
        &mut ops,
        &[
            (&["FLUSHALL"], noperm("ops", "flushall")),
            (&["KEYS", "*"], noperm("ops", "keys")),
            (
                &["CONFIG", "GET", "databases"],
                a(&[b("databases"), b("16")]),
            ),
            (
                &["CONFIG", "SET", "proto-max-bulk-len", "2mb"],
                noperm("ops", "config|set"),
            ),
        ],
    )?;
    // alice: +@read +xadd -@admin.
    let mut alice = login(&server, "alice", "secret")?;
    expect(
        &mut alice,
        &[
            (&["XDEL", "orders.1", "1-1"], noperm("alice", "xdel")),
            (&["CLIENT", "INFO"], noperm("alice", "client|info")),
            (&["FLUSHALL"], noperm("alice", "flushall")),
            (&["PING"], noperm("alice", "ping")),
            // Allowed before authentication, so allowed to everyone.
            (&["AUTH", "alice", "secret"], "+OK\r\n".into()),
        ],
    )?;
    Ok(())
}

#[test]
fn keys_outside_the_patterns_are_refused() -> Result<()> {
    let server = server()?;
    let mut admin = login(&server, "default", PASSWORD)?;
    admin.cmd(&["XADD", "payments", "1-1", "a", "1"])?;
    let mut alice = login(&server, "alice", "secret")?;
    expect(
        &mut alice,
        &[
            (&["XADD", "orders.1", "1-1", "a", "1"], b("1-1")),
            (&["XADD", "payments", "2-1", "a", "1"], NOKEY.into()),
            (&["XRANGE", "payments", "-", "+"], NOKEY.into()),
            (&["XLEN", "payments"], NOKEY.into()),
            (&["EXISTS", "orders.1", "payments"], NOKEY.into()),
            // XREAD's keys are the first half after STREAMS: one denied key refuses all.
            (
                &["XREAD", "STREAMS", "orders.1", "payments", "0", "0"],
                NOKEY.into(),
            ),
            (
                &[
                    "XREAD", "COUNT", "5", "STREAMS", "payments", "orders.1", "0", "0",
                ],
                NOKEY.into(),
            ),
            (
                &["XREAD", "STREAMS", "orders.1", "0"],
                a(&[a(&[
                    b("orders.1"),
                    a(&[crate::replies::e("1-1", &["a", "1"])]),
                ])]),
            ),
        ],
    )?;
    Ok(())
}

#[test]
fn read_only_patterns_allow_reads_not_writes() -> Result<()> {
    let server = server()?;
    let mut admin = login(&server, "default", PASSWORD)?;
    admin.cmd(&["XADD", "logs.a", "1-1", "a", "1"])?;
    admin.cmd(&["XGROUP", "CREATE", "logs.a", "g", "0"])?;
    // reader: %R~logs.* ~orders.* +@all.
    let mut reader = login(&server, "reader", "r")?;
    let entry = crate::replies::e("1-1", &["a", "1"]);
    expect(
        &mut reader,
        &[
            (
                &["XRANGE", "logs.a", "-", "+"],
                a(std::slice::from_ref(&entry)),
            ),
            (&["XADD", "logs.a", "2-1", "a", "1"], NOKEY.into()),
            (&["XLEN", "logs.a"], i(1)),
            (&["TTL", "logs.a"], i(-1)),
            (&["EXPIRE", "logs.a", "100"], NOKEY.into()),
            (&["DEL", "logs.a"], NOKEY.into()),
            (&["XTRIM", "logs.a", "MAXLEN", "0"], NOKEY.into()),
            // Redis reads XREADGROUP's key: a read pattern is enough, though the group changes.
            (
                &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "logs.a", ">"],
                a(&[a(&[b("logs.a"), a(&[entry])])]),
            ),
            // Acknowledging and claiming write.
            (&["XACK", "logs.a", "g", "1-1"], NOKEY.into()),
            (&["XCLAIM", "logs.a", "g", "c", "0", "1-1"], NOKEY.into()),
            (
                &["XGROUP", "CREATECONSUMER", "logs.a", "g", "c2"],
                NOKEY.into(),
            ),
            (
                &["XPENDING", "logs.a", "g"],
                a(&[i(1), b("1-1"), b("1-1"), a(&[a(&[b("c"), b("1")])])]),
            ),
            // RENAME reads and deletes its source and writes its destination.
            (&["RENAME", "logs.a", "orders.a"], NOKEY.into()),
            (&["XADD", "orders.x", "1-1", "a", "1"], b("1-1")),
            (&["RENAME", "orders.x", "logs.x"], NOKEY.into()),
            (&["RENAME", "orders.x", "orders.y"], "+OK\r\n".into()),
        ],
    )?;
    Ok(())
}

#[test]
fn a_refused_command_aborts_the_transaction() -> Result<()> {
    let server = server()?;
    let mut ops = login(&server, "ops", "ops")?;
    expect(
        &mut ops,
        &[
            (&["MULTI"], "+OK\r\n".into()),
            (&["XADD", "s", "1-1", "a", "1"], "+QUEUED\r\n".into()),
            (&["FLUSHALL"], "+QUEUED\r\n".into()),
            (&["SLUICE", "ROUTES"], noperm("ops", "sluice|routes")),
            (
                &["EXEC"],
                "-EXECABORT Transaction discarded because of previous errors.\r\n".into(),
            ),
            (&["EXISTS", "s"], i(0)),
        ],
    )?;
    // A user who may not EXEC: the refused EXEC discards the transaction.
    let mut admin = login(&server, "default", PASSWORD)?;
    admin.cmd(&["ACL", "SETUSER", "ops", "-exec"])?;
    let refused = format!(
        "-EXECABORT Transaction discarded because of: {}",
        &noperm("ops", "exec")[1..]
    );
    expect(
        &mut ops,
        &[
            (&["MULTI"], "+OK\r\n".into()),
            (&["XADD", "s", "1-1", "a", "1"], "+QUEUED\r\n".into()),
            (&["EXEC"], refused.clone()),
            (&["EXEC"], refused),
            (&["XADD", "s", "1-1", "a", "1"], b("1-1")),
        ],
    )?;
    Ok(())
}

#[test]
fn rule_changes_reach_connected_clients() -> Result<()> {
    let server = server()?;
    let mut admin = login(&server, "default", PASSWORD)?;
    admin.cmd(&["ACL", "SETUSER", "u", "on", ">pw", "~*", "+@all"])?;
    let mut u = login(&server, "u", "pw")?;
    let mut queued = login(&server, "u", "pw")?;
    assert_eq!(u.cmd(&["XADD", "k", "1-1", "a", "1"])?, b("1-1"));
    expect(
        &mut queued,
        &[
            (&["MULTI"], "+OK\r\n".into()),
            (&["XLEN", "k"], "+QUEUED\r\n".into()),
            (&["XADD", "k", "2-1", "a", "1"], "+QUEUED\r\n".into()),
            (&["XLEN", "other"], "+QUEUED\r\n".into()),
        ],
    )?;
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "u", "-xadd", "resetkeys", "~k"])?,
        "+OK\r\n"
    );
    expect(
        &mut u,
        &[
            (&["XADD", "k", "3-1", "a", "1"], noperm("u", "xadd")),
            (&["XLEN", "other"], NOKEY.into()),
            (&["XLEN", "k"], i(1)),
        ],
    )?;
    // Queued before the change, run after: each command is checked again, as in Redis.
    let changed = "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ";
    assert_eq!(
        queued.cmd(&["EXEC"])?,
        format!(
            "*3\r\n:1\r\n{changed}no permission to execute the command or subcommand\r\n\
             {changed}no permission to touch the specified keys\r\n"
        )
    );
    // Turning a user off keeps its connections (as in Redis); deleting closes them.
    admin.cmd(&["ACL", "SETUSER", "u", "off"])?;
    assert_eq!(u.cmd(&["XLEN", "k"])?, i(1));
    assert_eq!(admin.cmd(&["ACL", "DELUSER", "u", "nosuch"])?, i(1));
    u.send(b"*2\r\n$4\r\nXLEN\r\n$1\r\nk\r\n")?;
    assert_eq!(u.read_to_close()?, "");
    // A user created again under the same name is someone else.
    admin.cmd(&["ACL", "SETUSER", "u", "on", "nopass", "+@all"])?;
    queued.send(b"*1\r\n$4\r\nPING\r\n")?;
    assert_eq!(queued.read_to_close()?, "");
    // Deleting one's own user: the reply, then the connection closes.
    let mut me = login(&server, "u", "x")?;
    me.send(b"*3\r\n$3\r\nACL\r\n$7\r\nDELUSER\r\n$1\r\nu\r\n")?;
    assert_eq!(me.read_to_close()?, ":1\r\n");
    Ok(())
}

#[test]
fn acl_commands_reply_as_redis() -> Result<()> {
    let server = server()?;
    let mut raw = login(&server, "default", PASSWORD)?;
    let user_line = |rest: &str| b(&format!("user {rest}"));
    let alice = format!(
        "alice on sanitize-payload #{SECRET_HASH} ~orders.* resetchannels -@all +@read +xadd -@admin"
    );
    expect(
        &mut raw,
        &[
            (&["ACL", "WHOAMI"], b("default")),
            (
                &["ACL", "USERS"],
                a(&[b("alice"), b("dave"), b("default"), b("ops"), b("reader")]),
            ),
            // Passwords show only as their SHA-256.
            (
                &["ACL", "LIST"],
                a(&[
                    user_line(&alice),
                    user_line("dave off sanitize-payload #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* resetchannels +@all"),
                    user_line(&format!("default on sanitize-payload #{PASSWORD_HASH} ~* &* +@all")),
                    user_line("ops on sanitize-payload #a92c36e66a25ee99ff862faa8e87987be6c7cd13c3ee661c400a45b0f1e3b132 ~* resetchannels +@all -@admin"),
                    user_line("reader on sanitize-payload #454349e422f05297191ead13e21d3db520e5abef52055e4964b82fb213f593a1 %R~logs.* ~orders.* resetchannels +@all"),
                ]),
            ),
            (
                &["ACL", "GETUSER", "alice"],
                flat(&[
                    ("flags", a(&[b("on"), b("sanitize-payload")])),
                    ("passwords", a(&[b(SECRET_HASH)])),
                    ("commands", b("-@all +@read +xadd -@admin")),
                    ("keys", b("~orders.*")),
                    ("channels", b("")),
                    ("selectors", a(&[])),
                ]),
            ),
            (&["ACL", "GETUSER", "nosuch"], "$-1\r\n".into()),
            (&["ACL", "CAT", "nosuch"], "-ERR Unknown category 'nosuch'\r\n".into()),
            (
                &["ACL", "CAT", "a", "b"],
                "-ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.\r\n"
                    .into(),
            ),
            (
                &["ACL", "SETUSER", "x", "on", ">pw", "+nosuch"],
                "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL\r\n".into(),
            ),
            (
                &["ACL", "SETUSER", "x", "#abc"],
                "-ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters\r\n".into(),
            ),
            (
                &["ACL", "SETUSER", "x", "allkeys", "~k"],
                "-ERR Error in ACL SETUSER modifier '~k': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns\r\n".into(),
            ),
            (
                &["ACL", "SETUSER", "x", "+config|get|x"],
                "-ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported\r\n".into(),
            ),
            (
                &["ACL", "SETUSER", "a b"],
                "-ERR Usernames can't contain spaces or null characters\r\n".into(),
            ),
            // A refused SETUSER changed nothing: x does not exist.
            (&["ACL", "GETUSER", "x"], "$-1\r\n".into()),
            (
                &["ACL", "SETUSER", "x", "on", ">pw", "%R~logs.*", "+CONFIG|GET", "-config", "+@READ", "-xrange", "&ch"],
                "+OK\r\n".into(),
            ),
            (
                &["ACL", "GETUSER", "x"],
                flat(&[
                    ("flags", a(&[b("on"), b("sanitize-payload")])),
                    ("passwords", a(&[b("30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4")])),
                    ("commands", b("-@all -config +@read -xrange")),
                    ("keys", b("%R~logs.*")),
                    ("channels", b("&ch")),
                    ("selectors", a(&[])),
                ]),
            ),
            (
                &["ACL", "DRYRUN", "x", "xlen", "logs.a"],
                "+OK\r\n".into(),
            ),
            (
                &["ACL", "DRYRUN", "x", "xrange", "logs.a", "-", "+"],
                b("User x has no permissions to run the 'xrange' command"),
            ),
            (
                &["ACL", "DRYRUN", "alice", "xadd", "payments", "*", "a", "1"],
                b("User alice has no permissions to access the 'payments' key"),
            ),
            (&["ACL", "DRYRUN", "nobody", "ping"], "-ERR User 'nobody' not found\r\n".into()),
            (&["ACL", "DRYRUN", "x", "nosuch"], "-ERR Command 'nosuch' not found\r\n".into()),
            (
                &["ACL", "DRYRUN", "x", "xlen"],
                "-ERR wrong number of arguments for 'xlen' command\r\n".into(),
            ),
            (
                &["ACL", "DELUSER", "default"],
                "-ERR The 'default' user cannot be removed\r\n".into(),
            ),
            (&["ACL", "DELUSER", "x", "nosuch"], i(1)),
            (&["ACL", "DELUSER", "x"], i(0)),
            (
                &["ACL", "NOSUCH"],
                "-ERR unknown subcommand 'NOSUCH'. Try ACL HELP.\r\n".into(),
            ),
            (
                &["ACL", "WHOAMI", "x"],
                "-ERR wrong number of arguments for 'acl|whoami' command\r\n".into(),
            ),
        ],
    )?;
    // ACL CAT: Redis's 21 categories; a category lists commands and `cmd|sub` subcommands.
    let cats = raw.cmd(&["ACL", "CAT"])?;
    assert!(
        cats.starts_with("*21\r\n$8\r\nkeyspace\r\n$4\r\nread\r\n"),
        "{cats}"
    );
    assert!(
        cats.ends_with("$11\r\ntransaction\r\n$9\r\nscripting\r\n"),
        "{cats}"
    );
    let stream = raw.cmd(&["ACL", "CAT", "STREAM"])?;
    for name in ["xadd", "xreadgroup", "xgroup|create", "xinfo|stream"] {
        assert!(stream.contains(&b(name)), "{name}: {stream}");
    }
    assert!(!stream.contains(&b("dbsize")), "{stream}");
    let admin = raw.cmd(&["ACL", "CAT", "admin"])?;
    for name in [
        "sluice|routes",
        "sluice|reassign",
        "config|set",
        "acl|setuser",
        "save",
    ] {
        assert!(admin.contains(&b(name)), "{name}: {admin}");
    }
    // RESP3: GETUSER is a map, its flags a set.
    raw.cmd(&["HELLO", "3"])?;
    assert_eq!(
        raw.cmd(&["ACL", "GETUSER", "default"])?,
        map3(&[
            (
                "flags",
                "~2\r\n$2\r\non\r\n$16\r\nsanitize-payload\r\n".into()
            ),
            ("passwords", a(&[b(PASSWORD_HASH)])),
            ("commands", b("+@all")),
            ("keys", b("~*")),
            ("channels", b("&*")),
            ("selectors", a(&[])),
        ])
    );
    let help = raw.cmd(&["ACL", "HELP"])?;
    assert!(
        help.starts_with("*29\r\n+ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CAT [<category>]\r\n"),
        "{help}"
    );
    Ok(())
}

#[test]
fn admin_commands_carry_redis_categories() -> Result<()> {
    // COMMAND INFO reports what ACL rules act on.
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let info = raw.cmd(&[
        "COMMAND",
        "INFO",
        "sluice|reassign",
        "client|id",
        "acl|setuser",
        "acl|log",
        "acl|load",
    ])?;
    for (name, cats) in [
        (
            "sluice|reassign",
            "+@write\r\n+@stream\r\n+@slow\r\n+@admin\r\n+@dangerous\r\n",
        ),
        ("client|id", "+@slow\r\n+@connection\r\n"),
        ("acl|setuser", "+@admin\r\n+@slow\r\n+@dangerous\r\n"),
        ("acl|log", "+@admin\r\n+@slow\r\n+@dangerous\r\n"),
        ("acl|load", "+@admin\r\n+@slow\r\n+@dangerous\r\n"),
    ] {
        assert!(
            info.contains(&b(name)) && info.contains(cats),
            "{name}: {info}"
        );
    }
    Ok(())
}
