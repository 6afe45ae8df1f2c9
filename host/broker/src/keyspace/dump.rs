//! A value to and from Redis's `DUMP` payload format (`sluice-rdb`'s neutral model), for
//! `DUMP` and `RESTORE`.

use sluice_rdb::RdbValue;
use sluice_streams::NodeLimits;

use super::Value;
use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::string::Str;

/// `value`'s `DUMP` payload (the newest encoding Redis 7.2 reads).
pub fn dump(value: &Value) -> Vec<u8> {
    let model = match value {
        Value::Str(s) => RdbValue::String(s.as_bytes().into_owned()),
        Value::Stream(stream) => RdbValue::Stream((**stream).clone()),
        Value::Hash(hash) => {
            RdbValue::Hash(hash.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect())
        }
        Value::List(list) => RdbValue::List(list.iter().map(<[u8]>::to_vec).collect()),
        Value::Set(set) => RdbValue::Set(set.members()),
    };
    sluice_rdb::dump(&model)
}

/// The value a `DUMP` payload holds; Redis's error (its reply text) if it holds none.
pub fn restore(payload: &[u8], limits: NodeLimits) -> Result<Value, sluice_rdb::RdbError> {
    Ok(match sluice_rdb::restore_with_limits(payload, limits)? {
        RdbValue::String(bytes) => Value::Str(Str::new(&bytes)),
        RdbValue::Stream(stream) => Value::Stream(Box::new(stream)),
        RdbValue::Hash(pairs) => {
            let mut hash = Hash::default();
            for (field, value) in &pairs {
                hash.set(field, value);
            }
            Value::Hash(Box::new(hash))
        }
        RdbValue::List(items) => Value::List(Box::new(List::from_items(&items))),
        RdbValue::Set(members) => {
            let mut set = members
                .first()
                .map_or_else(Set::default, |m| Set::for_first(m));
            for member in &members {
                set.insert(member);
            }
            Value::Set(Box::new(set))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips() {
        let mut hash = Hash::default();
        hash.set(b"f", b"v");
        let mut list = List::default();
        list.push(b"a", false);
        let mut set = Set::for_first(b"1");
        set.insert(b"1");
        set.insert(b"x");
        for value in [
            Value::Str(Str::new(b"42")),
            Value::Str(Str::new(b"hello")),
            Value::Hash(Box::new(hash)),
            Value::List(Box::new(list)),
            Value::Set(Box::new(set)),
            Value::Stream(Box::default()),
        ] {
            let payload = dump(&value);
            let back = restore(&payload, NodeLimits::default()).expect("restores");
            assert_eq!(dump(&back), payload, "{}", value.type_name());
            assert_eq!(back.encoding(), value.encoding());
        }
    }
}
