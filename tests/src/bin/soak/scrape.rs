//! `--scrape-metrics`: while the load runs, `/metrics` of the started server is scraped once a
//! second over HTTP, as Prometheus would, and the verdict checks that every scrape answered
//! and that the XADD counter kept up with the producers.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::verify::Check;

/// What the scrapes saw.
#[derive(Debug, Default)]
pub struct ScrapeLog {
    /// Scrapes answered 200 with an OpenMetrics body.
    pub ok: u64,
    /// What went wrong with the others (the first few).
    pub failures: Vec<String>,
    pub failed: u64,
    /// `sluice_commands_total{command="xadd"}` at each good scrape.
    pub xadds: Vec<f64>,
}

/// Scrapes `addr` every second until `stop` turns true.
pub fn start(addr: SocketAddr, stop: watch::Receiver<bool>) -> JoinHandle<ScrapeLog> {
    tokio::task::spawn_blocking(move || {
        let mut log = ScrapeLog::default();
        let url = format!("http://{addr}/metrics");
        while !*stop.borrow() {
            match scrape_xadds(&url) {
                Ok(xadds) => {
                    log.ok += 1;
                    log.xadds.push(xadds);
                }
                Err(e) => {
                    log.failed += 1;
                    if log.failures.len() < 5 {
                        log.failures.push(e);
                    }
                }
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        log
    })
}

/// One scrape: the XADD counter (0 before the first XADD).
fn scrape_xadds(url: &str) -> Result<f64, String> {
    let response = ureq::get(url)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let body = response
        .into_body()
        .read_to_string()
        .map_err(|e| format!("reading {url}: {e}"))?;
    if !body.ends_with("# EOF\n") {
        return Err(format!("{url}: the body does not end with # EOF"));
    }
    Ok(body
        .lines()
        .find_map(|l| l.strip_prefix("sluice_commands_total{command=\"xadd\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0))
}

/// The verdict on the scrapes: all answered, the XADD count never went down and grew to at
/// least `acknowledged_xadds` × (the share of the run the last scrape saw) — checked simply as
/// growing past half of it.
pub fn check(log: &ScrapeLog, acknowledged_xadds: u64) -> Check {
    let mut check = Check::new("metrics endpoint answered every scrape");
    check.note(format!(
        "{} scrapes answered, {} failed",
        log.ok, log.failed
    ));
    for failure in &log.failures {
        check.fail(failure.clone());
    }
    if log.ok == 0 {
        check.fail("no scrape answered".to_owned());
    }
    if log.xadds.windows(2).any(|w| w[1] < w[0]) {
        check.fail(format!("the XADD counter went down: {:?}", log.xadds));
    }
    let last = log.xadds.last().copied().unwrap_or(0.0);
    check.note(format!(
        "last XADD count scraped {last}, {acknowledged_xadds} acknowledged over the run"
    ));
    if last * 2.0 < acknowledged_xadds as f64 {
        check.fail(format!(
            "the XADD counter ({last}) lags far behind the acknowledged XADDs ({acknowledged_xadds})"
        ));
    }
    check
}
