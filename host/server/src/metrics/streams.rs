//! The streams routes and policies use, for `/metrics`: one walk of the keyspace
//! ([`Walked`]) gives their lengths, their groups' pending counts and lags, and each route's
//! lag over its sources.

use std::collections::BTreeSet;
use std::sync::Arc;

use sluice_broker::keyspace::Value;
use sluice_broker::routes::Route;

use super::collect::{Figures, Out, escape, signed};
use crate::cmd::sluice::routes::source_lag;
use std::fmt::Error;

/// A gauge's rows, one label set each.
pub(super) type Rows<L> = Vec<(L, Option<i64>)>;

/// What one walk of the keyspace found, for [`Figures::routes`] and [`Figures::streams`].
pub(super) struct Walked {
    /// Per stream routes and policies use: its length.
    pub(super) lengths: Rows<[(&'static str, String); 1]>,
    /// Per group of those streams: pending entries, and lag.
    pub(super) pending: Rows<[(&'static str, String); 2]>,
    pub(super) lags: Rows<[(&'static str, String); 2]>,
    /// Per route, in list order: its sources' entries not routed yet (`None`: unknowable).
    pub(super) route_lags: Vec<Option<u64>>,
}

impl Figures {
    /// One walk of the keyspace: length, and each group's pending count and lag, of the
    /// streams routes and policies use (route sources and dead-letter streams, policy
    /// streams), and each route's lag over its sources.
    pub(super) fn walk(&self, routes: &[Arc<Route>]) -> Walked {
        let shared = &self.shared;
        let mut named: BTreeSet<Vec<u8>> = BTreeSet::new();
        for r in routes {
            named.extend(
                r.deployed
                    .spec
                    .dead_letter
                    .iter()
                    .map(|k| k.as_bytes().to_vec()),
            );
        }
        for p in shared.broker.policies.list() {
            named.insert(p.deployed.spec.stream.as_bytes().to_vec());
        }
        let positions: Vec<Vec<u8>> = routes
            .iter()
            .map(|r| r.deployed.spec.group_name())
            .collect();
        let mut walked = Walked {
            lengths: Vec::new(),
            pending: Vec::new(),
            lags: Vec::new(),
            route_lags: vec![Some(0); routes.len()],
        };
        if routes.is_empty() && named.is_empty() {
            // No stream of interest: no need to visit every key.
            return walked;
        }
        shared
            .broker
            .keyspace
            .db(0)
            .for_each(shared.now_ms(), |key, value, _| {
                let Value::Stream(stream) = value else {
                    return;
                };
                let mut used = named.contains(key);
                for ((r, position), lag) in
                    routes.iter().zip(&positions).zip(&mut walked.route_lags)
                {
                    if r.deployed.spec.is_source(key) {
                        used = true;
                        *lag = lag.zip(source_lag(stream, position)).map(|(a, b)| a + b);
                    }
                }
                if !used {
                    return;
                }
                let name = escape(&String::from_utf8_lossy(key));
                walked
                    .lengths
                    .push(([("stream", name.clone())], Some(signed(stream.len()))));
                for (group, g) in stream.groups() {
                    let labels = [
                        ("stream", name.clone()),
                        ("group", escape(&String::from_utf8_lossy(group))),
                    ];
                    walked
                        .pending
                        .push((labels.clone(), Some(signed(g.pending_count() as u64))));
                    walked.lags.push((labels, stream.group_lag(g)));
                }
            });
        walked
    }

    /// The stream and group figures of [`Figures::walk`].
    pub(super) fn streams(&self, out: &mut Out<'_, '_>, walked: Walked) -> Result<(), Error> {
        let Walked {
            mut lengths,
            mut pending,
            mut lags,
            ..
        } = walked;
        lengths.sort();
        pending.sort();
        lags.sort();
        out.gauges("stream_length", "Entries in the stream.", &lengths)?;
        out.gauges(
            "group_pending",
            "Entries delivered and not acknowledged.",
            &pending,
        )?;
        out.gauges(
            "group_lag",
            "Entries not yet delivered to the group.",
            &lags,
        )
    }
}
