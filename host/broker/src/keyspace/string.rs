//! [`Str`]: a string value (`SET`, `INCR`, `APPEND`…), in the representation Redis would
//! report for it (`OBJECT ENCODING`): an integer, a short string stored inline, or bytes on
//! the heap.
//!
//! Redis encodes a string that reads as a canonical 64-bit integer as `int`, one of at most
//! 44 bytes set whole as `embstr`, anything else (longer, or changed in place by `APPEND` or
//! `SETRANGE`) as `raw`. Sluice keeps the same three kinds, so replies and memory stay close:
//! an integer or a string of up to [`INLINE`] bytes takes no allocation of its own.

use std::borrow::Cow;

/// Longest string kept inline, bytes.
pub const INLINE: usize = 22;
/// Longest string Redis encodes as `embstr`.
const EMBSTR_MAX: usize = 44;
/// Longest integer string Redis tries to encode as `int`.
const INT_MAX_LEN: usize = 20;

/// A string value.
#[derive(Clone, PartialEq, Eq)]
pub enum Str {
    /// A canonical decimal integer (`int`).
    Int(i64),
    /// Up to [`INLINE`] bytes, set whole (`embstr`).
    Inline { len: u8, bytes: [u8; INLINE] },
    /// Anything longer, or changed in place (`raw` unless set whole and short).
    Heap(Box<HeapStr>),
}

/// A string's bytes on the heap.
#[derive(Clone, PartialEq, Eq)]
pub struct HeapStr {
    pub bytes: Vec<u8>,
    /// Changed in place since it was set (`APPEND`, `SETRANGE`): Redis reports `raw`.
    pub raw: bool,
}

impl Str {
    /// `bytes` set whole, as `SET` stores it.
    pub fn new(bytes: &[u8]) -> Str {
        if let Some(n) = parse_canonical_i64(bytes) {
            return Str::Int(n);
        }
        Str::inline(bytes).unwrap_or_else(|| {
            Str::Heap(Box::new(HeapStr {
                bytes: bytes.to_vec(),
                raw: false,
            }))
        })
    }

    /// An integer value.
    pub fn from_i64(n: i64) -> Str {
        Str::Int(n)
    }

    fn inline(bytes: &[u8]) -> Option<Str> {
        let len = u8::try_from(bytes.len())
            .ok()
            .filter(|_| bytes.len() <= INLINE)?;
        let mut buf = [0; INLINE];
        buf[..bytes.len()].copy_from_slice(bytes);
        Some(Str::Inline { len, bytes: buf })
    }

    /// The value's bytes (an integer formatted in decimal).
    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Str::Int(n) => Cow::Owned(itoa::Buffer::new().format(*n).as_bytes().to_vec()),
            Str::Inline { len, bytes } => Cow::Borrowed(&bytes[..usize::from(*len)]),
            Str::Heap(heap) => Cow::Borrowed(&heap.bytes),
        }
    }

    /// Length in bytes (`STRLEN`).
    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => itoa::Buffer::new().format(*n).len(),
            Str::Inline { len, .. } => usize::from(*len),
            Str::Heap(heap) => heap.bytes.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an integer, if it is one (`INCR`'s check).
    pub fn to_i64(&self) -> Option<i64> {
        match self {
            Str::Int(n) => Some(*n),
            other => parse_canonical_i64(&other.as_bytes()),
        }
    }

    /// Runs `f` on the bytes to change them in place (`APPEND`, `SETRANGE`): from now on
    /// the value is `raw`.
    pub fn modify<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let mut heap = match std::mem::replace(self, Str::Int(0)) {
            Str::Heap(heap) => heap,
            other => Box::new(HeapStr {
                bytes: other.as_bytes().into_owned(),
                raw: true,
            }),
        };
        heap.raw = true;
        let result = f(&mut heap.bytes);
        *self = Str::Heap(heap);
        result
    }

    /// `OBJECT ENCODING`'s name for it.
    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Inline { .. } => "embstr",
            Str::Heap(heap) if !heap.raw && heap.bytes.len() <= EMBSTR_MAX => "embstr",
            Str::Heap(_) => "raw",
        }
    }

    /// Heap bytes the value takes beyond its slot.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Str::Heap(heap) => size_of::<HeapStr>() + heap.bytes.capacity(),
            Str::Int(_) | Str::Inline { .. } => 0,
        }
    }
}

impl std::fmt::Debug for Str {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.as_bytes()))
    }
}

/// `bytes` as an `i64` if it is written the one way Redis writes that integer: no sign but
/// `-`, no leading zeros, no spaces, at most 20 characters (Redis's `string2ll`).
pub fn parse_canonical_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > INT_MAX_LEN {
        return None;
    }
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let canonical = match digits {
        [] => false,
        [b'0'] => bytes.len() == 1,
        [first, ..] => *first != b'0' && digits.iter().all(u8::is_ascii_digit),
    };
    if !canonical {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_redis_encodings() {
        assert_eq!(size_of::<Str>(), 24);
        assert_eq!(Str::new(b"12345").encoding(), "int");
        assert_eq!(Str::new(b"-7").encoding(), "int");
        for not_int in [
            &b"007"[..],
            b"+1",
            b"-0",
            b" 1",
            b"1.5",
            b"99999999999999999999",
        ] {
            assert_ne!(Str::new(not_int).encoding(), "int", "{not_int:?}");
        }
        assert_eq!(Str::new(b"value").encoding(), "embstr");
        assert_eq!(Str::new(&[b'x'; 44]).encoding(), "embstr");
        assert_eq!(Str::new(&[b'x'; 45]).encoding(), "raw");
        let mut s = Str::new(b"ab");
        s.modify(|b| b.extend_from_slice(b"c"));
        assert_eq!((s.encoding(), &*s.as_bytes()), ("raw", &b"abc"[..]));
        let mut n = Str::new(b"10");
        n.modify(|b| b.push(b'1'));
        assert_eq!((n.encoding(), n.to_i64()), ("raw", Some(101)));
        assert_eq!(Str::from_i64(-42).len(), 3);
    }
}
