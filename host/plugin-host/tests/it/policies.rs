//! Claim policies: the example policies (reassign-idle, dead-letter-after, backoff) on real
//! pending lists, and the `policy-misbehave` fixture contained and reported.

use std::time::{Duration, Instant};

use sluice_plugin_host::{
    ConsumerInfo, EntryId, Limits, Nack, PendingInfo, PluginError, PluginHost, PolicyAction,
    PolicyDecision, WIT_VERSION,
};

use crate::common::{compile, config, host, policy};

/// A pending entry `<ms>-0` owned by `owner`.
fn entry(ms: u64, owner: &str, idle_ms: u64, deliveries: u64) -> PendingInfo {
    PendingInfo {
        id: EntryId { ms, seq: 0 },
        owner: owner.into(),
        idle_ms,
        deliveries,
        nack: None,
    }
}

/// A consumer seen `seen_idle_ms` ago that owns `pending` entries.
fn consumer(name: &str, seen_idle_ms: u64, pending: u64) -> ConsumerInfo {
    ConsumerInfo {
        name: name.into(),
        seen_idle_ms,
        active_idle_ms: Some(seen_idle_ms),
        pending,
    }
}

fn decision(entry: usize, action: PolicyAction) -> PolicyDecision {
    PolicyDecision { entry, action }
}

fn reassign(to: &str) -> PolicyAction {
    PolicyAction::Reassign(to.into())
}

#[test]
fn reassign_idle_hands_idle_entries_to_the_least_loaded_alive_consumer() {
    let host = host();
    let mut p = policy(
        &host,
        "reassign-idle",
        &[("idle_ms", "5000"), ("alive_ms", "10000")],
    );
    assert_eq!(p.info().name, "reassign-idle");
    assert_eq!(p.info().version, "0.1.1");
    assert_eq!(p.info().wit_version, WIT_VERSION);
    let pending = [
        entry(1, "a", 6000, 1),
        entry(2, "a", 1000, 1),
        entry(3, "a", 7000, 2),
    ];
    let consumers = [
        consumer("a", 40_000, 3),
        consumer("b", 10, 2),
        consumer("c", 20, 1),
        consumer("gone", 90_000, 0),
    ];
    let decisions = p
        .evaluate("orders", "workers", &pending, &consumers)
        .expect("evaluate");
    assert_eq!(
        decisions,
        vec![decision(0, reassign("c")), decision(2, reassign("b"))]
    );
}

#[test]
fn dead_letter_after_moves_entries_delivered_too_often() {
    let host = host();
    let mut p = policy(&host, "dead-letter-after", &[("max_deliveries", "5")]);
    let pending = [entry(1, "a", 10, 4), entry(2, "a", 10, 5)];
    let decisions = p
        .evaluate("orders", "workers", &pending, &[consumer("a", 0, 2)])
        .expect("evaluate");
    assert_eq!(
        decisions,
        vec![decision(
            1,
            PolicyAction::DeadLetter {
                key: "orders.dlq".into(),
                reason: "delivered 5 times".into()
            }
        )]
    );
}

#[test]
fn dead_letter_after_moves_fatal_nacks_at_once() {
    let host = host();
    let mut p = policy(
        &host,
        "dead-letter-after",
        &[("max_deliveries", "1000"), ("idle_ms", "60000")],
    );
    let nacked = |ms, deliveries, nack| PendingInfo {
        owner: String::new(),
        nack: Some(nack),
        ..entry(ms, "", 0, deliveries)
    };
    let pending = [
        entry(1, "a", 10, 4),
        nacked(2, i64::MAX as u64, Nack::Fatal),
        nacked(3, 2000, Nack::Retry),
        // The policy goes by the flag, not the count.
        nacked(4, 3, Nack::Fatal),
    ];
    let decisions = p
        .evaluate("orders", "workers", &pending, &[consumer("a", 0, 1)])
        .expect("evaluate");
    let fatal = PolicyAction::DeadLetter {
        key: "orders.dlq".into(),
        reason: "NACKed FATAL".into(),
    };
    assert_eq!(
        decisions,
        vec![decision(1, fatal.clone()), decision(3, fatal)]
    );
}

#[test]
fn backoff_waits_longer_after_each_delivery_then_dead_letters() {
    let host = host();
    let mut p = policy(
        &host,
        "backoff",
        &[
            ("base_ms", "100"),
            ("max_deliveries", "4"),
            ("dead_letter", "orders.poison"),
        ],
    );
    let pending = [
        entry(1, "a", 150, 1), // waits 100
        entry(2, "a", 350, 3), // waits 400
        entry(3, "a", 450, 3),
        entry(4, "a", 900, 4), // waits 800, then dead-lettered
    ];
    let consumers = [consumer("a", 0, 4), consumer("b", 0, 0)];
    let decisions = p
        .evaluate("orders", "workers", &pending, &consumers)
        .expect("evaluate");
    assert_eq!(
        decisions,
        vec![
            decision(0, reassign("b")),
            decision(2, reassign("b")),
            decision(
                3,
                PolicyAction::DeadLetter {
                    key: "orders.poison".into(),
                    reason: "delivered 4 times".into()
                }
            ),
        ]
    );
}

#[test]
fn a_healthy_policy_acks_and_an_empty_round_calls_nothing() {
    let host = host();
    let mut p = policy(&host, "policy-misbehave", &[("mode", "ok")]);
    let pending = [entry(1, "a", 0, 1), entry(2, "a", 0, 1)];
    let decisions = p
        .evaluate("s", "g", &pending, &[consumer("a", 0, 2)])
        .expect("evaluate");
    assert_eq!(
        decisions,
        vec![
            decision(0, PolicyAction::Ack),
            decision(1, PolicyAction::Ack)
        ]
    );
    assert_eq!(p.evaluate("s", "g", &[], &[]).expect("empty round"), vec![]);
}

#[test]
fn a_trapping_policy_is_restarted() {
    let host = host();
    let mut p = policy(&host, "policy-misbehave", &[("mode", "trap")]);
    let pending = [entry(1, "a", 0, 1)];
    let consumers = [consumer("a", 0, 1)];
    let err = p
        .evaluate("s", "g", &pending, &consumers)
        .expect_err("trap");
    assert!(matches!(err, PluginError::Trap { .. }), "{err}");
    assert!(err.restarts_instance());
    assert!(err.to_string().contains("asked to trap"), "{err}");
    // A fresh instance, initialised again, gets the next round (and traps again).
    let err = p
        .evaluate("s", "g", &pending, &consumers)
        .expect_err("trap again");
    assert!(matches!(err, PluginError::Trap { .. }), "{err}");
    assert_eq!(p.restarts(), 1);
}

#[test]
fn an_endless_policy_is_interrupted_at_the_deadline() {
    let deadline = Duration::from_millis(60);
    let host = PluginHost::new(Limits::default()).expect("host");
    let compiled = compile(&host, "policy-misbehave");
    let limits = Limits {
        call_deadline: deadline,
        ..Limits::default()
    };
    let mut p = host
        .instantiate_policy_with_limits(&compiled, "spin", &config(&[("mode", "loop")]), limits)
        .expect("instantiate");
    assert_eq!(p.limits(), limits);
    let started = Instant::now();
    let err = p
        .evaluate("s", "g", &[entry(1, "a", 0, 1)], &[consumer("a", 0, 1)])
        .expect_err("timeout");
    let took = started.elapsed();
    assert!(
        matches!(err, PluginError::Timeout { deadline: d, .. } if d == deadline),
        "{err}"
    );
    assert!(
        err.to_string().contains("spin"),
        "named by its policy name: {err}"
    );
    // Generous: the ticker thread shares two cores with the other tests' compilations.
    assert!(took >= deadline && took < deadline * 10, "took {took:?}");
}

#[test]
fn reassigning_to_an_unknown_consumer_is_outside_the_contract() {
    let host = host();
    let mut p = policy(
        &host,
        "policy-misbehave",
        &[("mode", "unknown-consumer"), ("consumer", "ghost")],
    );
    let pending = [entry(7, "a", 0, 1)];
    let consumers = [consumer("a", 0, 1), consumer("b", 0, 0)];
    let err = p
        .evaluate("s", "g", &pending, &consumers)
        .expect_err("contract");
    assert!(matches!(err, PluginError::Contract { .. }), "{err}");
    assert!(!err.restarts_instance());
    let text = err.to_string();
    assert!(text.contains("\"ghost\"") && text.contains("7-0"), "{text}");
    assert_eq!(p.restarts(), 0);
}

#[test]
fn a_failed_round_keeps_the_instance() {
    let host = host();
    let mut p = policy(&host, "policy-misbehave", &[("mode", "error")]);
    let err = p
        .evaluate("s", "g", &[entry(1, "a", 0, 1)], &[consumer("a", 0, 1)])
        .expect_err("error");
    assert!(
        matches!(&err, PluginError::Plugin { reason, .. } if reason == "policy-misbehave: asked to fail"),
        "{err}"
    );
    assert_eq!(p.restarts(), 0);
}

#[test]
fn a_policy_refuses_bad_config() {
    let host = host();
    let compiled = compile(&host, "dead-letter-after");
    let err = host
        .instantiate_policy(&compiled, "dlq", &config(&[("max_deliveries", "0")]))
        .err()
        .expect("refused");
    assert!(matches!(err, PluginError::Init { .. }), "{err}");
    assert!(err.to_string().contains("max_deliveries"), "{err}");
}

#[test]
fn routers_and_policies_are_not_interchangeable() {
    let host = host();
    let router = compile(&host, "filter");
    let policy = compile(&host, "reassign-idle");
    assert!(router.is_router() && !router.is_policy());
    assert!(policy.is_policy() && !policy.is_router());

    let err = host
        .instantiate_policy(&router, "oops", &config(&[]))
        .err()
        .expect("a router is not a policy");
    assert!(matches!(err, PluginError::Link { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("not a claim policy plugin") && text.contains("it is a router plugin"),
        "{text}"
    );

    let err = host
        .instantiate_router(&policy, "oops", &config(&[("idle_ms", "1")]))
        .err()
        .expect("a policy is not a router");
    assert!(matches!(err, PluginError::Link { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("not a router plugin") && text.contains("it is a claim policy plugin"),
        "{text}"
    );
}

#[test]
fn policy_instances_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<sluice_plugin_host::PolicyInstance>();
}
