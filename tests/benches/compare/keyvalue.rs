//! The key-value rows: `SET`/`GET` throughput as `redis-benchmark -t set,get` measures it, and
//! the resident memory of many small strings and hashes.

use std::time::Duration;

use anyhow::{Result, ensure};
use redis::Value;

use crate::driver::{self, BenchmarkRun};
use crate::server::{Durability, Fsync, RunningServer};
use crate::workloads::{Ctx, Goal, Sample, Workload, args, mib};

/// The rows of this file, in table order.
pub fn workloads() -> Vec<Box<dyn Workload>> {
    let mut rows: Vec<Box<dyn Workload>> = Vec::new();
    for pipeline in [1, 16] {
        for test in ["set", "get"] {
            rows.push(Box::new(SetGet {
                test,
                pipeline,
                durability: Durability::Default,
            }));
        }
    }
    // The rows above set Sluice's default log against Redis with none (its default); these
    // give both the same durability: the same log, as an operator who needs the writes to
    // survive would run them, and none, as a cache would.
    for durability in [Durability::AppendFsync(Fsync::EverySec), Durability::Off] {
        for pipeline in [1, 16] {
            rows.push(Box::new(SetGet {
                test: "set",
                pipeline,
                durability,
            }));
        }
    }
    rows.push(Box::new(SmallValues::strings()));
    rows.push(Box::new(SmallValues::hashes()));
    rows
}

/// `redis-benchmark -t set` or `-t get` (a 3-byte value under `key:__rand_int__`), 50 clients.
struct SetGet {
    test: &'static str,
    pipeline: u32,
    /// How both servers persist (the default: Sluice's log, Redis's none).
    durability: Durability,
}

impl Workload for SetGet {
    fn name(&self) -> String {
        let name = match self.pipeline {
            1 => self.test.to_owned(),
            p => format!("{} pipelined P{p}", self.test),
        };
        match self.durability {
            Durability::AppendFsync(fsync) => format!("{name} both aof {}", fsync.arg()),
            Durability::Off => format!("{name} neither logs"),
            _ => name,
        }
    }
    fn durability(&self) -> Durability {
        self.durability
    }
    fn unit(&self) -> &'static str {
        "ops/s"
    }
    fn goal(&self) -> Goal {
        Goal::AtLeast(1.0)
    }

    fn prepare(&self, ctx: &Ctx, server: &RunningServer) -> Result<()> {
        // The key `-t get` reads, so it answers the value rather than a nil.
        let reply = ctx.rt.block_on(driver::query(
            server,
            &args(&["SET", "key:__rand_int__", "xxx"]),
        ))?;
        ensure!(reply == Value::Okay, "SET answered {reply:?}");
        Ok(())
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, _run: usize) -> Result<Sample> {
        let requests = match self.pipeline {
            1 => ctx.scale.xadd_requests,
            _ => ctx.scale.xadd_pipelined_requests,
        };
        let bench = BenchmarkRun {
            clients: ctx.scale.clients,
            requests,
            pipeline: self.pipeline,
            command: args(&["-t", self.test]),
        };
        Ok(Sample::plain(bench.run(&ctx.redis_benchmark, server)?))
    }
}

/// Resident memory after loading many small values: 1M `SET key:N value`, or 100k hashes of 10
/// fields. The figure is the whole process's RSS, as an operator sees it.
struct SmallValues {
    name: &'static str,
    keys: u64,
    /// Appends the commands that write key `n`.
    write: fn(u64, &mut redis::Pipeline),
    /// `DBSIZE` after loading.
    expect_keys: u64,
}

impl SmallValues {
    fn strings() -> Self {
        SmallValues {
            name: "memory 1M strings",
            keys: 1_000_000,
            write: |n, pipe| {
                pipe.cmd("SET")
                    .arg(format!("key:{n}"))
                    .arg("value")
                    .ignore();
            },
            expect_keys: 1_000_000,
        }
    }

    fn hashes() -> Self {
        SmallValues {
            name: "memory 100k hashes x10",
            keys: 100_000,
            write: |n, pipe| {
                let cmd = pipe.cmd("HSET").arg(format!("hash:{n}"));
                for f in 0..10 {
                    cmd.arg(format!("field{f}")).arg(format!("value{f}"));
                }
                cmd.ignore();
            },
            expect_keys: 100_000,
        }
    }
}

impl Workload for SmallValues {
    fn name(&self) -> String {
        self.name.to_owned()
    }
    fn unit(&self) -> &'static str {
        "MiB RSS"
    }
    fn goal(&self) -> Goal {
        Goal::AtMost(1.2)
    }
    fn repeats(&self) -> bool {
        false
    }

    fn measure(&self, ctx: &Ctx, server: &RunningServer, _run: usize) -> Result<Sample> {
        let before = server.rss_bytes()?;
        ctx.rt
            .block_on(driver::load_commands(server, self.keys, self.write))?;
        let reply = ctx.rt.block_on(driver::query(server, &args(&["DBSIZE"])))?;
        ensure!(
            reply == Value::Int(self.expect_keys as i64),
            "DBSIZE answered {reply:?} after loading {} keys",
            self.expect_keys
        );
        // Memory at rest: both servers' allocators hand freed pages (tables outgrown while
        // loading) back to the OS from a background thread, within a second or two.
        std::thread::sleep(Duration::from_secs(3));
        let after = server.rss_bytes()?;
        Ok(Sample::noted(
            after as f64 / (1024.0 * 1024.0),
            format!("RSS {} MiB ({} MiB at start)", mib(after), mib(before)),
        ))
    }
}
