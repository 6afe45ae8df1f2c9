//! Arbitrary bytes parsed as requests and run through Sluice's command layer.
//!
//! Each input gets a fresh in-memory server ([`Harness`]: no log, no plugins, a fixed clock so
//! generated IDs and idle times repeat) and runs every request the bytes hold, under the
//! keyspace gate a connection takes, encoding each reply for the protocol the client chose.
//! Checked: no panic, no hang (libFuzzer's `-timeout`), every reply encodes, and the server
//! still answers `PING` afterwards (no gate left held, no poisoned state).
#![no_main]

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use sluice_resp::{Reply, RequestParser, encode};
use sluice_server::Clock;
use sluice_server::harness::Harness;

/// Most requests run per input: longer inputs add little but time.
const MAX_REQUESTS: usize = 64;

/// A clock that stands still.
#[derive(Debug)]
struct FixedClock;

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        1_700_000_000_000
    }
}

fuzz_target!(|data: &[u8]| {
    let mut harness = Harness::with_clock(Arc::new(FixedClock));
    let mut parser = RequestParser::new(64 * 1024);
    let mut buf = BytesMut::from(data);
    let mut out = BytesMut::new();
    for _ in 0..MAX_REQUESTS {
        let Ok(Some(args)) = parser.parse(&mut buf) else {
            break;
        };
        let reply = harness.run(args.all());
        out.clear();
        encode(&reply, harness.proto(), &mut out);
        assert!(!out.is_empty());
    }
    let ping = harness.run(&[Bytes::from_static(b"PING")]);
    assert_eq!(ping, Reply::Simple("PONG".into()));
});
