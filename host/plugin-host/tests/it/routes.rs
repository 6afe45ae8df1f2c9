//! The example plugins on real events: filter, transform and router.

use sluice_plugin_host::{Decision, OutputFields, PluginError, WIT_VERSION};

use crate::common::{Events, compile, config, host, router};

/// (event index, destination, new fields flattened as text, or `None` for the same fields).
type Seen = (usize, String, Option<Vec<String>>);

fn seen(routed: &sluice_plugin_host::Routed) -> Vec<Seen> {
    routed
        .outputs()
        .map(|o| {
            let fields = match o.fields {
                OutputFields::Same => None,
                OutputFields::New(f) => Some(
                    f.to_flat()
                        .iter()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .collect(),
                ),
            };
            (o.event, o.destination.to_owned(), fields)
        })
        .collect()
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| (*s).to_owned()).collect())
}

#[test]
fn filter_keeps_matching_events() {
    let host = host();
    let mut eu = router(
        &host,
        "filter",
        &[
            ("field", "region"),
            ("equals", "eu"),
            ("destination", "orders.eu"),
        ],
    );
    let events = Events::new(&[
        &[("id", "1"), ("region", "eu")],
        &[("id", "2"), ("region", "us")],
        &[("id", "3")],
        &[("region", "eu"), ("id", "4")],
    ]);
    let routed = eu.route("orders", &events.refs()).expect("route");
    assert_eq!(
        seen(&routed),
        vec![(0, "orders.eu".into(), None), (3, "orders.eu".into(), None)]
    );
    assert!(routed.failures().is_empty());
    assert_eq!(eu.info().name, "filter");
    assert_eq!(eu.info().version, "0.1.1");
    assert_eq!(eu.info().wit_version, WIT_VERSION);
}

#[test]
fn filter_compares_numbers() {
    let host = host();
    let mut big = router(
        &host,
        "filter",
        &[
            ("field", "amount"),
            ("op", "gt"),
            ("value", "100"),
            ("destination", "big"),
        ],
    );
    let events = Events::new(&[
        &[("amount", "250")],
        &[("amount", "99.5")],
        &[("amount", "lots")],
        &[("amount", "100.01")],
    ]);
    let routed = big.route("payments", &events.refs()).expect("route");
    let kept: Vec<usize> = routed.outputs().map(|o| o.event).collect();
    assert_eq!(kept, vec![0, 3]);
}

#[test]
fn filter_refuses_bad_config() {
    let host = host();
    let compiled = compile(&host, "filter");
    let err = host
        .instantiate_router(&compiled, "bad", &config(&[("field", "region")]))
        .err()
        .expect("missing destination refused");
    assert!(matches!(err, PluginError::Init { .. }), "{err}");
    assert!(err.to_string().contains("destination"), "{err}");
}

#[test]
fn transform_renames_redacts_drops_and_adds() {
    let host = host();
    let mut t = router(
        &host,
        "transform",
        &[
            ("rename.cust", "customer"),
            ("redact", "card"),
            ("drop", "debug"),
            ("set.source", "web"),
        ],
    );
    let events = Events::new(&[
        &[
            ("cust", "ann"),
            ("card", "4111"),
            ("debug", "x"),
            ("total", "9"),
        ],
        &[("total", "1"), ("source", "old")],
    ]);
    let routed = t.route("orders", &events.refs()).expect("route");
    assert_eq!(
        seen(&routed),
        vec![
            (
                0,
                "orders.out".into(),
                strings(&[
                    "customer", "ann", "card", "***", "total", "9", "source", "web"
                ])
            ),
            (
                1,
                "orders.out".into(),
                strings(&["total", "1", "source", "web"])
            ),
        ]
    );
}

#[test]
fn router_sends_each_event_by_field_value() {
    let host = host();
    let mut r = router(&host, "router", &[("field", "region")]);
    let events = Events::new(&[
        &[("id", "1"), ("region", "eu")],
        &[("id", "2"), ("region", "us")],
        &[("id", "3")],
        &[("id", "4"), ("region", "eu")],
    ]);
    let routed = r.route("orders", &events.refs()).expect("route");
    assert_eq!(
        seen(&routed),
        vec![
            (0, "orders.eu".into(), None),
            (1, "orders.us".into(), None),
            (3, "orders.eu".into(), None),
        ]
    );
    assert_eq!(routed.destinations(), ["orders.eu", "orders.us"]);
    // The event without the field is a per-event failure, not a trap: the rest went through.
    assert_eq!(routed.failures().len(), 1);
    assert_eq!(routed.failures()[0].event, 2);
    assert_eq!(routed.failures()[0].reason, "no field `region` to route on");
    let decisions = routed.decisions();
    assert_eq!(decisions.len(), 4);
    assert_eq!(
        decisions[2],
        Decision::Failed("no field `region` to route on")
    );
    assert!(matches!(&decisions[1], Decision::Outputs(o) if o[0].destination == "orders.us"));
}

#[test]
fn router_prefix_and_missing_destination() {
    let host = host();
    let mut r = router(
        &host,
        "router",
        &[
            ("field", "kind"),
            ("prefix", "events"),
            ("missing", "events.other"),
        ],
    );
    let events = Events::new(&[&[("kind", "click")], &[("x", "y")]]);
    let routed = r.route("raw", &events.refs()).expect("route");
    assert_eq!(
        seen(&routed),
        vec![
            (0, "events.click".into(), None),
            (1, "events.other".into(), None)
        ]
    );
}

#[test]
fn empty_batch_calls_nothing() {
    let host = host();
    let mut r = router(&host, "router", &[("field", "region")]);
    let routed = r.route("orders", &[]).expect("route");
    assert_eq!(routed.output_count(), 0);
    assert_eq!(routed.event_count(), 0);
}

#[test]
fn instances_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<sluice_plugin_host::RouterInstance>();
    assert_send::<sluice_plugin_host::PluginHost>();
}
