//! The rest of the crowd: blocked readers that wait on `XREAD BLOCK 1000 … $` in a loop, and
//! disruptive clients that open a raw socket, misbehave once and drop it: half a RESP frame,
//! a blocking read abandoned while blocked, a large read never read, or garbage (whose error
//! reply they read and count: the only errors this workload asks for).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use redis::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::Ctx;
use crate::proto;

/// Blocked reader `reader`: `XREAD BLOCK 1000 STREAMS <key> $` until `stop`.
pub async fn blocked_reader(ctx: Arc<Ctx>, reader: usize, stop: watch::Receiver<bool>) {
    let key = ctx.keys[reader % ctx.plan.streams].clone();
    let mut conn = None;
    while !*stop.borrow() {
        let Some(c) = crate::ensure_connected(&ctx, &mut conn, "XREAD").await else {
            continue;
        };
        let reply = redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(1000)
            .arg("STREAMS")
            .arg(&key)
            .arg("$")
            .query_async::<Value>(c)
            .await;
        match reply.map(|r| proto::read_entries(&r)) {
            Ok(Ok(entries)) => {
                ctx.stats.reads.fetch_add(1, Relaxed);
                ctx.stats
                    .blocked_entries
                    .fetch_add(entries.len() as u64, Relaxed);
                if entries.windows(2).any(|w| w[0].id >= w[1].id) {
                    ctx.stats
                        .unexpected_error("XREAD", "entries out of order", "");
                }
            }
            Ok(Err(e)) => ctx
                .stats
                .unexpected_error("XREAD", "bad reply", &format!("{e:#}")),
            Err(e) => {
                ctx.stats
                    .unexpected_error("XREAD", &proto::error_kind(&e), &e.to_string());
                if proto::connection_broken(&e) {
                    conn = None;
                }
            }
        }
    }
}

/// Disruptive client `index`: one misdeed per connection until `stop`.
pub async fn disruptor(ctx: Arc<Ctx>, index: usize, stop: watch::Receiver<bool>) {
    let mut rng = Rng::new(proto::now_ms() ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9));
    let pause = Duration::from_millis(ctx.plan.disrupt_pause_ms);
    while !*stop.borrow() {
        let Ok(mut socket) = TcpStream::connect(ctx.addr).await else {
            // Not this client's business to count: the well-behaved ones report connect errors.
            tokio::time::sleep(pause).await;
            continue;
        };
        ctx.stats.disruptions.fetch_add(1, Relaxed);
        let key = &ctx.keys[rng.below(ctx.keys.len() as u64) as usize];
        // Write errors mean the server closed first, which is its right after garbage.
        let _ = misbehave(&ctx, &mut socket, key, index, &mut rng).await;
        drop(socket);
        tokio::time::sleep(pause).await;
    }
}

async fn misbehave(
    ctx: &Ctx,
    socket: &mut TcpStream,
    key: &str,
    index: usize,
    rng: &mut Rng,
) -> std::io::Result<()> {
    let quiet = &ctx.quiet_key;
    let consumer = format!("d{index}");
    match rng.below(6) {
        0 => {
            // Half of an XADD to a real stream: were it ever executed, the verdict would find
            // an entry no producer wrote.
            let frame = command(&["XADD", key, "*", "p", "noise", "seq", "0"]);
            let cut = 1 + rng.below(frame.len() as u64 - 1) as usize;
            socket.write_all(&frame[..cut]).await?;
            tokio::time::sleep(Duration::from_millis(rng.below(20))).await;
        }
        1 => {
            let frame = command(&["XREAD", "BLOCK", "5000", "STREAMS", quiet, "$"]);
            socket.write_all(&frame).await?;
            tokio::time::sleep(Duration::from_millis(10 + rng.below(90))).await;
        }
        2 => {
            let frame = command(&[
                "XREADGROUP",
                "GROUP",
                crate::QUIET_GROUP,
                &consumer,
                "BLOCK",
                "5000",
                "STREAMS",
                quiet,
                ">",
            ]);
            socket.write_all(&frame).await?;
            tokio::time::sleep(Duration::from_millis(10 + rng.below(90))).await;
        }
        3 => {
            // A large reply the client never reads, then a second request cut short.
            let mut frame = command(&["XRANGE", key, "-", "+", "COUNT", "1000"]);
            let next = command(&["XLEN", key]);
            frame.extend_from_slice(&next[..next.len() / 2]);
            socket.write_all(&frame).await?;
        }
        _ => {
            socket.write_all(&garbage(rng)).await?;
            let kind = read_error_reply(socket).await;
            ctx.stats.expected_error(&kind);
        }
    }
    Ok(())
}

/// One of several malformed requests.
fn garbage(rng: &mut Rng) -> Vec<u8> {
    match rng.below(5) {
        0 => b"*abc\r\n".to_vec(),
        1 => b"*1\r\n+PING\r\n".to_vec(),
        2 => b"*1\r\n$99999999999999\r\n".to_vec(),
        3 => b"\"unbalanced quote\r\n".to_vec(),
        _ => {
            // Random bytes as an inline command: an unknown command, most likely.
            let mut bytes: Vec<u8> = (0..8 + rng.below(64))
                .map(|_| rng.below(256) as u8)
                .filter(|b| !matches!(b, b'\r' | b'\n' | b'*' | b'"' | b'\''))
                .collect();
            bytes.insert(0, b'x');
            bytes.extend_from_slice(b"\r\n");
            bytes
        }
    }
}

/// Reads the server's answer to garbage (1 s at most) and names it: the error text up to its
/// first `:` or quote, or what happened instead.
async fn read_error_reply(socket: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(1), socket.read(&mut buf)).await;
    match read {
        Err(_) => "no reply within 1 s".into(),
        Ok(Err(_)) | Ok(Ok(0)) => "closed without reply".into(),
        Ok(Ok(n)) => {
            let text = String::from_utf8_lossy(&buf[..n]);
            let line = text.lines().next().unwrap_or_default();
            match line.strip_prefix('-') {
                Some(error) => {
                    let end = error.find([':', '\'', '(']).unwrap_or(error.len());
                    error[..end].trim().to_owned()
                }
                None => format!("non-error reply {:?}", truncate(line, 40)),
            }
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    let end = text
        .char_indices()
        .map(|(i, _)| i)
        .nth(max)
        .unwrap_or(text.len());
    &text[..end]
}

fn command(args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    sluice_tests::encode_command(&args)
}

/// xorshift64*: enough randomness to vary the misdeeds, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}
