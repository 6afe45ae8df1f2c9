//! What operators see of claim policies — `SLUICE POLICIES` and `INFO policies`, field for
//! field after a known workload — and `SLUICE REDELIVER`, the command a policy's
//! reassignments are logged as, used directly.
//!
//! Counters that depend on how often a policy's thread ran (`evaluations`, the time of the
//! last one) are checked to be integers and masked; everything else is compared exactly.
//! Helpers in `support.rs`.

use anyhow::{Result, ensure};
use sluice_tests::{ManualClock, TestServer};

use crate::policies::support::{
    MISBEHAVE, REASSIGN_IDLE, cmd, counted, create_workers, idle_policy, info_policies,
    masked_counters, policy_toml, policy_until, settled, sluice_policies, xpending,
};
use crate::routes::support::{T0, id, pairs, start, xadd};

/// `line` with the value of each `key=<digits>` in `keys` checked and replaced by `*`.
fn masked_info(line: &str, keys: &[&str]) -> Result<String> {
    let (name, values) = line.split_once(':').unwrap_or((line, ""));
    let values: Vec<String> = values
        .split(',')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if keys.contains(&k) => {
                ensure!(v.parse::<u64>().is_ok(), "{k}={v} is not a count");
                Ok(format!("{k}=*"))
            }
            _ => Ok(kv.to_owned()),
        })
        .collect::<Result<_>>()?;
    Ok(format!("{name}:{}", values.join(",")))
}

/// Four policies: `idle` reassigns three entries, the unnamed one (so `jobs/audit`)
/// acknowledges three, `broken` fails every evaluation, and `missing` names a file that is not
/// there. `SLUICE POLICIES` and `INFO policies` show each, in config order, exactly.
#[test]
fn sluice_policies_and_info_policies_show_a_known_workload() -> Result<()> {
    let policies = [
        idle_policy(),
        "[[claim_policy]]\nstream = \"jobs\"\ngroup = \"audit\"\n\
         plugin = \"policy_misbehave.wasm\"\nconfig = { mode = \"ok\" }\ninterval_ms = 20\n"
            .to_owned(),
        policy_toml(
            "broken",
            "jobs",
            "billing",
            "policy_misbehave.wasm",
            "{ mode = \"error\" }",
            20,
        ),
        policy_toml("missing", "jobs", "other", "nope.wasm", "{}", 20),
    ]
    .concat();
    let (server, clock, dir) = start(&[REASSIGN_IDLE, MISBEHAVE], &policies)?;
    let mut con = server.client()?;
    create_workers(&mut con)?;
    cmd(&mut con, &["XGROUP", "CREATE", "jobs", "audit", "$"])?;
    cmd(&mut con, &["XGROUP", "CREATE", "jobs", "billing", "$"])?;
    for n in ["1", "2", "3"] {
        xadd(&mut con, "jobs", &[("n", n)])?;
    }
    for (group, consumer, count) in [
        ("workers", "A", "3"),
        ("audit", "R", "3"),
        ("billing", "P", "1"),
    ] {
        cmd(
            &mut con,
            &[
                "XREADGROUP",
                "GROUP",
                group,
                consumer,
                "COUNT",
                count,
                "STREAMS",
                "jobs",
                ">",
            ],
        )?;
    }
    cmd(
        &mut con,
        &["XGROUP", "CREATECONSUMER", "jobs", "workers", "B"],
    )?;
    clock.advance(5000);
    counted(&mut con, "idle", "reassigned", 3)?;
    counted(&mut con, "jobs/audit", "acked", 3)?;
    policy_until(&mut con, "broken", "has failed", |p| {
        Ok(p.count("failed-evaluations")? > 0)
    })?;
    // Each has since seen the group as it now is.
    for name in ["idle", "jobs/audit", "broken"] {
        settled(&mut con, name)?;
    }

    let list = sluice_policies(&mut con)?;
    let running = ["evaluations", "last-evaluation-us"];
    let failing = ["failed-evaluations", "last-evaluation-us"];
    let got = [
        masked_counters(&list[0], &running)?,
        masked_counters(&list[1], &running)?,
        masked_counters(&list[2], &failing)?,
        masked_counters(&list[3], &[])?,
    ];
    let policy = |name: &str, group: &str, plugin: &str, plugin_name: &str| {
        pairs(&[
            ("name", name),
            ("stream", "jobs"),
            ("group", group),
            ("plugin", plugin),
            ("plugin-name", plugin_name),
            ("plugin-version", "0.1.1"),
            ("state", "running"),
            ("interval-ms", "20"),
            ("evaluations", "*"),
            ("failed-evaluations", "0"),
            ("reassigned", "0"),
            ("dead-lettered", "0"),
            ("acked", "0"),
            ("stale", "0"),
            ("reloads", "0"),
            ("last-pending", "0"),
            ("last-evaluation-us", "*"),
            ("last-error", "(nil)"),
        ])
    };
    let set = |mut map: Vec<(String, String)>, changes: &[(&str, &str)]| {
        for (k, v) in changes {
            if let Some(slot) = map.iter_mut().find(|(name, _)| name == k) {
                slot.1 = (*v).to_owned();
            }
        }
        map
    };
    let missing_error = format!(
        "claim policy missing: cannot load nope.wasm: cannot read {}: No such file or \
         directory (os error 2)",
        dir.join("nope.wasm").display()
    );
    let expected = [
        set(
            policy("idle", "workers", "reassign_idle.wasm", "reassign-idle"),
            &[("reassigned", "3"), ("last-pending", "3")],
        ),
        set(
            policy(
                "jobs/audit",
                "audit",
                "policy_misbehave.wasm",
                "policy-misbehave",
            ),
            &[("acked", "3")],
        ),
        set(
            policy(
                "broken",
                "billing",
                "policy_misbehave.wasm",
                "policy-misbehave",
            ),
            &[
                ("evaluations", "0"),
                ("failed-evaluations", "*"),
                ("last-pending", "1"),
                (
                    "last-error",
                    "evaluation failed, nothing changed: plugin broken failed the call: \
                     policy-misbehave: asked to fail",
                ),
            ],
        ),
        set(
            policy("missing", "other", "nope.wasm", "(nil)"),
            &[
                ("plugin-version", "(nil)"),
                ("state", "failed"),
                ("evaluations", "0"),
                ("last-evaluation-us", "0"),
                ("last-error", &missing_error),
            ],
        ),
    ];
    assert_eq!(list.len(), 4);
    for (got, expected) in got.iter().zip(&expected) {
        assert_eq!(got, expected);
    }

    let info = info_policies(&mut con)?;
    let mut lines = vec![info[0].clone(), info[1].clone()];
    for (line, keys) in info[2..].iter().zip([
        &["evaluations", "last_evaluation_us"][..],
        &["evaluations", "last_evaluation_us"],
        &["failed", "last_evaluation_us"],
        &[],
    ]) {
        lines.push(masked_info(line, keys)?);
    }
    assert_eq!(
        lines,
        [
            "# Policies",
            "policies:4",
            "policy_idle:state=running,stream=jobs,group=workers,plugin=reassign_idle.wasm,\
             evaluations=*,failed=0,reassigned=3,dead_lettered=0,acked=0,last_pending=3,\
             last_evaluation_us=*",
            "policy_jobs/audit:state=running,stream=jobs,group=audit,\
             plugin=policy_misbehave.wasm,evaluations=*,failed=0,reassigned=0,dead_lettered=0,\
             acked=3,last_pending=0,last_evaluation_us=*",
            "policy_broken:state=running,stream=jobs,group=billing,plugin=policy_misbehave.wasm,\
             evaluations=0,failed=*,reassigned=0,dead_lettered=0,acked=0,last_pending=1,\
             last_evaluation_us=*",
            "policy_missing:state=failed,stream=jobs,group=other,plugin=nope.wasm,\
             evaluations=0,failed=0,reassigned=0,dead_lettered=0,acked=0,last_pending=0,\
             last_evaluation_us=0",
        ]
    );
    assert_eq!(info.len(), 6, "{info:?}");
    Ok(())
}

/// `SLUICE REDELIVER` marks pending entries (and counts only those): their owner's next `>`
/// read gets them first, ascending, each delivery counted; an entry acknowledged meanwhile is
/// not sent. Marks are invisible until then.
#[test]
fn sluice_redeliver_sends_marked_entries_first_on_the_owners_next_read() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(sluice_tests::Config::default(), clock.clone())?;
    let mut con = server.client()?;
    cmd(&mut con, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"])?;
    for n in ["0", "1", "2", "3"] {
        xadd(&mut con, "s", &[("n", n)])?;
    }
    let read = |con: &mut redis::Connection, count: &str| {
        cmd(
            con,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "A",
                "COUNT",
                count,
                "STREAMS",
                "s",
                ">",
            ],
        )
    };
    let entries = |ns: &[u64]| {
        let list: Vec<String> = ns
            .iter()
            .map(|n| format!("[{}, [n, {n}]]", id(*n)))
            .collect();
        format!("[[s, [{}]]]", list.join(", "))
    };
    assert_eq!(read(&mut con, "3")?, entries(&[0, 1, 2]));
    xadd(&mut con, "s", &[("n", "4")])?;
    clock.advance(100);

    // id(3) is not delivered yet, 99-0 not in the stream: neither is pending.
    assert_eq!(
        cmd(
            &mut con,
            &[
                "SLUICE",
                "REDELIVER",
                "s",
                "g",
                &id(2),
                &id(0),
                &id(3),
                &id(1),
                "99-0"
            ]
        )?,
        "3"
    );
    assert_eq!(cmd(&mut con, &["XACK", "s", "g", &id(1)])?, "1");
    let row = |n: u64, idle: u64, count: u64| format!("[{}, A, {idle}, {count}]", id(n));
    assert_eq!(
        xpending(&mut con, "s", "g")?,
        format!("[{}, {}]", row(0, 100, 1), row(2, 100, 1))
    );
    assert_eq!(read(&mut con, "2")?, entries(&[0, 2]));
    assert_eq!(read(&mut con, "10")?, entries(&[3, 4]));
    assert_eq!(
        xpending(&mut con, "s", "g")?,
        format!(
            "[{}, {}, {}, {}]",
            row(0, 0, 2),
            row(2, 0, 2),
            row(3, 0, 1),
            row(4, 0, 1)
        )
    );
    assert_eq!(read(&mut con, "10")?, "(nil)");

    let mut raw = server.raw()?;
    let id0 = id(0);
    for (args, reply) in [
        (
            vec!["SLUICE", "REDELIVER", "s", "nope", &id0],
            "-NOGROUP No such key 's' or consumer group 'nope'\r\n",
        ),
        (
            vec!["SLUICE", "REDELIVER", "s", "g", "soon"],
            "-ERR Invalid stream ID specified as stream command argument\r\n",
        ),
        (
            vec!["SLUICE", "REDELIVER", "s", "g"],
            "-ERR wrong number of arguments for 'sluice|redeliver' command\r\n",
        ),
        (vec!["SLUICE", "REDELIVER", "s", "g", &id0], ":1\r\n"),
    ] {
        assert_eq!(raw.cmd(&args)?, reply, "{args:?}");
    }
    Ok(())
}

/// A missing key is reported as `XCLAIM`, `XAUTOCLAIM` and `XPENDING` report it, and as a
/// missing group is: Redis's NOGROUP, naming both.
#[test]
fn sluice_redeliver_on_a_missing_key_is_nogroup() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["XCLAIM", "nokey", "g", "c", "0", "1-0"])?,
        "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"
    );
    assert_eq!(
        raw.cmd(&["SLUICE", "REDELIVER", "nokey", "g", "1-0"])?,
        "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"
    );
    Ok(())
}

/// `SLUICE REASSIGN` (how policies' reassignments are logged and replayed) does by hand what
/// a policy does: the entry changes owner with the given time and its count kept, and goes
/// first on the new owner's next `>` read.
#[test]
fn sluice_reassign_moves_entries_and_the_new_owner_reads_them_first() -> Result<()> {
    let clock = ManualClock::new(T0);
    let server = TestServer::start_with_clock(sluice_tests::Config::default(), clock)?;
    let mut raw = server.raw()?;
    assert_eq!(
        raw.cmd(&["XADD", "jobs", "1-0", "job", "a"])?,
        "$3\r\n1-0\r\n"
    );
    assert_eq!(
        raw.cmd(&["XADD", "jobs", "2-0", "job", "b"])?,
        "$3\r\n2-0\r\n"
    );
    assert_eq!(raw.cmd(&["XGROUP", "CREATE", "jobs", "g", "0"])?, "+OK\r\n");
    raw.read_new("jobs", "g", "A", 1)?;
    let five_s_ago = (T0 - 5000).to_string();
    assert_eq!(
        raw.cmd(&[
            "SLUICE",
            "REASSIGN",
            "jobs",
            "g",
            "B",
            &five_s_ago,
            "1-0",
            "9-0"
        ])?,
        ":1\r\n",
        "only the pending ID moves"
    );
    assert_eq!(
        raw.cmd(&["XPENDING", "jobs", "g", "-", "+", "10"])?,
        "*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\nB\r\n:5000\r\n:1\r\n"
    );
    assert_eq!(
        raw.read_new("jobs", "g", "B", 2)?,
        "*1\r\n*2\r\n$4\r\njobs\r\n*2\r\n\
         *2\r\n$3\r\n1-0\r\n*2\r\n$3\r\njob\r\n$1\r\na\r\n\
         *2\r\n$3\r\n2-0\r\n*2\r\n$3\r\njob\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        raw.cmd(&["XPENDING", "jobs", "g", "-", "+", "10"])?,
        "*2\r\n*4\r\n$3\r\n1-0\r\n$1\r\nB\r\n:0\r\n:2\r\n\
         *4\r\n$3\r\n2-0\r\n$1\r\nB\r\n:0\r\n:1\r\n"
    );
    assert_eq!(
        raw.cmd(&["SLUICE", "REASSIGN", "jobs", "nogroup", "B", "0", "1-0"])?,
        "-NOGROUP No such key 'jobs' or consumer group 'nogroup'\r\n"
    );
    assert_eq!(
        raw.cmd(&["SLUICE", "REASSIGN", "jobs", "g", "B", "-1", "1-0"])?,
        "-ERR time-ms must not be negative\r\n"
    );
    Ok(())
}
