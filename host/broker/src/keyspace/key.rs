//! [`Key`]: a key's name as the keyspace stores it, inline when short.
//!
//! A database may hold millions of small keys (`key:1234567`), and a heap allocation per name
//! would cost as much again as the name. A name of up to [`INLINE`] bytes lives in the table
//! slot itself; a longer one in a boxed slice. It hashes and compares as the `[u8]` it holds,
//! so the tables are looked up by `&[u8]`.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Longest name kept inline, bytes.
pub const INLINE: usize = 22;

/// A key's name.
#[derive(Clone)]
pub struct Key(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(bytes) => bytes,
        }
    }

    /// Heap bytes the name takes beyond its slot.
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(bytes) => bytes.len(),
        }
    }
}

impl From<&[u8]> for Key {
    fn from(name: &[u8]) -> Self {
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..name.len()].copy_from_slice(name);
                Key(Repr::Inline { len, bytes })
            }
            _ => Key(Repr::Heap(name.into())),
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Hash for Key {
    // As the `[u8]` it borrows as, so lookups by `&[u8]` find it.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn short_and_long_names_look_up_by_bytes() {
        assert_eq!(size_of::<Key>(), 24);
        let mut map = HashMap::new();
        let long = [b'x'; 100];
        map.insert(Key::from(&b"key:1"[..]), 1);
        map.insert(Key::from(&long[..]), 2);
        map.insert(Key::from(&b""[..]), 3);
        assert_eq!(map.get(&b"key:1"[..]), Some(&1));
        assert_eq!(map.get(&long[..]), Some(&2));
        assert_eq!(map.get(&b""[..]), Some(&3));
        assert_eq!(Key::from(&long[..]).heap_bytes(), 100);
        assert_eq!(Key::from(&[b'y'; INLINE][..]).heap_bytes(), 0);
        assert_eq!(
            &*Key::from(&[b'y'; INLINE + 1][..]),
            &[b'y'; INLINE + 1][..]
        );
    }
}
