//! `MULTI`/`EXEC`/`DISCARD`: queueing, aborting, runtime errors, and isolation from other
//! connections while `EXEC` runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use sluice_tests::TestServer;

#[test]
fn exec_returns_each_reply_in_an_array() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["XADD", "s", "1-1", "a", "1"])?, "+QUEUED\r\n");
    assert_eq!(raw.cmd(&["XLEN", "s"])?, "+QUEUED\r\n");
    assert_eq!(raw.cmd(&["PING"])?, "+QUEUED\r\n");
    assert_eq!(raw.cmd(&["XRANGE", "s", "-", "+"])?, "+QUEUED\r\n");
    // Nothing ran yet: another connection sees no stream.
    let mut other = server.raw()?;
    assert_eq!(other.cmd(&["EXISTS", "s"])?, ":0\r\n");
    assert_eq!(
        raw.cmd(&["EXEC"])?,
        "*4\r\n$3\r\n1-1\r\n:1\r\n+PONG\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(other.cmd(&["XLEN", "s"])?, ":1\r\n");
    // An empty transaction is an empty array; the connection is out of MULTI afterwards.
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["EXEC"])?, "*0\r\n");
    assert_eq!(raw.cmd(&["EXEC"])?, "-ERR EXEC without MULTI\r\n");

    // The same in RESP3, and through the redis crate's atomic pipeline.
    raw.cmd(&["HELLO", "3"])?;
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(
        raw.cmd(&["XADD", "nokey", "NOMKSTREAM", "*", "a", "1"])?,
        "+QUEUED\r\n"
    );
    assert_eq!(raw.cmd(&["XLEN", "s"])?, "+QUEUED\r\n");
    assert_eq!(raw.cmd(&["EXEC"])?, "*2\r\n_\r\n:1\r\n");

    let mut client = server.client()?;
    let (id, len): (String, i64) = redis::pipe()
        .atomic()
        .cmd("XADD")
        .arg("s")
        .arg("2-2")
        .arg("b")
        .arg("2")
        .cmd("XLEN")
        .arg("s")
        .query(&mut client)?;
    assert_eq!((id.as_str(), len), ("2-2", 2));
    Ok(())
}

#[test]
fn discard_drops_the_queue() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["DISCARD"])?, "-ERR DISCARD without MULTI\r\n");
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["XADD", "s", "1-1", "a", "1"])?, "+QUEUED\r\n");
    assert_eq!(raw.cmd(&["DISCARD"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["EXISTS", "s"])?, ":0\r\n");
    assert_eq!(raw.cmd(&["EXEC"])?, "-ERR EXEC without MULTI\r\n");
    // DISCARD also clears a transaction marked for abort.
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    raw.cmd(&["NOPE"])?;
    assert_eq!(raw.cmd(&["DISCARD"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["PING"])?, "+QUEUED\r\n");
    assert_eq!(raw.cmd(&["EXEC"])?, "*1\r\n+PONG\r\n");
    Ok(())
}

#[test]
fn exec_without_multi_and_nested_multi() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["EXEC"])?, "-ERR EXEC without MULTI\r\n");
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(
        raw.cmd(&["MULTI"])?,
        "-ERR MULTI calls can not be nested\r\n"
    );
    // A nested MULTI is refused but does not doom the transaction, as in Redis.
    assert_eq!(raw.cmd(&["XADD", "s", "1-1", "a", "1"])?, "+QUEUED\r\n");
    assert_eq!(raw.cmd(&["EXEC"])?, "*1\r\n$3\r\n1-1\r\n");
    assert_eq!(
        raw.cmd(&["MULTI", "x"])?,
        "-ERR wrong number of arguments for 'multi' command\r\n"
    );
    Ok(())
}

#[test]
fn a_command_refused_while_queueing_aborts_exec() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    for bad in [&["FOO", "x"][..], &["XLEN"], &["CLIENT", "NOSUCH"]] {
        assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
        assert_eq!(raw.cmd(&["XADD", "s", "*", "a", "2"])?, "+QUEUED\r\n");
        let reply = raw.cmd(bad)?;
        assert!(reply.starts_with("-ERR "), "{bad:?}: {reply}");
        assert_eq!(raw.cmd(&["XLEN", "s"])?, "+QUEUED\r\n");
        assert_eq!(
            raw.cmd(&["EXEC"])?,
            "-EXECABORT Transaction discarded because of previous errors.\r\n",
            "{bad:?}"
        );
        // Nothing queued ran.
        assert_eq!(raw.cmd(&["XLEN", "s"])?, ":1\r\n");
    }
    let mut other = server.raw()?;
    assert_eq!(other.cmd(&["MULTI"])?, "+OK\r\n");
    assert_eq!(
        other.cmd(&["FOO", "x"])?,
        "-ERR unknown command 'FOO', with args beginning with: 'x' \r\n"
    );
    assert_eq!(
        other.cmd(&["EXEC"])?,
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    Ok(())
}

#[test]
fn a_runtime_error_inside_exec_does_not_stop_the_rest() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    raw.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    // Smaller than the top ID by the time it runs: fails, after queueing fine.
    raw.cmd(&["XADD", "s", "1-1", "a", "1"])?;
    raw.cmd(&["XADD", "s", "5-1", "a", "1"])?;
    raw.cmd(&["XRANGE", "s", "-", "+", "COUNT", "x"])?;
    raw.cmd(&["XLEN", "s"])?;
    assert_eq!(
        raw.cmd(&["EXEC"])?,
        "*5\r\n$3\r\n1-1\r\n-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n$3\r\n5-1\r\n-ERR value is not an integer or out of range\r\n:2\r\n"
    );
    // As in Redis, the errors inside EXEC's array count in errorstats, and each queued
    // command counts as a call (when EXEC runs it, not when it is queued).
    assert_eq!(
        raw.cmd(&["INFO", "errorstats"])?,
        "$37\r\n# Errorstats\r\nerrorstat_ERR:count=2\r\n\r\n"
    );
    let stats = raw.cmd(&["INFO", "commandstats"])?;
    for (name, calls, failed) in [
        ("multi", 1, 0),
        ("exec", 1, 0),
        ("xadd", 3, 1),
        ("xrange", 1, 1),
    ] {
        let prefix = format!("cmdstat_{name}:calls={calls},usec=");
        let line = stats
            .split("\r\n")
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {stats}"));
        assert!(
            line.ends_with(&format!(",rejected_calls=0,failed_calls={failed}")),
            "{line}"
        );
    }
    Ok(())
}

#[test]
fn blocking_reads_and_select_inside_exec() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    assert_eq!(raw.cmd(&["MULTI"])?, "+OK\r\n");
    raw.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "nokey", "$"])?;
    raw.cmd(&["SELECT", "1"])?;
    raw.cmd(&["XADD", "t", "1-1", "a", "b"])?;
    // A blocking read answers at once inside EXEC; SELECT applies to what follows it.
    assert_eq!(raw.cmd(&["EXEC"])?, "*3\r\n*-1\r\n+OK\r\n$3\r\n1-1\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":1\r\n");
    assert_eq!(raw.cmd(&["SELECT", "0"])?, "+OK\r\n");
    assert_eq!(raw.cmd(&["DBSIZE"])?, ":0\r\n");
    Ok(())
}

#[test]
fn other_connections_do_not_interleave_inside_exec() -> Result<()> {
    const BATCH: usize = 200;
    let server = TestServer::start()?;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let stop = stop.clone();
            let mut raw = server.raw()?;
            Ok(std::thread::spawn(move || -> Result<usize> {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let reply = raw.cmd(&["XADD", "s", "*", "writer", &w.to_string()])?;
                    anyhow::ensure!(reply.starts_with('$'), "{reply}");
                    n += 1;
                }
                Ok(n)
            }))
        })
        .collect::<Result<_>>()?;

    let mut client = server.client()?;
    let mut batches = Vec::new();
    for round in 0..5 {
        // Let the writers get going before (and keep going during) each transaction.
        std::thread::sleep(Duration::from_millis(20));
        let mut pipe = redis::pipe();
        pipe.atomic();
        for _ in 0..BATCH {
            pipe.cmd("XADD")
                .arg("s")
                .arg("*")
                .arg("tx")
                .arg(round.to_string());
        }
        let ids: Vec<String> = pipe.query(&mut client)?;
        assert_eq!(ids.len(), BATCH);
        batches.push(ids);
    }
    std::thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::Relaxed);
    let mut others = 0;
    for writer in writers {
        others += writer.join().expect("writer thread")?;
    }
    assert!(others > 0, "the writers wrote nothing");

    let all: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
        .arg("s")
        .arg("-")
        .arg("+")
        .query(&mut client)?;
    assert_eq!(all.len(), others + 5 * BATCH);
    let ids: Vec<&str> = all.iter().map(|(id, _)| id.as_str()).collect();
    for (round, batch) in batches.iter().enumerate() {
        let start = ids
            .iter()
            .position(|id| *id == batch[0])
            .expect("the batch's first ID is in the stream");
        let span: Vec<&str> = ids[start..start + BATCH].to_vec();
        assert_eq!(span, batch.iter().map(String::as_str).collect::<Vec<_>>());
        for (_, fields) in &all[start..start + BATCH] {
            assert_eq!(fields, &["tx".to_owned(), round.to_string()]);
        }
    }
    Ok(())
}
