//! Deadlines: setting one under `EXPIRE`'s conditions, and the active expiry cycle's pass
//! over the keys whose deadline has passed. (A key past its deadline is also removed when a
//! command touches it: see [`Db::read`].)

use bytes::Bytes;

use super::Db;

/// How an expiry update went (`EXPIRE … NX|XX|GT|LT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireCondition {
    Always,
    /// Only if the key has no expiry.
    Nx,
    /// Only if the key has an expiry.
    Xx,
    /// Only if the new deadline is later (no expiry counts as infinite).
    Gt,
    /// Only if the new deadline is earlier.
    Lt,
}

impl Db {
    /// Sets or clears the key's deadline under `cond`; `Some(true)` if it changed,
    /// `Some(false)` if `cond` refused, `None` if the key does not exist. A deadline at or
    /// before `now_ms` removes the key.
    pub fn set_expire(
        &self,
        key: &[u8],
        at: Option<u64>,
        cond: ExpireCondition,
        now_ms: u64,
    ) -> Option<bool> {
        self.set_expire_if(key, at, now_ms, |current| match (cond, current, at) {
            (ExpireCondition::Always, _, _) => true,
            (ExpireCondition::Nx, current, _) => current.is_none(),
            (ExpireCondition::Xx, current, _) => current.is_some(),
            (ExpireCondition::Gt, None, _) => false,
            (ExpireCondition::Gt, Some(cur), Some(new)) => new > cur,
            (ExpireCondition::Lt, None, Some(_)) => true,
            (ExpireCondition::Lt, Some(cur), Some(new)) => new < cur,
            (_, _, None) => true,
        })
    }

    /// Sets or clears the key's deadline if `allow`, shown the current one (`None`: no
    /// expiry), agrees. A deadline at or before `now_ms` removes the key at once, as `EXPIRE`
    /// with a past time does. `Some(true)` if it changed, `Some(false)` if `allow` refused,
    /// `None` if the key does not exist.
    pub fn set_expire_if(
        &self,
        key: &[u8],
        at: Option<u64>,
        now_ms: u64,
        allow: impl FnOnce(Option<u64>) -> bool,
    ) -> Option<bool> {
        // `write` indexes the new deadline, and removes the key if it is already past.
        self.write(key, now_ms, |entry| {
            let allowed = allow(entry.expire_at());
            if allowed {
                entry.set_expire_at(at);
            }
            allowed
        })
    }

    /// The key's deadline: `None` if the key is missing, `Some(None)` if it never expires.
    pub fn expire_at(&self, key: &[u8], now_ms: u64) -> Option<Option<u64>> {
        self.peek(key, now_ms, |_, at| at)
    }

    /// Removes keys whose deadline has passed; returns the removed names.
    pub fn expire_due(&self, now_ms: u64) -> Vec<Bytes> {
        let due: Vec<Bytes> = self
            .expires
            .iter()
            .filter(|e| *e.value() <= now_ms)
            .map(|e| Bytes::copy_from_slice(e.key()))
            .collect();
        due.into_iter()
            .filter(|key| self.remove_if_expired(key, now_ms))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use sluice_streams::Stream;

    use super::*;
    use crate::keyspace::Kind;

    fn empty_stream() -> crate::keyspace::Value {
        <Stream as Kind>::empty()
    }

    #[test]
    fn expired_keys_vanish_lazily_and_actively() {
        let db = Db::default();
        let key = Bytes::from("k");
        db.write_or_create(&key, 0, empty_stream, |_, created| assert!(created));
        assert_eq!(
            db.set_expire(&key, Some(100), ExpireCondition::Always, 0),
            Some(true)
        );
        assert!(db.exists(b"k", 99));
        assert!(!db.exists(b"k", 100));
        assert_eq!(db.len(), 0);

        db.write_or_create(&key, 0, empty_stream, |_, _| ());
        db.set_expire(&key, Some(50), ExpireCondition::Always, 0);
        assert_eq!(db.expire_due(60), vec![key.clone()]);
        assert_eq!(db.expires_len(), 0);
    }

    #[test]
    fn expire_conditions() {
        let db = Db::default();
        let key = Bytes::from("k");
        db.write_or_create(&key, 0, empty_stream, |_, _| ());
        assert_eq!(
            db.set_expire(&key, Some(10), ExpireCondition::Xx, 0),
            Some(false)
        );
        assert_eq!(
            db.set_expire(&key, Some(10), ExpireCondition::Gt, 0),
            Some(false)
        );
        assert_eq!(
            db.set_expire(&key, Some(10), ExpireCondition::Lt, 0),
            Some(true)
        );
        assert_eq!(
            db.set_expire(&key, Some(20), ExpireCondition::Nx, 0),
            Some(false)
        );
        assert_eq!(
            db.set_expire(&key, Some(20), ExpireCondition::Gt, 0),
            Some(true)
        );
        assert_eq!(
            db.set_expire(&Bytes::from("nope"), Some(1), ExpireCondition::Always, 0),
            None
        );
    }
}
