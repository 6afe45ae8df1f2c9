//! Micro-benchmark: the per-event cost of a filter route, plugin overhead included (packing
//! the batch, crossing into the component, the filter itself, checking its answer).
//!
//! Run with: `cargo bench -p sluice-plugin-host --bench filter`
//!
//! Prints ns/event for batches of 256 events whose fields look like a small order event, half
//! of them kept. DESIGN's aim: under 300 ns/event.

#[path = "../tests/it/common.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Events, router};
use sluice_plugin_host::{Batch, Limits, PluginHost};

const BATCH: usize = 256;

fn main() {
    let host = PluginHost::new(Limits::default()).expect("host");
    let mut filter = router(
        &host,
        "filter",
        &[
            ("field", "region"),
            ("equals", "eu"),
            ("destination", "orders.eu"),
        ],
    );
    let shapes: [&[(&str, &str)]; 2] = [
        &[
            ("id", "42"),
            ("region", "eu"),
            ("amount", "19.99"),
            ("customer", "c-1017"),
        ],
        &[
            ("id", "43"),
            ("region", "us"),
            ("amount", "5.00"),
            ("customer", "c-2203"),
        ],
    ];
    let fields: Vec<&[(&str, &str)]> = (0..BATCH).map(|i| shapes[i % 2]).collect();
    let events = Events::new(&fields);
    let refs = events.refs();

    // Through `route` (packs the batch on every call), then `route_batch` (pre-packed).
    let per_event = measure(|| {
        let routed = filter.route("orders", black_box(&refs)).expect("route");
        assert_eq!(routed.output_count(), BATCH / 2);
    });
    println!("filter, route():       {per_event:>7.1} ns/event (batches of {BATCH})");

    let mut batch = Batch::new();
    for e in &refs {
        batch.push(e.id, e.fields).expect("push");
    }
    let per_event = measure(|| {
        let routed = filter
            .route_batch("orders", black_box(&batch))
            .expect("route");
        black_box(routed.output_count());
    });
    println!("filter, route_batch(): {per_event:>7.1} ns/event (batches of {BATCH})");

    let mut one = router(
        &host,
        "filter",
        &[("field", "region"), ("equals", "eu"), ("destination", "x")],
    );
    let single = &refs[..1];
    let per_call = measure_calls(|| {
        black_box(one.route("orders", black_box(single)).expect("route"));
    });
    println!("filter, batch of 1:    {per_call:>7.1} ns/call");
}

/// Median over several rounds of the time per event.
fn measure(mut f: impl FnMut()) -> f64 {
    measure_calls(&mut f) / BATCH as f64
}

/// Median over several rounds of the time per call.
fn measure_calls(mut f: impl FnMut()) -> f64 {
    for _ in 0..200 {
        f();
    }
    let mut rounds: Vec<f64> = (0..15)
        .map(|_| {
            let mut calls = 0u32;
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(100) {
                f();
                calls += 1;
            }
            start.elapsed().as_nanos() as f64 / f64::from(calls)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}
