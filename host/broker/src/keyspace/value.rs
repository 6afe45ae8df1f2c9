//! [`Value`]: what a key holds — a string, a stream, a hash, a list or a set — and
//! [`Kind`], how commands reach the one type they work on (anything else is `WRONGTYPE`).

use sluice_streams::Stream;

use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::string::Str;

/// A key's value. Small strings live in the slot itself; the other types behind a box, so a
/// slot stays 24 bytes.
#[derive(Debug, Clone)]
pub enum Value {
    Str(Str),
    Stream(Box<Stream>),
    Hash(Box<Hash>),
    List(Box<List>),
    Set(Box<Set>),
}

impl Value {
    /// The name `TYPE` answers (`string`, `stream`, `hash`, `list`, `set`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Stream(_) => "stream",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
        }
    }

    /// The name `OBJECT ENCODING` answers.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::Stream(_) => "stream",
            Value::Hash(h) => h.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(s) => s.encoding(),
        }
    }

    /// True for a hash, list or set without elements: Redis never keeps one, so a command
    /// that empties it removes the key. (An empty stream stays.)
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) | Value::Stream(_) => false,
            Value::Hash(h) => h.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Set(s) => s.is_empty(),
        }
    }

    /// Approximate heap bytes the value takes beyond its slot.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_bytes(),
            Value::Stream(s) => s.memory_usage(),
            Value::Hash(h) => size_of::<Hash>() + h.heap_bytes(),
            Value::List(l) => size_of::<List>() + l.heap_bytes(),
            Value::Set(s) => size_of::<Set>() + s.heap_bytes(),
        }
    }
}

/// The value type a command works on: how to find it in a [`Value`] and make a new one.
pub trait Kind: Sized {
    /// The type, if `value` holds it.
    fn get(value: &Value) -> Option<&Self>;
    /// The type, for changing, if `value` holds it.
    fn get_mut(value: &mut Value) -> Option<&mut Self>;
    /// An empty value of the type (what a write to a missing key starts from).
    fn empty() -> Value;
}

macro_rules! boxed_kind {
    ($ty:ty, $variant:ident) => {
        impl Kind for $ty {
            fn get(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn get_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn empty() -> Value {
                Value::$variant(Box::default())
            }
        }
    };
}

boxed_kind!(Stream, Stream);
boxed_kind!(Hash, Hash);
boxed_kind!(List, List);
boxed_kind!(Set, Set);

impl Kind for Str {
    fn get(value: &Value) -> Option<&Self> {
        match value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    fn get_mut(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    fn empty() -> Value {
        Value::Str(Str::new(b""))
    }
}

/// Redis's reply to a command on a key holding another type.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// The key holds another type than the command works on (Redis's `WRONGTYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

impl std::fmt::Display for WrongType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(WRONGTYPE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_takes_one_slot() {
        assert_eq!(size_of::<Value>(), 24);
    }
}
