//! The results of a run and the table that reports them.
//!
//! The quoted number is the ratio Sluice/Redis. Each run measures both servers back to back,
//! so the ratio is taken per run and the median of those is reported: on a shared box the load
//! drifts between runs far more than within one pair, and a per-run ratio cancels that drift
//! where a ratio of two medians would not. The spread of per-run ratios is printed beside it.

use crate::server::Kind;
use crate::workloads::{Goal, Sample};

/// Everything measured for one workload.
#[derive(Debug)]
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub goal: Goal,
    /// What the Redis column holds: `redis`, or e.g. `sluice:off` for a Sluice-vs-Sluice row.
    pub baseline: String,
    /// Samples per server, in run order.
    pub sluice: Vec<Sample>,
    pub redis: Vec<Sample>,
    /// Why a server has no (or fewer) samples: it did not start, or a command failed.
    pub errors: Vec<(Kind, anyhow::Error)>,
}

impl Row {
    pub fn new(name: String, unit: &'static str, goal: Goal, baseline: String) -> Self {
        Row {
            name,
            unit,
            goal,
            baseline,
            sluice: vec![],
            redis: vec![],
            errors: vec![],
        }
    }

    pub fn failed(&self, kind: Kind) -> bool {
        self.errors.iter().any(|(k, _)| *k == kind)
    }

    pub fn push(&mut self, kind: Kind, sample: Sample) {
        match kind {
            Kind::Sluice => self.sluice.push(sample),
            Kind::Redis => self.redis.push(sample),
        }
    }

    /// Sluice/Redis per run, when both servers completed the same runs; for a scaling goal,
    /// Sluice's own scaling per run.
    fn run_ratios(&self) -> Vec<f64> {
        if let Goal::ScalingAtMost(_) = self.goal {
            return self.sluice.iter().filter_map(|s| s.scaling).collect();
        }
        // No baseline to divide by: each run against the target instead.
        if let (Goal::ValueAtLeast(target) | Goal::ValueAtMost(target), true) =
            (self.goal, self.redis.is_empty())
        {
            return self.sluice.iter().map(|s| s.value / target).collect();
        }
        if self.sluice.len() != self.redis.len() {
            return vec![];
        }
        self.sluice
            .iter()
            .zip(&self.redis)
            .filter(|(_, r)| r.value > 0.0)
            .map(|(s, r)| s.value / r.value)
            .collect()
    }

    /// The figure the goal judges: Sluice's median value for `ValueAt…`, else the ratio.
    fn judged(&self) -> Option<f64> {
        match self.goal {
            Goal::ValueAtMost(_) | Goal::ValueAtLeast(_) => median(values(&self.sluice)),
            _ => self.ratio(),
        }
    }

    /// The median per-run ratio; the ratio of the medians if the runs do not pair up.
    fn ratio(&self) -> Option<f64> {
        if let Goal::ScalingAtMost(_) = self.goal {
            return median(self.run_ratios());
        }
        median(self.run_ratios()).or_else(|| {
            let sluice = median(values(&self.sluice))?;
            let redis = median(values(&self.redis))?;
            (redis > 0.0).then(|| sluice / redis)
        })
    }
}

fn values(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.value).collect()
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

const COLUMNS: [&str; 7] = [
    "workload",
    "sluice",
    "redis",
    "ratio",
    "run ratios",
    "target",
    "verdict",
];

/// Prints the summary table, then every run and every note, then the errors.
pub fn print(rows: &[Row], redis_only: bool) {
    let mut lines: Vec<[String; 7]> = vec![COLUMNS.map(str::to_owned)];
    for row in rows {
        let cell = |samples: &[Sample]| match median(values(samples)) {
            Some(v) => format!("{} {}", format_value(v, row.unit), row.unit),
            None => "-".to_owned(),
        };
        let ratio = row.ratio();
        let run_ratios = row.run_ratios();
        let spread = match (
            run_ratios.iter().copied().reduce(f64::min),
            run_ratios.iter().copied().reduce(f64::max),
        ) {
            (Some(lo), Some(hi)) if run_ratios.len() > 1 => format!("{lo:.2}-{hi:.2}"),
            _ => "-".to_owned(),
        };
        let verdict = match (row.errors.is_empty(), row.judged()) {
            (false, _) => "ERROR",
            (true, _) if matches!(row.goal, Goal::Info) => "info",
            (true, Some(figure)) if row.goal.met(figure) => "ok",
            (true, Some(_)) => "BELOW TARGET",
            (true, None) if redis_only => "-",
            (true, None) => "no data",
        };
        lines.push([
            row.name.clone(),
            cell(&row.sluice),
            cell(&row.redis),
            ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x")),
            spread,
            row.goal.describe(row.unit),
            verdict.to_owned(),
        ]);
    }
    print_aligned(&lines);

    // What the summary hides: every run, so the noise can be judged, and each sample's notes.
    println!();
    for row in rows {
        for (label, samples) in [("sluice", &row.sluice), (row.baseline.as_str(), &row.redis)] {
            if samples.is_empty() {
                continue;
            }
            let runs: Vec<String> = samples
                .iter()
                .map(|s| format_value(s.value, row.unit))
                .collect();
            let notes: Vec<&str> = samples.iter().filter_map(|s| s.note.as_deref()).collect();
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("; {}", notes.join("; "))
            };
            println!("{:<24} {label:<6} {}{notes}", row.name, runs.join(", "));
        }
    }
    for row in rows {
        for (kind, err) in &row.errors {
            let label = match kind {
                Kind::Sluice => "sluice",
                Kind::Redis => row.baseline.as_str(),
            };
            println!("{:<24} {label:<6} error: {err:#}", row.name);
        }
    }
}

fn print_aligned(lines: &[[String; 7]]) {
    let mut widths = [0usize; 7];
    for line in lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    println!();
    for (i, line) in lines.iter().enumerate() {
        let mut out = String::new();
        for (col, (cell, w)) in line.iter().zip(widths).enumerate() {
            // Names and verdicts read left-aligned, numbers right-aligned.
            if col == 0 || col == COLUMNS.len() - 1 {
                out.push_str(&format!("{cell:<w$}  "));
            } else {
                out.push_str(&format!("{cell:>w$}  "));
            }
        }
        println!("{}", out.trim_end());
        if i == 0 {
            println!(
                "{}",
                "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1))
            );
        }
    }
}

/// Throughputs (`…/s`) as whole numbers with thousands separators; other units with one or two
/// decimals.
pub fn format_value(value: f64, unit: &str) -> String {
    if !unit.ends_with("/s") {
        // Two decimals for small values (a few µs per call), where one hides real differences.
        return if value.abs() < 10.0 {
            format!("{value:.2}")
        } else {
            format!("{value:.1}")
        };
    }
    let digits = (value.round() as u64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
