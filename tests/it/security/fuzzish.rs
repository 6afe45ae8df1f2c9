//! A bounded, seeded fuzz of the request parser and dispatch: random bytes, truncated and
//! garbled RESP frames, and random commands from several connections at once. Whatever a
//! client sends, the server must answer or close that connection, never crash or hang, and
//! keep serving everyone else.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sluice_tests::{TestServer, encode_command};

/// xorshift64*: tiny, seeded, good enough to pick bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Commands the fuzzer may send; nothing that would wipe the checked key or change limits.
const COMMANDS: &[&str] = &[
    "PING",
    "ECHO",
    "XADD",
    "XLEN",
    "XRANGE",
    "XREVRANGE",
    "XDEL",
    "XTRIM",
    "XREAD",
    "XSETID",
    "XINFO",
    "EXISTS",
    "TYPE",
    "DEL",
    "EXPIRE",
    "PEXPIRE",
    "TTL",
    "SCAN",
    "KEYS",
    "MULTI",
    "EXEC",
    "DISCARD",
    "HELLO",
    "SELECT",
    "CLIENT",
    "COMMAND",
    "INFO",
    "RENAME",
    "QUIT",
    "RESET",
    "DBSIZE",
];
/// Arguments worth trying: options, IDs, numbers, edge values, and keys other than `kept`.
const WORDS: &[&str] = &[
    "a",
    "b",
    "c",
    "*",
    "$",
    "-",
    "+",
    "0",
    "1",
    "-1",
    "0-0",
    "1-1",
    "5-*",
    "(1",
    "COUNT",
    "BLOCK",
    "STREAMS",
    "MAXLEN",
    "MINID",
    "~",
    "=",
    "LIMIT",
    "NOMKSTREAM",
    "STREAM",
    "FULL",
    "ID",
    "LIST",
    "INFO",
    "SETNAME",
    "GETNAME",
    "2",
    "3",
    "4",
    "NX",
    "XX",
    "GT",
    "LT",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "",
    "\r\n",
    "\0",
];

/// One request as the fuzzer chose to mangle it.
fn request(rng: &mut Rng) -> Vec<u8> {
    let mut args: Vec<Vec<u8>> = vec![rng.pick(COMMANDS).as_bytes().to_vec()];
    for _ in 0..rng.below(7) {
        args.push(if rng.below(8) == 0 {
            let n = rng.below(12);
            rng.bytes(n)
        } else {
            rng.pick(WORDS).as_bytes().to_vec()
        });
    }
    // A blocking read must not wait forever: bound it, or let EOF end it.
    if args[0] == b"XREAD" && args.iter().any(|a| a == b"BLOCK") {
        args = vec![
            b"XREAD".to_vec(),
            b"BLOCK".to_vec(),
            b"10".to_vec(),
            b"STREAMS".to_vec(),
            b"a".to_vec(),
            b"$".to_vec(),
        ];
    }
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let mut frame = match rng.below(4) {
        // Inline form, as telnet would send it.
        0 => {
            let mut line = refs.join(&b' ');
            line.extend_from_slice(b"\r\n");
            line
        }
        _ => encode_command(&refs),
    };
    match rng.below(6) {
        // Truncated anywhere.
        0 => frame.truncate(rng.below(frame.len() + 1)),
        // A few bytes overwritten.
        1 => {
            for _ in 0..=rng.below(3) {
                let at = rng.below(frame.len());
                frame[at] = *rng.pick(b"*$+-:\r\n0123456789x\"'\\ \0\xff");
            }
        }
        // Pure noise.
        2 => {
            let n = 1 + rng.below(64);
            frame = rng.bytes(n);
        }
        // Sent as is.
        _ => {}
    }
    frame
}

/// Opens a connection, sends a burst of requests in random chunks, half-closes, and reads
/// until the server closes its side: it must, since it has seen the end of the input.
fn session(addr: SocketAddr, rng: &mut Rng) -> Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut bytes = Vec::new();
    for _ in 0..1 + rng.below(8) {
        bytes.extend(request(rng));
    }
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len());
        // The server may close first (protocol error, QUIT): later writes may then fail.
        if stream.write_all(&rest[..n]).is_err() {
            break;
        }
        rest = &rest[n..];
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = Vec::new();
    match stream.read_to_end(&mut sink) {
        Ok(_) => Ok(()),
        // A reset after the server closed on a protocol error is a close too.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(()),
        Err(e) => Err(e).context("the server neither answered nor closed"),
    }
}

#[test]
fn random_and_garbled_input_never_takes_the_server_down() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    assert_eq!(
        admin.cmd(&["XADD", "kept", "1-1", "f", "v"])?,
        "$3\r\n1-1\r\n"
    );
    let started = Instant::now();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let addr = server.addr;
            std::thread::spawn(move || -> Result<usize> {
                let mut rng =
                    Rng(0x9E37_79B9_7F4A_7C15 ^ (t + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
                let mut sessions = 0;
                // Bounded both ways: a fixed number of sessions, stopping early past ~1.5 s.
                while sessions < 150 && started.elapsed() < Duration::from_millis(1500) {
                    session(addr, &mut rng)?;
                    sessions += 1;
                }
                Ok(sessions)
            })
        })
        .collect();
    let mut sessions = 0;
    for thread in threads {
        sessions += thread.join().expect("fuzz thread")?;
    }
    assert!(sessions >= 40, "only {sessions} sessions ran");

    // A fresh connection is served, and the key nobody was allowed to touch is intact.
    let mut fresh = server.raw()?;
    assert_eq!(fresh.cmd(&["PING"])?, "+PONG\r\n");
    assert_eq!(
        fresh.cmd(&["XRANGE", "kept", "-", "+"])?,
        "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    // The connection opened before the storm still works too.
    assert_eq!(admin.cmd(&["ECHO", "still here"])?, "$10\r\nstill here\r\n");
    Ok(())
}
