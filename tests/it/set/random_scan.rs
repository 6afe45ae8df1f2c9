//! `SPOP` and `SRANDMEMBER` (distinct and repeated picks, what a pop leaves, errors) and
//! `SSCAN` (whole small sets, cursor walks over tables, `MATCH`, `COUNT`, errors).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use sluice_tests::{RawClient, TestServer};

use super::err;
use crate::replies::{NIL, a, b, expect, i};

/// Adds `members` to `key` through `client`.
fn fill(client: &mut redis::Connection, key: &str, members: &[String]) -> Result<()> {
    let added: usize = redis::cmd("SADD").arg(key).arg(members).query(client)?;
    assert_eq!(added, members.len());
    Ok(())
}

fn ints(n: usize) -> Vec<String> {
    (0..n).map(|k| k.to_string()).collect()
}

fn strings(n: usize) -> Vec<String> {
    (0..n).map(|k| format!("m{k}")).collect()
}

fn encoding(raw: &mut RawClient, key: &str) -> Result<String> {
    raw.cmd(&["OBJECT", "ENCODING", key])
}

#[test]
fn srandmember_picks_distinct_or_repeated_members() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    for (key, members) in [
        ("ints", ints(40)),
        ("small", strings(20)),
        ("big", strings(600)),
    ] {
        fill(&mut client, key, &members)?;
        let all: BTreeSet<String> = members.iter().cloned().collect();
        let n = members.len();
        let one: String = redis::cmd("SRANDMEMBER").arg(key).query(&mut client)?;
        assert!(all.contains(&one));
        for count in [1, 5, 15, 19, 20, 25, 1000] {
            let got: Vec<String> = redis::cmd("SRANDMEMBER")
                .arg(key)
                .arg(count)
                .query(&mut client)?;
            let unique: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(got.len(), count.min(n), "{key} {count}");
            assert_eq!(unique.len(), got.len(), "distinct: {got:?}");
            assert!(unique.is_subset(&all));
        }
        let got: Vec<String> = redis::cmd("SRANDMEMBER")
            .arg(key)
            .arg(-3000)
            .query(&mut client)?;
        assert_eq!(got.len(), 3000);
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        assert!(unique.is_subset(&all) && unique.len() < got.len());
        // Nothing was removed.
        let card: usize = redis::cmd("SCARD").arg(key).query(&mut client)?;
        assert_eq!(card, n);
    }
    Ok(())
}

#[test]
fn spop_removes_what_it_returns() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let mut raw = server.raw()?;
    for (key, members) in [
        ("ints", ints(40)),
        ("small", strings(20)),
        ("big", strings(600)),
    ] {
        fill(&mut client, key, &members)?;
        let mut left: BTreeSet<String> = members.iter().cloned().collect();
        // One, a few, then most of what is left (which rebuilds the set), then the rest.
        let one: String = redis::cmd("SPOP").arg(key).query(&mut client)?;
        assert!(left.remove(&one), "{one}");
        for count in [3, left.len() - 3 - 2, 10] {
            let popped: Vec<String> = redis::cmd("SPOP").arg(key).arg(count).query(&mut client)?;
            assert_eq!(popped.len(), count.min(left.len()), "{key} {count}");
            for member in &popped {
                assert!(
                    left.remove(member),
                    "{key}: {member} popped twice or never there"
                );
            }
            let now: BTreeSet<String> = redis::cmd("SMEMBERS").arg(key).query(&mut client)?;
            assert_eq!(now, left);
        }
        assert!(left.is_empty());
        assert_eq!(raw.cmd(&["EXISTS", key])?, i(0));
    }
    Ok(())
}

#[test]
fn spop_leaves_the_encodings_redis_leaves() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let mut raw = server.raw()?;
    // Popping a few keeps a table a table.
    fill(&mut client, "t", &ints(600))?;
    assert_eq!(encoding(&mut raw, "t")?, b("hashtable"));
    let _: Vec<String> = redis::cmd("SPOP").arg("t").arg(10).query(&mut client)?;
    assert_eq!(encoding(&mut raw, "t")?, b("hashtable"));
    // Popping most of it builds the set anew: a listpack, even of integers.
    let _: Vec<String> = redis::cmd("SPOP").arg("t").arg(580).query(&mut client)?;
    assert_eq!(encoding(&mut raw, "t")?, b("listpack"));
    assert_eq!(raw.cmd(&["SCARD", "t"])?, i(10));
    fill(&mut client, "s", &strings(200))?;
    let _: Vec<String> = redis::cmd("SPOP").arg("s").arg(190).query(&mut client)?;
    assert_eq!(encoding(&mut raw, "s")?, b("listpack"));
    // More left than a listpack holds: a table again.
    fill(&mut client, "s2", &strings(1000))?;
    let _: Vec<String> = redis::cmd("SPOP").arg("s2").arg(840).query(&mut client)?;
    assert_eq!(encoding(&mut raw, "s2")?, b("hashtable"));
    assert_eq!(raw.cmd(&["SCARD", "s2"])?, i(160));
    // An intset stays one.
    fill(&mut client, "i", &ints(300))?;
    let _: Vec<String> = redis::cmd("SPOP").arg("i").arg(290).query(&mut client)?;
    assert_eq!(encoding(&mut raw, "i")?, b("intset"));
    Ok(())
}

#[test]
fn pop_and_pick_edge_cases_and_errors() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let not_int = err("ERR value is not an integer or out of range");
    let not_positive = err("ERR value is out of range, must be positive");
    let syntax = err("ERR syntax error");
    expect(
        &mut raw,
        &[
            (&["SPOP", "nokey"], NIL.into()),
            (&["SPOP", "nokey", "3"], a(&[])),
            (&["SPOP", "nokey", "-1"], not_positive.clone()),
            (&["SPOP", "nokey", "x"], not_positive),
            (&["SRANDMEMBER", "nokey"], NIL.into()),
            (&["SRANDMEMBER", "nokey", "3"], a(&[])),
            (&["SRANDMEMBER", "nokey", "-3"], a(&[])),
            (&["SRANDMEMBER", "nokey", "x"], not_int.clone()),
            (&["SADD", "d", "b", "c", "d", "x"], i(4)),
            (&["SPOP", "d", "1", "2"], syntax.clone()),
            (&["SRANDMEMBER", "d", "1", "2"], syntax),
            (&["SRANDMEMBER", "d", "x"], not_int),
            (
                &["SRANDMEMBER", "d", "-9223372036854775808"],
                err(
                    "ERR value is out of range, value must between -9223372036854775807 and \
                     9223372036854775807",
                ),
            ),
            (&["SRANDMEMBER", "d", "0"], a(&[])),
            // A count past the size answers the whole set, in its order.
            (
                &["SRANDMEMBER", "d", "100"],
                a(&[b("b"), b("c"), b("d"), b("x")]),
            ),
            (
                &["SRANDMEMBER", "d", "-4194305"],
                err("ERR value is out of range, at most 4194304 random picks with repetition"),
            ),
            (&["SADD", "one", "only"], i(1)),
            (
                &["SRANDMEMBER", "one", "-3"],
                a(&[b("only"), b("only"), b("only")]),
            ),
            (&["SPOP", "one"], b("only")),
            (&["EXISTS", "one"], i(0)),
            (&["SADD", "one", "only"], i(1)),
            (&["SPOP", "one", "0"], a(&[])),
            (&["SPOP", "one", "5"], a(&[b("only")])),
            (&["EXISTS", "one"], i(0)),
        ],
    )
}

#[test]
fn sscan_returns_small_sets_whole_and_walks_a_table() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let syntax = err("ERR syntax error");
    let scan = |items: &[&str]| a(&[b("0"), a(&items.iter().map(|m| b(m)).collect::<Vec<_>>())]);
    expect(
        &mut raw,
        &[
            (&["SSCAN", "nokey", "0"], scan(&[])),
            (&["SSCAN", "nokey", "0", "FOO"], scan(&[])),
            (&["SADD", "a", "1", "2", "3", "4", "x", "y"], i(6)),
            (&["SSCAN", "a", "0"], scan(&["1", "2", "3", "4", "x", "y"])),
            (
                &["SSCAN", "a", "7", "COUNT", "1"],
                scan(&["1", "2", "3", "4", "x", "y"]),
            ),
            (
                &["SSCAN", "a", "0", "MATCH", "[1-3]"],
                scan(&["1", "2", "3"]),
            ),
            (&["SSCAN", "a", "0", "MATCH", "x"], scan(&["x"])),
            (&["SADD", "i", "10", "-1", "5"], i(3)),
            (&["SSCAN", "i", "0"], scan(&["-1", "5", "10"])),
            (&["SSCAN", "a", "0", "COUNT", "0"], syntax.clone()),
            (&["SSCAN", "a", "0", "NOVALUES"], syntax.clone()),
            (&["SSCAN", "a", "0", "FOO"], syntax),
            (&["SSCAN", "a", "x"], err("ERR invalid cursor")),
        ],
    )?;
    let mut client = server.client()?;
    fill(&mut client, "t", &strings(700))?;
    let mut seen = BTreeMap::new();
    let mut cursor = "0".to_owned();
    loop {
        let (next, members): (String, Vec<String>) = redis::cmd("SSCAN")
            .arg("t")
            .arg(&cursor)
            .query(&mut client)?;
        assert!(
            members.len() <= 12,
            "about COUNT 10 per call: {}",
            members.len()
        );
        for m in members {
            *seen.entry(m).or_insert(0) += 1;
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 700);
    assert!(seen.values().all(|&n| n == 1));
    Ok(())
}

#[test]
fn sscan_returns_members_present_throughout_while_others_come_and_go() -> Result<()> {
    let server = TestServer::start()?;
    let mut client = server.client()?;
    let stable = strings(300);
    fill(&mut client, "t", &stable)?;
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_owned();
    let mut step = 0;
    loop {
        let (next, members): (String, Vec<String>) = redis::cmd("SSCAN")
            .arg("t")
            .arg(&cursor)
            .arg("COUNT")
            .arg(7)
            .query(&mut client)?;
        seen.extend(members);
        if next == "0" {
            break;
        }
        cursor = next;
        // Members come and go between calls.
        step += 1;
        let _: i64 = redis::cmd("SADD")
            .arg("t")
            .arg(format!("new{step}"))
            .query(&mut client)?;
        let _: i64 = redis::cmd("SREM")
            .arg("t")
            .arg(format!("new{}", step - 1))
            .query(&mut client)?;
        assert!(step < 10_000);
    }
    for m in &stable {
        assert!(seen.contains(m), "{m} missed");
    }
    Ok(())
}
