//! What clients send on connect and operators type: PING, ECHO, SELECT, CLIENT, QUIT, RESET,
//! AUTH, COMMAND, INFO, CONFIG, and the `redis` crate's own RESP3 handshake.

use std::collections::HashMap;

use anyhow::{Context, Result};
use redis::Value;
use sluice_tests::{RawClient, TestServer};

/// The `key=value` fields of a `CLIENT LIST`/`CLIENT INFO` line.
fn client_fields(line: &str) -> HashMap<String, String> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The text of a RESP2 bulk string reply (`$<n>\r\n<text>\r\n`).
pub(crate) fn bulk_text(reply: &str) -> Result<&str> {
    let (header, rest) = reply.split_once("\r\n").context("no header")?;
    let len: usize = header.strip_prefix('$').context("not a bulk")?.parse()?;
    rest.get(..len).context("short bulk")
}

/// The `name:value` fields of an `INFO` reply.
pub(crate) fn info_fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `radix-tree-keys` from `XINFO STREAM`: the number of nodes the stream's entries fill.
fn radix_tree_keys(client: &mut redis::Connection, key: &str) -> Result<i64> {
    let info: HashMap<String, Value> = redis::cmd("XINFO").arg("STREAM").arg(key).query(client)?;
    match info.get("radix-tree-keys") {
        Some(Value::Int(n)) => Ok(*n),
        other => anyhow::bail!("radix-tree-keys: {other:?}"),
    }
}

fn client_id(raw: &mut RawClient) -> Result<u64> {
    let reply = raw.cmd(&["CLIENT", "ID"])?;
    Ok(reply
        .strip_prefix(':')
        .and_then(|r| r.strip_suffix("\r\n"))
        .context("CLIENT ID is an integer")?
        .parse()?)
}

#[test]
fn ping_and_echo() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(raw.cmd(&["ping", "hello"])?, "$5\r\nhello\r\n");
    assert_eq!(raw.cmd(&["PING", ""])?, "$0\r\n\r\n");
    assert_eq!(raw.cmd(&["ECHO", "a b"])?, "$3\r\na b\r\n");
    assert_eq!(raw.cmd(&["ECHO", ""])?, "$0\r\n\r\n");
    assert_eq!(
        raw.cmd(&["ECHO", "a", "b"])?,
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    let mut client = server.client()?;
    let pong: String = redis::cmd("PING").query(&mut client)?;
    assert_eq!(pong, "PONG");
    Ok(())
}

#[test]
fn select_checks_the_index_and_isolates_databases() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let cases: &[(&str, &str)] = &[
        ("16", "-ERR DB index is out of range\r\n"),
        ("-1", "-ERR DB index is out of range\r\n"),
        ("x", "-ERR value is not an integer or out of range\r\n"),
        ("1.5", "-ERR value is not an integer or out of range\r\n"),
        (
            "2147483648",
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
        ),
    ];
    for (index, want) in cases {
        assert_eq!(&raw.cmd(&["SELECT", index])?, want, "SELECT {index}");
    }
    // A refused SELECT kept database 0.
    assert_eq!(raw.cmd(&["XADD", "s", "1-1", "db", "0"])?, "$3\r\n1-1\r\n");
    assert_eq!(raw.cmd(&["SELECT", "15"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "s"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["XADD", "s", "9-9", "db", "15"])?, "$3\r\n9-9\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":1\r\n");
    // Another connection starts in database 0 and sees only its stream.
    let mut other = server.raw()?;
    assert_eq!(
        other.cmd(&["XRANGE", "s", "-", "+"])?,
        "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$2\r\ndb\r\n$1\r\n0\r\n"
    );
    assert_eq!(raw.cmd(&["SELECT", "0"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["SELECT", "15"])?, "+OK\r\n");
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+"])?,
        "*1\r\n*2\r\n$3\r\n9-9\r\n*2\r\n$2\r\ndb\r\n$2\r\n15\r\n"
    );
    // The INFO keyspace section lists both.
    let info = raw.cmd(&["INFO", "keyspace"])?;
    assert!(
        info.contains("db0:keys=1,expires=0,avg_ttl=0\r\n"),
        "{info}"
    );
    assert!(
        info.contains("db15:keys=1,expires=0,avg_ttl=0\r\n"),
        "{info}"
    );

    // The redis crate's SELECT, through a URL naming the database.
    let mut client =
        redis::Client::open(format!("redis://{}/15", server.addr))?.get_connection()?;
    let len: i64 = redis::cmd("XLEN").arg("s").query(&mut client)?;
    assert_eq!(len, 1);
    Ok(())
}

#[test]
fn client_names_ids_and_library_info() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let id = client_id(&mut raw)?;
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "$-1\r\n");
    let refused = "-ERR Client names cannot contain spaces, newlines or special characters.\r\n";
    assert_eq!(raw.cmd(&["CLIENT", "SETNAME", "my name"])?, refused);
    assert_eq!(raw.cmd(&["CLIENT", "SETNAME", "n\n"])?, refused);
    assert_eq!(raw.cmd(&["CLIENT", "SETNAME", "worker-1"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "$8\r\nworker-1\r\n");
    assert_eq!(raw.cmd(&["CLIENT", "SETNAME", ""])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "$-1\r\n");
    assert_eq!(raw.cmd(&["CLIENT", "SETNAME", "worker-1"])?, "+OK\r\n");

    // CLIENT SETINFO (Redis 7.2).
    assert_eq!(
        raw.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "my-lib"])?,
        "+OK\r\n"
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "SETINFO", "lib-ver", "1.2.3"])?,
        "+OK\r\n"
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "SETINFO", "lib-name", "my lib"])?,
        "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "SETINFO", "color", "red"])?,
        "-ERR Unrecognized option 'color'\r\n"
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "SETINFO", "LIB-NAME"])?,
        "-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    );

    assert_eq!(raw.cmd(&["SELECT", "3"])?, "+OK\r\n");
    let info = raw.cmd(&["CLIENT", "INFO"])?;
    let line = bulk_text(&info)?;
    assert!(
        line.ends_with('\n') && line.lines().count() == 1,
        "{line:?}"
    );
    let fields = client_fields(line);
    assert_eq!(fields["id"], id.to_string());
    assert_eq!(fields["name"], "worker-1");
    assert_eq!(fields["db"], "3");
    assert_eq!(fields["cmd"], "client|info");
    assert_eq!(fields["resp"], "2");
    assert_eq!(fields["lib-name"], "my-lib");
    assert_eq!(fields["lib-ver"], "1.2.3");
    assert_eq!(fields["multi"], "-1");
    assert_eq!(fields["flags"], "N");
    assert_eq!(fields["user"], "default");
    assert_eq!(fields["laddr"], server.addr.to_string());

    // CLIENT LIST shows every connection, one line each.
    let mut other = server.raw()?;
    let other_id = client_id(&mut other)?;
    assert_ne!(other_id, id);
    let list = raw.cmd(&["CLIENT", "LIST"])?;
    let lines: Vec<HashMap<String, String>> =
        bulk_text(&list)?.lines().map(client_fields).collect();
    assert_eq!(lines.len(), 2, "{list}");
    let mut ids: Vec<String> = lines.iter().map(|l| l["id"].clone()).collect();
    ids.sort();
    let mut want = vec![id.to_string(), other_id.to_string()];
    want.sort();
    assert_eq!(ids, want);
    let theirs = lines.iter().find(|l| l["id"] == other_id.to_string());
    assert_eq!(theirs.map(|l| l["cmd"].as_str()), Some("client|id"));

    let only = raw.cmd(&["CLIENT", "LIST", "ID", &other_id.to_string(), "999999"])?;
    let only: Vec<_> = bulk_text(&only)?.lines().map(client_fields).collect();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["id"], other_id.to_string());
    assert_eq!(
        bulk_text(&raw.cmd(&["CLIENT", "LIST", "TYPE", "normal"])?)?
            .lines()
            .count(),
        2
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"])?,
        "$0\r\n\r\n"
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "LIST", "TYPE", "foo"])?,
        "-ERR Unknown client type 'foo'\r\n"
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "LIST", "ID", "x"])?,
        "-ERR Invalid client ID\r\n"
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "LIST", "FOO"])?,
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw.cmd(&["CLIENT", "FOO"])?,
        "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"
    );

    // A closed connection leaves the list.
    drop(other);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let list = raw.cmd(&["CLIENT", "LIST"])?;
        if bulk_text(&list)?.lines().count() == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{list}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Ok(())
}

#[test]
fn quit_answers_ok_and_closes() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.send(b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n")?;
    // The pipelined PING after QUIT is never answered.
    assert_eq!(raw.read_to_close()?, "+OK\r\n");
    let mut client = server.client()?;
    let ok: Value = redis::cmd("QUIT").query(&mut client)?;
    assert_eq!(ok, Value::Okay);
    Ok(())
}

#[test]
fn reset_restores_a_fresh_connection() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let id = client_id(&mut raw)?;
    raw.cmd(&["HELLO", "3"])?;
    assert_eq!(raw.cmd(&["SELECT", "4"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["CLIENT", "SETNAME", "before"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["XADD", "s", "1-1", "a", "1"])?, "+QUEUED\r\n");
    // RESET is not queued: it runs at once and drops the transaction.
    assert_eq!(raw.cmd(&["RESET"])?, "+RESET\r\n");
    assert_eq!(raw.cmd(&["EXEC"])?, "-ERR EXEC without MULTI\r\n");
    // RESP2 again (a null is `$-1`, not `_`), no name, database 0, same id.
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "$-1\r\n");
    let fields = client_fields(bulk_text(&raw.cmd(&["CLIENT", "INFO"])?)?);
    assert_eq!(fields["db"], "0");
    assert_eq!(fields["resp"], "2");
    assert_eq!(fields["id"], id.to_string());
    assert_eq!(raw.cmd(&["SELECT", "4"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "s"])?, ":0\r\n");
    Ok(())
}

#[test]
fn auth_without_a_configured_password() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["AUTH", "secret"])?,
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
    assert_eq!(raw.cmd(&["AUTH", "default", "anything"])?, "+OK\r\n");
    assert_eq!(
        raw.cmd(&["AUTH", "bob", "pw"])?,
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(raw.cmd(&["AUTH", "a", "b", "c"])?, "-ERR syntax error\r\n");
    assert_eq!(
        raw.cmd(&["AUTH"])?,
        "-ERR wrong number of arguments for 'auth' command\r\n"
    );
    assert_eq!(raw.cmd(&["PING"])?, "+PONG\r\n");

    // The redis crate authenticates from the URL as `default` and carries on.
    let url = format!("redis://default:pw@{}", server.addr);
    let mut client = redis::Client::open(url)?.get_connection()?;
    let pong: String = redis::cmd("PING").query(&mut client)?;
    assert_eq!(pong, "PONG");
    Ok(())
}

#[test]
fn command_count_info_and_docs() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let count: i64 = redis::cmd("COMMAND").arg("COUNT").query(&mut client)?;
    let all: Vec<Value> = redis::cmd("COMMAND").query(&mut client)?;
    assert_eq!(usize::try_from(count)?, all.len());
    assert!(count >= 30, "{count}");

    // COMMAND INFO xadd: name, arity, flags, first key, last key, step, categories.
    let mut raw = server.raw()?;
    let info = raw.cmd(&["COMMAND", "INFO", "xadd", "nosuch"])?;
    assert!(
        info.starts_with("*2\r\n*10\r\n$4\r\nxadd\r\n:-5\r\n*"),
        "{info}"
    );
    assert!(
        info.ends_with("$-1\r\n"),
        "the unknown command is nil: {info}"
    );
    let info: Value = redis::cmd("COMMAND")
        .arg("INFO")
        .arg("xadd")
        .query(&mut client)?;
    let Value::Array(commands) = info else {
        panic!("{info:?}")
    };
    let Value::Array(xadd) = &commands[0] else {
        panic!("{commands:?}")
    };
    assert_eq!(xadd[0], Value::BulkString(b"xadd".to_vec()));
    assert_eq!(xadd[1], Value::Int(-5));
    let Value::Array(flags) = &xadd[2] else {
        panic!("{xadd:?}")
    };
    assert!(
        flags.contains(&Value::SimpleString("write".into())),
        "{flags:?}"
    );
    assert_eq!(&xadd[3..6], &[Value::Int(1), Value::Int(1), Value::Int(1)]);
    let Value::Array(categories) = &xadd[6] else {
        panic!("{xadd:?}")
    };
    assert!(
        categories.contains(&Value::SimpleString("@stream".into())),
        "{categories:?}"
    );

    // Subcommands are listed by their `cmd|sub` name.
    let info = raw.cmd(&["COMMAND", "INFO", "client|setname"])?;
    assert!(
        info.starts_with("*1\r\n*10\r\n$14\r\nclient|setname\r\n:3\r\n"),
        "{info}"
    );
    assert_eq!(
        raw.cmd(&["COMMAND", "INFO", "ping"])?
            .split("\r\n")
            .take(4)
            .collect::<Vec<_>>(),
        ["*1", "*10", "$4", "ping"]
    );

    // COMMAND DOCS: a map per command, with summary, since and group.
    let docs: Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .arg("xlen")
        .query(&mut client)?;
    let Value::Array(pairs) = docs else {
        panic!("{docs:?}")
    };
    assert_eq!(pairs[0], Value::BulkString(b"xlen".to_vec()));
    let Value::Array(doc) = &pairs[1] else {
        panic!("{pairs:?}")
    };
    let doc: HashMap<String, &Value> = doc
        .chunks(2)
        .filter_map(|kv| match &kv[0] {
            Value::BulkString(k) => Some((String::from_utf8_lossy(k).into_owned(), &kv[1])),
            _ => None,
        })
        .collect();
    assert_eq!(doc["since"], &Value::BulkString(b"5.0.0".to_vec()));
    assert_eq!(doc["group"], &Value::BulkString(b"stream".to_vec()));
    assert!(
        matches!(doc["summary"], Value::BulkString(s) if !s.is_empty()),
        "{doc:?}"
    );
    assert_eq!(raw.cmd(&["COMMAND", "DOCS", "nosuch"])?, "*0\r\n");
    assert_eq!(
        raw.cmd(&["COMMAND", "FOO"])?,
        "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"
    );
    Ok(())
}

#[test]
fn info_sections_and_command_stats() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let info = raw.cmd(&["INFO"])?;
    for section in [
        "# Server\r\n",
        "# Clients\r\n",
        "# Memory\r\n",
        "# Stats\r\n",
        "# Errorstats\r\n",
        "# Keyspace\r\n",
    ] {
        assert!(info.contains(section), "{section} missing: {info}");
    }
    let fields = info_fields(bulk_text(&info)?);
    // Sluice reports the Redis version whose semantics it follows, and its own.
    assert_eq!(fields["redis_version"], "8.10.0");
    assert!(fields.contains_key("sluice_version"));
    assert_eq!(fields["tcp_port"], server.addr.port().to_string());
    assert_eq!(fields["connected_clients"], "1");
    assert!(fields["used_memory"].parse::<u64>()? > 0);

    // Only the section asked for.
    let clients = raw.cmd(&["INFO", "clients"])?;
    assert!(clients.contains("# Clients\r\n"), "{clients}");
    assert!(!clients.contains("# Server"), "{clients}");
    assert_eq!(raw.cmd(&["INFO", "nosuch"])?, "$0\r\n\r\n");

    // commandstats counts what ran, was refused, or failed; errorstats counts error codes.
    raw.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    raw.cmd(&["XADD", "s", "2-1", "a", "1"])?;
    raw.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    raw.cmd(&["XADD", "s"])?;
    raw.cmd(&["FOO"])?;
    raw.cmd(&["HELLO", "9"])?;
    let stats = raw.cmd(&["INFO", "commandstats"])?;
    assert!(
        stats.contains("\r\ncmdstat_xadd:calls=3,usec="),
        "XADD ran three times: {stats}"
    );
    assert!(
        stats.contains(",rejected_calls=1,failed_calls=1\r\n"),
        "{stats}"
    );
    let xadd = info_fields(bulk_text(&stats)?)["cmdstat_xadd"].clone();
    assert!(
        xadd.starts_with("calls=3,") && xadd.ends_with(",rejected_calls=1,failed_calls=1"),
        "{xadd}"
    );
    let errors = raw.cmd(&["INFO", "errorstats"])?;
    assert_eq!(
        bulk_text(&errors)?,
        "# Errorstats\r\nerrorstat_ERR:count=3\r\nerrorstat_NOPROTO:count=1\r\n"
    );
    let stats = info_fields(bulk_text(&raw.cmd(&["INFO", "stats"])?)?);
    assert_eq!(stats["total_error_replies"], "4");
    let keyspace = raw.cmd(&["INFO", "keyspace"])?;
    assert_eq!(
        bulk_text(&keyspace)?,
        "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"
    );

    // CONFIG RESETSTAT forgets the counters.
    assert_eq!(raw.cmd(&["CONFIG", "RESETSTAT"])?, "+OK\r\n");
    let stats = raw.cmd(&["INFO", "commandstats"])?;
    assert!(!stats.contains("cmdstat_xadd"), "{stats}");
    assert_eq!(
        bulk_text(&raw.cmd(&["INFO", "errorstats"])?)?,
        "# Errorstats\r\n"
    );
    Ok(())
}

#[test]
fn config_get_patterns_and_set() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "stream-node-*"])?,
        "*4\r\n$23\r\nstream-node-max-entries\r\n$3\r\n100\r\n$21\r\nstream-node-max-bytes\r\n$4\r\n4096\r\n"
    );
    assert_eq!(raw.cmd(&["CONFIG", "GET", "nosuch"])?, "*0\r\n");
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "stream-node-max-entries", "7"])?,
        "+OK\r\n"
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "stream-node-max-entries"])?,
        "*2\r\n$23\r\nstream-node-max-entries\r\n$1\r\n7\r\n"
    );
    // Several names at once: the order is unspecified, as in Redis.
    let mut client = server.client()?;
    let got: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("stream-node-max-entries")
        .arg("STREAM-NODE-MAX-BYTES")
        .query(&mut client)?;
    assert_eq!(
        got,
        HashMap::from([
            ("stream-node-max-entries".into(), "7".into()),
            // An exact name is echoed as the client spelled it, as Redis does.
            ("STREAM-NODE-MAX-BYTES".into(), "4096".into()),
        ])
    );

    // The new node size applies to streams written afterwards: 20 entries, 7 per node.
    for i in 1..=20 {
        raw.cmd(&["XADD", "s", &format!("{i}-0"), "f", "v"])?;
    }
    assert_eq!(radix_tree_keys(&mut client, "s")?, 3);

    let cases: &[(&[&str], &str)] = &[
        (
            &["CONFIG", "SET", "foo", "1"],
            "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n",
        ),
        (
            &["CONFIG", "SET", "stream-node-max-entries", "-1"],
            "-ERR CONFIG SET failed (possibly related to argument 'stream-node-max-entries') - argument must be between 0 and 9223372036854775807 inclusive\r\n",
        ),
        (
            &["CONFIG", "SET", "stream-node-max-entries", "x"],
            "-ERR CONFIG SET failed (possibly related to argument 'stream-node-max-entries') - argument couldn't be parsed into an integer\r\n",
        ),
        (
            &[
                "CONFIG",
                "SET",
                "stream-node-max-entries",
                "8",
                "stream-node-max-entries",
                "9",
            ],
            "-ERR CONFIG SET failed (possibly related to argument 'stream-node-max-entries') - duplicate parameter\r\n",
        ),
        (
            &["CONFIG", "SET", "databases", "3"],
            "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n",
        ),
        (
            &["CONFIG", "SET", "stream-node-max-bytes", "lots"],
            "-ERR CONFIG SET failed (possibly related to argument 'stream-node-max-bytes') - argument must be a memory value\r\n",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(&raw.cmd(args)?, want, "{args:?}");
    }
    // None of the refused settings changed anything.
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "stream-node-max-entries"])?,
        "*2\r\n$23\r\nstream-node-max-entries\r\n$1\r\n7\r\n"
    );
    // Back to the default, 100 entries fit one node.
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "stream-node-max-entries", "100"])?,
        "+OK\r\n"
    );
    for i in 1..=20 {
        raw.cmd(&["XADD", "t", &format!("{i}-0"), "f", "v"])?;
    }
    assert_eq!(radix_tree_keys(&mut client, "t")?, 1);
    Ok(())
}

#[test]
fn the_redis_crate_handshakes_in_resp3() -> Result<()> {
    let server = TestServer::start()?;
    // client3() sends HELLO 3 and CLIENT SETINFO LIB-NAME/LIB-VER on connect.
    let mut client = server.client3()?;
    let hello: Value = redis::cmd("HELLO").query(&mut client)?;
    let Value::Map(fields) = hello else {
        panic!("HELLO in RESP3 is a map: {hello:?}")
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| *k == Value::BulkString(name.as_bytes().to_vec()))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("proto"), Some(Value::Int(3)));
    assert_eq!(field("server"), Some(Value::BulkString(b"redis".to_vec())));
    assert_eq!(
        field("version"),
        Some(Value::BulkString(b"8.10.0".to_vec()))
    );

    let info: Value = redis::cmd("CLIENT").arg("INFO").query(&mut client)?;
    let Value::VerbatimString { text, .. } = info else {
        panic!("CLIENT INFO in RESP3 is verbatim text: {info:?}")
    };
    let fields = client_fields(&text);
    assert_eq!(fields["resp"], "3");
    assert_eq!(fields["lib-name"], "redis-rs");
    assert!(!fields["lib-ver"].is_empty(), "{text}");

    // Nulls and maps come back in their RESP3 shapes.
    let name: Value = redis::cmd("CLIENT").arg("GETNAME").query(&mut client)?;
    assert_eq!(name, Value::Nil);
    let config: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("stream-node-max-bytes")
        .query(&mut client)?;
    assert_eq!(
        config,
        HashMap::from([("stream-node-max-bytes".into(), "4096".into())])
    );
    let id: String = redis::cmd("XADD")
        .arg("s")
        .arg("1-1")
        .arg("k")
        .arg("v")
        .query(&mut client)?;
    assert_eq!(id, "1-1");
    let range: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
        .arg("s")
        .arg("-")
        .arg("+")
        .query(&mut client)?;
    assert_eq!(
        range,
        vec![("1-1".into(), HashMap::from([("k".into(), "v".into())]))]
    );
    Ok(())
}
