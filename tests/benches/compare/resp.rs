//! A blocking raw-RESP2 client for the workloads `redis-benchmark` cannot express (producers
//! and consumers at once, per-call timing, bulk loading): one `TcpStream` per thread, commands
//! encoded into a buffer and written in one go, so a pipeline is a single `write`.
//!
//! It parses every reply fully, errors included, so the workloads can check what they got: a
//! client that skipped replies could not tell a fast error from a fast answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A RESP2 reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    /// `None` is the null bulk string (`$-1`).
    Bulk(Option<Vec<u8>>),
    /// `None` is the null array (`*-1`).
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The integer, or an error naming what came instead.
    pub fn int(&self) -> Result<i64> {
        match self {
            Reply::Int(n) => Ok(*n),
            other => bail!("expected an integer reply, got {other:?}"),
        }
    }

    /// The elements of a non-null array.
    pub fn array(&self) -> Result<&[Reply]> {
        match self {
            Reply::Array(Some(items)) => Ok(items),
            other => bail!("expected an array reply, got {other:?}"),
        }
    }

    /// The bytes of a non-null bulk string.
    pub fn bulk(&self) -> Result<&[u8]> {
        match self {
            Reply::Bulk(Some(bytes)) => Ok(bytes),
            other => bail!("expected a bulk string reply, got {other:?}"),
        }
    }
}

/// Most bytes one bulk string or array may announce; a guard against reading garbage as a
/// length and allocating it.
const MAX_LEN: usize = 512 * 1024 * 1024;

/// One connection to a server on `127.0.0.1:<port>`.
pub struct Conn {
    reader: BufReader<TcpStream>,
    out: Vec<u8>,
}

impl Conn {
    pub fn connect(port: u16) -> Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
        stream.set_nodelay(true)?;
        // Generous: a 100k-entry XREADGROUP reply or a server replaying its log takes a while.
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Conn {
            reader: BufReader::with_capacity(1 << 16, stream),
            out: Vec::with_capacity(1 << 16),
        })
    }

    /// Queues one command; nothing is sent until [`flush`](Self::flush).
    pub fn queue<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.out
            .extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for arg in args {
            let arg = arg.as_ref();
            self.out
                .extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            self.out.extend_from_slice(arg);
            self.out.extend_from_slice(b"\r\n");
        }
    }

    /// Sends every queued command in one write.
    pub fn flush(&mut self) -> Result<()> {
        self.reader
            .get_mut()
            .write_all(&self.out)
            .context("sending commands")?;
        self.out.clear();
        Ok(())
    }

    /// Sends one command and reads its reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply> {
        self.queue(args);
        self.flush()?;
        self.read()
    }

    /// Like [`call`](Self::call), but an error reply is an error.
    pub fn call_ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply> {
        match self.call(args)? {
            Reply::Error(e) => bail!("{}: {e}", describe(args)),
            reply => Ok(reply),
        }
    }

    /// Reads the next reply.
    pub fn read(&mut self) -> Result<Reply> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1);
        let rest = String::from_utf8_lossy(rest).into_owned();
        Ok(match kind[0] {
            b'+' => Reply::Simple(rest),
            b'-' => Reply::Error(rest),
            b':' => Reply::Int(rest.parse().with_context(|| format!("integer {rest:?}"))?),
            b'$' => match length(&rest)? {
                None => Reply::Bulk(None),
                Some(n) => {
                    let mut bytes = vec![0; n + 2];
                    self.reader
                        .read_exact(&mut bytes)
                        .context("reading a bulk string")?;
                    bytes.truncate(n);
                    Reply::Bulk(Some(bytes))
                }
            },
            b'*' => match length(&rest)? {
                None => Reply::Array(None),
                Some(n) => Reply::Array(Some((0..n).map(|_| self.read()).collect::<Result<_>>()?)),
            },
            other => bail!("not a RESP2 reply: type byte {:?}", other as char),
        })
    }

    /// One `\r\n`-terminated line, without the terminator.
    fn line(&mut self) -> Result<Vec<u8>> {
        let mut line = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut line)
            .context("reading a reply")?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        if !line.ends_with(b"\r\n") || line.len() < 3 {
            bail!("malformed reply line {:?}", String::from_utf8_lossy(&line));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }
}

/// A bulk or array length; `-1` is null.
fn length(text: &str) -> Result<Option<usize>> {
    let n: i64 = text.parse().with_context(|| format!("length {text:?}"))?;
    match n {
        -1 => Ok(None),
        n if n < 0 => bail!("negative length {n}"),
        n => {
            let n = usize::try_from(n)?;
            if n > MAX_LEN {
                bail!("length {n} is past {MAX_LEN}");
            }
            Ok(Some(n))
        }
    }
}

/// A command for error messages: `XADD s * f v`.
pub fn describe<A: AsRef<[u8]>>(args: &[A]) -> String {
    args.iter()
        .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
