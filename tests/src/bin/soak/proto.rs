//! What every soak client shares: stream IDs as numbers, a connection with timeouts fit for
//! `BLOCK` reads, the shapes of stream replies, and naming an error by its kind.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError, Value};

/// A stream entry ID, `"<ms>-<seq>"`, ordered as the server orders them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// Milliseconds part (Unix ms for auto-generated IDs).
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`: never an auto-generated ID, so it marks "unknown".
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };

    /// Parses `"<ms>-<seq>"`.
    pub fn parse(text: &[u8]) -> Result<StreamId> {
        let text = std::str::from_utf8(text).context("stream ID is not UTF-8")?;
        let (ms, seq) = text
            .split_once('-')
            .with_context(|| format!("stream ID without '-': {text:?}"))?;
        Ok(StreamId {
            ms: ms.parse().with_context(|| format!("stream ID {text:?}"))?,
            seq: seq.parse().with_context(|| format!("stream ID {text:?}"))?,
        })
    }

    /// The smallest ID after this one (for paging with `XRANGE`).
    pub fn next(self) -> StreamId {
        match self.seq.checked_add(1) {
            Some(seq) => StreamId { ms: self.ms, seq },
            None => StreamId {
                ms: self.ms + 1,
                seq: 0,
            },
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One entry of a stream reply: its ID and field/value pairs (empty for a deleted entry).
#[derive(Debug)]
pub struct Entry {
    /// The entry's ID.
    pub id: StreamId,
    /// Field/value pairs in order.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Entry {
    /// The value of `name`, if the entry has that field.
    pub fn field(&self, name: &[u8]) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The field `name` as a number.
    pub fn number(&self, name: &[u8]) -> Option<u64> {
        std::str::from_utf8(self.field(name)?).ok()?.parse().ok()
    }
}

/// A connection of its own for one task. Replies may take up to `BLOCK` plus scheduling
/// delays, so the response timeout is long: a server that stops answering still shows up as
/// an error instead of a hang.
pub async fn connect(addr: SocketAddr) -> Result<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(15)));
    let client = redis::Client::open(format!("redis://{addr}")).context("client URL")?;
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .with_context(|| format!("connecting to {addr}"))
}

/// A short name for what went wrong: the error code of an error reply (`ERR`, `NOGROUP`…),
/// or `io`, `timeout`, `closed`, `parse` for failures of the connection itself.
pub fn error_kind(error: &RedisError) -> String {
    if let Some(code) = error.code() {
        return code.to_owned();
    }
    if error.is_timeout() {
        "timeout".into()
    } else if error.is_connection_dropped() {
        "closed".into()
    } else if error.is_io_error() {
        "io".into()
    } else {
        format!("{:?}", error.kind())
    }
}

/// Whether the connection is worth keeping after `error` (false: reconnect).
pub fn connection_broken(error: &RedisError) -> bool {
    error.code().is_none()
}

/// The bytes of a bulk or simple string.
pub fn bytes(value: &Value) -> Result<&[u8]> {
    match value {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.as_bytes()),
        Value::VerbatimString { text, .. } => Ok(text.as_bytes()),
        other => bail!("expected a string, got {other:?}"),
    }
}

/// The items of an array (or set) reply.
pub fn items(value: &Value) -> Result<&[Value]> {
    match value {
        Value::Array(items) | Value::Set(items) => Ok(items),
        other => bail!("expected an array, got {other:?}"),
    }
}

/// An integer reply.
pub fn int(value: &Value) -> Result<i64> {
    match value {
        Value::Int(n) => Ok(*n),
        other => bail!("expected an integer, got {other:?}"),
    }
}

/// Entries of an `XRANGE`-shaped reply: `[[id, [f, v, …]], …]`. A nil entry or nil fields
/// (an entry deleted while pending) gives an entry without fields.
pub fn entries(value: &Value) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in items(value)? {
        let Value::Array(parts) = entry else {
            continue;
        };
        let [id, fields] = parts.as_slice() else {
            bail!("stream entry with {} parts", parts.len());
        };
        let id = StreamId::parse(bytes(id)?)?;
        let mut pairs = Vec::new();
        if let Value::Array(flat) = fields {
            for pair in flat.chunks(2) {
                if let [f, v] = pair {
                    pairs.push((bytes(f)?.to_vec(), bytes(v)?.to_vec()));
                }
            }
        }
        out.push(Entry { id, fields: pairs });
    }
    Ok(out)
}

/// Entries of an `XREAD`/`XREADGROUP` reply for one stream: nil (timed out) is none; the
/// RESP2 shape is `[[key, entries]]`, the RESP3 one `{key: entries}`.
pub fn read_entries(value: &Value) -> Result<Vec<Entry>> {
    match value {
        Value::Nil => Ok(Vec::new()),
        Value::Array(streams) => {
            let mut out = Vec::new();
            for stream in streams {
                let [_key, list] = items(stream)? else {
                    bail!("XREAD stream reply is not [key, entries]");
                };
                out.extend(entries(list)?);
            }
            Ok(out)
        }
        Value::Map(streams) => {
            let mut out = Vec::new();
            for (_key, list) in streams {
                out.extend(entries(list)?);
            }
            Ok(out)
        }
        other => bail!("unexpected XREAD reply {other:?}"),
    }
}

/// The value of one `field:value` line of an `INFO` reply, as a number.
pub fn info_field(info: &str, name: &str) -> Option<u64> {
    info_text(info, name)?.parse().ok()
}

/// The value of one `field:value` line of an `INFO` reply.
pub fn info_text<'i>(info: &'i str, name: &str) -> Option<&'i str> {
    info.lines().find_map(|line| {
        let (key, value) = line.trim_end().split_once(':')?;
        (key == name).then_some(value)
    })
}

/// Now as Unix ms (the clock auto-generated stream IDs use).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_order_and_step() {
        let a = StreamId::parse(b"5-9").expect("valid");
        assert_eq!(a, StreamId { ms: 5, seq: 9 });
        assert!(a < StreamId { ms: 6, seq: 0 });
        assert_eq!(a.next().to_string(), "5-10");
        assert!(StreamId::parse(b"5").is_err());
    }

    #[test]
    fn info_lines() {
        let info = "# Clients\r\nconnected_clients:12\r\nblocked_clients:3\r\n";
        assert_eq!(info_field(info, "connected_clients"), Some(12));
        assert_eq!(info_field(info, "blocked_clients"), Some(3));
        assert_eq!(info_field(info, "missing"), None);
    }
}
