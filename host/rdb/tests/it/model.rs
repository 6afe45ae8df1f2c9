//! The JSON form of a value that `fixtures/make_fixtures.py` records from a server, computed
//! here from an [`RdbValue`], so the two can be compared; plus fixture loading.
//!
//! Byte strings are JSON strings when printable ASCII, else `{"hex": ...}`; collections of
//! more than 1000 items and strings over 64 KiB are `{"count"/"len", "sha256"}` over every
//! item as an 8-byte little-endian length and its bytes.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sluice_rdb::RdbValue;
use sluice_streams::StreamId;

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture: its name (file stem), payload and recorded document.
pub fn fixtures() -> Vec<(String, Vec<u8>, Value)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rdb"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|path| {
            let payload = std::fs::read(&path).expect("read payload");
            let doc = std::fs::read_to_string(path.with_extension("json")).expect("read json");
            let doc = serde_json::from_str(&doc).expect("parse json");
            let name = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            (name, payload, doc)
        })
        .collect()
}

/// One fixture's payload by name.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(format!("{name}.rdb"))).expect("read payload")
}

pub fn jbytes(b: &[u8]) -> Value {
    if b.iter().all(|&c| (0x20..0x7f).contains(&c)) {
        Value::String(String::from_utf8_lossy(b).into_owned())
    } else {
        let mut hex = String::with_capacity(2 * b.len());
        for c in b {
            let _ = write!(hex, "{c:02x}");
        }
        json!({ "hex": hex })
    }
}

pub fn digest<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Sha256::new();
    for b in items {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    }
    h.finalize().iter().fold(String::new(), |mut s, c| {
        let _ = write!(s, "{c:02x}");
        s
    })
}

fn jitems(items: &[&[u8]]) -> Value {
    if items.len() > 1000 {
        return json!({ "count": items.len(), "sha256": digest(items.iter().copied()) });
    }
    Value::Array(items.iter().map(|b| jbytes(b)).collect())
}

fn jid(id: StreamId) -> Value {
    Value::String(id.to_string())
}

/// `{"<type>": <contents>}`, as the fixture documents' `value`.
pub fn to_json(value: &RdbValue) -> Value {
    match value {
        RdbValue::String(s) if s.len() > 64 * 1024 => {
            json!({ "string": { "len": s.len(), "sha256": digest([&s[..]]) } })
        }
        RdbValue::String(s) => json!({ "string": jbytes(s) }),
        RdbValue::List(items) => {
            let items: Vec<&[u8]> = items.iter().map(|i| &i[..]).collect();
            json!({ "list": jitems(&items) })
        }
        RdbValue::Set(members) => {
            let mut members: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
            members.sort();
            json!({ "set": jitems(&members) })
        }
        RdbValue::Hash(pairs) => {
            let mut pairs: Vec<(&[u8], &[u8])> =
                pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
            pairs.sort();
            if pairs.len() > 1000 {
                let flat: Vec<&[u8]> = pairs.iter().flat_map(|(f, v)| [*f, *v]).collect();
                return json!({ "hash": jitems(&flat) });
            }
            let pairs: Vec<Value> = pairs
                .iter()
                .map(|(f, v)| json!([jbytes(f), jbytes(v)]))
                .collect();
            json!({ "hash": pairs })
        }
        RdbValue::Stream(s) => json!({ "stream": stream_json(s) }),
    }
}

fn stream_json(s: &sluice_streams::Stream) -> Value {
    let state = s.export();
    let entries = if state.entries.len() > 1000 {
        let mut owned: Vec<Vec<u8>> = Vec::new();
        for e in &state.entries {
            owned.push(e.id.to_string().into_bytes());
            owned.push((2 * e.fields.len()).to_string().into_bytes());
            for (f, v) in &e.fields {
                owned.push(f.clone());
                owned.push(v.clone());
            }
        }
        json!({ "count": state.entries.len(), "sha256": digest(owned.iter().map(|b| &b[..])) })
    } else {
        state
            .entries
            .iter()
            .map(|e| {
                let flat: Vec<Value> = e
                    .fields
                    .iter()
                    .flat_map(|(f, v)| [jbytes(f), jbytes(v)])
                    .collect();
                json!([e.id.to_string(), flat])
            })
            .collect()
    };
    let groups: Vec<Value> = state
        .groups
        .iter()
        .map(|g| {
            let owner: HashMap<StreamId, &[u8]> = g
                .consumers
                .iter()
                .flat_map(|c| c.pending.iter().map(move |id| (*id, &c.name[..])))
                .collect();
            let pending: Vec<Value> = g
                .pending
                .iter()
                .map(|p| {
                    json!({
                        "id": jid(p.id),
                        "consumer": jbytes(owner.get(&p.id).copied().unwrap_or_default()),
                        "delivery_time_ms": p.delivery_time_ms,
                        "delivery_count": p.delivery_count,
                    })
                })
                .collect();
            let consumers: Vec<Value> = g
                .consumers
                .iter()
                .map(|c| {
                    json!({
                        "name": jbytes(&c.name),
                        "seen_time_ms": c.seen_time_ms,
                        "active_time_ms": c.active_time_ms,
                        "pending": c.pending.iter().map(|id| jid(*id)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({
                "name": jbytes(&g.name),
                "last_delivered_id": jid(g.last_delivered_id),
                "entries_read": g.entries_read,
                "pending": pending,
                "consumers": consumers,
            })
        })
        .collect();
    json!({
        "length": s.len(),
        "last_id": jid(state.last_id),
        "entries_added": state.entries_added,
        "max_deleted_entry_id": jid(state.max_deleted_entry_id),
        "entries": entries,
        "groups": groups,
    })
}
