//! Per-client limits: `maxclients` (plain and TLS together), `client-query-buffer-limit` and
//! `client-output-buffer-limit`, their `CONFIG GET|SET` and `INFO` counters. Replies and
//! error texts were checked against Redis 7; Redis closes a client past a buffer limit
//! without a reply, and so does Sluice.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sluice_tests::{Config, RawClient, TestServer, config_pair, encode_command};

const MAXCLIENTS_REPLY: &str = "-ERR max number of clients reached\r\n";

/// Everything the server sends before closing; a reset (it closed with our bytes unread)
/// counts as closing with nothing sent.
fn read_until_closed(raw: &mut RawClient) -> Result<String> {
    match raw.read_to_close() {
        Ok(text) => Ok(text),
        Err(e)
            if e.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
                == Some(ErrorKind::ConnectionReset) =>
        {
            Ok(String::new())
        }
        Err(e) => Err(e),
    }
}

/// Appends `entries` entries of about 1 KB each to stream `key`.
fn fill_stream(server: &TestServer, key: &str, entries: usize) -> Result<()> {
    let mut client = server.client()?;
    let value = "v".repeat(1000);
    let mut pipe = redis::pipe();
    for _ in 0..entries {
        pipe.cmd("XADD")
            .arg(key)
            .arg("*")
            .arg("f")
            .arg(&value)
            .ignore();
    }
    pipe.query::<()>(&mut client)?;
    Ok(())
}

#[test]
fn maxclients_counts_plain_and_tls_together() -> Result<()> {
    let server = TestServer::start_tls(Config {
        maxclients: 2,
        ..Config::default()
    })?;
    let mut plain = server.raw()?;
    assert_eq!(plain.cmd(&["PING"])?, "+PONG\r\n");
    let mut tls = server.tls_raw(None)?;
    assert_eq!(tls.cmd(&["PING"])?, "+PONG\r\n");

    // A third, on either port, is told why and closed.
    assert_eq!(read_until_closed(&mut server.raw()?)?, MAXCLIENTS_REPLY);
    assert_eq!(server.tls_raw(None)?.read_to_close()?, MAXCLIENTS_REPLY);
    assert_eq!(plain.info_field("clients", "maxclients")?, "2");
    assert_eq!(plain.info_field("clients", "connected_clients")?, "2");
    assert_eq!(plain.info_field("stats", "rejected_connections")?, "2");
    assert_eq!(
        plain.info_field("stats", "total_connections_received")?,
        "2"
    );

    // A place freed by a client leaving is taken by the next one.
    drop(tls);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut again = loop {
        let mut candidate = server.tls_raw(None)?;
        let reply = candidate.cmd(&["PING"])?;
        if reply == "+PONG\r\n" {
            break candidate;
        }
        assert_eq!(reply, MAXCLIENTS_REPLY);
        if Instant::now() > deadline {
            bail!("the freed place was not given back within 5 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(again.cmd(&["ECHO", "in"])?, "$2\r\nin\r\n");

    // CONFIG SET raises the limit at once; Redis's range and parse errors.
    assert_eq!(
        plain.cmd(&["CONFIG", "SET", "maxclients", "0"])?,
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be \
         between 1 and 4294967295 inclusive\r\n"
    );
    assert_eq!(
        plain.cmd(&["CONFIG", "SET", "maxclients", "x"])?,
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't \
         be parsed into an integer\r\n"
    );
    assert_eq!(plain.cmd(&["CONFIG", "SET", "maxclients", "3"])?, "+OK\r\n");
    assert_eq!(
        plain.cmd(&["CONFIG", "GET", "maxclients"])?,
        config_pair("maxclients", "3")
    );
    assert_eq!(server.raw()?.cmd(&["PING"])?, "+PONG\r\n");
    Ok(())
}

#[test]
fn query_buffer_limit_closes_a_client_without_a_reply() -> Result<()> {
    let server = TestServer::start_with(Config {
        client_query_buffer_limit: 1024 * 1024,
        appendonly: false,
        ..Config::default()
    })?;
    let mut other = server.raw()?;
    assert_eq!(
        other.cmd(&["CONFIG", "GET", "client-query-buffer-limit"])?,
        config_pair("client-query-buffer-limit", "1048576")
    );

    // Complete requests do not count, however many arrive at once: 2 × 600 KB in one write.
    let part = "p".repeat(600_000);
    let mut ok = server.raw()?;
    let one = encode_command(&[b"ECHO", part.as_bytes()]);
    ok.send(&[one.clone(), one].concat())?;
    let echoed = format!("$600000\r\n{part}\r\n");
    assert_eq!(ok.read_reply()?, echoed);
    assert_eq!(ok.read_reply()?, echoed);

    // An argument announced as 2 MB whose first 1.1 MB are pending: closed, nothing sent.
    let mut greedy = server.raw()?;
    let mut request = b"*2\r\n$4\r\nECHO\r\n$2000000\r\n".to_vec();
    request.extend(std::iter::repeat_n(b'x', 1_100_000));
    // The server may close before taking the last bytes.
    let _ = greedy.send(&request);
    assert_eq!(read_until_closed(&mut greedy)?, "");

    // The same while blocked in XREAD: what arrives meanwhile is pending too.
    let mut blocked = server.raw()?;
    blocked.send_cmd(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"q", b"$"])?;
    let _ = blocked.send(&request);
    assert_eq!(read_until_closed(&mut blocked)?, "");

    assert_eq!(other.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(ok.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(
        other.info_field("stats", "client_query_buffer_limit_disconnections")?,
        "2"
    );
    assert_eq!(
        other.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "1000"])?,
        "-ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - \
         argument must be between 1048576 and 9223372036854775807 inclusive\r\n"
    );
    assert_eq!(
        other.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "2mb"])?,
        "+OK\r\n"
    );
    assert_eq!(
        other.cmd(&["CONFIG", "GET", "client-query-buffer-limit"])?,
        config_pair("client-query-buffer-limit", "2097152")
    );
    Ok(())
}

#[test]
fn output_hard_limit_closes_a_client_without_the_reply() -> Result<()> {
    let server = TestServer::start_with(Config {
        client_output_buffer_limit: "normal 1mb 0 0".into(),
        appendonly: false,
        ..Config::default()
    })?;
    fill_stream(&server, "s", 3000)?;
    let mut other = server.raw()?;
    // About 500 KB: under the limit.
    other.send_cmd(&[b"XRANGE", b"s", b"-", b"+", b"COUNT", b"500"])?;
    let reply = other.read_reply()?;
    assert!(reply.starts_with("*500\r\n"), "{}", &reply[..20]);

    // About 3 MB: closed, and not a byte of the reply sent.
    let mut greedy = server.raw()?;
    greedy.send_cmd(&[b"XRANGE", b"s", b"-", b"+"])?;
    assert_eq!(read_until_closed(&mut greedy)?, "");

    assert_eq!(other.cmd(&["XLEN", "s"])?, ":3000\r\n");
    assert_eq!(
        other.info_field("stats", "client_output_buffer_limit_disconnections")?,
        "1"
    );
    Ok(())
}

/// Bytes the kernel may buffer between the server and a client that reads nothing: the
/// server's largest send buffer and the client's first receive buffer (it grows only as the
/// client reads).
fn kernel_buffering() -> usize {
    let max_of = |path: &str, field: usize| -> Option<usize> {
        std::fs::read_to_string(path)
            .ok()?
            .split_whitespace()
            .nth(field)?
            .parse()
            .ok()
    };
    let send = max_of("/proc/sys/net/ipv4/tcp_wmem", 2).unwrap_or(4 << 20);
    let receive = max_of("/proc/sys/net/ipv4/tcp_rmem", 1).unwrap_or(128 << 10);
    send + receive
}

#[test]
fn output_soft_limit_closes_a_client_that_stops_reading() -> Result<()> {
    let server = TestServer::start_with(Config {
        client_output_buffer_limit: "normal 0 256kb 1".into(),
        appendonly: false,
        ..Config::default()
    })?;
    // A reply the kernel cannot absorb: more than the soft limit stays pending.
    let entries = (kernel_buffering() + (2 << 20)) / 1000;
    fill_stream(&server, "s", entries)?;
    let mut slow = server.raw()?;
    let id = slow.cmd(&["CLIENT", "ID"])?;
    let id = id
        .strip_prefix(':')
        .and_then(|rest| rest.strip_suffix("\r\n"))
        .context("CLIENT ID")?
        .to_owned();
    let xrange = encode_command(&[b"XRANGE", b"s", b"-", b"+"]);
    slow.send(&xrange.repeat(3))?;
    // It never reads. Within a few seconds the server closes it.
    let mut other = server.raw()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = other.cmd(&["CLIENT", "LIST"])?;
        if !list.contains(&format!("id={id} ")) {
            break;
        }
        if Instant::now() > deadline {
            bail!("the slow client is still connected after 10 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        other.info_field("stats", "client_output_buffer_limit_disconnections")?,
        "1"
    );
    assert_eq!(other.cmd(&["XLEN", "s"])?, format!(":{entries}\r\n"));
    Ok(())
}

#[test]
fn client_output_buffer_limit_config_follows_redis() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let name = "client-output-buffer-limit";
    // Sluice's default for normal clients; Redis's for the others.
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", name])?,
        config_pair(
            name,
            "normal 268435456 67108864 60 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        )
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", name, "NORMAL 1k 2kb 3 replica 1 2 3"])?,
        "+OK\r\n"
    );
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", name])?,
        config_pair(
            name,
            "normal 1000 2048 3 slave 1 2 3 pubsub 33554432 8388608 60"
        )
    );
    let failed = |reason: &str| {
        format!("-ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}\r\n")
    };
    for (value, reason) in [
        (
            "normal 1 2",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "bogus 1 2 3",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "normal -1 2 3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "normal 1 2 x",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
    ] {
        assert_eq!(raw.cmd(&["CONFIG", "SET", name, value])?, failed(reason));
    }
    // A failed CONFIG SET changed nothing.
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", name])?,
        config_pair(
            name,
            "normal 1000 2048 3 slave 1 2 3 pubsub 33554432 8388608 60"
        )
    );
    // As in Redis, the limits count only output past a 16 KiB reply buffer: an `INFO all` of a
    // few kilobytes passes a 1000-byte hard limit, a 30 kB range does not.
    assert_eq!(
        raw.info_field("stats", "client_output_buffer_limit_disconnections")?,
        "0"
    );
    let value = "x".repeat(30_000);
    raw.cmd(&["XADD", "big", "1-1", "f", &value])?;
    let closed = raw.cmd(&["XRANGE", "big", "-", "+"]);
    assert!(closed.is_err(), "{closed:?}");
    let mut other = server.raw()?;
    assert_eq!(
        other.info_field("stats", "client_output_buffer_limit_disconnections")?,
        "1"
    );
    Ok(())
}
