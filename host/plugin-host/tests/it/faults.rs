//! The misbehaving fixtures: each must be contained, reported as what it is, and leave the host
//! able to go on.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_plugin_host::{Limits, PluginError, PluginHost, WIT_VERSION};

use crate::common::{Events, compile, config, host, plugin_bytes, router};

#[test]
fn trap_is_reported_and_the_next_call_works() {
    let host = host();
    let mut t = router(&host, "trap-on", &[("field", "kind"), ("value", "poison")]);
    let good = Events::new(&[&[("kind", "ok")]]);
    let bad = Events::new(&[&[("kind", "ok")], &[("kind", "poison")]]);

    let routed = t.route("in", &good.refs()).expect("healthy call");
    assert_eq!(routed.output_count(), 1);

    let err = t.route("in", &bad.refs()).expect_err("trap");
    assert!(matches!(err, PluginError::Trap { .. }), "{err}");
    assert!(err.restarts_instance());
    // The guest's panic message is quoted from its stderr.
    let text = err.to_string();
    assert!(
        text.contains("panicked at") && text.contains("trap-on: kind = poison"),
        "{text}"
    );
    assert!(
        !text.contains('\n'),
        "one line, fit for a dead-letter field: {text}"
    );

    // A fresh instance, initialised again, handles the next batch.
    let routed = t.route("in", &good.refs()).expect("call after the trap");
    assert_eq!(
        routed.outputs().next().map(|o| o.destination),
        Some("in.ok")
    );
    assert_eq!(t.restarts(), 1);
}

#[test]
fn endless_loop_is_interrupted_at_the_deadline() {
    let deadline = Duration::from_millis(60);
    let host = PluginHost::new(Limits {
        call_deadline: deadline,
        ..Limits::default()
    })
    .expect("host");
    let mut l = router(&host, "loop-forever", &[]);
    let events = Events::new(&[&[("a", "b")]]);

    let started = Instant::now();
    let err = l.route("in", &events.refs()).expect_err("timeout");
    let took = started.elapsed();
    assert!(
        matches!(err, PluginError::Timeout { deadline: d, .. } if d == deadline),
        "{err}"
    );
    assert!(
        took >= deadline,
        "stopped after {took:?}, before the deadline"
    );
    // Generous: the ticker thread shares two cores with the other tests' compilations.
    assert!(took < deadline * 10, "stopped only after {took:?}");

    // Still contained on the next call (a new instance, the same fate).
    let err = l.route("in", &events.refs()).expect_err("timeout again");
    assert!(matches!(err, PluginError::Timeout { .. }), "{err}");
    assert_eq!(l.restarts(), 1);
}

#[test]
fn memory_hog_is_stopped_at_its_limit() {
    let limit = 8 << 20;
    let host = PluginHost::new(Limits {
        memory_bytes: limit,
        ..Limits::default()
    })
    .expect("host");
    let mut hog = router(&host, "memory-hog", &[]);
    let events = Events::new(&[&[("a", "b")]]);
    let err = hog.route("in", &events.refs()).expect_err("out of memory");
    assert!(
        matches!(err, PluginError::OutOfMemory { limit_bytes, .. } if limit_bytes == limit),
        "{err}"
    );
    assert!(err.restarts_instance());
}

#[test]
fn incompatible_major_version_is_refused_naming_both_versions() {
    let host = host();
    let err = host
        .compile(&plugin_bytes("incompatible"))
        .err()
        .expect("refused");
    assert!(
        matches!(&err, PluginError::Incompatible { plugin_version, host_version, .. }
            if plugin_version == "1.0.0" && *host_version == WIT_VERSION),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("sluice:plugin@1.0.0"), "{text}");
    assert!(
        text.contains(&format!("sluice:plugin@{WIT_VERSION}")),
        "{text}"
    );
    assert!(text.contains("major version"), "{text}");
}

#[test]
fn garbage_is_not_a_component() {
    let err = host().compile(b"\0asm not really").err().expect("refused");
    assert!(matches!(err, PluginError::Compile { .. }), "{err}");
}

#[test]
fn sandbox_probe_gets_nothing() {
    let host = host();
    let mut probe = router(&host, "sandbox-probe", &[]);
    let events = Events::new(&[&[("a", "b")]]);
    let routed = probe.route("in", &events.refs()).expect("route");
    let out = routed.outputs().next().expect("one output");
    assert_eq!(out.destination, "probe");
    let sluice_plugin_host::OutputFields::New(fields) = out.fields else {
        panic!("probe emits new fields")
    };
    let report: std::collections::HashMap<String, String> = fields
        .iter()
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect();
    let got = |k: &str| report.get(k).map_or("<missing>", String::as_str);
    assert!(got("file").starts_with("error"), "file: {}", got("file"));
    assert!(got("dir").starts_with("error"), "dir: {}", got("dir"));
    assert_eq!(got("env"), "[]");
    assert!(got("home").starts_with("error"), "home: {}", got("home"));
    assert_eq!(got("args"), "0");
    assert_eq!(
        got("wall_clock_ms"),
        "ok: 0",
        "the wall clock is frozen at the epoch"
    );
    assert_eq!(
        got("monotonic_elapsed_ns"),
        "0",
        "the monotonic clock does not move"
    );
    assert!(
        got("socket").starts_with("error"),
        "socket: {}",
        got("socket")
    );
}

#[test]
fn plugin_log_lines_reach_tracing_tagged_with_the_route_name() {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let host = host();
    let compiled = compile(&host, "trap-on");
    tracing::subscriber::with_default(subscriber, || {
        host.instantiate_router(
            &compiled,
            "poison-guard",
            &config(&[("field", "k"), ("value", "v")]),
        )
        .expect("instantiate");
    });
    let logged = String::from_utf8(buf.0.lock().expect("log buffer").clone()).expect("utf-8");
    assert!(logged.contains("INFO"), "{logged}");
    assert!(logged.contains("plugin=\"poison-guard\""), "{logged}");
    assert!(logged.contains("armed: traps on k = v"), "{logged}");
}
