//! Routes end to end: the example plugins (filter, transform, router) on real events, through
//! a real server and the `redis` client. Faults are in `routes_faults.rs`, hot reload and
//! crashes in `routes_reload.rs`.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use sluice_tests::{TestServer, plugins};

/// Entries of `key` as (fields) lists, in order.
pub fn entries(con: &mut redis::Connection, key: &str) -> Result<Vec<Vec<(String, String)>>> {
    let reply: Vec<(String, Vec<(String, String)>)> =
        redis::cmd("XRANGE").arg(key).arg("-").arg("+").query(con)?;
    Ok(reply.into_iter().map(|(_, fields)| fields).collect())
}

/// Waits until `key` holds `n` entries (routes are asynchronous), then returns them.
pub fn wait_for(
    con: &mut redis::Connection,
    key: &str,
    n: usize,
) -> Result<Vec<Vec<(String, String)>>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let len: usize = redis::cmd("XLEN").arg(key).query(con)?;
        if len >= n {
            return entries(con, key);
        }
        if Instant::now() > deadline {
            bail!("{key} has {len} entries after 20 s, expected {n}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn filter_keeps_only_matching_events() -> Result<()> {
    let dir = plugins::folder(&[("filter", "filter.wasm")])?;
    let config = plugins::config(
        &dir,
        r#"
[[route]]
name = "eu"
source = "orders"
plugin = "filter.wasm"
config = { field = "region", equals = "eu", destination = "orders.eu" }
"#,
    )?;
    let server = TestServer::start_with(config)?;
    let mut con = server.client()?;
    for region in ["eu", "us", "eu", "asia"] {
        let _: String = redis::cmd("XADD")
            .arg("orders")
            .arg("*")
            .arg("region")
            .arg(region)
            .query(&mut con)?;
    }
    let got = wait_for(&mut con, "orders.eu", 2)?;
    assert_eq!(got, vec![pairs(&[("region", "eu")]); 2]);
    Ok(())
}
