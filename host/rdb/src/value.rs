//! [`RdbValue`], the neutral model the codec reads and writes: the broker converts its own
//! values to and from it, so this crate knows nothing of the keyspace.

use sluice_streams::Stream;

/// A value of one key, as a DUMP payload carries it.
///
/// Equality is equality as Redis values: a set's members and a hash's fields compare in any
/// order (Redis keeps no order for them, and a DUMP may reorder them: an intset sorts), and
/// streams compare by their whole state ([`Stream::export`]).
#[derive(Clone, Debug)]
pub enum RdbValue {
    /// A string (any bytes; Redis's integers are their decimal text).
    String(Vec<u8>),
    /// A list, head first.
    List(Vec<Vec<u8>>),
    /// A set's members, distinct, in any order.
    Set(Vec<Vec<u8>>),
    /// A hash's `(field, value)` pairs, fields distinct, in any order.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A stream with its consumer groups.
    Stream(Stream),
}

impl RdbValue {
    /// Redis's name of the value's type (`TYPE`'s reply).
    pub fn type_name(&self) -> &'static str {
        match self {
            RdbValue::String(_) => "string",
            RdbValue::List(_) => "list",
            RdbValue::Set(_) => "set",
            RdbValue::Hash(_) => "hash",
            RdbValue::Stream(_) => "stream",
        }
    }
}

impl PartialEq for RdbValue {
    fn eq(&self, other: &RdbValue) -> bool {
        match (self, other) {
            (RdbValue::String(a), RdbValue::String(b)) => a == b,
            (RdbValue::List(a), RdbValue::List(b)) => a == b,
            (RdbValue::Set(a), RdbValue::Set(b)) => sorted(a) == sorted(b),
            (RdbValue::Hash(a), RdbValue::Hash(b)) => sorted(a) == sorted(b),
            (RdbValue::Stream(a), RdbValue::Stream(b)) => a.export() == b.export(),
            _ => false,
        }
    }
}

impl Eq for RdbValue {}

fn sorted<T: Ord>(items: &[T]) -> Vec<&T> {
    let mut v: Vec<&T> = items.iter().collect();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_hashes_compare_in_any_order() {
        let set = |m: &[&str]| RdbValue::Set(m.iter().map(|s| s.as_bytes().to_vec()).collect());
        assert_eq!(set(&["a", "b"]), set(&["b", "a"]));
        assert_ne!(set(&["a", "b"]), set(&["a", "c"]));
        let pair = |f: &str, v: &str| (f.as_bytes().to_vec(), v.as_bytes().to_vec());
        assert_eq!(
            RdbValue::Hash(vec![pair("a", "1"), pair("b", "2")]),
            RdbValue::Hash(vec![pair("b", "2"), pair("a", "1")])
        );
        assert_ne!(
            RdbValue::Hash(vec![pair("a", "1")]),
            RdbValue::Hash(vec![pair("a", "2")])
        );
        let list = |m: &[&str]| RdbValue::List(m.iter().map(|s| s.as_bytes().to_vec()).collect());
        assert_ne!(list(&["a", "b"]), list(&["b", "a"]));
        assert_ne!(list(&["a"]), set(&["a"]));
    }
}
