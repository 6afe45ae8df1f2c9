//! `redis-cli`'s keyspace tools against Sluice: `--scan` (with and without `--pattern`),
//! `--bigkeys` and `--memkeys` walk the keyspace with `SCAN`, `TYPE`, the length commands and
//! `MEMORY USAGE`. The same keys are written to a real `redis-server`, and the summaries
//! compared: `--bigkeys`' word for word, `--memkeys`' with the byte counts left out (they are
//! each server's own accounting).
//!
//! Ignored by default (they need Debian's `redis-cli` and `redis-server`); `.ci/run` runs them.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use sluice_tests::real_server::RealServer;
use sluice_tests::{RawClient, TestServer, redis_cli};

/// Writes the same keys of every type to a server: many small strings (so `SCAN` takes many
/// steps), a long string, streams, hashes, sets and lists of different sizes.
fn populate(raw: &mut RawClient) -> Result<()> {
    for n in 0..3000 {
        raw.send_cmd(&[
            b"SET",
            format!("user:{n}").as_bytes(),
            format!("v{n}").as_bytes(),
        ])?;
    }
    for _ in 0..3000 {
        raw.read_reply_bytes()?;
    }
    let long = "x".repeat(5000);
    assert_eq!(raw.cmd(&["SET", "long", &long])?, "+OK\r\n");
    for n in 0..5 {
        raw.cmd(&["XADD", "events", "*", "n", &n.to_string()])?;
    }
    raw.cmd(&["XADD", "audit", "*", "n", "1"])?;
    raw.cmd(&["HSET", "profile", "name", "ada", "lang", "en", "tz", "utc"])?;
    raw.cmd(&["HSET", "settings", "theme", "dark"])?;
    raw.cmd(&["SADD", "tags", "a", "b", "c", "d"])?;
    raw.cmd(&["SADD", "ids", "1", "2"])?;
    raw.cmd(&["RPUSH", "queue", "j1", "j2", "j3"])?;
    raw.cmd(&["RPUSH", "done", "j0"])?;
    Ok(())
}

/// The lines from `-------- summary -------` on.
fn summary(output: &str) -> Result<String> {
    let at = output
        .find("-------- summary -------")
        .context("a summary")?;
    Ok(output[at..].to_owned())
}

/// `--memkeys`' summary without what is each server's own accounting: byte counts, and so
/// which key of a type is the biggest.
fn without_byte_counts(summary: &str) -> String {
    let mut out = Vec::new();
    for line in summary.lines() {
        if line.starts_with("Biggest") {
            // "Biggest string found '"long"' has 5072 bytes"
            out.push(line.split(" found ").next().unwrap_or(line).to_owned());
            continue;
        }
        let mut words: Vec<&str> = line.split(' ').collect();
        for at in 1..words.len() {
            if matches!(words[at - 1], "with" | "size") {
                words[at] = "N";
            }
        }
        out.push(words.join(" "));
    }
    out.join("\n")
}

#[test]
#[ignore = "needs redis-cli and redis-server (apt-get install redis-tools redis-server); .ci/run runs it"]
fn scan_bigkeys_and_memkeys_run_as_on_redis() -> Result<()> {
    let sluice = TestServer::start()?;
    let redis = RealServer::redis()?;
    populate(&mut sluice.raw()?)?;
    populate(&mut redis.raw()?)?;
    let (ours, theirs) = (sluice.addr.port(), redis.port);

    let keys = |port, args: &[&str]| -> Result<BTreeSet<String>> {
        let out = redis_cli::run_ok(port, args)?;
        Ok(out.lines().map(str::to_owned).collect())
    };
    let all = keys(ours, &["--scan"])?;
    assert_eq!(all.len(), 3009);
    assert_eq!(all, keys(theirs, &["--scan"])?);
    let users = keys(ours, &["--scan", "--pattern", "user:1*"])?;
    assert_eq!(users.len(), 1111);
    assert_eq!(users, keys(theirs, &["--scan", "--pattern", "user:1*"])?);

    let big = |port| summary(&redis_cli::run_ok(port, &["--bigkeys"])?);
    let ours_big = big(ours)?;
    assert!(ours_big.contains("Biggest string found '\"long\"' has 5000 bytes"));
    assert!(ours_big.contains("Biggest stream found '\"events\"' has 5 entries"));
    assert!(ours_big.contains("Biggest   hash found '\"profile\"' has 3 fields"));
    assert!(ours_big.contains("Biggest    set found '\"tags\"' has 4 members"));
    assert!(ours_big.contains("Biggest   list found '\"queue\"' has 3 items"));
    assert_eq!(ours_big, big(theirs)?);

    let mem = |port| summary(&redis_cli::run_ok(port, &["--memkeys"])?);
    let ours_mem = mem(ours)?;
    assert!(ours_mem.contains("Biggest string found '\"long\"' has"));
    assert!(ours_mem.contains("Biggest stream found '\"events\"' has"));
    assert_eq!(
        without_byte_counts(&ours_mem),
        without_byte_counts(&mem(theirs)?)
    );
    Ok(())
}
