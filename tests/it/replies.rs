//! Builders for exact RESP replies, so expected values in the tests read like the values
//! they encode, and a server on a hand-set clock.

use std::sync::Arc;

use anyhow::{Result, bail};
use sluice_tests::{Config, ManualClock, RawClient, TestServer};

/// The time every clocked test starts at, Unix ms.
pub(crate) const T0: u64 = 1_000_000;

/// A server whose clock shows [`T0`] until the test moves it.
pub(crate) fn clocked() -> Result<(TestServer, Arc<ManualClock>)> {
    let clock = ManualClock::new(T0);
    Ok((
        TestServer::start_with_clock(Config::default(), clock.clone())?,
        clock,
    ))
}

/// A bulk string.
pub(crate) fn b(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}
/// An integer.
pub(crate) fn i(n: i64) -> String {
    format!(":{n}\r\n")
}
/// An array.
pub(crate) fn a(items: &[String]) -> String {
    format!("*{}\r\n{}", items.len(), items.concat())
}
/// A RESP2 map: a flat array of names and values.
pub(crate) fn flat(pairs: &[(&str, String)]) -> String {
    let items: Vec<String> = pairs.iter().flat_map(|(k, v)| [b(k), v.clone()]).collect();
    a(&items)
}
/// A RESP3 map.
pub(crate) fn map3(pairs: &[(&str, String)]) -> String {
    let items: String = pairs.iter().map(|(k, v)| b(k) + v).collect();
    format!("%{}\r\n{items}", pairs.len())
}
/// One stream entry `[id, [field, value, …]]`.
pub(crate) fn e(id: &str, fields: &[&str]) -> String {
    a(&[b(id), a(&fields.iter().map(|f| b(f)).collect::<Vec<_>>())])
}
/// An XREADGROUP reply in RESP2: `[[key, entries], …]`.
pub(crate) fn streams(per_key: &[(&str, &[String])]) -> String {
    a(&per_key
        .iter()
        .map(|(k, entries)| a(&[b(k), a(entries)]))
        .collect::<Vec<_>>())
}
/// The null bulk string (RESP2).
pub(crate) const NIL: &str = "$-1\r\n";
/// Redis's reply to a command on a key of another type.
pub(crate) const WRONGTYPE: &str =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
/// The null array (RESP2).
pub(crate) const NIL_ARRAY: &str = "*-1\r\n";

/// Runs each command on `raw`, asserting its exact reply.
pub(crate) fn expect(raw: &mut RawClient, cases: &[(&[&str], String)]) -> Result<()> {
    for (args, want) in cases {
        let got = raw.cmd(args)?;
        if got != *want {
            bail!("{args:?}\n  got:  {got:?}\n  want: {want:?}");
        }
    }
    Ok(())
}
