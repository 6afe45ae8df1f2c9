//! [`Hash`]: a hash value (`HSET`…), small ones packed as Redis keeps them in a listpack,
//! larger ones in a table.
//!
//! Redis keeps a hash as a listpack while it has at most 512 fields and no field or value
//! longer than 64 bytes (`hash-max-listpack-entries`/`-value`), then converts it to a hash
//! table for good. Sluice follows the same rule, so `OBJECT ENCODING` agrees and small hashes
//! cost a few bytes per field.

use indexmap::IndexMap;

use super::packed::Packed;

/// Most fields of a packed hash.
pub const MAX_PACKED_ENTRIES: usize = 512;
/// Longest field or value of a packed hash, bytes.
pub const MAX_PACKED_VALUE: usize = 64;

/// The large form: field → value.
pub type Table = IndexMap<Box<[u8]>, Box<[u8]>>;

/// A hash value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hash {
    /// Field, value, field, value… in insertion order (`listpack`).
    Packed(Packed),
    /// `hashtable`; in an order that survives removals only approximately, as Redis's.
    /// Boxed, so a small value (the common case) does not pay for a table's size.
    Table(Box<Table>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Packed(Packed::default())
    }
}

impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Packed(p) => p.len() / 2,
            Hash::Table(t) => t.len(),
        }
    }

    /// True without fields (an empty hash is removed from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Packed(p) => {
                let at = p.position(field, 2)?;
                p.get(at + 1)
            }
            Hash::Table(t) => t.get(field).map(|v| &**v),
        }
    }

    /// Sets `field` to `value`; true if the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Hash::Packed(p) = self {
            let fits = field.len() <= MAX_PACKED_VALUE && value.len() <= MAX_PACKED_VALUE;
            match p.position(field, 2) {
                Some(at) if fits => {
                    p.replace(at + 1, value);
                    return false;
                }
                None if fits && p.len() / 2 < MAX_PACKED_ENTRIES => {
                    p.push(field);
                    p.push(value);
                    return true;
                }
                _ => self.convert(),
            }
        }
        match self {
            Hash::Table(t) => t.insert(field.into(), value.into()).is_none(),
            Hash::Packed(_) => false,
        }
    }

    /// Makes room for `pairs` field-value pairs whose longest field or value is `longest`
    /// bytes, as Redis 7.2 does before `HSET` adds them (`hashTypeTryConversion`): more pairs
    /// than a listpack holds, or an argument too long for one, makes the hash a table at
    /// once, even if the pairs turn out to repeat fields.
    pub fn reserve_for(&mut self, pairs: usize, longest: usize) {
        if matches!(self, Hash::Packed(_))
            && (pairs > MAX_PACKED_ENTRIES || longest > MAX_PACKED_VALUE)
        {
            self.convert();
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Packed(p) => match p.position(field, 2) {
                Some(at) => {
                    p.remove(at, 2);
                    true
                }
                None => false,
            },
            Hash::Table(t) => t.swap_remove(field).is_some(),
        }
    }

    /// The fields and values, in the hash's order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            Hash::Packed(p) => {
                let mut items = p.iter();
                Box::new(std::iter::from_fn(move || {
                    Some((items.next()?, items.next()?))
                }))
            }
            Hash::Table(t) => Box::new(t.iter().map(|(k, v)| (&**k, &**v))),
        }
    }

    /// The `i`th field and value (for random picks).
    pub fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Packed(p) => Some((p.get(2 * i)?, p.get(2 * i + 1)?)),
            Hash::Table(t) => t.get_index(i).map(|(k, v)| (&**k, &**v)),
        }
    }

    /// `OBJECT ENCODING`'s name for it.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Packed(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Heap bytes the value takes.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Hash::Packed(p) => p.heap_bytes(),
            Hash::Table(t) => {
                t.iter().map(|(k, v)| k.len() + v.len() + 48).sum::<usize>() + t.capacity() * 8
            }
        }
    }

    fn convert(&mut self) {
        if let Hash::Packed(p) = self {
            let mut table = IndexMap::with_capacity(p.len() / 2 + 1);
            let mut items = p.iter();
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                table.insert(k.into(), v.into());
            }
            *self = Hash::Table(Box::new(table));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_until_redis_converts_it() {
        let mut h = Hash::default();
        assert!(h.set(b"f", b"v"));
        assert!(!h.set(b"f", b"w"));
        assert_eq!((h.get(b"f"), h.encoding()), (Some(&b"w"[..]), "listpack"));
        h.set(b"long", &[b'x'; 65]);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 2);
        let mut many = Hash::default();
        for i in 0..=MAX_PACKED_ENTRIES {
            many.set(i.to_string().as_bytes(), b"v");
        }
        assert_eq!((many.len(), many.encoding()), (513, "hashtable"));
        assert!(many.remove(b"3"));
        assert!(!many.remove(b"3"));
    }

    #[test]
    fn hset_sizes_the_hash_for_its_arguments() {
        // As Valkey 8.1 (Redis 7.2) answers OBJECT ENCODING after the same HSETs.
        let mut h = Hash::default();
        h.reserve_for(MAX_PACKED_ENTRIES, MAX_PACKED_VALUE);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f", b"v");
        h.reserve_for(MAX_PACKED_ENTRIES + 1, 1);
        assert_eq!((h.encoding(), h.get(b"f")), ("hashtable", Some(&b"v"[..])));
        let mut long = Hash::default();
        long.reserve_for(1, MAX_PACKED_VALUE + 1);
        assert_eq!(long.encoding(), "hashtable");
    }
}
