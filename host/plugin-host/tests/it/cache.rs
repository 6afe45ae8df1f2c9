//! The on-disk cache of compiled components: a second engine (a restart) loads a component
//! compiled before instead of compiling it again; a changed file is compiled anew.

use std::time::Duration;

use sluice_plugin_host::{Limits, PluginHost};

use crate::common::{config, plugin_bytes};

/// Compiles `bytes` with a fresh engine on `dir`, as a restarted broker would; returns its
/// (hits, misses), waiting up to 10 s for the entry an earlier engine writes from a worker
/// thread when `want_hit`.
fn compile_fresh(dir: &std::path::Path, bytes: &[u8], want_hit: bool) -> (usize, usize) {
    for _ in 0..100 {
        let host = PluginHost::with_cache(Limits::default(), Some(dir)).expect("host");
        host.compile(bytes).expect("compile");
        let counts = host.cache_hits_and_misses();
        if !want_hit || counts.0 == 1 {
            return counts;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "the compiled component never reached the cache in {}",
        dir.display()
    );
}

#[test]
fn a_restart_loads_the_compiled_component_and_a_changed_file_compiles_again() {
    let dir = std::env::temp_dir().join(format!("sluice-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let filter = plugin_bytes("filter");
    assert_eq!(compile_fresh(&dir, &filter, false), (0, 1), "first compile");
    assert_eq!(
        compile_fresh(&dir, &filter, true),
        (1, 0),
        "after a restart"
    );
    // What comes out of the cache runs.
    let host = PluginHost::with_cache(Limits::default(), Some(&dir)).expect("host");
    let compiled = host.compile(&filter).expect("compile");
    let cfg = config(&[("field", "region"), ("equals", "eu"), ("destination", "x")]);
    host.instantiate_router(&compiled, "cached", &cfg)
        .expect("instantiate the cached component");
    // Another file (another hash) is compiled, not taken for the first.
    let router = plugin_bytes("router");
    assert_eq!(compile_fresh(&dir, &router, false), (0, 1), "another file");
    let _ = std::fs::remove_dir_all(&dir);
}
