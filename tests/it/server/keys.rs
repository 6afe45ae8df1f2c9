//! Generic key commands on streams: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RENAME, the
//! EXPIRE family, DBSIZE, FLUSHDB, FLUSHALL; and keys expiring, lazily and actively.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::Result;
use redis::Commands;
use sluice_tests::{RawClient, TestServer};

/// Creates a one-entry stream at `key`.
fn make(raw: &mut RawClient, key: &str) -> Result<()> {
    assert_eq!(raw.cmd(&["XADD", key, "1-1", "f", "v"])?, "$3\r\n1-1\r\n");
    Ok(())
}

/// True if a TTL reply `got` is the `want` reply, or one second less for a positive TTL: TTL
/// rounds to the nearest second, so a slow moment between setting and reading lowers it.
fn ttl_close(got: &str, want: &str) -> bool {
    let secs = |r: &str| {
        r.strip_prefix(':')?
            .strip_suffix("\r\n")?
            .parse::<i64>()
            .ok()
    };
    match (secs(got), secs(want)) {
        (Some(g), Some(w)) if w > 0 => g == w || g == w - 1,
        _ => got == want,
    }
}

/// Asserts `TTL key` is about `want` (see [`ttl_close`]).
fn assert_ttl(raw: &mut RawClient, key: &str, want: &str) -> Result<()> {
    let got = raw.cmd(&["TTL", key])?;
    assert!(ttl_close(&got, want), "TTL {key}: {got:?}, want {want:?}");
    Ok(())
}

/// Polls `f` until it returns true, for at most `limit`.
fn eventually(limit: Duration, mut f: impl FnMut() -> Result<bool>) -> Result<bool> {
    let deadline = Instant::now() + limit;
    loop {
        if f()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn del_unlink_exists_type() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    for key in ["a", "b", "c"] {
        make(&mut raw, key)?;
    }
    assert_eq!(raw.cmd(&["TYPE", "a"])?, "+stream\r\n");
    assert_eq!(raw.cmd(&["TYPE", "nokey"])?, "+none\r\n");
    // Each argument counts, repeats included.
    assert_eq!(raw.cmd(&["EXISTS", "a", "a", "nokey", "b"])?, ":3\r\n");
    // A key deleted twice in one call counts once.
    assert_eq!(raw.cmd(&["DEL", "a", "nokey", "a"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "a"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["UNLINK", "b", "c", "zz"])?, ":2\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":0\r\n");
    assert_eq!(
        raw.cmd(&["DEL"])?,
        "-ERR wrong number of arguments for 'del' command\r\n"
    );
    assert_eq!(
        raw.cmd(&["TYPE", "a", "b"])?,
        "-ERR wrong number of arguments for 'type' command\r\n"
    );
    // A deleted stream starts over: IDs below the old top are accepted again.
    assert_eq!(raw.cmd(&["XADD", "a", "0-1", "f", "v"])?, "$3\r\n0-1\r\n");

    let mut client = server.client()?;
    let n: i64 = client.del(&["a", "nokey"])?;
    assert_eq!(n, 1);
    let exists: bool = client.exists("a")?;
    assert!(!exists);
    Ok(())
}

#[test]
fn keys_with_a_glob() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    for key in ["user:1", "user:2", "user:10", "order:1", "u?er", "h[a]llo"] {
        make(&mut raw, key)?;
    }
    let mut client = server.client()?;
    let cases: &[(&str, &[&str])] = &[
        ("user:?", &["user:1", "user:2"]),
        ("user:*", &["user:1", "user:10", "user:2"]),
        ("[uo]*:1", &["order:1", "user:1"]),
        ("user:[^1]", &["user:2"]),
        ("user:[0-1]*", &["user:1", "user:10"]),
        ("u\\?er", &["u?er"]),
        ("h\\[a\\]llo", &["h[a]llo"]),
        ("USER:*", &[]),
        ("nomatch*", &[]),
        (
            "*",
            &["h[a]llo", "order:1", "u?er", "user:1", "user:10", "user:2"],
        ),
    ];
    for (pattern, want) in cases {
        let got: BTreeSet<String> = client.keys(*pattern)?;
        let want: BTreeSet<String> = want.iter().map(|k| k.to_string()).collect();
        assert_eq!(got, want, "KEYS {pattern}");
    }
    // One key, exactly the wire reply.
    assert_eq!(raw.cmd(&["KEYS", "ord*"])?, "*1\r\n$7\r\norder:1\r\n");
    assert_eq!(raw.cmd(&["KEYS", "none*"])?, "*0\r\n");
    Ok(())
}

/// Runs a full SCAN with `extra` options, returning every key in the order received.
fn scan_all(client: &mut redis::Connection, extra: &[&str]) -> Result<Vec<String>> {
    let mut cursor = "0".to_owned();
    let mut keys = Vec::new();
    let mut rounds = 0;
    loop {
        let (next, batch): (String, Vec<String>) =
            redis::cmd("SCAN").arg(&cursor).arg(extra).query(client)?;
        keys.extend(batch);
        rounds += 1;
        anyhow::ensure!(rounds < 10_000, "SCAN never finished");
        if next == "0" {
            return Ok(keys);
        }
        cursor = next;
    }
}

#[test]
fn scan_visits_every_key_exactly_once() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let mut client = server.client()?;
    let mut all = BTreeSet::new();
    for i in 0..500 {
        let key = if i % 5 == 0 {
            format!("odd:{i}")
        } else {
            format!("key:{i}")
        };
        make(&mut raw, &key)?;
        all.insert(key);
    }
    for extra in [
        &[][..],
        &["COUNT", "7"],
        &["COUNT", "1000"],
        &["TYPE", "stream"],
    ] {
        let keys = scan_all(&mut client, extra)?;
        let unique: BTreeSet<String> = keys.iter().cloned().collect();
        assert_eq!(unique.len(), keys.len(), "a key came twice with {extra:?}");
        assert_eq!(unique, all, "SCAN {extra:?}");
    }
    let odd = scan_all(&mut client, &["MATCH", "odd:*", "COUNT", "13"])?;
    let unique: BTreeSet<String> = odd.iter().cloned().collect();
    assert_eq!(unique.len(), odd.len());
    let want: BTreeSet<String> = all
        .iter()
        .filter(|k| k.starts_with("odd:"))
        .cloned()
        .collect();
    assert_eq!(want.len(), 100);
    assert_eq!(unique, want);
    // No key holds another type.
    assert_eq!(
        scan_all(&mut client, &["TYPE", "string"])?,
        Vec::<String>::new()
    );
    assert_eq!(
        scan_all(&mut client, &["TYPE", "bogus"])?,
        Vec::<String>::new()
    );

    // Keys that stay through a whole scan are all seen even while others come and go.
    let mut cursor = "0".to_owned();
    let mut seen = BTreeSet::new();
    let mut round = 0;
    loop {
        let (next, batch): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg("COUNT")
            .arg(20)
            .query(&mut client)?;
        seen.extend(batch);
        make(&mut raw, &format!("new:{round}"))?;
        round += 1;
        if next == "0" {
            break;
        }
        cursor = next;
    }
    for key in &all {
        assert!(seen.contains(key), "{key} missed");
    }

    let errors: &[(&[&str], &str)] = &[
        (&["SCAN", "x"], "-ERR invalid cursor\r\n"),
        (&["SCAN", "18446744073709551616"], "-ERR invalid cursor\r\n"),
        (&["SCAN", "0", "COUNT", "0"], "-ERR syntax error\r\n"),
        (&["SCAN", "0", "COUNT", "-1"], "-ERR syntax error\r\n"),
        (
            &["SCAN", "0", "COUNT", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (&["SCAN", "0", "MATCH"], "-ERR syntax error\r\n"),
        (&["SCAN", "0", "FOO"], "-ERR syntax error\r\n"),
    ];
    for (args, want) in errors {
        assert_eq!(&raw.cmd(args)?, want, "{args:?}");
    }
    Ok(())
}

#[test]
fn scan_of_an_empty_database() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["SCAN", "0"])?, "*2\r\n$1\r\n0\r\n*0\r\n");
    make(&mut raw, "k")?;
    assert_eq!(
        raw.cmd(&["SCAN", "0", "TYPE", "stream"])?,
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"
    );
    assert_eq!(
        raw.cmd(&["SCAN", "0", "TYPE", "string"])?,
        "*2\r\n$1\r\n0\r\n*0\r\n"
    );
    Ok(())
}

#[test]
fn rename_moves_the_stream_and_its_ttl() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["RENAME", "nokey", "x"])?, "-ERR no such key\r\n");
    raw.cmd(&["XADD", "src", "1-1", "from", "src"])?;
    raw.cmd(&["XADD", "dst", "9-9", "from", "dst"])?;
    // Overwrites the destination.
    assert_eq!(raw.cmd(&["RENAME", "src", "dst"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "src"])?, ":0\r\n");
    assert_eq!(
        raw.cmd(&["XRANGE", "dst", "-", "+"])?,
        "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$4\r\nfrom\r\n$3\r\nsrc\r\n"
    );
    // The stream keeps its last ID: 1-1 is its top, not 9-9.
    assert_eq!(raw.cmd(&["XADD", "dst", "2-0", "a", "b"])?, "$3\r\n2-0\r\n");
    // Renaming onto itself is fine.
    assert_eq!(raw.cmd(&["RENAME", "dst", "dst"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["XLEN", "dst"])?, ":2\r\n");

    // The TTL moves with the key.
    assert_eq!(raw.cmd(&["EXPIRE", "dst", "100"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["RENAME", "dst", "moved"])?, "+OK\r\n");
    assert_ttl(&mut raw, "moved", ":100\r\n")?;
    assert_eq!(raw.cmd(&["TTL", "dst"])?, ":-2\r\n");
    // A persistent key renamed over a volatile one is persistent.
    raw.cmd(&["XADD", "plain", "1-1", "a", "b"])?;
    assert_eq!(raw.cmd(&["RENAME", "plain", "moved"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["TTL", "moved"])?, ":-1\r\n");
    assert_eq!(
        raw.cmd(&["RENAME", "moved"])?,
        "-ERR wrong number of arguments for 'rename' command\r\n"
    );
    Ok(())
}

#[test]
fn expire_family_with_nx_xx_gt_lt() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    make(&mut raw, "v")?;
    make(&mut raw, "p")?;
    assert_eq!(raw.cmd(&["TTL", "nokey"])?, ":-2\r\n");
    assert_eq!(raw.cmd(&["PTTL", "nokey"])?, ":-2\r\n");
    assert_eq!(raw.cmd(&["TTL", "p"])?, ":-1\r\n");
    assert_eq!(raw.cmd(&["PTTL", "p"])?, ":-1\r\n");
    assert_eq!(raw.cmd(&["EXPIRE", "nokey", "10"])?, ":0\r\n");

    let steps: &[(&[&str], &str)] = &[
        (&["EXPIRE", "v", "100"], ":1\r\n"),
        (&["TTL", "v"], ":100\r\n"),
        // NX: only without a TTL.
        (&["EXPIRE", "v", "50", "NX"], ":0\r\n"),
        (&["TTL", "v"], ":100\r\n"),
        // XX: only with one.
        (&["EXPIRE", "v", "50", "XX"], ":1\r\n"),
        (&["TTL", "v"], ":50\r\n"),
        (&["EXPIRE", "p", "50", "XX"], ":0\r\n"),
        (&["TTL", "p"], ":-1\r\n"),
        // GT: only a later time; no TTL counts as infinite.
        (&["EXPIRE", "v", "200", "GT"], ":1\r\n"),
        (&["EXPIRE", "v", "150", "GT"], ":0\r\n"),
        (&["TTL", "v"], ":200\r\n"),
        (&["EXPIRE", "p", "10", "GT"], ":0\r\n"),
        // LT: only an earlier time; any time is earlier than none.
        (&["EXPIRE", "v", "300", "LT"], ":0\r\n"),
        (&["EXPIRE", "v", "10", "LT"], ":1\r\n"),
        (&["TTL", "v"], ":10\r\n"),
        (&["EXPIRE", "p", "10", "LT"], ":1\r\n"),
        (&["TTL", "p"], ":10\r\n"),
        (&["PERSIST", "p"], ":1\r\n"),
        (&["PERSIST", "p"], ":0\r\n"),
        (&["PERSIST", "nokey"], ":0\r\n"),
        (&["TTL", "p"], ":-1\r\n"),
        (&["EXPIRE", "p", "10", "NX"], ":1\r\n"),
        (&["EXPIRE", "p", "20", "nx"], ":0\r\n"),
        // Errors.
        (
            &["EXPIRE", "v", "10", "NX", "XX"],
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
        ),
        (
            &["EXPIRE", "v", "10", "GT", "LT"],
            "-ERR GT and LT options at the same time are not compatible\r\n",
        ),
        (
            &["EXPIRE", "v", "10", "FOO"],
            "-ERR Unsupported option FOO\r\n",
        ),
        (
            &["EXPIRE", "v", "x"],
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            &["EXPIRE", "v", "9223372036854775807"],
            "-ERR invalid expire time in 'expire' command\r\n",
        ),
        (
            &["PEXPIRE", "v", "9223372036854775807"],
            "-ERR invalid expire time in 'pexpire' command\r\n",
        ),
        (
            &["EXPIRE", "v"],
            "-ERR wrong number of arguments for 'expire' command\r\n",
        ),
        // None of the errors changed the TTL.
        (&["TTL", "v"], ":10\r\n"),
    ];
    for (args, want) in steps {
        let got = raw.cmd(args)?;
        if args[0] == "TTL" {
            assert!(ttl_close(&got, want), "{args:?}: {got:?}, want {want:?}");
        } else {
            assert_eq!(&got, want, "{args:?}");
        }
    }

    // Milliseconds.
    assert_eq!(raw.cmd(&["PEXPIRE", "v", "5000"])?, ":1\r\n");
    let pttl: i64 = raw.cmd(&["PTTL", "v"])?[1..].trim_end().parse()?;
    assert!((4000..=5000).contains(&pttl), "{pttl}");
    assert_ttl(&mut raw, "v", ":5\r\n")?;
    // EXPIREAT in the past deletes at once, like a non-positive TTL.
    assert_eq!(raw.cmd(&["EXPIREAT", "v", "1"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "v"])?, ":0\r\n");
    make(&mut raw, "v")?;
    assert_eq!(raw.cmd(&["EXPIRE", "v", "-1"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "v"])?, ":0\r\n");
    make(&mut raw, "v")?;
    assert_eq!(raw.cmd(&["PEXPIRE", "v", "0"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "v"])?, ":0\r\n");
    // EXPIREAT far ahead.
    make(&mut raw, "v")?;
    assert_eq!(raw.cmd(&["PEXPIREAT", "v", "99999999999999"])?, ":1\r\n");
    let ttl: i64 = raw.cmd(&["TTL", "v"])?[1..].trim_end().parse()?;
    assert!(ttl > 90_000_000_000, "{ttl}");

    let info = raw.cmd(&["INFO", "keyspace"])?;
    assert!(info.contains("db0:keys=2,expires=2,avg_ttl="), "{info}");
    Ok(())
}

#[test]
fn a_key_expires_lazily_on_access() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    make(&mut raw, "short")?;
    make(&mut raw, "stays")?;
    assert_eq!(raw.cmd(&["PEXPIRE", "short", "50"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "short"])?, ":1\r\n");
    let gone = eventually(Duration::from_secs(5), || {
        Ok(raw.cmd(&["EXISTS", "short"])? == ":0\r\n")
    })?;
    assert!(gone, "the key outlived its TTL by seconds");
    assert_eq!(raw.cmd(&["TTL", "short"])?, ":-2\r\n");
    assert_eq!(raw.cmd(&["XLEN", "short"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "stays"])?, ":1\r\n");
    // An expired stream starts over when written again.
    assert_eq!(
        raw.cmd(&["XADD", "short", "0-1", "f", "v"])?,
        "$3\r\n0-1\r\n"
    );
    assert_eq!(raw.cmd(&["TTL", "short"])?, ":-1\r\n");
    Ok(())
}

#[test]
fn a_key_expires_actively_without_access() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    for i in 0..10 {
        let key = format!("short:{i}");
        make(&mut raw, &key)?;
        assert_eq!(raw.cmd(&["PEXPIRE", &key, "50"])?, ":1\r\n");
    }
    make(&mut raw, "stays")?;
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":11\r\n");
    // DBSIZE touches no key: only the server's own expiry cycle can shrink it.
    let gone = eventually(Duration::from_secs(5), || {
        Ok(raw.cmd(&["DBSIZE"])? == ":1\r\n")
    })?;
    assert!(gone, "expired keys were never reclaimed");
    let info = raw.cmd(&["INFO", "stats"])?;
    assert!(info.contains("\r\nexpired_keys:10\r\n"), "{info}");
    let info = raw.cmd(&["INFO", "keyspace"])?;
    assert!(info.contains("db0:keys=1,expires=0,"), "{info}");
    Ok(())
}

#[test]
fn dbsize_flushdb_flushall() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":0\r\n");
    make(&mut raw, "a")?;
    make(&mut raw, "b")?;
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":2\r\n");
    assert_eq!(raw.cmd(&["SELECT", "1"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":0\r\n");
    make(&mut raw, "c")?;
    // FLUSHDB empties only the selected database.
    assert_eq!(raw.cmd(&["FLUSHDB"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":0\r\n");
    make(&mut raw, "c")?;
    assert_eq!(raw.cmd(&["SELECT", "0"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":2\r\n");
    assert_eq!(raw.cmd(&["FLUSHDB", "FOO"])?, "-ERR syntax error\r\n");
    assert_eq!(raw.cmd(&["FLUSHALL", "x"])?, "-ERR syntax error\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":2\r\n");
    assert_eq!(raw.cmd(&["FLUSHDB", "SYNC"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":0\r\n");
    make(&mut raw, "a")?;
    // FLUSHALL empties every database.
    assert_eq!(raw.cmd(&["FLUSHALL", "ASYNC"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["SELECT", "1"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["KEYS", "*"])?, "*0\r\n");
    assert_eq!(
        raw.cmd(&["DBSIZE", "x"])?,
        "-ERR wrong number of arguments for 'dbsize' command\r\n"
    );
    Ok(())
}
