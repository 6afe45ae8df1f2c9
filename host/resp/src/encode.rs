//! Encoding [`Reply`] values as RESP2 or RESP3 bytes.
//!
//! Recursive, straight into the connection's output buffer; RESP3-only types are downgraded
//! for RESP2 clients exactly as Redis does (maps flatten, booleans become integers, doubles
//! and verbatim text become bulk strings, every null becomes `$-1` or `*-1`).

use bytes::{BufMut, BytesMut};

use crate::reply::{Reply, StreamEntries};

/// The protocol a connection speaks, chosen with `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2, every connection's start.
    #[default]
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

/// Appends `reply` to `out` in `proto`.
pub fn encode(reply: &Reply, proto: Protocol, out: &mut BytesMut) {
    let resp3 = proto == Protocol::Resp3;
    match reply {
        Reply::Ok => out.put_slice(b"+OK\r\n"),
        Reply::Simple(text) => line(out, b'+', text.as_bytes()),
        Reply::Error(text) => line(out, b'-', text.as_bytes()),
        Reply::Int(n) => int_line(out, b':', *n),
        Reply::Bulk(bytes) => bulk(out, bytes),
        Reply::Null if resp3 => out.put_slice(b"_\r\n"),
        Reply::Null => out.put_slice(b"$-1\r\n"),
        Reply::NullArray if resp3 => out.put_slice(b"_\r\n"),
        Reply::NullArray => out.put_slice(b"*-1\r\n"),
        Reply::Array(items) => {
            header(out, b'*', items.len());
            for item in items {
                encode(item, proto, out);
            }
        }
        Reply::Set(items) => {
            header(out, if resp3 { b'~' } else { b'*' }, items.len());
            for item in items {
                encode(item, proto, out);
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                header(out, b'%', pairs.len());
            } else {
                header(out, b'*', pairs.len() * 2);
            }
            for (key, value) in pairs {
                encode(key, proto, out);
                encode(value, proto, out);
            }
        }
        Reply::Double(x) => {
            let text = format_double(*x);
            if resp3 {
                line(out, b',', text.as_bytes());
            } else {
                bulk(out, text.as_bytes());
            }
        }
        Reply::Bool(b) if resp3 => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Reply::Bool(b) => int_line(out, b':', i64::from(*b)),
        Reply::Verbatim(text) if resp3 => {
            header(out, b'=', text.len() + 4);
            out.put_slice(b"txt:");
            out.put_slice(text.as_bytes());
            out.put_slice(b"\r\n");
        }
        Reply::Verbatim(text) => bulk(out, text.as_bytes()),
        Reply::Entries(entries) => encode_entries(entries, proto, out),
    }
}

fn encode_entries(entries: &StreamEntries, proto: Protocol, out: &mut BytesMut) {
    header(out, b'*', entries.entries.len());
    let mut field = 0;
    let mut meta = entries.meta.iter().peekable();
    for (index, slot) in entries.entries.iter().enumerate() {
        out.put_slice(if entries.with_meta {
            b"*4\r\n"
        } else {
            b"*2\r\n"
        });
        let mut ms = itoa::Buffer::new();
        let mut seq = itoa::Buffer::new();
        let (ms, seq) = (ms.format(slot.ms), seq.format(slot.seq));
        header(out, b'$', ms.len() + 1 + seq.len());
        out.put_slice(ms.as_bytes());
        out.put_u8(b'-');
        out.put_slice(seq.as_bytes());
        out.put_slice(b"\r\n");
        match slot.fields_end {
            Some(end) => {
                header(out, b'*', end - field);
                for i in field..end {
                    bulk(out, entries.field(i));
                }
                field = end;
            }
            None => encode(&Reply::NullArray, proto, out),
        }
        if entries.with_meta {
            let (idle, count) = match meta.next_if(|m| m.0 == index) {
                Some(&(_, idle, count)) => (idle, count),
                None => (0, 0),
            };
            // Counts never exceed i64::MAX (XNACK FATAL's value); clamp anyway.
            int_line(out, b':', i64::try_from(idle).unwrap_or(i64::MAX));
            int_line(out, b':', i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
}

fn line(out: &mut BytesMut, kind: u8, text: &[u8]) {
    out.put_u8(kind);
    // A CR or LF inside a status or error line would split the reply in two.
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        out.extend(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    } else {
        out.put_slice(text);
    }
    out.put_slice(b"\r\n");
}

fn int_line(out: &mut BytesMut, kind: u8, n: i64) {
    out.put_u8(kind);
    out.put_slice(itoa::Buffer::new().format(n).as_bytes());
    out.put_slice(b"\r\n");
}

fn header(out: &mut BytesMut, kind: u8, len: usize) {
    out.put_u8(kind);
    out.put_slice(itoa::Buffer::new().format(len).as_bytes());
    out.put_slice(b"\r\n");
}

fn bulk(out: &mut BytesMut, bytes: &[u8]) {
    header(out, b'$', bytes.len());
    out.put_slice(bytes);
    out.put_slice(b"\r\n");
}

/// Redis's text for a double: `inf`, `-inf`, `nan`, or the shortest exact decimal.
fn format_double(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn enc(reply: &Reply, proto: Protocol) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(reply, proto, &mut out);
        out.to_vec()
    }

    #[test]
    fn resp2_downgrades_resp3_types() {
        let map = Reply::Map(vec![
            (Reply::bulk("a"), Reply::Int(-1)),
            (Reply::bulk("b"), Reply::Bool(true)),
        ]);
        assert_eq!(
            enc(&map, Protocol::Resp2),
            b"*4\r\n$1\r\na\r\n:-1\r\n$1\r\nb\r\n:1\r\n"
        );
        assert_eq!(
            enc(&map, Protocol::Resp3),
            b"%2\r\n$1\r\na\r\n:-1\r\n$1\r\nb\r\n#t\r\n"
        );
        assert_eq!(enc(&Reply::NullArray, Protocol::Resp2), b"*-1\r\n");
        assert_eq!(enc(&Reply::Null, Protocol::Resp2), b"$-1\r\n");
        assert_eq!(enc(&Reply::NullArray, Protocol::Resp3), b"_\r\n");
        assert_eq!(
            enc(&Reply::Verbatim("hi".into()), Protocol::Resp3),
            b"=6\r\ntxt:hi\r\n"
        );
        assert_eq!(enc(&Reply::Double(1.5), Protocol::Resp2), b"$3\r\n1.5\r\n");
    }

    #[test]
    fn error_lines_cannot_break_framing() {
        assert_eq!(
            enc(&Reply::error("ERR a\r\nb"), Protocol::Resp2),
            b"-ERR a  b\r\n"
        );
    }

    #[test]
    fn entries_encode_as_nested_arrays() {
        let mut entries = StreamEntries::new();
        entries.begin_entry(1, 0);
        entries.push_field(b"f");
        entries.push_field(b"v");
        entries.push_deleted(2, 5);
        let wire = enc(&Reply::Entries(entries.clone()), Protocol::Resp2);
        assert_eq!(
            wire,
            b"*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-5\r\n*-1\r\n"
        );
        let collected: Vec<_> = entries.iter().collect();
        assert_eq!(
            collected,
            vec![(1, 0, Some(vec![&b"f"[..], b"v"])), (2, 5, None)]
        );
    }

    /// The reference decoder reads back what we encode.
    #[test]
    fn redis_protocol_crate_agrees() {
        use redis_protocol::resp2::{decode::decode_bytes, types::BytesFrame};
        let reply = Reply::Array(vec![
            Reply::Int(7),
            Reply::bulk("x"),
            Reply::Null,
            Reply::Simple("OK".into()),
        ]);
        let wire = Bytes::from(enc(&reply, Protocol::Resp2));
        let (frame, used) = decode_bytes(&wire).expect("valid RESP2").expect("complete");
        assert_eq!(used, wire.len());
        assert_eq!(
            frame,
            BytesFrame::Array(vec![
                BytesFrame::Integer(7),
                BytesFrame::BulkString(Bytes::from("x")),
                BytesFrame::Null,
                BytesFrame::SimpleString(Bytes::from("OK")),
            ])
        );
    }
}
