//! `HRANDFIELD` (distinct and repeated picks, `WITHVALUES`, errors) and `HSCAN` (whole
//! listpacks, cursor walks over tables, `MATCH`, `COUNT`, errors).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use redis::Value;
use sluice_tests::TestServer;

use super::err;
use crate::replies::{NIL, a, b, expect, i};

/// A hash `h` of `n` fields `f0…` with values `v0…`.
fn fill(client: &mut redis::Connection, key: &str, n: usize) -> Result<()> {
    let mut cmd = redis::cmd("HSET");
    cmd.arg(key);
    for k in 0..n {
        cmd.arg(format!("f{k}")).arg(format!("v{k}"));
    }
    let added: usize = cmd.query(client)?;
    assert_eq!(added, n);
    Ok(())
}

fn strings(value: &Value) -> Result<Vec<String>> {
    let Value::Array(items) = value else {
        bail!("not an array: {value:?}")
    };
    items
        .iter()
        .map(|item| match item {
            Value::BulkString(s) => Ok(String::from_utf8_lossy(s).into_owned()),
            other => bail!("not a bulk string: {other:?}"),
        })
        .collect()
}

#[test]
fn hrandfield_picks_distinct_or_repeated_fields() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    for (key, n) in [("small", 20), ("big", 600)] {
        fill(&mut client, key, n)?;
        let fields: BTreeSet<String> = (0..n).map(|k| format!("f{k}")).collect();
        // One field.
        let one: String = redis::cmd("HRANDFIELD").arg(key).query(&mut client)?;
        assert!(fields.contains(&one), "{one}");
        // Positive counts: distinct fields, at most all of them.
        for count in [1, 5, 15, 19, 20, 25, 1000] {
            let got: Value = redis::cmd("HRANDFIELD")
                .arg(key)
                .arg(count)
                .query(&mut client)?;
            let got = strings(&got)?;
            let unique: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(got.len(), count.min(n), "{key} {count}");
            assert_eq!(unique.len(), got.len(), "distinct: {got:?}");
            assert!(unique.is_subset(&fields));
        }
        // Negative counts: that many picks, repeating.
        let got: Value = redis::cmd("HRANDFIELD")
            .arg(key)
            .arg(-3000)
            .query(&mut client)?;
        let got = strings(&got)?;
        assert_eq!(got.len(), 3000);
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        assert!(unique.is_subset(&fields));
        assert!(unique.len() < got.len(), "3000 picks of {n} repeat");
        // WITHVALUES: each field followed by its own value (RESP2).
        for count in [7, -40] {
            let got: Value = redis::cmd("HRANDFIELD")
                .arg(key)
                .arg(count)
                .arg("WITHVALUES")
                .query(&mut client)?;
            let got = strings(&got)?;
            assert_eq!(got.len(), 2 * usize::try_from(i64::abs(count))?);
            for pair in got.chunks(2) {
                assert_eq!(pair[0].replacen('f', "v", 1), pair[1], "{pair:?}");
            }
            if count > 0 {
                let unique: BTreeSet<&String> = got.iter().step_by(2).collect();
                assert_eq!(unique.len(), 7);
            }
        }
    }
    Ok(())
}

#[test]
fn hrandfield_edge_cases_and_errors() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let not_int = err("ERR value is not an integer or out of range");
    expect(
        &mut raw,
        &[
            (&["HRANDFIELD", "nokey"], NIL.into()),
            (&["HRANDFIELD", "nokey", "5"], a(&[])),
            (&["HRANDFIELD", "nokey", "-5", "WITHVALUES"], a(&[])),
            (&["HRANDFIELD", "nokey", "x"], not_int.clone()),
            (&["HSET", "h", "a", "1", "b", "2", "c", "3"], i(3)),
            (&["HRANDFIELD", "h", "0"], a(&[])),
            (&["HRANDFIELD", "h", "0", "WITHVALUES"], a(&[])),
            // A count past the size returns the whole hash, in its order.
            (&["HRANDFIELD", "h", "10"], a(&[b("a"), b("b"), b("c")])),
            (
                &["HRANDFIELD", "h", "3", "withvalues"],
                a(&[b("a"), b("1"), b("b"), b("2"), b("c"), b("3")]),
            ),
            (
                &["HRANDFIELD", "h", "1", "WITHVALUES", "x"],
                err("ERR syntax error"),
            ),
            (&["HRANDFIELD", "h", "1", "FOO"], err("ERR syntax error")),
            (&["HRANDFIELD", "h", "x", "WITHVALUES"], not_int),
            (
                &["HRANDFIELD", "h", "-9223372036854775808"],
                err(
                    "ERR value is out of range, value must between -9223372036854775807 and \
                     9223372036854775807",
                ),
            ),
            (
                &["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"],
                err("ERR value is out of range"),
            ),
            (
                &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"],
                err("ERR value is out of range"),
            ),
            (
                &["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"],
                a(&[b("a"), b("1"), b("b"), b("2"), b("c"), b("3")]),
            ),
            // Sluice bounds picks with repetition (Redis: by memory alone).
            (
                &["HRANDFIELD", "h", "-4194305"],
                err("ERR value is out of range, at most 4194304 random picks with repetition"),
            ),
        ],
    )
}

#[test]
fn hscan_returns_a_listpack_whole_and_walks_a_table() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let syntax = err("ERR syntax error");
    let whole = a(&[b("0"), a(&[b("a"), b("1"), b("b"), b("2"), b("c"), b("3")])]);
    expect(
        &mut raw,
        &[
            (&["HSCAN", "nokey", "0"], a(&[b("0"), a(&[])])),
            // A missing key answers before its options are read.
            (&["HSCAN", "nokey", "0", "FOO"], a(&[b("0"), a(&[])])),
            (&["HSCAN", "nokey", "x"], err("ERR invalid cursor")),
            (&["HSET", "h", "a", "1", "b", "2", "c", "3"], i(3)),
            (&["HSCAN", "h", "0"], whole.clone()),
            (&["HSCAN", "h", "123", "COUNT", "1"], whole.clone()),
            (
                &["HSCAN", "h", "0", "MATCH", "a*"],
                a(&[b("0"), a(&[b("a"), b("1")])]),
            ),
            (
                &["HSCAN", "h", "0", "MATCH", "[ab]", "COUNT", "100"],
                a(&[b("0"), a(&[b("a"), b("1"), b("b"), b("2")])]),
            ),
            (&["HSCAN", "h", "0", "COUNT", "0"], syntax.clone()),
            (&["HSCAN", "h", "0", "COUNT"], syntax.clone()),
            (
                &["HSCAN", "h", "0", "COUNT", "x"],
                err("ERR value is not an integer or out of range"),
            ),
            (&["HSCAN", "h", "0", "MATCH"], syntax.clone()),
            // NOVALUES is Redis 7.4's; TYPE only SCAN's.
            (&["HSCAN", "h", "0", "NOVALUES"], syntax.clone()),
            (&["HSCAN", "h", "0", "TYPE", "hash"], syntax),
            // The cursor reads as Redis 7.2's strtoul reads it.
            (&["HSCAN", "h", "-1"], whole.clone()),
            (&["HSCAN", "h", ""], whole),
            (&["HSCAN", "h", " 1"], err("ERR invalid cursor")),
            (
                &["HSCAN", "h", "18446744073709551616"],
                err("ERR invalid cursor"),
            ),
        ],
    )?;

    // A table: every field comes back once, with its value, a batch at a time.
    let mut client = server.client()?;
    fill(&mut client, "t", 1000)?;
    assert_eq!(raw.cmd(&["OBJECT", "ENCODING", "t"])?, b("hashtable"));
    let mut seen = BTreeMap::new();
    let mut cursor = "0".to_owned();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) = redis::cmd("HSCAN")
            .arg("t")
            .arg(&cursor)
            .arg("COUNT")
            .arg(50)
            .query(&mut client)?;
        calls += 1;
        assert!(
            items.len() <= 2 * 60,
            "about COUNT per call: {}",
            items.len()
        );
        for pair in items.chunks(2) {
            *seen.entry(pair[0].clone()).or_insert(0) += 1;
            assert_eq!(pair[0].replacen('f', "v", 1), pair[1]);
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 1000);
    assert!(seen.values().all(|&n| n == 1));
    assert!(calls >= 15, "{calls} calls");

    // MATCH filters the fields of each batch; the walk still covers the table.
    let mut matched = BTreeSet::new();
    let mut cursor = "0".to_owned();
    loop {
        let (next, items): (String, Vec<String>) = redis::cmd("HSCAN")
            .arg("t")
            .arg(&cursor)
            .arg("MATCH")
            .arg("f9*")
            .query(&mut client)?;
        matched.extend(items.into_iter().step_by(2));
        if next == "0" {
            break;
        }
        cursor = next;
    }
    let want: BTreeSet<String> = (0..1000)
        .map(|k| format!("f{k}"))
        .filter(|f| f.starts_with("f9"))
        .collect();
    assert_eq!(matched, want);
    Ok(())
}
