//! Plugins built for an older minor WIT version keep loading: `tests/fixtures/*-wit-0.1.0.wasm`
//! are the `filter` and `dead-letter-after` components as built for WIT 0.1.0 (before the
//! `pending-state` import), committed so that no later build can refresh them.

use sluice_plugin_host::{
    ConsumerInfo, EntryId, Nack, PendingInfo, PluginHost, PolicyAction, PolicyDecision,
};

use crate::common::{Events, config, host};

/// The bytes of the committed fixture `name`.
fn fixture(name: &str) -> Vec<u8> {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()))
}

fn compile_fixture(host: &PluginHost, name: &str) -> sluice_plugin_host::CompiledPlugin {
    host.compile(&fixture(name))
        .unwrap_or_else(|e| panic!("compile {name}: {e}"))
}

#[test]
fn a_router_built_for_wit_0_1_0_still_routes() {
    let host = host();
    let compiled = compile_fixture(&host, "filter-wit-0.1.0.wasm");
    let cfg = config(&[
        ("field", "region"),
        ("equals", "eu"),
        ("destination", "orders.eu"),
    ]);
    let mut eu = host
        .instantiate_router(&compiled, "filter", &cfg)
        .expect("a 0.1.0 router loads on a 0.1.1 host");
    assert_eq!(eu.info().wit_version, "0.1.0");
    let events = Events::new(&[&[("region", "eu")], &[("region", "us")]]);
    let routed = eu.route("orders", &events.refs()).expect("route");
    let outputs: Vec<_> = routed
        .outputs()
        .map(|o| (o.event, o.destination.to_owned()))
        .collect();
    assert_eq!(outputs, vec![(0, "orders.eu".to_owned())]);
}

#[test]
fn a_policy_built_for_wit_0_1_0_still_evaluates_and_never_sees_nacks() {
    let host = host();
    let compiled = compile_fixture(&host, "dead_letter_after-wit-0.1.0.wasm");
    let cfg = config(&[("max_deliveries", "5"), ("idle_ms", "1000")]);
    let mut p = host
        .instantiate_policy(&compiled, "dla", &cfg)
        .expect("a 0.1.0 policy loads on a 0.1.1 host");
    assert_eq!(p.info().wit_version, "0.1.0");
    let fatal = PendingInfo {
        id: EntryId { ms: 2, seq: 0 },
        owner: String::new(),
        idle_ms: 10,
        deliveries: i64::MAX as u64,
        nack: Some(Nack::Fatal),
    };
    let pending = [
        PendingInfo {
            id: EntryId { ms: 1, seq: 0 },
            owner: "a".into(),
            idle_ms: 5000,
            deliveries: 5,
            nack: None,
        },
        fatal,
    ];
    let consumers = [ConsumerInfo {
        name: "a".into(),
        seen_idle_ms: 0,
        active_idle_ms: Some(0),
        pending: 1,
    }];
    let decisions = p
        .evaluate("orders", "g", &pending, &consumers)
        .expect("evaluate");
    // The old build knows only delivery counts: the FATAL entry waits for `idle_ms` like any
    // other (the current build dead-letters it at once: `policies::dead_letter_after_*`).
    assert_eq!(
        decisions,
        vec![PolicyDecision {
            entry: 0,
            action: PolicyAction::DeadLetter {
                key: "orders.dlq".into(),
                reason: "delivered 5 times".into()
            }
        }]
    );
}
