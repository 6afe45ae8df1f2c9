//! The same router (`<source>.<region>`, every event forwarded) written in Rust, Python and
//! JavaScript: what each costs to load and to run. For `plugins/README.md`'s limits table.
//!
//! Run with: `cargo bench -p sluice-plugin-host --bench languages`
//!
//! Per language: the component's size; compile time without the on-disk cache and with it
//! (a restart); instantiation (a fresh instance and its `init`, as after a trap or a reload);
//! ns/event on batches of 256 events. The Python and
//! JavaScript builds install their toolchains into `target/toolchains` on first use.

#[path = "../tests/it/common.rs"]
mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::Events;
use sluice_build_plugins::lang::{Lang, build_example};
use sluice_plugin_host::{Limits, PluginHost};

const BATCH: usize = 256;

fn main() {
    let rust = sluice_build_plugins::built()
        .expect("building the Rust plugins")
        .join("router.wasm");
    let mut rows: Vec<(&str, PathBuf)> = vec![("rust", rust)];
    for (name, lang, entry) in [
        ("python", Lang::Python, "router/app.py"),
        ("javascript", Lang::JavaScript, "router/router.js"),
    ] {
        match build_example(lang, entry, "router", "router.wasm") {
            Ok(path) => rows.push((name, path)),
            Err(e) => eprintln!("{name}: skipped, it could not be built: {e}"),
        }
    }
    let fields: Vec<&[(&str, &str)]> = (0..BATCH)
        .map(|i| -> &[(&str, &str)] {
            if i % 2 == 0 {
                &[("id", "42"), ("region", "eu"), ("amount", "19.99")]
            } else {
                &[("id", "43"), ("region", "us"), ("amount", "5.00")]
            }
        })
        .collect();
    let events = Events::new(&fields);
    let refs = events.refs();
    let config = [("field".to_owned(), "region".to_owned())];
    // The broker's defaults (`plugin-max-memory`, `plugin-call-timeout-ms`), or the memory
    // limit given as the first argument, in MiB, to find what a language needs.
    let memory_mib: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(64);
    let limits = Limits {
        memory_bytes: memory_mib << 20,
        ..Limits::default()
    };
    let cache = std::env::temp_dir().join(format!("sluice-bench-cache-{}", std::process::id()));

    println!(
        "| language | size | compile | compile, cached | instantiate | ns/event ({BATCH}-event batches) |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, path) in rows {
        let bytes = std::fs::read(&path).expect("reading the component");
        let _ = std::fs::remove_dir_all(&cache);
        let cold = PluginHost::with_cache(limits, Some(&cache)).expect("host");
        let start = Instant::now();
        cold.compile(&bytes).expect("compile");
        let compile = start.elapsed();
        drop(cold);
        // The cache writes its entries from a worker thread: give it time to finish.
        std::thread::sleep(Duration::from_millis(500));
        let warm = PluginHost::with_cache(limits, Some(&cache)).expect("host");
        let start = Instant::now();
        let compiled = warm.compile(&bytes).expect("compile");
        let cached = start.elapsed();
        let start = Instant::now();
        let mut instances = 0u32;
        while start.elapsed() < Duration::from_millis(500) || instances < 3 {
            black_box(
                warm.instantiate_router(&compiled, "bench", &config)
                    .expect("instantiate"),
            );
            instances += 1;
        }
        let instantiate = start.elapsed() / instances;
        let mut router = warm
            .instantiate_router(&compiled, "bench", &config)
            .expect("instantiate");
        let per_event = measure(|| {
            let routed = router.route("orders", black_box(&refs)).expect("route");
            assert_eq!(routed.output_count(), BATCH);
        });
        println!(
            "| {name} | {:.1} MB | {:.2} s | {:.0} ms | {:.1} ms | {per_event:.0} |",
            bytes.len() as f64 / 1e6,
            compile.as_secs_f64(),
            cached.as_secs_f64() * 1e3,
            instantiate.as_secs_f64() * 1e3,
        );
        assert_eq!(
            warm.cache_hits_and_misses().0,
            1,
            "{name}: the restart was not a cache hit"
        );
    }
    let _ = std::fs::remove_dir_all(&cache);
}

/// Median over several rounds of the time per event.
fn measure(mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let mut rounds: Vec<f64> = (0..9)
        .map(|_| {
            let mut calls = 0u32;
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(200) {
                f();
                calls += 1;
            }
            start.elapsed().as_nanos() as f64 / f64::from(calls) / BATCH as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}
