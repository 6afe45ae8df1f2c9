//! The wire protocol: pipelining, inline commands, malformed requests, limits, binary safety,
//! RESP2/RESP3 switching. Every expected reply was checked byte for byte against Redis.

use std::time::Duration;

use anyhow::Result;
use redis::Value;
use sluice_tests::{TestServer, encode_command};

/// Sends `bytes` on a fresh connection and returns everything the server wrote before it
/// closed the connection.
fn reply_then_close(server: &TestServer, bytes: &[u8]) -> Result<String> {
    let mut raw = server.raw()?;
    raw.send(bytes)?;
    raw.read_to_close()
}

#[test]
fn pipelined_commands_are_answered_in_order() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    for i in 1..=300 {
        let id = format!("{i}-0");
        batch.extend(encode_command(&[b"XADD", b"s", id.as_bytes(), b"n", b"v"]));
        expected.push(format!("${}\r\n{id}\r\n", id.len()));
        batch.extend(encode_command(&[b"XLEN", b"s"]));
        expected.push(format!(":{i}\r\n"));
        let msg = format!("m{i}");
        batch.extend(encode_command(&[b"PING", msg.as_bytes()]));
        expected.push(format!("${}\r\n{msg}\r\n", msg.len()));
    }
    // Inline commands and an unknown command mixed into the same write.
    batch.extend_from_slice(b"PING\r\nFOO\r\nECHO last\r\n");
    expected.push("+PONG\r\n".into());
    expected.push("-ERR unknown command 'FOO', with args beginning with: \r\n".into());
    expected.push("$4\r\nlast\r\n".into());
    raw.send(&batch)?;
    for (n, want) in expected.iter().enumerate() {
        assert_eq!(&raw.read_reply()?, want, "reply #{n}");
    }
    assert_eq!(raw.cmd(&["XLEN", "s"])?, ":300\r\n");
    Ok(())
}

#[test]
fn a_request_split_across_writes_is_assembled() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let frame = encode_command(&[b"XADD", b"s", b"1-1", b"field", b"value"]);
    for byte in &frame {
        raw.send(std::slice::from_ref(byte))?;
    }
    assert_eq!(raw.read_reply()?, "$3\r\n1-1\r\n");
    Ok(())
}

#[test]
fn inline_commands_as_typed_in_telnet() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.send(b"PING\r\n")?;
    assert_eq!(raw.read_reply()?, "+PONG\r\n");
    // A bare "\n" ends a line too, and extra spaces separate nothing.
    raw.send(b"  ping   \n")?;
    assert_eq!(raw.read_reply()?, "+PONG\r\n");
    raw.send(b"ECHO \"hello world\"\r\n")?;
    assert_eq!(raw.read_reply()?, "$11\r\nhello world\r\n");
    raw.send(b"ECHO 'it\\'s'\r\n")?;
    assert_eq!(raw.read_reply()?, "$4\r\nit's\r\n");
    raw.send(b"ECHO \"a\\x41\\n\"\r\n")?;
    assert_eq!(raw.read_reply()?, "$3\r\naA\n\r\n");
    raw.send(b"ECHO \"\\r\\n\"\r\n")?;
    assert_eq!(raw.read_reply()?, "$2\r\n\r\n\r\n");
    raw.send(b"ECHO \"a b\" 'c d'\r\n")?;
    assert_eq!(
        raw.read_reply()?,
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    raw.send(b"XADD s 5-1 name \"Jane Doe\"\r\nXRANGE s - +\r\n")?;
    assert_eq!(raw.read_reply()?, "$3\r\n5-1\r\n");
    assert_eq!(
        raw.read_reply()?,
        "*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$4\r\nname\r\n$8\r\nJane Doe\r\n"
    );
    // Empty lines are skipped; the next command still runs.
    raw.send(b"\r\n\r\nPING\r\n")?;
    assert_eq!(raw.read_reply()?, "+PONG\r\n");
    // A line that starts with '$' is an inline command named "$-5", not a protocol error.
    raw.send(b"$-5\r\n")?;
    assert_eq!(
        raw.read_reply()?,
        "-ERR unknown command '$-5', with args beginning with: \r\n"
    );
    assert_eq!(raw.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn malformed_requests_get_a_protocol_error_and_the_connection_closes() -> Result<()> {
    let server = TestServer::start()?;
    let cases: &[(&[u8], &str)] = &[
        (
            b"*x\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$x\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n+PING\r\n",
            "-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"ECHO \"abc\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"ECHO 'abc\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"ECHO \"abc\"def\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        // Requests before the bad one are answered first.
        (
            b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n",
            "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            &reply_then_close(&server, bytes)?,
            want,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    // The server itself is fine.
    assert_eq!(server.raw()?.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn length_headers_without_a_newline_are_capped() -> Result<()> {
    let server = TestServer::start()?;
    let long = vec![b'1'; 70_000];
    let cases: &[(Vec<u8>, &str)] = &[
        (
            [b"*".as_slice(), &long].concat(),
            "-ERR Protocol error: too big mbulk count string\r\n",
        ),
        (
            [b"*1\r\n$".as_slice(), &long].concat(),
            "-ERR Protocol error: too big bulk count string\r\n",
        ),
        (
            [b"PING".as_slice(), &vec![b' '; 70_000]].concat(),
            "-ERR Protocol error: too big inline request\r\n",
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(&reply_then_close(&server, bytes)?, want);
    }
    Ok(())
}

#[test]
fn an_oversized_bulk_length_is_refused() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    // Redis's floor for proto-max-bulk-len is 1 MiB.
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1048575"])?,
        "-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive\r\n"
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"])?,
        "+OK\r\n"
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "proto-max-bulk-len"])?,
        "*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n"
    );

    // One byte over the limit: refused from the header alone, before any data is sent.
    assert_eq!(
        reply_then_close(&server, b"*2\r\n$4\r\nECHO\r\n$1048577\r\n")?,
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    // Exactly the limit is fine.
    let mut raw = server.raw()?;
    let value = vec![b'x'; 1_048_576];
    raw.send_cmd(&[b"ECHO", &value])?;
    let reply = raw.read_reply()?;
    assert_eq!(reply.len(), "$1048576\r\n".len() + value.len() + 2);
    assert!(reply.starts_with("$1048576\r\nxxxx"), "{}", &reply[..20]);

    // Back to the default: 512 MB, and one more is refused.
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "512mb"])?,
        "+OK\r\n"
    );
    assert_eq!(
        reply_then_close(&server, b"*2\r\n$4\r\nECHO\r\n$536870913\r\n")?,
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    assert_eq!(
        reply_then_close(&server, b"*2\r\n$4\r\nECHO\r\n$9223372036854775808\r\n")?,
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    Ok(())
}

#[test]
fn a_huge_multibulk_count() -> Result<()> {
    let server = TestServer::start()?;
    // Over INT_MAX: refused at once.
    assert_eq!(
        reply_then_close(&server, b"*2147483648\r\n")?,
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    assert_eq!(
        reply_then_close(&server, b"*3000000000\r\n")?,
        "-ERR Protocol error: invalid multibulk length\r\n"
    );
    // INT_MAX itself is legal: the server waits for the arguments without reserving room for
    // two billion of them, and other clients carry on.
    let mut waiting = server.raw()?;
    waiting.send(b"*2147483647\r\n$4\r\nPING\r\n$1\r\na\r\n")?;
    waiting.set_timeout(Duration::from_millis(200))?;
    assert!(waiting.read_reply().is_err(), "the request is incomplete");
    let mut other = server.raw()?;
    assert_eq!(other.cmd(&["PING"])?, "+PONG\r\n");
    drop(waiting);
    assert_eq!(other.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn empty_requests_are_ignored() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    // `*0` and `*-1` are no requests at all: no reply, and the next one runs.
    raw.send(b"*0\r\n*-1\r\n*0\r\n*1\r\n$4\r\nPING\r\n")?;
    assert_eq!(raw.read_reply()?, "+PONG\r\n");
    raw.send(b"*0\r\n")?;
    assert_eq!(raw.cmd(&["ECHO", "after"])?, "$5\r\nafter\r\n");
    Ok(())
}

#[test]
fn non_utf8_keys_fields_and_values_round_trip() -> Result<()> {
    let server = TestServer::start()?;
    let key: &[u8] = b"\xff\xfek\x00ey";
    let field: &[u8] = b"\x80\x81";
    let value: &[u8] = b"\xc3\x28\x00\xa0";
    let mut client = server.client()?;
    let id: String = redis::cmd("XADD")
        .arg(key)
        .arg("1-1")
        .arg(field)
        .arg(value)
        .query(&mut client)?;
    assert_eq!(id, "1-1");
    let range: Value = redis::cmd("XRANGE")
        .arg(key)
        .arg("-")
        .arg("+")
        .query(&mut client)?;
    assert_eq!(
        range,
        Value::Array(vec![Value::Array(vec![
            Value::BulkString(b"1-1".to_vec()),
            Value::Array(vec![
                Value::BulkString(field.to_vec()),
                Value::BulkString(value.to_vec())
            ]),
        ])])
    );
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut client)?;
    assert_eq!(keys, vec![key.to_vec()]);
    // Glob classes match raw bytes.
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS")
        .arg(b"\xff?k*".as_slice())
        .query(&mut client)?;
    assert_eq!(keys, vec![key.to_vec()]);
    let kind: String = redis::cmd("TYPE").arg(key).query(&mut client)?;
    assert_eq!(kind, "stream");
    // A key differing in one byte is another key.
    let exists: i64 = redis::cmd("EXISTS")
        .arg(b"\xff\xfek\x00eY".as_slice())
        .query(&mut client)?;
    assert_eq!(exists, 0);

    // The same bytes on the wire, exactly.
    let mut raw = server.raw()?;
    raw.send_cmd(&[b"XRANGE", key, b"-", b"+"])?;
    let reply = raw.read_reply()?;
    let want = [
        b"*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$2\r\n".as_slice(),
        field,
        b"\r\n$4\r\n",
        value,
        b"\r\n",
    ]
    .concat();
    assert_eq!(reply, String::from_utf8_lossy(&want));
    Ok(())
}

#[test]
fn values_containing_crlf_and_every_byte_are_binary_safe() -> Result<()> {
    let server = TestServer::start()?;
    let tricky: &[u8] = b"a\r\nb\r\n$3\r\n*1\r\n-ERR\r\n";
    let all_bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let mut raw = server.raw()?;
    raw.send_cmd(&[b"XADD", b"s", b"1-1", tricky, tricky])?;
    assert_eq!(raw.read_reply()?, "$3\r\n1-1\r\n");
    raw.send_cmd(&[b"ECHO", tricky])?;
    assert_eq!(
        raw.read_reply()?,
        "$20\r\na\r\nb\r\n$3\r\n*1\r\n-ERR\r\n\r\n"
    );
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+"])?,
        "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$20\r\na\r\nb\r\n$3\r\n*1\r\n-ERR\r\n\r\n$20\r\na\r\nb\r\n$3\r\n*1\r\n-ERR\r\n\r\n"
    );

    let mut client = server.client()?;
    let id: String = redis::cmd("XADD")
        .arg("s")
        .arg("2-1")
        .arg("blob")
        .arg(&all_bytes)
        .query(&mut client)?;
    assert_eq!(id, "2-1");
    let range: Vec<(String, Vec<Vec<u8>>)> = redis::cmd("XRANGE")
        .arg("s")
        .arg("2")
        .arg("+")
        .query(&mut client)?;
    assert_eq!(
        range,
        vec![("2-1".into(), vec![b"blob".to_vec(), all_bytes])]
    );
    Ok(())
}

#[test]
fn hello_switches_between_resp2_and_resp3() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let id = raw.cmd(&["CLIENT", "ID"])?;
    let id = id.trim_start_matches(':').trim_end();
    // Sluice reports itself as Redis 7.2, the version whose semantics it follows.
    let fields = |proto: u8| {
        format!(
            "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n8.10.0\r\n$5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        )
    };
    assert_eq!(raw.cmd(&["HELLO"])?, format!("*14\r\n{}", fields(2)));
    assert_eq!(raw.cmd(&["HELLO", "3"])?, format!("%7\r\n{}", fields(3)));

    // RESP3 shapes: maps, nulls, null arrays, verbatim text.
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "_\r\n");
    assert_eq!(
        raw.cmd(&["XADD", "nokey", "NOMKSTREAM", "*", "a", "1"])?,
        "_\r\n"
    );
    assert_eq!(raw.cmd(&["XREAD", "STREAMS", "nokey", "0"])?, "_\r\n");
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "stream-node-max-bytes"])?,
        "%1\r\n$21\r\nstream-node-max-bytes\r\n$4\r\n4096\r\n"
    );
    raw.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    assert_eq!(raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "0"])?, "_\r\n");
    // A missing key is an empty array even with COUNT 0: Redis looks the key up first.
    assert_eq!(
        raw.cmd(&["XRANGE", "nokey", "-", "+", "COUNT", "0"])?,
        "*0\r\n"
    );
    let info = raw.cmd(&["CLIENT", "INFO"])?;
    assert!(info.starts_with('='), "{info}");
    assert!(info.contains("\r\ntxt:id="), "{info}");
    assert!(info.contains(" resp=3 "), "{info}");

    // Unsupported or malformed versions leave the protocol alone.
    assert_eq!(
        raw.cmd(&["HELLO", "4"])?,
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        raw.cmd(&["HELLO", "1"])?,
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        raw.cmd(&["HELLO", "x"])?,
        "-ERR Protocol version is not an integer or out of range\r\n"
    );
    assert_eq!(
        raw.cmd(&["HELLO", "2", "FOO"])?,
        "-ERR Syntax error in HELLO option 'FOO'\r\n"
    );
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "_\r\n");

    // Back to RESP2: the same commands, RESP2 shapes.
    assert_eq!(raw.cmd(&["HELLO", "2"])?, format!("*14\r\n{}", fields(2)));
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "$-1\r\n");
    assert_eq!(raw.cmd(&["XREAD", "STREAMS", "nokey", "0"])?, "*-1\r\n");
    assert_eq!(
        raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "0"])?,
        "*-1\r\n"
    );
    assert_eq!(
        raw.cmd(&["XRANGE", "nokey", "-", "+", "COUNT", "0"])?,
        "*0\r\n"
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "stream-node-max-bytes"])?,
        "*2\r\n$21\r\nstream-node-max-bytes\r\n$4\r\n4096\r\n"
    );
    Ok(())
}

#[test]
fn hello_with_auth_and_setname_applies_all_or_nothing() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["HELLO", "3", "SETNAME", "bad name"])?,
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        raw.cmd(&["HELLO", "3", "AUTH", "bob", "x", "SETNAME", "n1"])?,
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    // Neither refused HELLO switched the protocol or set the name.
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "$-1\r\n");
    let reply = raw.cmd(&["HELLO", "3", "AUTH", "default", "any", "SETNAME", "n1"])?;
    assert!(reply.starts_with("%7\r\n"), "{reply}");
    assert_eq!(raw.cmd(&["CLIENT", "GETNAME"])?, "$2\r\nn1\r\n");
    Ok(())
}

#[test]
fn unknown_commands_and_wrong_arity_leave_the_connection_usable() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let cases: &[(&[&str], &str)] = &[
        (
            &["FOO", "a", "b"],
            "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n",
        ),
        (
            &["foo"],
            "-ERR unknown command 'foo', with args beginning with: \r\n",
        ),
        (
            &["XADD"],
            "-ERR wrong number of arguments for 'xadd' command\r\n",
        ),
        (
            &["xlen", "a", "b"],
            "-ERR wrong number of arguments for 'xlen' command\r\n",
        ),
        (
            &["PING", "a", "b"],
            "-ERR wrong number of arguments for 'ping' command\r\n",
        ),
        (
            &["ECHO"],
            "-ERR wrong number of arguments for 'echo' command\r\n",
        ),
        (
            &["CLIENT"],
            "-ERR wrong number of arguments for 'client' command\r\n",
        ),
        (
            &["CLIENT", "SETNAME"],
            "-ERR wrong number of arguments for 'client|setname' command\r\n",
        ),
        (
            &["client", "nosuch"],
            "-ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n",
        ),
        (
            &["CONFIG", "SET", "stream-node-max-entries"],
            "-ERR wrong number of arguments for 'config|set' command\r\n",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(&raw.cmd(args)?, want, "{args:?}");
        assert_eq!(raw.cmd(&["PING"])?, "+PONG\r\n");
    }
    // A long argument is quoted only up to 128 bytes.
    let long = "x".repeat(200);
    assert_eq!(
        raw.cmd(&["NOPE", &long])?,
        format!(
            "-ERR unknown command 'NOPE', with args beginning with: '{}' \r\n",
            "x".repeat(128)
        )
    );
    // The quoted list stops at 128 bytes in all: the argument that crosses the line is cut.
    let (a, b) = ("a".repeat(100), "b".repeat(100));
    assert_eq!(
        raw.cmd(&["NOPE", &a, &b, "c"])?,
        format!(
            "-ERR unknown command 'NOPE', with args beginning with: '{a}' '{}' \r\n",
            "b".repeat(25)
        )
    );
    // Redis prints arguments as C strings: nothing from a NUL on.
    raw.send_cmd(&[b"NO\0PE", b"a\0b", b"c"])?;
    assert_eq!(
        raw.read_reply()?,
        "-ERR unknown command 'NO', with args beginning with: 'a' 'c' \r\n"
    );
    raw.send_cmd(&[b"CLIENT", b"x\0y"])?;
    assert_eq!(
        raw.read_reply()?,
        "-ERR unknown subcommand 'x'. Try CLIENT HELP.\r\n"
    );
    // Line breaks in a quoted argument become spaces, so the error stays one line.
    assert_eq!(
        raw.cmd(&["NOPE", "a\r\nb"])?,
        "-ERR unknown command 'NOPE', with args beginning with: 'a  b' \r\n"
    );
    assert_eq!(raw.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn a_nul_byte_in_an_inline_command() -> Result<()> {
    let server = TestServer::start()?;
    // Redis finds an inline request's end with `strchr`: a NUL hides the newline after it,
    // so the request never completes...
    let mut raw = server.raw()?;
    raw.send(b"ECHO a\0b\r\nPING\r\n")?;
    raw.set_timeout(Duration::from_millis(200))?;
    assert!(
        raw.read_reply().is_err(),
        "no reply to an unfinished request"
    );
    // ...until it outgrows the inline limit.
    raw.set_timeout(Duration::from_secs(5))?;
    raw.send(&b"\r\n".repeat(40_000))?;
    assert_eq!(
        raw.read_to_close()?,
        "-ERR Protocol error: too big inline request\r\n"
    );
    // Inside a multibulk argument a NUL is just a byte.
    let mut raw = server.raw()?;
    raw.send(b"*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n")?;
    assert_eq!(raw.read_reply()?, "$3\r\na\0b\r\n");
    // C's isspace: a vertical tab or form feed before the command is skipped.
    raw.send(b"\x0bPING\r\n\x0cPING\r\n")?;
    assert_eq!(raw.read_reply()?, "+PONG\r\n");
    assert_eq!(raw.read_reply()?, "+PONG\r\n");
    Ok(())
}
