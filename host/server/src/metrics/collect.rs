//! What `/metrics` shows, read at each scrape ([`Figures`]). Names are `sluice_` + the name
//! below; counters end in `_total`, durations in `_seconds`, sizes in `_bytes`.
//!
//! - Commands: `commands_total`, `command_errors_total` (ran, replied an error),
//!   `command_rejections_total` (refused before running: ACL, OOM, MISCONF, …),
//!   `command_duration_seconds_total`, each labelled `command`.
//! - Clients and memory: `connected_clients`, `blocked_clients`,
//!   `connections_received_total`, `memory_used_bytes` (`INFO`'s estimate),
//!   `memory_rss_bytes`, `keys`.
//! - The log: `log_records_total` (appended), `log_disk_bytes`, `log_writes_total`,
//!   `log_fsyncs_total`, `log_fsync_duration_seconds` (histogram), `log_write_failing` (1
//!   while writes are refused). Snapshots: `snapshots_total`, `snapshot_bytes`,
//!   `snapshot_last_duration_seconds`, `snapshot_last_success_timestamp_seconds`,
//!   `snapshot_last_failed`.
//! - Routes, labelled `route`: `route_events_in_total`, `route_events_out_total`,
//!   `route_dropped_total`, `route_dead_lettered_total`, `route_skipped_total`,
//!   `route_batches_total`, `route_restarts_total`, `route_reloads_total`, `route_lag` (absent
//!   when deletions make it unknowable), `route_plugin_duration_seconds` (histogram, per plugin
//!   call).
//! - Claim policies, labelled `policy`: `policy_evaluations_total`,
//!   `policy_failed_evaluations_total`, `policy_reassigned_total`,
//!   `policy_dead_lettered_total`, `policy_acked_total`, `policy_stale_total`,
//!   `policy_reloads_total`, `policy_pending` (seen by the last evaluation),
//!   `policy_evaluation_duration_seconds` (histogram).
//! - Plugins: `plugin_reloads_total`, labelled `result` (`ok`, `failed`).
//! - The streams routes and policies use (route sources and dead-letter streams, policy
//!   streams), labelled `stream`: `stream_length`; per consumer group, labelled `stream` and
//!   `group`: `group_pending`, `group_lag` (absent when unknowable).

use std::fmt::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use sluice_broker::routes::Route;
use sluice_storage::TimingsSnapshot;

use crate::cmd::server::info::memory::resident_bytes;
use crate::shared::Shared;

/// A registry holding the one collector, names prefixed `sluice_`.
pub fn registry(shared: Arc<Shared>) -> Registry {
    let mut registry = Registry::with_prefix("sluice");
    registry.register_collector(Box::new(Figures { shared }));
    registry
}

/// Reads the server's figures at each scrape.
#[derive(Debug)]
pub(super) struct Figures {
    pub(super) shared: Arc<Shared>,
}

/// Writes the metric families of one scrape.
pub(super) struct Out<'e, 'a> {
    encoder: &'e mut DescriptorEncoder<'a>,
}

impl Out<'_, '_> {
    pub(super) fn family(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<&Unit>,
        kind: MetricType,
        mut each: impl FnMut(&mut MetricEncoder<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut metric = self.encoder.encode_descriptor(name, help, unit, kind)?;
        each(&mut metric)
    }

    /// A metric without labels.
    pub(super) fn single(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<&Unit>,
        metric: impl EncodeMetric,
    ) -> Result<(), Error> {
        let encoder = self
            .encoder
            .encode_descriptor(name, help, unit, metric.metric_type())?;
        metric.encode(encoder)
    }

    pub(super) fn counter(&mut self, name: &str, help: &str, value: u64) -> Result<(), Error> {
        self.single(name, help, None, ConstCounter::new(value))
    }

    pub(super) fn gauge(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<&Unit>,
        value: i64,
    ) -> Result<(), Error> {
        self.single(name, help, unit, ConstGauge::new(value))
    }

    /// One counter per label set.
    pub(super) fn counters<L: EncodeLabelSet>(
        &mut self,
        name: &str,
        help: &str,
        rows: &[(L, u64)],
    ) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        self.family(name, help, None, MetricType::Counter, |m| {
            rows.iter().try_for_each(|(labels, value)| {
                ConstCounter::new(*value).encode(m.encode_family(labels)?)
            })
        })
    }

    /// One gauge per label set; `None` values are left out.
    pub(super) fn gauges<L: EncodeLabelSet>(
        &mut self,
        name: &str,
        help: &str,
        rows: &[(L, Option<i64>)],
    ) -> Result<(), Error> {
        if rows.iter().all(|(_, v)| v.is_none()) {
            return Ok(());
        }
        self.family(name, help, None, MetricType::Gauge, |m| {
            rows.iter().try_for_each(|(labels, value)| match value {
                Some(v) => ConstGauge::new(*v).encode(m.encode_family(labels)?),
                None => Ok(()),
            })
        })
    }

    /// One histogram per label set, in seconds.
    pub(super) fn histograms<L: EncodeLabelSet>(
        &mut self,
        name: &str,
        help: &str,
        rows: &[(L, TimingsSnapshot)],
    ) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        self.family(
            name,
            help,
            Some(&Unit::Seconds),
            MetricType::Histogram,
            |m| {
                rows.iter()
                    .try_for_each(|(labels, t)| Histogram(t).encode(m.encode_family(labels)?))
            },
        )
    }
}

/// A counter of a route's or a policy's stats: name, help, how to read it.
type Counter<S> = (&'static str, &'static str, fn(&S) -> u64);

/// A [`TimingsSnapshot`] as a Prometheus histogram, in seconds.
#[derive(Debug)]
struct Histogram<'t>(&'t TimingsSnapshot);

impl EncodeMetric for Histogram<'_> {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), Error> {
        let t = self.0;
        encoder.encode_histogram::<NoLabelSet>(t.sum_seconds, t.count, &t.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// `text` as a label value of the text format: `\`, `"` and line feeds escaped. The encoder
/// writes label values as given, and stream and group names are the clients' to choose: a
/// name must not end the label or the line and forge samples.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn n(a: &AtomicU64) -> u64 {
    a.load(Relaxed)
}

pub(super) fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Collector for Figures {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), Error> {
        let mut out = Out {
            encoder: &mut encoder,
        };
        let routes = self.shared.broker.routes.list();
        let walked = self.walk(&routes);
        self.commands(&mut out)?;
        self.server(&mut out)?;
        self.log(&mut out)?;
        self.routes(&mut out, &routes, &walked.route_lags)?;
        self.policies(&mut out)?;
        self.streams(&mut out, walked)
    }
}

impl Figures {
    fn commands(&self, out: &mut Out<'_, '_>) -> Result<(), Error> {
        let figures = self.shared.command_stats.figures();
        let rows = |value: fn(&crate::stats::CommandFigures) -> u64| -> Vec<_> {
            figures
                .iter()
                .map(|f| ([("command", f.name.as_str())], value(f)))
                .collect()
        };
        out.counters("commands", "Commands run.", &rows(|f| f.calls))?;
        out.counters(
            "command_errors",
            "Commands that ran and replied an error.",
            &rows(|f| f.failed),
        )?;
        out.counters(
            "command_rejections",
            "Commands refused before running (ACL, OOM, MISCONF, arity, ...).",
            &rows(|f| f.rejected),
        )?;
        out.family(
            "command_duration",
            "Time spent running commands.",
            Some(&Unit::Seconds),
            MetricType::Counter,
            |m| {
                figures.iter().try_for_each(|f| {
                    ConstCounter::new(f.seconds)
                        .encode(m.encode_family(&[("command", f.name.as_str())])?)
                })
            },
        )
    }

    fn server(&self, out: &mut Out<'_, '_>) -> Result<(), Error> {
        let shared = &self.shared;
        let clients = shared.clients.len();
        out.gauge(
            "connected_clients",
            "Client connections open.",
            None,
            signed(clients as u64),
        )?;
        out.gauge(
            "blocked_clients",
            "Clients waiting in a blocking command.",
            None,
            signed(shared.broker.blocking.len() as u64),
        )?;
        out.counter(
            "connections_received",
            "Connections accepted.",
            n(&shared.stats.connections_received),
        )?;
        let used = shared.broker.memory.measure(&shared.broker, clients);
        out.gauge(
            "memory_used",
            "Memory the data and clients use (INFO's used_memory, an estimate).",
            Some(&Unit::Bytes),
            signed(used),
        )?;
        if let Some(rss) = resident_bytes() {
            out.gauge(
                "memory_rss",
                "Resident set size.",
                Some(&Unit::Bytes),
                signed(rss),
            )?;
        }
        out.gauge(
            "keys",
            "Keys in the keyspace.",
            None,
            signed(shared.broker.keyspace.db(0).len() as u64),
        )?;
        let loader = shared.broker.plugins.status.lock().clone();
        out.counters(
            "plugin_reloads",
            "Reloads of the plugins folder, by result.",
            &[
                ([("result", "ok")], loader.reloads_ok),
                ([("result", "failed")], loader.reloads_failed),
            ],
        )
    }

    fn log(&self, out: &mut Out<'_, '_>) -> Result<(), Error> {
        let Some(wal) = self.shared.broker.journal.wal() else {
            return Ok(());
        };
        let stats = wal.stats();
        out.counter(
            "log_records",
            "Records appended to the log.",
            stats.appended_lsn,
        )?;
        out.gauge(
            "log_disk",
            "Size of the log segments on disk.",
            Some(&Unit::Bytes),
            signed(stats.disk_bytes),
        )?;
        out.counter(
            "log_writes",
            "write(2) calls on log segments.",
            stats.writes,
        )?;
        out.counter("log_fsyncs", "fsyncs of log segments.", stats.fsyncs)?;
        out.single(
            "log_fsync_duration",
            "How long each fsync of the log took.",
            Some(&Unit::Seconds),
            Histogram(&wal.fsync_timings()),
        )?;
        out.gauge(
            "log_write_failing",
            "1 while the log cannot be written and writes are refused (MISCONF).",
            None,
            i64::from(stats.failure.is_some()),
        )?;
        let save = &stats.save;
        out.counter("snapshots", "Snapshots written.", save.saves)?;
        out.gauge(
            "snapshot",
            "Size of the newest snapshot.",
            Some(&Unit::Bytes),
            signed(save.bytes),
        )?;
        out.single(
            "snapshot_last_duration",
            "How long the last snapshot took to write.",
            Some(&Unit::Seconds),
            ConstGauge::new(save.last_duration_ms as f64 / 1e3),
        )?;
        out.gauge(
            "snapshot_last_success_timestamp",
            "Unix time of the last snapshot written or loaded.",
            Some(&Unit::Seconds),
            signed(save.last_save_unix_s),
        )?;
        out.gauge(
            "snapshot_last_failed",
            "1 if the last snapshot attempt failed.",
            None,
            i64::from(save.last_status != sluice_storage::SaveStatus::Ok),
        )
    }

    fn routes(
        &self,
        out: &mut Out<'_, '_>,
        routes: &[Arc<Route>],
        route_lags: &[Option<u64>],
    ) -> Result<(), Error> {
        let label = |r: &Route| [("route", escape(&r.deployed.spec.name))];
        let rows = |value: fn(&sluice_broker::routes::RouteStats) -> u64| -> Vec<_> {
            routes
                .iter()
                .map(|r| (label(r), value(&r.deployed.stats)))
                .collect()
        };
        type S = sluice_broker::routes::RouteStats;
        let counters: [Counter<S>; 8] = [
            ("route_events_in", "Source events routed.", |s| {
                n(&s.events_in)
            }),
            (
                "route_events_out",
                "Entries appended to destination streams.",
                |s| n(&s.events_out),
            ),
            ("route_dropped", "Events that produced no output.", |s| {
                n(&s.dropped)
            }),
            (
                "route_dead_lettered",
                "Events appended to the dead-letter stream.",
                |s| n(&s.dead_lettered),
            ),
            (
                "route_skipped",
                "Failed events dropped (on_error = skip).",
                |s| n(&s.skipped),
            ),
            ("route_batches", "Batches committed.", |s| n(&s.batches)),
            (
                "route_restarts",
                "Plugin instances re-created after a trap, timeout or memory exhaustion.",
                |s| n(&s.restarts),
            ),
            ("route_reloads", "Reloads of the route.", |s| n(&s.reloads)),
        ];
        for (name, help, value) in counters {
            out.counters(name, help, &rows(value))?;
        }
        let lags: Vec<_> = routes
            .iter()
            .zip(route_lags)
            .map(|(r, lag)| (label(r), lag.map(signed)))
            .collect();
        out.gauges("route_lag", "Source entries not routed yet.", &lags)?;
        let times: Vec<_> = routes
            .iter()
            .map(|r| (label(r), r.deployed.stats.plugin_calls.snapshot()))
            .collect();
        out.histograms(
            "route_plugin_duration",
            "How long each call of the route's plugin took.",
            &times,
        )
    }

    fn policies(&self, out: &mut Out<'_, '_>) -> Result<(), Error> {
        let policies = self.shared.broker.policies.list();
        let label = |p: &sluice_broker::policies::Policy| [("policy", escape(&p.deployed.name))];
        let rows = |value: fn(&sluice_broker::policies::PolicyStats) -> u64| -> Vec<_> {
            policies
                .iter()
                .map(|p| (label(p), value(&p.deployed.stats)))
                .collect()
        };
        type S = sluice_broker::policies::PolicyStats;
        let counters: [Counter<S>; 7] = [
            ("policy_evaluations", "Evaluations applied.", |s| {
                n(&s.evaluations)
            }),
            (
                "policy_failed_evaluations",
                "Evaluations that failed (nothing applied).",
                |s| n(&s.failed),
            ),
            (
                "policy_reassigned",
                "Entries moved to another consumer.",
                |s| n(&s.reassigned),
            ),
            (
                "policy_dead_lettered",
                "Entries dead-lettered and acknowledged.",
                |s| n(&s.dead_lettered),
            ),
            ("policy_acked", "Entries acknowledged.", |s| n(&s.acked)),
            (
                "policy_stale",
                "Decisions dropped because the entry changed meanwhile.",
                |s| n(&s.stale),
            ),
            (
                "policy_reloads",
                "Reloads of the policy.",
                |s| n(&s.reloads),
            ),
        ];
        for (name, help, value) in counters {
            out.counters(name, help, &rows(value))?;
        }
        let pending: Vec<_> = policies
            .iter()
            .map(|p| (label(p), Some(signed(n(&p.deployed.stats.last_pending)))))
            .collect();
        out.gauges(
            "policy_pending",
            "Pending entries the last evaluation saw.",
            &pending,
        )?;
        let times: Vec<_> = policies
            .iter()
            .map(|p| (label(p), p.deployed.stats.evaluation_times.snapshot()))
            .collect();
        out.histograms(
            "policy_evaluation_duration",
            "How long each evaluation took.",
            &times,
        )
    }
}
