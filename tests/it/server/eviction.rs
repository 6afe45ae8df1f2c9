//! `maxmemory` with an eviction policy: before a command that may add data, keys are evicted
//! until used memory is under the limit, as Redis does — but never a stream. Also the access
//! clock behind the policies: `OBJECT IDLETIME|FREQ`, `TOUCH`, `RESTORE … IDLETIME|FREQ`.

use std::sync::Arc;

use anyhow::{Result, bail};
use sluice_tests::{ChildServer, Config, ManualClock, RawClient, TestServer, tempdir};

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
const NO_LFU: &str = "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
Please note that when switching between policies at runtime LRU and LFU data will take some time \
to adjust.\r\n";
const LFU_NO_IDLE: &str = "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please \
note that when switching between policies at runtime LRU and LFU data will take some time to \
adjust.\r\n";
const EVICTING: [&str; 7] = [
    "allkeys-lru",
    "volatile-lru",
    "allkeys-lfu",
    "volatile-lfu",
    "allkeys-random",
    "volatile-random",
    "volatile-ttl",
];
/// A time the manual clocks start at (2024-11-24, Unix ms).
const T0: u64 = 1_732_406_400_000;

/// A server with room for about a megabyte of data under `policy`, its clock `clock`.
fn server(policy: &str, clock: &Arc<ManualClock>) -> Result<TestServer> {
    TestServer::start_with_clock(
        Config {
            maxmemory: 2 * 1024 * 1024,
            maxmemory_policy: policy.into(),
            ..Config::default()
        },
        clock.clone(),
    )
}

fn value() -> String {
    "v".repeat(1000)
}

fn evicted(raw: &mut RawClient) -> Result<u64> {
    Ok(raw.info_field("stats", "evicted_keys")?.parse()?)
}

/// Sets `prefix:0..n` to 1 kB values (with a deadline far off if `ttl`), expecting `+OK`.
fn set_keys(raw: &mut RawClient, prefix: &str, n: usize, ttl: bool) -> Result<()> {
    let value = value();
    for i in 0..n {
        let key = format!("{prefix}:{i}");
        let mut args = vec!["SET", &key, &value];
        if ttl {
            args.extend(["EX", "100000"]);
        }
        let reply = raw.cmd(&args)?;
        if reply != "+OK\r\n" {
            bail!("SET {key}: {reply}");
        }
    }
    Ok(())
}

/// Writes `fresh:N` keys until at least `want` keys were evicted.
fn evict_at_least(raw: &mut RawClient, want: u64, ttl: bool) -> Result<()> {
    for round in 0..200 {
        set_keys(raw, &format!("fresh{round}"), 20, ttl)?;
        if evicted(raw)? >= want {
            return Ok(());
        }
    }
    bail!("4000 kB written under a 2 MB limit and fewer than {want} keys evicted")
}

/// Every key name, sorted.
fn key_names(raw: &mut RawClient) -> Result<Vec<String>> {
    let reply = raw.cmd(&["KEYS", "*"])?;
    let mut names: Vec<String> = reply
        .lines()
        .filter(|l| !l.starts_with(['*', '$']))
        .map(str::to_owned)
        .collect();
    names.sort_unstable();
    Ok(names)
}

fn exists(raw: &mut RawClient, key: &str) -> Result<bool> {
    Ok(raw.cmd(&["EXISTS", key])? == ":1\r\n")
}

#[test]
fn volatile_policies_evict_only_keys_with_a_deadline_then_refuse() -> Result<()> {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let clock = ManualClock::new(T0);
        let server = server(policy, &clock)?;
        let mut raw = server.raw()?;
        set_keys(&mut raw, "plain", 300, false)?;
        // Keys with a deadline make room for one another...
        set_keys(&mut raw, "ttl", 1500, true)?;
        assert!(evicted(&mut raw)? > 0, "{policy}");
        for i in 0..300 {
            assert!(
                exists(&mut raw, &format!("plain:{i}"))?,
                "{policy}: plain:{i}"
            );
        }
        // ... but once only keys without one are left, writes get OOM.
        let mut refused = false;
        for i in 0..3000 {
            let reply = raw.cmd(&["SET", &format!("more:{i}"), &value()])?;
            if reply == OOM {
                refused = true;
                break;
            }
        }
        assert!(refused, "{policy}: no OOM");
        let keys = raw.cmd(&["KEYS", "ttl:*"])?;
        assert_eq!(keys, "*0\r\n", "{policy}");
        for i in 0..300 {
            assert!(
                exists(&mut raw, &format!("plain:{i}"))?,
                "{policy}: plain:{i}"
            );
        }
    }
    Ok(())
}

#[test]
fn volatile_ttl_evicts_the_nearest_deadline_first() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = server("volatile-ttl", &clock)?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory-samples", "64"])?,
        "+OK\r\n"
    );
    let value = value();
    for i in 0..300 {
        raw.cmd(&["SET", &format!("far:{i}"), &value, "EX", "900000"])?;
        raw.cmd(&["SET", &format!("near:{i}"), &value, "EX", "1000"])?;
    }
    evict_at_least(&mut raw, 100, true)?;
    for i in 0..300 {
        assert!(exists(&mut raw, &format!("far:{i}"))?, "far:{i} evicted");
    }
    Ok(())
}

#[test]
fn allkeys_lru_keeps_the_keys_read_again_and_again() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = server("allkeys-lru", &clock)?;
    let mut raw = server.raw()?;
    set_keys(&mut raw, "cold", 600, false)?;
    for _ in 0..3 {
        clock.advance(10_000);
        for i in 0..60 {
            assert!(
                raw.cmd(&["GET", &format!("cold:{i}")])?
                    .starts_with("$1000")
            );
        }
    }
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "cold:599"])?, ":30\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "cold:0"])?, ":0\r\n");
    evict_at_least(&mut raw, 200, false)?;
    for i in 0..60 {
        assert!(
            exists(&mut raw, &format!("cold:{i}"))?,
            "hot key cold:{i} evicted"
        );
    }
    Ok(())
}

#[test]
fn allkeys_lfu_keeps_the_keys_read_often() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = server("allkeys-lfu", &clock)?;
    let mut raw = server.raw()?;
    set_keys(&mut raw, "k", 600, false)?;
    assert_eq!(raw.cmd(&["OBJECT", "FREQ", "k:0"])?, ":5\r\n");
    for _ in 0..10 {
        for i in 0..60 {
            raw.cmd(&["GET", &format!("k:{i}")])?;
        }
    }
    // At the initial value an access always counts; above it, less and less often.
    let freq = raw.cmd(&["OBJECT", "FREQ", "k:0"])?;
    let freq: u64 = freq.trim_start_matches(':').trim().parse()?;
    assert!((6..=15).contains(&freq), "{freq}");
    evict_at_least(&mut raw, 200, false)?;
    for i in 0..60 {
        assert!(exists(&mut raw, &format!("k:{i}"))?, "k:{i} evicted");
    }
    Ok(())
}

#[test]
fn streams_survive_every_policy() -> Result<()> {
    for policy in EVICTING {
        let clock = ManualClock::new(T0);
        let server = server(policy, &clock)?;
        let mut raw = server.raw()?;
        assert!(
            raw.cmd(&["XADD", "events", "*", "f", "v"])?
                .starts_with('$')
        );
        // A deadline does not make a stream a candidate under the volatile policies either.
        assert_eq!(raw.cmd(&["EXPIRE", "events", "100000"])?, ":1\r\n");
        set_keys(&mut raw, "s", 300, true)?;
        let value = value();
        let mut added = 1;
        loop {
            let reply = raw.cmd(&["XADD", "events", "*", "f", &value])?;
            if reply == OOM {
                break;
            }
            assert!(reply.starts_with('$'), "{policy}: {reply}");
            added += 1;
            if added > 20_000 {
                bail!("{policy}: 20 MB of events under a 2 MB limit");
            }
        }
        // Every string went before the stream's first refusal; every event stayed.
        assert_eq!(
            raw.cmd(&["XLEN", "events"])?,
            format!(":{added}\r\n"),
            "{policy}"
        );
        assert_eq!(raw.cmd(&["DBSIZE"])?, ":1\r\n", "{policy}");
        assert_eq!(evicted(&mut raw)?, 300, "{policy}");
        assert_eq!(raw.info_field("memory", "maxmemory_policy")?, policy);
    }
    Ok(())
}

#[test]
fn config_set_switches_policies_at_run_time() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = server("noeviction", &clock)?;
    let mut raw = server.raw()?;
    for policy in EVICTING.into_iter().chain(["noeviction"]) {
        assert_eq!(
            raw.cmd(&["CONFIG", "SET", "maxmemory-policy", policy])?,
            "+OK\r\n"
        );
        assert_eq!(
            raw.cmd(&["CONFIG", "GET", "maxmemory-policy"])?,
            format!(
                "*2\r\n$16\r\nmaxmemory-policy\r\n${}\r\n{policy}\r\n",
                policy.len()
            )
        );
        assert_eq!(raw.info_field("memory", "maxmemory_policy")?, policy);
    }
    let refused = |name: &str, reason: &str| {
        format!("-ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}\r\n")
    };
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory-policy", "lru"])?,
        refused(
            "maxmemory-policy",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
             volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        )
    );
    for (name, bad, range) in [
        ("maxmemory-samples", "0", "between 1 and 64"),
        ("maxmemory-samples", "65", "between 1 and 64"),
        ("lfu-log-factor", "-1", "between 0 and 2147483647"),
        ("lfu-decay-time", "-1", "between 0 and 2147483647"),
    ] {
        assert_eq!(
            raw.cmd(&["CONFIG", "SET", name, bad])?,
            refused(name, &format!("argument must be {range} inclusive"))
        );
    }
    for (name, default, set) in [
        ("maxmemory-samples", "5", "10"),
        ("lfu-log-factor", "10", "0"),
        ("lfu-decay-time", "1", "0"),
    ] {
        let get = |v: &str| format!("*2\r\n${}\r\n{name}\r\n${}\r\n{v}\r\n", name.len(), v.len());
        assert_eq!(raw.cmd(&["CONFIG", "GET", name])?, get(default));
        assert_eq!(raw.cmd(&["CONFIG", "SET", name, set])?, "+OK\r\n");
        assert_eq!(raw.cmd(&["CONFIG", "GET", name])?, get(set));
    }

    // Full under noeviction: a write is refused, and so is a transaction holding one...
    let value = value();
    let mut i = 0;
    while raw.cmd(&["SET", &format!("k:{i}"), &value])? != OOM {
        i += 1;
        if i > 5000 {
            bail!("5 MB written under a 2 MB limit");
        }
    }
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["SET", "in-multi", &value])?, OOM);
    assert_eq!(
        raw.cmd(&["EXEC"])?,
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    // ... until a policy that evicts makes room, before the command as before an EXEC.
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"])?,
        "+OK\r\n"
    );
    assert_eq!(evicted(&mut raw)?, 0);
    assert_eq!(raw.cmd(&["SET", "after", &value])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["SET", "in-multi", &value])?, "+QUEUED\r\n");
    assert_eq!(raw.cmd(&["EXEC"])?, "*1\r\n+OK\r\n");
    assert!(evicted(&mut raw)? > 0);
    Ok(())
}

#[test]
fn object_idletime_and_freq_follow_accesses() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(Config::default(), clock.clone())?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["SET", "k", "value"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "k"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "missing"])?, "$-1\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "FREQ", "missing"])?, "$-1\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "FREQ", "k"])?, NO_LFU);
    clock.advance(5_000);
    // Neither TYPE, EXISTS, TTL nor OBJECT counts as an access, as in Redis.
    for args in [
        &["TYPE", "k"][..],
        &["EXISTS", "k"],
        &["TTL", "k"],
        &["OBJECT", "ENCODING", "k"],
    ] {
        raw.cmd(args)?;
    }
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "k"])?, ":5\r\n");
    assert_eq!(raw.cmd(&["STRLEN", "k"])?, ":5\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "k"])?, ":0\r\n");
    clock.advance(3_000);
    assert_eq!(raw.cmd(&["TOUCH", "k", "missing", "k"])?, ":2\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "k"])?, ":0\r\n");
    // RENAME moves the clock (touched by the lookup); COPY gives the copy a new one.
    clock.advance(4_000);
    assert_eq!(raw.cmd(&["COPY", "k", "c"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["RENAME", "k", "r"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "r"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "c"])?, ":0\r\n");

    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"])?,
        "+OK\r\n"
    );
    assert_eq!(raw.cmd(&["OBJECT", "IDLETIME", "r"])?, LFU_NO_IDLE);
    assert_eq!(raw.cmd(&["SET", "n", "value"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "FREQ", "n"])?, ":5\r\n");
    assert_eq!(raw.cmd(&["GET", "n"])?, "$5\r\nvalue\r\n");
    assert_eq!(raw.cmd(&["OBJECT", "FREQ", "n"])?, ":6\r\n");
    // One point lost per minute without access (lfu-decay-time 1).
    clock.advance(4 * 60_000);
    assert_eq!(raw.cmd(&["OBJECT", "FREQ", "n"])?, ":2\r\n");
    assert_eq!(
        raw.cmd(&["CONFIG", "SET", "lfu-decay-time", "0"])?,
        "+OK\r\n"
    );
    assert_eq!(raw.cmd(&["OBJECT", "FREQ", "n"])?, ":6\r\n");
    Ok(())
}

#[test]
fn restore_idletime_and_freq_set_the_clock() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(Config::default(), clock.clone())?;
    let mut con = server.client()?;
    redis::cmd("SET").arg("k").arg("value").exec(&mut con)?;
    let payload: Vec<u8> = redis::cmd("DUMP").arg("k").query(&mut con)?;
    let restore = |key: &str, option: &str, n: i64, con: &mut redis::Connection| {
        redis::cmd("RESTORE")
            .arg(key)
            .arg(0)
            .arg(&payload)
            .arg(option)
            .arg(n)
            .exec(con)
    };
    let object = |sub: &str, key: &str, con: &mut redis::Connection| -> redis::RedisResult<i64> {
        redis::cmd("OBJECT").arg(sub).arg(key).query(con)
    };
    restore("idle", "IDLETIME", 100, &mut con)?;
    assert_eq!(object("IDLETIME", "idle", &mut con)?, 100);
    // FREQ under an LRU policy is ignored: the key is new.
    restore("freq", "FREQ", 42, &mut con)?;
    assert_eq!(object("IDLETIME", "freq", &mut con)?, 0);

    redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("volatile-lfu")
        .exec(&mut con)?;
    restore("freq2", "FREQ", 42, &mut con)?;
    assert_eq!(object("FREQ", "freq2", &mut con)?, 42);
    restore("idle2", "IDLETIME", 100, &mut con)?;
    assert_eq!(object("FREQ", "idle2", &mut con)?, 5);

    let mut raw = server.raw()?;
    for (option, n, error) in [
        (
            "IDLETIME",
            "-1",
            "-ERR Invalid IDLETIME value, must be >= 0\r\n",
        ),
        (
            "FREQ",
            "256",
            "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n",
        ),
        (
            "FREQ",
            "-1",
            "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n",
        ),
    ] {
        assert_eq!(
            raw.cmd(&["RESTORE", "x", "0", "payload", option, n])?,
            error
        );
    }
    Ok(())
}

#[test]
fn an_evicted_key_stays_gone_after_a_sigkill() -> Result<()> {
    let dir = tempdir()?;
    let bin = env!("CARGO_BIN_EXE_sluice-under-test");
    let args = [
        "--appendfsync",
        "always",
        "--maxmemory",
        "2mb",
        "--maxmemory-policy",
        "allkeys-random",
    ];
    let server = ChildServer::start(bin, &dir, &args)?;
    let mut raw = RawClient::connect(server.addr)?;
    set_keys(&mut raw, "k", 100, false)?;
    evict_at_least(&mut raw, 50, false)?;
    let before = key_names(&mut raw)?;
    server.kill()?;

    // What was evicted is still gone; everything else is there.
    let server = ChildServer::start(bin, &dir, &args)?;
    let mut raw = RawClient::connect(server.addr)?;
    assert_eq!(key_names(&mut raw)?, before);
    assert!(before.len() >= 20, "{} keys left", before.len());
    server.kill()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
#[ignore = "needs Debian's redis-server (.ci/run installs it)"]
fn object_and_config_replies_match_redis() -> Result<()> {
    let redis = sluice_tests::real_server::RealServer::redis()?;
    let server = TestServer::start()?;
    let script: &[&[&str]] = &[
        &["SET", "k", "value"],
        &["OBJECT", "IDLETIME", "k"],
        &["OBJECT", "FREQ", "k"],
        &["OBJECT", "IDLETIME", "missing"],
        &["OBJECT", "FREQ", "missing"],
        &["OBJECT", "HELP"],
        &["TOUCH", "k", "missing"],
        &["CONFIG", "SET", "maxmemory-policy", "lru"],
        &["CONFIG", "SET", "lfu-log-factor", "-1"],
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        &["OBJECT", "IDLETIME", "k"],
        &["SET", "n", "value"],
        &["OBJECT", "FREQ", "n"],
        &["GET", "n"],
        &["OBJECT", "FREQ", "n"],
        &["CONFIG", "GET", "lfu-*"],
        &["RESTORE", "x", "0", "payload", "IDLETIME", "-1"],
        &["RESTORE", "x", "0", "payload", "FREQ", "256"],
        &["RESTORE", "x", "0", "payload", "IDLETIME", "1", "FREQ", "1"],
    ];
    let (mut there, mut here) = (redis.raw()?, server.raw()?);
    for args in script {
        let mut a = there.cmd(args)?;
        let mut b = here.cmd(args)?;
        if args[0] == "CONFIG" && args[1] == "GET" {
            // Redis lists parameters in its own hash order.
            let sort = |s: &str| {
                let mut l: Vec<String> = s.lines().skip(1).map(str::to_owned).collect();
                l.sort();
                l
            };
            assert_eq!(sort(&b), sort(&a), "{args:?}");
            (a, b) = (String::new(), String::new());
        }
        assert_eq!(b, a, "{args:?}");
    }
    Ok(())
}
