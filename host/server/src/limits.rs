//! Per-client limits: `maxclients`, `client-query-buffer-limit` and
//! `client-output-buffer-limit`, with Redis's syntax and error texts, and the pieces the
//! connection loop enforces them with.
//!
//! `client-output-buffer-limit` is one value holding a limit per client class
//! (`normal <hard> <soft> <soft-seconds> slave … pubsub …`). Sluice has only `normal` clients;
//! the other classes are accepted and reported so configs and tools written for Redis work,
//! but they apply to nobody.
//!
//! Sluice's default for `normal` is `256mb 64mb 60`, where Redis has `0 0 0` (no limit). A
//! broker's replies are as big as the ranges consumers ask for (`XRANGE`, `XREADGROUP COUNT`),
//! and a consumer that stops reading must not hold hundreds of megabytes forever: a reply past
//! 256 MiB, or one stuck above 64 MiB for a minute, closes the connection. A connection stops
//! reading requests while its replies are being written, so what it holds is bounded by its
//! largest reply; these limits bound that.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::clients::ClientInfo;
use crate::config::Settings;
use crate::shared::Shared;

/// Default `maxclients`, as in Redis.
pub const DEFAULT_MAXCLIENTS: u64 = 10_000;
/// Default `client-query-buffer-limit` (1 GiB), as in Redis.
pub const DEFAULT_QUERY_BUFFER_LIMIT: u64 = 1024 * 1024 * 1024;
/// Smallest `client-query-buffer-limit` (1 MiB), as in Redis.
pub const MIN_QUERY_BUFFER_LIMIT: u64 = 1024 * 1024;
/// Largest `maxclients` (Redis: `UINT_MAX`).
pub const MAX_MAXCLIENTS: u64 = u32::MAX as u64;
/// Sluice's default `client-output-buffer-limit` (see the module docs for why not Redis's).
pub const DEFAULT_OUTPUT_BUFFER_LIMIT: &str = "normal 256mb 64mb 60";

/// Redis's `CONFIG SET client-output-buffer-limit` error texts.
pub const OBUF_WRONG_ARGS: &str = "Wrong number of arguments in buffer limit configuration.";
/// See [`OBUF_WRONG_ARGS`].
pub const OBUF_BAD_CLASS: &str = "Invalid client class specified in buffer limit configuration.";
/// See [`OBUF_WRONG_ARGS`].
pub const OBUF_BAD_VALUE: &str =
    "Error in hard, soft or soft_seconds setting in buffer limit configuration.";

/// A client class of `client-output-buffer-limit`, in the order Redis prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientClass {
    /// Every Sluice client.
    Normal,
    /// Replicas (`slave` or `replica`); Sluice has none.
    Replica,
    /// Pub/sub subscribers; Sluice has none.
    Pubsub,
}

impl ClientClass {
    const ALL: [ClientClass; 3] = [
        ClientClass::Normal,
        ClientClass::Replica,
        ClientClass::Pubsub,
    ];

    fn parse(name: &str) -> Option<ClientClass> {
        match name.to_ascii_lowercase().as_str() {
            "normal" => Some(ClientClass::Normal),
            "slave" | "replica" => Some(ClientClass::Replica),
            "pubsub" => Some(ClientClass::Pubsub),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ClientClass::Normal => "normal",
            ClientClass::Replica => "slave",
            ClientClass::Pubsub => "pubsub",
        }
    }
}

/// One class's output limits. 0 disables a limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputLimit {
    /// Pending output, bytes, at which the client is closed at once.
    pub hard: u64,
    /// Pending output, bytes, the client may stay at or above for `soft_seconds` only.
    pub soft: u64,
    /// Seconds.
    pub soft_seconds: u64,
}

/// Output a client always has room for, as in Redis, whose limits count only what overflows
/// its 16 KiB per-client reply buffer (`PROTO_REPLY_CHUNK_BYTES`): a 1 KiB limit still lets an
/// `INFO` through.
pub const REPLY_BUFFER_BYTES: usize = 16 * 1024;

impl OutputLimit {
    /// Whether `pending` bytes reach the hard limit.
    pub fn hard_reached(&self, pending: usize) -> bool {
        self.hard > 0 && counted(pending) >= self.hard
    }

    /// Whether `pending` bytes reach the soft limit.
    fn soft_reached(&self, pending: usize) -> bool {
        self.soft > 0 && counted(pending) >= self.soft
    }
}

/// The part of `pending` output bytes the limits count.
fn counted(pending: usize) -> u64 {
    pending.saturating_sub(REPLY_BUFFER_BYTES) as u64
}

/// Parses `<class> <hard> <soft> <soft-seconds> [<class> …]` as `CONFIG SET` does: sizes take
/// units (`64mb`); an empty value changes nothing. Errors are Redis's texts.
pub fn parse_output_limits(text: &str) -> Result<Vec<(ClientClass, OutputLimit)>, &'static str> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.len().is_multiple_of(4) {
        return Err(OBUF_WRONG_ARGS);
    }
    words
        .chunks(4)
        .map(|w| {
            let class = ClientClass::parse(w[0]).ok_or(OBUF_BAD_CLASS)?;
            let hard = crate::config::parse_memory(w[1]).ok_or(OBUF_BAD_VALUE)?;
            let soft = crate::config::parse_memory(w[2]).ok_or(OBUF_BAD_VALUE)?;
            let soft_seconds = w[3]
                .parse::<i64>()
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or(OBUF_BAD_VALUE)?;
            Ok((
                class,
                OutputLimit {
                    hard,
                    soft,
                    soft_seconds,
                },
            ))
        })
        .collect()
}

/// One class's limits as atomics: read by every connection, written by `CONFIG SET`.
#[derive(Debug, Default)]
struct AtomicLimit {
    hard: AtomicU64,
    soft: AtomicU64,
    soft_seconds: AtomicU64,
}

/// The `client-output-buffer-limit` in force, every class.
#[derive(Debug)]
pub struct OutputLimits {
    classes: [AtomicLimit; 3],
}

impl Default for OutputLimits {
    /// Redis's defaults for the replica and pubsub classes, Sluice's for normal.
    fn default() -> Self {
        let limits = OutputLimits {
            classes: Default::default(),
        };
        let redis = "slave 256mb 64mb 60 pubsub 32mb 8mb 60 ";
        if let Ok(parsed) = parse_output_limits(&format!("{redis}{DEFAULT_OUTPUT_BUFFER_LIMIT}")) {
            limits.apply(&parsed);
        }
        limits
    }
}

impl OutputLimits {
    /// Limits parsed from `text` over the defaults (`text` is checked by `Config::validate`).
    pub fn new(text: &str) -> Self {
        let limits = OutputLimits::default();
        if let Ok(parsed) = parse_output_limits(text) {
            limits.apply(&parsed);
        }
        limits
    }

    /// Sets the classes named in `parsed`, leaving the others as they are.
    pub fn apply(&self, parsed: &[(ClientClass, OutputLimit)]) {
        for (class, limit) in parsed {
            let slot = &self.classes[*class as usize];
            slot.hard.store(limit.hard, Ordering::Relaxed);
            slot.soft.store(limit.soft, Ordering::Relaxed);
            slot.soft_seconds
                .store(limit.soft_seconds, Ordering::Relaxed);
        }
    }

    /// The limits of `class`.
    pub fn get(&self, class: ClientClass) -> OutputLimit {
        let slot = &self.classes[class as usize];
        OutputLimit {
            hard: slot.hard.load(Ordering::Relaxed),
            soft: slot.soft.load(Ordering::Relaxed),
            soft_seconds: slot.soft_seconds.load(Ordering::Relaxed),
        }
    }

    /// As `CONFIG GET` prints it: `normal 0 0 0 slave 268435456 67108864 60 pubsub …`.
    pub fn render(&self) -> String {
        ClientClass::ALL
            .iter()
            .map(|&class| {
                let l = self.get(class);
                format!("{} {} {} {}", class.name(), l.hard, l.soft, l.soft_seconds)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A connection's copy of the limits `CONFIG SET` may change, taken before each read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientLimits {
    /// `client-query-buffer-limit`, bytes.
    pub query_buffer: usize,
    /// `client-output-buffer-limit` of the normal class.
    pub output: OutputLimit,
}

impl ClientLimits {
    /// The limits in force now.
    pub fn load(settings: &Settings) -> Self {
        let query_buffer = settings.client_query_buffer_limit.load(Ordering::Relaxed);
        ClientLimits {
            query_buffer: usize::try_from(query_buffer).unwrap_or(usize::MAX),
            output: settings.client_output_buffer_limit.get(ClientClass::Normal),
        }
    }
}

/// The limit a client is closed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitReached {
    /// `client-query-buffer-limit`.
    QueryBuffer,
    /// `client-output-buffer-limit`'s hard limit.
    OutputHard,
    /// `client-output-buffer-limit`'s soft limit, for its seconds.
    OutputSoft,
}

/// Counts (`INFO stats`) and logs, as Redis logs it, a client closed for `limit` with `bytes`
/// pending; returns the error that ends its connection.
pub fn closing(
    shared: &Shared,
    info: &ClientInfo,
    limit: LimitReached,
    bytes: usize,
) -> std::io::Error {
    let stats = &shared.stats;
    let (counter, what) = match limit {
        LimitReached::QueryBuffer => (
            &stats.query_buffer_limit_disconnections,
            "Closing client that reached max query buffer length",
        ),
        LimitReached::OutputHard => (
            &stats.output_buffer_limit_disconnections,
            "Client closed for overcoming of output buffer limits (hard limit)",
        ),
        LimitReached::OutputSoft => (
            &stats.output_buffer_limit_disconnections,
            "Client closed for overcoming of output buffer limits (soft limit)",
        ),
    };
    counter.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(client = info.id, addr = %info.addr, bytes, "{what}");
    std::io::Error::other(what)
}

/// Writes the start of `output` until less than the soft limit of it is left, giving the
/// client the soft limit's seconds to take that much. `Some(written)`, or `None` if the time
/// ran out (the client must be closed).
pub async fn write_above_soft<S>(
    socket: &mut S,
    output: &[u8],
    limit: OutputLimit,
) -> std::io::Result<Option<usize>>
where
    S: AsyncWrite + Unpin,
{
    let mut written = 0;
    if !limit.soft_reached(output.len()) {
        return Ok(Some(written));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(limit.soft_seconds);
    while limit.soft_reached(output.len() - written) {
        match tokio::time::timeout_at(deadline, socket.write(&output[written..])).await {
            Ok(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(Ok(n)) => written += n,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(None),
        }
    }
    Ok(Some(written))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_limits_parse_like_redis() {
        assert_eq!(
            parse_output_limits("NORMAL 1k 2kb 3 replica 0 0 0"),
            Ok(vec![
                (
                    ClientClass::Normal,
                    OutputLimit {
                        hard: 1000,
                        soft: 2048,
                        soft_seconds: 3
                    }
                ),
                (
                    ClientClass::Replica,
                    OutputLimit {
                        hard: 0,
                        soft: 0,
                        soft_seconds: 0
                    }
                ),
            ])
        );
        assert_eq!(parse_output_limits(""), Ok(vec![]));
        assert_eq!(parse_output_limits("normal 1 2"), Err(OBUF_WRONG_ARGS));
        assert_eq!(parse_output_limits("bogus 1 2 3"), Err(OBUF_BAD_CLASS));
        assert_eq!(parse_output_limits("normal -1 2 3"), Err(OBUF_BAD_VALUE));
        assert_eq!(parse_output_limits("normal 1 2 -1"), Err(OBUF_BAD_VALUE));
        assert_eq!(parse_output_limits("normal 1 2 1s"), Err(OBUF_BAD_VALUE));
    }

    #[test]
    fn renders_every_class_and_keeps_those_not_named() {
        let limits = OutputLimits::new("pubsub 1 2 3");
        assert_eq!(
            limits.render(),
            "normal 268435456 67108864 60 slave 268435456 67108864 60 pubsub 1 2 3"
        );
        limits.apply(&[(
            ClientClass::Normal,
            OutputLimit {
                hard: 0,
                soft: 0,
                soft_seconds: 0,
            },
        )]);
        assert_eq!(
            limits.render(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1 2 3"
        );
    }
}
