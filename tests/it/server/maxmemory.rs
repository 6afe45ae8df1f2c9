//! `maxmemory` with `noeviction` (the default): past the limit, commands that add data get
//! Redis's `OOM` error while reads, acks, deletes and trims go on; nothing already stored is
//! dropped. The other policies are in `eviction`.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use sluice_tests::{Config, RawClient, TestServer};

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// A server whose limit leaves room for a few hundred kilobytes of entries.
fn server_with_limit() -> Result<TestServer> {
    TestServer::start_with(Config {
        maxmemory: 2 * 1024 * 1024,
        ..Config::default()
    })
}

/// Adds 1 KiB entries to `key` until the server refuses one; returns how many it took.
fn fill(raw: &mut RawClient, key: &str) -> Result<usize> {
    let value = "v".repeat(1024);
    for added in 0..20_000 {
        let reply = raw.cmd(&["XADD", key, "*", "f", &value])?;
        if reply.starts_with('-') {
            assert_eq!(reply, OOM);
            return Ok(added);
        }
    }
    bail!("20 MB of entries and no OOM under a 2 MB limit")
}

/// Retries `args` until the reply is not `OOM` (the estimate is measured again every 100 ms
/// while it is over the limit), for at most two seconds.
fn until_accepted(raw: &mut RawClient, args: &[&str]) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let reply = raw.cmd(args)?;
        if reply != OOM || Instant::now() > deadline {
            return Ok(reply);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn writes_past_maxmemory_get_oom_and_reads_acks_and_deletes_go_on() -> Result<()> {
    let server = server_with_limit()?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?,
        "+OK\r\n"
    );
    let added = fill(&mut raw, "s")?;
    assert!(added > 100, "only {added} entries fitted in 2 MB");

    // Every entry acknowledged before the refusal is there; reads go on.
    assert_eq!(raw.cmd(&["XLEN", "s"])?, format!(":{added}\r\n"));
    let first = raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "1"])?;
    assert!(first.starts_with("*1\r\n*2\r\n"), "{first}");
    let read = raw.read_new("s", "g", "c", 2)?;
    assert!(read.starts_with("*1\r\n*2\r\n$1\r\ns\r\n*2\r\n"), "{read}");

    // Every command that adds data is refused; the others are not.
    assert_eq!(raw.cmd(&["XADD", "other", "*", "f", "v"])?, OOM);
    assert_eq!(raw.cmd(&["XGROUP", "CREATE", "s", "g2", "0"])?, OOM);
    assert_eq!(raw.cmd(&["XGROUP", "CREATECONSUMER", "s", "g", "c2"])?, OOM);
    assert_eq!(raw.cmd(&["XSETID", "s", "999999999999999-0"])?, OOM);
    assert_eq!(raw.cmd(&["XLEN", "other"])?, ":0\r\n");
    let pending = raw.cmd(&["XPENDING", "s", "g"])?;
    assert!(pending.starts_with("*4\r\n:2\r\n"), "{pending}");
    let oldest = raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "1"])?;
    let id = oldest.split("\r\n").nth(3).unwrap_or_default().to_owned();
    assert_eq!(raw.cmd(&["XACK", "s", "g", &id])?, ":1\r\n");
    assert_eq!(raw.cmd(&["XDEL", "s", &id])?, ":1\r\n");

    // INFO and CONFIG show the limit and the policy.
    assert_eq!(raw.info_field("memory", "maxmemory")?, "2097152");
    assert_eq!(raw.info_field("memory", "maxmemory_human")?, "2.00M");
    assert_eq!(raw.info_field("memory", "maxmemory_policy")?, "noeviction");
    assert_eq!(
        raw.cmd(&["CONFIG", "GET", "maxmemory*"])?,
        "*6\r\n$9\r\nmaxmemory\r\n$7\r\n2097152\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n\
         $17\r\nmaxmemory-samples\r\n$1\r\n5\r\n"
    );

    // Trimming frees memory: writes are accepted again once it is measured.
    assert_eq!(
        raw.cmd(&["XTRIM", "s", "MAXLEN", "0"])?,
        format!(":{}\r\n", added - 1)
    );
    let reply = until_accepted(&mut raw, &["XADD", "s", "*", "f", "v"])?;
    assert!(reply.starts_with('$'), "{reply}");
    Ok(())
}

#[test]
fn raising_the_limit_with_config_set_lets_writes_in() -> Result<()> {
    let server = server_with_limit()?;
    let mut raw = server.raw()?;
    fill(&mut raw, "s")?;
    assert_eq!(raw.cmd(&["CONFIG", "SET", "maxmemory", "0"])?, "+OK\r\n");
    let reply = raw.cmd(&["XADD", "s", "*", "f", "v"])?;
    assert!(reply.starts_with('$'), "{reply}");
    Ok(())
}

#[test]
fn a_transaction_out_of_memory_is_refused_as_redis_does() -> Result<()> {
    let server = server_with_limit()?;
    let mut raw = server.raw()?;
    let mut other = server.raw()?;

    // Queued before memory ran out: EXEC discards the transaction.
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["XADD", "t", "*", "f", "v"])?, "+QUEUED\r\n");
    fill(&mut other, "s")?;
    assert_eq!(
        raw.cmd(&["EXEC"])?,
        "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    assert_eq!(raw.cmd(&["EXEC"])?, "-ERR EXEC without MULTI\r\n");
    assert_eq!(raw.cmd(&["XLEN", "t"])?, ":0\r\n");

    // Out of memory while queueing: nothing more is queued, not even a read, and EXEC aborts.
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, OOM);
    assert_eq!(
        raw.cmd(&["EXEC"])?,
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    Ok(())
}

#[test]
fn an_unknown_policy_is_refused_at_start() {
    let refused = TestServer::start_with(Config {
        maxmemory_policy: "lru".into(),
        ..Config::default()
    });
    let err = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        err.contains(
            "maxmemory-policy must be one of volatile-lru, volatile-lfu, volatile-random, \
             volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction (got \"lru\")"
        ),
        "{err}"
    );
}
