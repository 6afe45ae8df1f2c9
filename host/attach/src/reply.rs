//! Reading the attached server's stream replies: `[[id, [field, value, …]], …]`, as
//! `XRANGE`, `XREVRANGE`, `XREADGROUP` (per stream) and `XAUTOCLAIM` give them.

use redis::Value;

/// One entry: its ID, and its fields (`None`: deleted since it was delivered, as a pending
/// list still names it).
pub type Entry = (Vec<u8>, Option<Vec<Vec<u8>>>);

/// The entries of an entry array; anything else in it is skipped.
pub fn entries(reply: Value) -> Vec<Entry> {
    let Value::Array(entries) = reply else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|entry| {
            let Value::Array(parts) = entry else {
                return None;
            };
            let mut parts = parts.into_iter();
            let Some(Value::BulkString(id)) = parts.next() else {
                return None;
            };
            Some((id, parts.next().and_then(bulks)))
        })
        .collect()
}

/// The bulk strings of an array (`None` if it is no array).
pub fn bulks(value: Value) -> Option<Vec<Vec<u8>>> {
    let Value::Array(items) = value else {
        return None;
    };
    Some(
        items
            .into_iter()
            .filter_map(|item| match item {
                Value::BulkString(b) => Some(b),
                _ => None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_deleted_entries_are_read() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let reply = Value::Array(vec![
            Value::Array(vec![bulk("1-0"), Value::Array(vec![bulk("a"), bulk("1")])]),
            Value::Array(vec![bulk("2-0"), Value::Nil]),
            Value::Int(3),
        ]);
        assert_eq!(
            entries(reply),
            [
                (b"1-0".to_vec(), Some(vec![b"a".to_vec(), b"1".to_vec()])),
                (b"2-0".to_vec(), None)
            ]
        );
    }
}
