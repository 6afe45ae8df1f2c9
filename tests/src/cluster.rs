//! A real Redis Cluster on loopback for the attached-mode tests: `redis-server
//! --cluster-enabled yes` nodes joined with `redis-cli --cluster create … --cluster-yes`
//! (`.ci/run` installs both), stopped and removed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::RawClient;

/// A running cluster.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<Child>,
    /// Each node's port on 127.0.0.1, masters first (as `--cluster create` assigns them).
    pub ports: Vec<u16>,
    dir: PathBuf,
}

impl RedisCluster {
    /// `masters` masters, each with `replicas` replicas, covering all slots.
    pub fn start(masters: usize, replicas: usize) -> Result<RedisCluster> {
        let dir = crate::tempdir()?;
        let count = masters * (1 + replicas);
        let mut cluster = RedisCluster {
            nodes: Vec::new(),
            ports: Vec::new(),
            dir,
        };
        for _ in 0..count {
            let port = cluster_port(&cluster.ports)?;
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--cluster-node-timeout", "2000"])
                .args(["--save", "", "--appendonly", "no"])
                // The nodes share one folder: a replica's full sync goes through an RDB file,
                // and with one `dump.rdb` for all, two replicas syncing at once could each
                // load the other's (a shard's replica then holds another shard's data).
                .args(["--dbfilename", &format!("dump-{port}.rdb")])
                .arg("--logfile")
                .arg(cluster.dir.join(format!("node-{port}.log")))
                .arg("--dir")
                .arg(&cluster.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting redis-server (apt-get install redis-server)")?;
            cluster.nodes.push(child);
            cluster.ports.push(port);
        }
        for &port in &cluster.ports {
            wait_for(port, "PING", "+PONG")?;
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &cluster.ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let out = create
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .context("running redis-cli --cluster create (apt-get install redis-tools)")?;
        if !out.status.success() {
            bail!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        for &port in &cluster.ports {
            wait_for(port, "CLUSTER INFO", "cluster_state:ok")?;
        }
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>` of each master given at creation.
    pub fn seed_urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// The last `lines` lines node `port` logged (what a failure's message shows of how a
    /// failover went).
    pub fn log_tail(&self, port: u16, lines: usize) -> String {
        let path = self.dir.join(format!("node-{port}.log"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| format!("({e})"));
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// A cluster client.
    pub fn client(&self) -> Result<redis::cluster::ClusterConnection> {
        let client = redis::cluster::ClusterClient::new(self.seed_urls())?;
        Ok(client.get_connection()?)
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.kill();
            let _ = node.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free port whose cluster bus port (+10000) is free too, not in `taken`.
fn cluster_port(taken: &[u16]) -> Result<u16> {
    for _ in 0..200 {
        let port = 20000 + fastrand_port();
        if taken.contains(&port) {
            continue;
        }
        let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10000) {
            return Ok(port);
        }
    }
    bail!("no free port pair for a cluster node")
}

/// A pseudo-random offset in 0..20000 (the clock's nanoseconds; no RNG crate needed).
fn fastrand_port() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    u16::try_from(nanos % 20000).unwrap_or(0)
}

/// Waits until `command` on `port` answers with something containing `expect`.
fn wait_for(port: u16, command: &str, expect: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let args: Vec<&str> = command.split(' ').collect();
    loop {
        if let Ok(mut raw) = RawClient::connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
            && raw.cmd(&args).is_ok_and(|r| r.contains(expect))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("node {port}: {command} never answered {expect}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl RedisCluster {
    /// The port of the master serving `key` now.
    pub fn master_port_of(&self, key: &str) -> Result<u16> {
        let mut any =
            RawClient::connect(std::net::SocketAddr::from(([127, 0, 0, 1], self.ports[0])))?;
        let slot_reply = any.cmd(&["CLUSTER", "KEYSLOT", key])?;
        let slot: u16 = slot_reply.trim_start_matches(':').trim().parse()?;
        let nodes = any.cmd(&["CLUSTER", "NODES"])?;
        let rows: Vec<Vec<&str>> = nodes
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        master_row(&rows, slot)
            .and_then(|row| port_of(row))
            .context("no master serves the key's slot")
    }

    /// Promotes a replica of the master serving `key` with `CLUSTER FAILOVER` (the manual,
    /// coordinated failover: the replica catches up first) and waits until it serves the
    /// slot. Returns the new master's port.
    pub fn fail_over(&self, key: &str) -> Result<u16> {
        let mut any =
            RawClient::connect(std::net::SocketAddr::from(([127, 0, 0, 1], self.ports[0])))?;
        let slot_reply = any.cmd(&["CLUSTER", "KEYSLOT", key])?;
        let slot: u16 = slot_reply.trim_start_matches(':').trim().parse()?;
        // Gossip may not have told this node of every replica yet, right after the join.
        let deadline = Instant::now() + Duration::from_secs(20);
        let replica_port = loop {
            let nodes = any.cmd(&["CLUSTER", "NODES"])?;
            if let Some(port) = replica_of_slot(&nodes, slot) {
                break port;
            }
            if Instant::now() > deadline {
                bail!("no replica of slot {slot}'s master in {nodes}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut replica =
            RawClient::connect(std::net::SocketAddr::from(([127, 0, 0, 1], replica_port)))?;
        // A replica whose link to its master is not up yet cannot take over.
        wait_for(replica_port, "INFO replication", "master_link_status:up")?;
        for _attempt in 0..3 {
            let reply = replica.cmd(&["CLUSTER", "FAILOVER"])?;
            if !reply.starts_with("+OK") {
                bail!("CLUSTER FAILOVER: {reply}");
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let role = replica.cmd(&["ROLE"])?;
                if role.contains("master") {
                    return Ok(replica_port);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        bail!("the replica on {replica_port} never became master")
    }
}

/// The port of a replica of the master serving `slot`, from a `CLUSTER NODES` reply.
fn replica_of_slot(nodes: &str, slot: u16) -> Option<u16> {
    let rows: Vec<Vec<&str>> = nodes
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let master = master_row(&rows, slot)?;
    rows.iter()
        .find(|w| w.len() > 3 && w[2].contains("slave") && w[3] == master[0])
        .and_then(|w| port_of(w))
}

/// The port in a `CLUSTER NODES` row (`<id> <host:port@bus> …`).
fn port_of(row: &[&str]) -> Option<u16> {
    row.get(1)?
        .split('@')
        .next()?
        .rsplit_once(':')?
        .1
        .parse()
        .ok()
}

/// The row of the master serving `slot`.
fn master_row<'a>(rows: &'a [Vec<&'a str>], slot: u16) -> Option<&'a Vec<&'a str>> {
    rows.iter().find(|w| {
        w.len() > 8
            && w[2].contains("master")
            && w[8..].iter().any(|range| {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                matches!((lo.parse::<u16>(), hi.parse::<u16>()), (Ok(lo), Ok(hi)) if lo <= slot && slot <= hi)
            })
    })
}
