//! The fuzz targets' minimised corpora (`tests/fixtures/fuzz/<target>/`), replayed on every
//! `cargo test` without cargo-fuzz: straight into `RequestParser` and the command harness as
//! the targets do, and to the real server over TCP, each file on a fresh connection. After
//! all of it the server must still answer `PING` and a stream written first must be intact.
//!
//! `resp_decode` files are a bulk-limit byte, a seed byte, then the bytes a client sends;
//! they go to the server as they are, then the client hangs up. `command` files are parsed as the target parses them and
//! sent as RESP requests, without the few that would end the test rather than probe the
//! server (`SHUTDOWN`, `FLUSHALL`, `FLUSHDB`), and with `BLOCK` timeouts cut to 1 ms so a
//! blocking read answers as it does in the target, where it never waits.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use bytes::{Bytes, BytesMut};
use sluice_resp::{Reply, RequestParser, encode};
use sluice_server::Clock;
use sluice_server::harness::Harness;
use sluice_tests::{RawClient, TestServer, encode_command};

/// Requests the `command` target runs from one input, at most.
const MAX_REQUESTS: usize = 64;
/// The `command` target's bulk length limit.
const MAX_BULK: usize = 64 * 1024;
/// A key no corpus file names: it must survive them all.
const GUARD: &[u8] = b"fuzz-corpus-guard\xff";

/// The files of one target's corpus, by name.
fn corpus(target: &str) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
        let path = entry?.path();
        files.push((path.clone(), std::fs::read(&path)?));
    }
    files.sort();
    ensure!(!files.is_empty(), "no corpus in {}", dir.display());
    Ok(files)
}

/// The requests in `data` as the `command` target reads them: up to the first incomplete or
/// malformed one.
fn requests(data: &[u8], max_bulk: usize) -> Vec<Vec<Bytes>> {
    let mut parser = RequestParser::new(max_bulk);
    let mut buf = BytesMut::from(data);
    let mut out = Vec::new();
    while let Ok(Some(args)) = parser.parse(&mut buf) {
        out.push(args.all().to_vec());
    }
    out
}

/// A `resp_decode` file's client bytes and the bulk limit the target gives them.
fn resp_input(file: &[u8]) -> Option<(usize, &[u8])> {
    const LIMITS: [usize; 4] = [0, 3, 1024, 64 * 1024];
    let (&limit, rest) = file.split_first()?;
    let (_seed, input) = rest.split_first()?;
    Some((LIMITS[usize::from(limit) % LIMITS.len()], input))
}

fn named(args: &[Bytes], names: &[&str]) -> bool {
    args.first()
        .is_some_and(|n| names.iter().any(|m| n.eq_ignore_ascii_case(m.as_bytes())))
}

/// Would end the test rather than probe the server.
fn ends_the_test(args: &[Bytes]) -> bool {
    named(args, &["shutdown", "flushall", "flushdb"])
}

#[derive(Debug)]
struct StillClock;

impl Clock for StillClock {
    fn now_ms(&self) -> u64 {
        1_700_000_000_000
    }
}

#[test]
fn the_corpus_replays_into_the_parser_and_the_harness() -> Result<()> {
    for (path, file) in corpus("resp_decode")? {
        let Some((limit, input)) = resp_input(&file) else {
            continue;
        };
        let mut parser = RequestParser::new(limit);
        let mut buf = BytesMut::from(input);
        let outcome = loop {
            match parser.parse(&mut buf) {
                Ok(Some(_)) => {}
                other => break other,
            }
        };
        if let Err(e) = outcome {
            // Final: asked again, the parser says the same.
            assert_eq!(parser.parse(&mut buf).err(), Some(e), "{}", path.display());
        }
    }
    let mut files = corpus("command")?;
    files.extend(corpus("resp_decode")?);
    for (path, file) in files {
        let mut harness = Harness::with_clock(Arc::new(StillClock));
        let mut out = BytesMut::new();
        for args in requests(&file, MAX_BULK).iter().take(MAX_REQUESTS) {
            let reply = harness.run(args);
            encode(&reply, harness.proto(), &mut out);
        }
        let ping = harness.run(&[Bytes::from_static(b"PING")]);
        assert_eq!(ping, Reply::Simple("PONG".into()), "{}", path.display());
    }
    Ok(())
}

/// The guard stream as it reads: its entries and its group's pending entries.
fn guard_state(raw: &mut RawClient) -> Result<(Vec<u8>, Vec<u8>)> {
    raw.send_cmd(&[b"XRANGE", GUARD, b"-", b"+"])?;
    let range = raw.read_reply_bytes()?;
    raw.send_cmd(&[b"XPENDING", GUARD, b"g"])?;
    Ok((range, raw.read_reply_bytes()?))
}

/// Sends `requests` then a marker, and reads replies until the marker's (true) or until the
/// connection closes (false: the file itself sent `QUIT`).
fn send_and_drain(server: &TestServer, requests: &[u8]) -> Result<bool> {
    const MARKER: &[u8] = b"end-of-corpus-file";
    let mut raw = server.raw()?;
    // A file may leave a transaction open: `DISCARD` ends it, so the marker is not queued.
    let tail = [
        encode_command(&[b"DISCARD"]),
        encode_command(&[b"ECHO", MARKER]),
    ]
    .concat();
    if raw.send(&[requests, &tail].concat()).is_err() {
        return Ok(false);
    }
    let want = [format!("${}\r\n", MARKER.len()).as_bytes(), MARKER, b"\r\n"].concat();
    while let Ok(reply) = raw.read_reply_bytes() {
        if reply == want {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Sends raw `bytes`, half-closes, and reads until the server closes: it runs every complete
/// request first, and a truncated one waits for bytes that will not come.
fn send_then_hang_up(server: &TestServer, bytes: &[u8]) -> Result<()> {
    let mut socket = TcpStream::connect(server.addr)?;
    socket.set_read_timeout(Some(Duration::from_secs(10)))?;
    // The server may close first (a protocol error): then writing fails, which is fine.
    let _ = socket.write_all(bytes);
    let _ = socket.shutdown(Shutdown::Write);
    let mut replies = Vec::new();
    match socket.read_to_end(&mut replies) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Ok(()),
        Err(e) => Err(e).context("the server neither answered nor closed"),
    }
}

#[test]
fn the_corpus_replays_to_the_real_server_over_tcp() -> Result<()> {
    let server = TestServer::start()?;
    let mut setup = server.raw()?;
    for args in [
        &[b"XADD".as_slice(), GUARD, b"1-1", b"f", b"\x00\xff"][..],
        &[b"XADD", GUARD, b"2-1", b"g", b"h"],
        &[b"XGROUP", b"CREATE", GUARD, b"g", b"0"],
        &[
            b"XREADGROUP",
            b"GROUP",
            b"g",
            b"c",
            b"COUNT",
            b"1",
            b"STREAMS",
            GUARD,
            b">",
        ],
    ] {
        setup.send_cmd(args)?;
        setup.read_reply_bytes()?;
    }
    let before = guard_state(&mut setup)?;
    drop(setup);

    for (_, file) in corpus("resp_decode")? {
        let Some((_, input)) = resp_input(&file) else {
            continue;
        };
        if requests(input, usize::MAX).iter().any(|a| ends_the_test(a)) {
            continue;
        }
        send_then_hang_up(&server, input)?;
    }
    let files = corpus("command")?;
    let mut answered = 0;
    for (_, file) in &files {
        let mut frames = Vec::new();
        for mut args in requests(file, MAX_BULK).into_iter().take(MAX_REQUESTS) {
            if ends_the_test(&args) {
                continue;
            }
            if named(&args, &["xread", "xreadgroup"]) {
                for i in 1..args.len().saturating_sub(1) {
                    if args[i].eq_ignore_ascii_case(b"BLOCK")
                        && std::str::from_utf8(&args[i + 1]).is_ok_and(|t| t.parse::<u64>().is_ok())
                    {
                        args[i + 1] = Bytes::from_static(b"1");
                    }
                }
            }
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
            frames.extend(encode_command(&args));
        }
        answered += usize::from(send_and_drain(&server, &frames)?);
    }
    // Nearly every file runs to its end (a few end with `QUIT`).
    assert!(
        answered * 10 >= files.len() * 9,
        "{answered} of {}",
        files.len()
    );

    let mut check = server.raw()?;
    assert_eq!(check.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(guard_state(&mut check)?, before);
    Ok(())
}
