//! [`Set`]: a set value (`SADD`…) in the three forms Redis keeps: integers in a sorted array
//! (`intset`), small sets packed (`listpack`), others in a table (`hashtable`).
//!
//! Redis 7.2's rules: a set of integers only stays an intset up to 512 members
//! (`set-max-intset-entries`); a set of at most 128 members of at most 64 bytes
//! (`set-max-listpack-*`) is a listpack; anything else a hash table, for good.

use indexmap::IndexSet;

use super::packed::Packed;
use super::string::parse_canonical_i64;

/// Most members of an intset.
pub const MAX_INTSET: usize = 512;
/// Most members of a packed set.
pub const MAX_PACKED_ENTRIES: usize = 128;
/// Longest member of a packed set, bytes.
pub const MAX_PACKED_VALUE: usize = 64;

/// A set value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Set {
    /// Integers, ascending (`intset`).
    Ints(Vec<i64>),
    /// Members in insertion order (`listpack`).
    Packed(Packed),
    /// `hashtable`.
    Table(IndexSet<Box<[u8]>>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Ints(Vec::new())
    }
}

impl Set {
    /// An empty set of the form Redis starts one in for a first member `first` (an intset
    /// for an integer, else a listpack or, for a long member, a table).
    pub fn for_first(first: &[u8]) -> Set {
        if parse_canonical_i64(first).is_some() {
            Set::Ints(Vec::new())
        } else if first.len() <= MAX_PACKED_VALUE {
            Set::Packed(Packed::default())
        } else {
            Set::Table(IndexSet::new())
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Ints(v) => v.len(),
            Set::Packed(p) => p.len(),
            Set::Table(t) => t.len(),
        }
    }

    /// True without members (an empty set is removed from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Ints(v) => {
                parse_canonical_i64(member).is_some_and(|n| v.binary_search(&n).is_ok())
            }
            Set::Packed(p) => p.position(member, 1).is_some(),
            Set::Table(t) => t.contains(member),
        }
    }

    /// Adds `member`; true if it is new.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        if let Set::Ints(v) = self
            && let Some(n) = parse_canonical_i64(member)
        {
            let Err(at) = v.binary_search(&n) else {
                return false;
            };
            if v.len() < MAX_INTSET {
                v.insert(at, n);
                return true;
            }
            self.convert_to_table();
        } else if let Set::Ints(v) = self {
            let fits = v.len() < MAX_PACKED_ENTRIES && member.len() <= MAX_PACKED_VALUE;
            if fits {
                let mut packed = Packed::default();
                for n in v.iter() {
                    packed.push(itoa::Buffer::new().format(*n).as_bytes());
                }
                *self = Set::Packed(packed);
            } else {
                self.convert_to_table();
            }
        }
        if let Set::Packed(p) = self {
            if p.position(member, 1).is_some() {
                return false;
            }
            if p.len() < MAX_PACKED_ENTRIES && member.len() <= MAX_PACKED_VALUE {
                p.push(member);
                return true;
            }
            self.convert_to_table();
        }
        match self {
            Set::Table(t) => t.insert(member.into()),
            Set::Ints(_) | Set::Packed(_) => false,
        }
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Ints(v) => match parse_canonical_i64(member).map(|n| v.binary_search(&n)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            Set::Packed(p) => match p.position(member, 1) {
                Some(at) => {
                    p.remove(at, 1);
                    true
                }
                None => false,
            },
            Set::Table(t) => t.swap_remove(member),
        }
    }

    /// The `i`th member (for random picks), as bytes.
    pub fn nth(&self, i: usize) -> Option<Vec<u8>> {
        match self {
            Set::Ints(v) => v
                .get(i)
                .map(|n| itoa::Buffer::new().format(*n).as_bytes().to_vec()),
            Set::Packed(p) => p.get(i).map(<[u8]>::to_vec),
            Set::Table(t) => t.get_index(i).map(|m| m.to_vec()),
        }
    }

    /// Every member, in the set's order.
    pub fn members(&self) -> Vec<Vec<u8>> {
        match self {
            Set::Ints(v) => v
                .iter()
                .map(|n| itoa::Buffer::new().format(*n).as_bytes().to_vec())
                .collect(),
            Set::Packed(p) => p.iter().map(<[u8]>::to_vec).collect(),
            Set::Table(t) => t.iter().map(|m| m.to_vec()).collect(),
        }
    }

    /// `OBJECT ENCODING`'s name for it.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Packed(_) => "listpack",
            Set::Table(_) => "hashtable",
        }
    }

    /// Heap bytes the value takes.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Set::Ints(v) => v.capacity() * 8,
            Set::Packed(p) => p.heap_bytes(),
            Set::Table(t) => t.iter().map(|m| m.len() + 32).sum::<usize>() + t.capacity() * 8,
        }
    }

    fn convert_to_table(&mut self) {
        let table: IndexSet<Box<[u8]>> = self
            .members()
            .into_iter()
            .map(Vec::into_boxed_slice)
            .collect();
        *self = Set::Table(table);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_follow_redis() {
        let mut s = Set::for_first(b"1");
        assert!(s.insert(b"3") && s.insert(b"1") && !s.insert(b"3"));
        assert_eq!(
            (s.encoding(), s.members()),
            ("intset", vec![b"1".to_vec(), b"3".to_vec()])
        );
        assert!(s.insert(b"a"));
        assert_eq!(s.encoding(), "listpack");
        assert!(s.contains(b"1") && s.contains(b"a"));
        assert!(s.insert(&[b'x'; 65]));
        assert_eq!((s.encoding(), s.len()), ("hashtable", 4));
        let mut ints = Set::for_first(b"0");
        for i in 0..=MAX_INTSET {
            ints.insert(i.to_string().as_bytes());
        }
        assert_eq!((ints.encoding(), ints.len()), ("hashtable", 513));
        assert!(ints.remove(b"7") && !ints.remove(b"7"));
    }
}
