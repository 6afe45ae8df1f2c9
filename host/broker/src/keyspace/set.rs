//! [`Set`]: a set value (`SADD`…) in the three forms Redis keeps: integers in a sorted array
//! (`intset`), small sets packed (`listpack`), others in a table (`hashtable`).
//!
//! Redis 7.2's rules: a set of integers only stays an intset up to 512 members
//! (`set-max-intset-entries`); a set of at most 128 members of at most 64 bytes
//! (`set-max-listpack-*`) is a listpack; anything else a hash table, for good.

use std::borrow::Cow;

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
    /// Boxed, so a small value (the common case) does not pay for a table's size.
    Table(Box<IndexSet<Box<[u8]>>>),
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
            Set::Table(Box::default())
        }
    }

    /// An empty set of the form Redis 7.2's `SADD` starts one in for `count` members, the
    /// first being `first` (`setTypeCreate`): an intset for an integer if `count` fits one,
    /// else a listpack if `count` fits one, else a table. (A long first member turns the
    /// listpack into a table on insertion, as in Redis.)
    pub fn for_members(first: &[u8], count: usize) -> Set {
        if parse_canonical_i64(first).is_some() && count <= MAX_INTSET {
            Set::Ints(Vec::new())
        } else if count <= MAX_PACKED_ENTRIES {
            Set::Packed(Packed::default())
        } else {
            Set::Table(Box::new(IndexSet::with_capacity(count)))
        }
    }

    /// Makes room for `count` more members as Redis 7.2's `SADD` does before adding them
    /// (`setTypeMaybeConvert`): more than a listpack or an intset may hold turns the set into
    /// a table at once, even if most of them turn out to be members already.
    pub fn reserve_for(&mut self, count: usize) {
        let too_many = match self {
            Set::Ints(_) => count > MAX_INTSET,
            Set::Packed(_) => count > MAX_PACKED_ENTRIES,
            Set::Table(_) => false,
        };
        if too_many {
            self.convert_to_table();
        }
    }

    /// The set Redis 7.2's `SPOP` leaves when it pops most of a set (`SPOP_MOVE_STRATEGY_MUL`):
    /// a new one holding the members `kept`, an intset if the old one was, else a listpack
    /// that turns into a table only if `kept` does not fit one. So a table popped down to a
    /// few members becomes a listpack again, even of integers.
    pub fn rebuilt<'a>(&self, kept: impl IntoIterator<Item = &'a [u8]>) -> Set {
        let mut set = match self {
            Set::Ints(_) => Set::Ints(Vec::new()),
            Set::Packed(_) | Set::Table(_) => Set::Packed(Packed::default()),
        };
        for member in kept {
            set.insert(member);
        }
        set
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
                // Exact growth, as an intset is reallocated per insert (see `Packed::push`).
                v.reserve_exact(1);
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

    /// The members, in the set's order (`SMEMBERS`'s): ascending for an intset, insertion
    /// order for a listpack. An intset's members are written out as Redis writes integers.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Set::Ints(v) => Iter::Ints(v.iter()),
            Set::Packed(p) => Iter::Packed(p.iter()),
            Set::Table(t) => Iter::Table(t.iter()),
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
        *self = Set::Table(Box::new(table));
    }
}

/// A member as [`Set::iter`] yields it: borrowed, or an intset's integer written out.
pub type Member<'a> = Cow<'a, [u8]>;

/// The members of a [`Set`], in its order.
#[derive(Debug, Clone)]
pub enum Iter<'a> {
    Ints(std::slice::Iter<'a, i64>),
    Packed(super::packed::Iter<'a>),
    Table(indexmap::set::Iter<'a, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Ints(ints) => ints
                .next()
                .map(|n| Cow::Owned(itoa::Buffer::new().format(*n).as_bytes().to_vec())),
            Iter::Packed(items) => items.next().map(Cow::Borrowed),
            Iter::Table(members) => members.next().map(|m| Cow::Borrowed(&**m)),
        }
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

    #[test]
    fn sadd_sizes_the_set_for_its_arguments() {
        // As Valkey 8.1 (Redis 7.2) answers OBJECT ENCODING after the same SADDs.
        assert_eq!(Set::for_members(b"1", 512).encoding(), "intset");
        assert_eq!(Set::for_members(b"1", 513).encoding(), "hashtable");
        assert_eq!(Set::for_members(b"a", 128).encoding(), "listpack");
        assert_eq!(Set::for_members(b"a", 129).encoding(), "hashtable");
        let mut s = Set::for_members(b"a", 1);
        s.insert(b"a");
        s.reserve_for(128);
        assert_eq!(s.encoding(), "listpack");
        s.reserve_for(129);
        assert_eq!((s.encoding(), s.len()), ("hashtable", 1));
        let mut ints = Set::for_members(b"1", 1);
        ints.insert(b"1");
        ints.reserve_for(513);
        assert_eq!(ints.encoding(), "hashtable");
    }

    #[test]
    fn iter_yields_members_in_order() {
        let mut ints = Set::default();
        for m in [&b"30"[..], b"-2", b"7"] {
            ints.insert(m);
        }
        let got: Vec<Vec<u8>> = ints.iter().map(Cow::into_owned).collect();
        assert_eq!(got, [b"-2".to_vec(), b"7".to_vec(), b"30".to_vec()]);
        assert_eq!(got, ints.members());
        let mut packed = Set::for_first(b"b");
        for m in [&b"b"[..], b"a", b"1"] {
            packed.insert(m);
        }
        let got: Vec<Vec<u8>> = packed.iter().map(Cow::into_owned).collect();
        assert_eq!(got, [b"b".to_vec(), b"a".to_vec(), b"1".to_vec()]);
    }

    #[test]
    fn spop_rebuilds_a_small_remainder_compactly() {
        let mut table = Set::for_members(b"1", 600);
        for i in 0..600 {
            table.insert(i.to_string().as_bytes());
        }
        assert_eq!(table.encoding(), "hashtable");
        let kept = table.rebuilt([&b"5"[..], b"9"]);
        assert_eq!((kept.encoding(), kept.len()), ("listpack", 2));
        let many: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let kept = table.rebuilt(many.iter().map(|m| m.as_bytes()));
        assert_eq!(kept.encoding(), "hashtable");
        let ints = Set::for_members(b"1", 3);
        assert_eq!(ints.rebuilt([&b"3"[..]]).encoding(), "intset");
    }
}
