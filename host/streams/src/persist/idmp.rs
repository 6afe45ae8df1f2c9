//! The idempotency section that ends a version 3 stream payload (format in `mod.rs`).

use super::reader::Reader;
use crate::varint::{put, put_bytes};
use crate::{
    DecodeError, IDMP_DURATION_MAX, IDMP_DURATION_MIN, IDMP_MAXSIZE_MAX, IDMP_MAXSIZE_MIN,
    IdmpConfig, IdmpRecord, IdmpState, Stream,
};

/// Smallest encoding of a producer and of a record, to bound counts.
const MIN_PRODUCER_BYTES: usize = 2;
const MIN_RECORD_BYTES: usize = 4;

pub(super) fn encode(stream: &Stream, out: &mut Vec<u8>) {
    let state = stream.idmp_state();
    match state.config {
        None => put(out, 0),
        Some(c) => {
            put(out, 1);
            put(out, c.duration_s);
            put(out, c.maxsize);
        }
    }
    put(out, state.iids_added);
    put(out, state.iids_duplicates);
    put(out, state.producers.len() as u64);
    for (pid, records) in &state.producers {
        put_bytes(out, pid);
        put(out, records.len() as u64);
        for r in records {
            put_bytes(out, &r.iid);
            put(out, r.id.ms);
            put(out, r.id.seq);
            put(out, r.added_ms);
        }
    }
}

pub(super) fn decode(r: &mut Reader<'_>) -> Result<IdmpState, DecodeError> {
    let at = r.pos();
    let config = match r.varint("bad IDMP config flag")? {
        0 => None,
        1 => {
            let duration_s = r.varint("bad IDMP duration")?;
            let maxsize = r.varint("bad IDMP maxsize")?;
            if !(IDMP_DURATION_MIN..=IDMP_DURATION_MAX).contains(&duration_s)
                || !(IDMP_MAXSIZE_MIN..=IDMP_MAXSIZE_MAX).contains(&maxsize)
            {
                return Err(Reader::corrupt_at(at, "IDMP config out of range"));
            }
            Some(IdmpConfig {
                duration_s,
                maxsize,
            })
        }
        _ => return Err(Reader::corrupt_at(at, "bad IDMP config flag")),
    };
    let iids_added = r.varint("bad iids-added")?;
    let iids_duplicates = r.varint("bad iids-duplicates")?;
    let count = r.count(MIN_PRODUCER_BYTES, "bad IDMP producer count")?;
    let mut producers: Vec<(Box<[u8]>, Vec<IdmpRecord>)> = Vec::new();
    for _ in 0..count {
        let at = r.pos();
        let pid = r.bytes("IDMP producer out of bounds")?;
        if producers.last().is_some_and(|(prev, _)| **prev >= *pid) {
            return Err(Reader::corrupt_at(at, "IDMP producers out of order"));
        }
        let n = r.count(MIN_RECORD_BYTES, "bad IDMP record count")?;
        let mut records = Vec::new();
        for _ in 0..n {
            let iid = r.bytes("IDMP iid out of bounds")?.into();
            let id = r.id("bad IDMP entry ID")?;
            let added_ms = r.varint("bad IDMP time")?;
            records.push(IdmpRecord { iid, id, added_ms });
        }
        producers.push((pid.into(), records));
    }
    Ok(IdmpState {
        config,
        producers,
        iids_added,
        iids_duplicates,
    })
}
