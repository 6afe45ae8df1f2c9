//! The server under load: either a `sluice` child process this tool starts on a free loopback
//! port with a temporary data folder (and stops at the end), or a server already listening on
//! a loopback address (`--addr`), such as `redis-server` for comparison. Nothing but loopback
//! is ever a target.

use std::fs;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use redis::aio::MultiplexedConnection;

use crate::proto;

/// A loopback port free now.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free port")?
        .port())
}

/// How long a started server may take to answer its first `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the load goes.
#[derive(Debug)]
pub struct Target {
    /// The server's address (always loopback).
    pub addr: SocketAddr,
    /// Where the started server serves `/metrics` (`--scrape-metrics`).
    pub metrics: Option<SocketAddr>,
    child: Option<OwnedServer>,
}

#[derive(Debug)]
struct OwnedServer {
    child: Child,
    /// Holds `data/` (the `--dir`) and `server.log`; removed on drop.
    root: PathBuf,
}

impl Target {
    /// A server someone else runs at `addr` (`host:port`), which must resolve to loopback
    /// addresses only.
    pub fn external(addr: &str) -> Result<Target> {
        let resolved: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .with_context(|| format!("resolving {addr}"))?
            .collect();
        let Some(first) = resolved.first().copied() else {
            bail!("{addr} resolves to no address");
        };
        if let Some(other) = resolved.iter().find(|a| !a.ip().is_loopback()) {
            bail!("refusing {addr}: {other} is not a loopback address (127.0.0.0/8 or ::1 only)");
        }
        Ok(Target {
            addr: first,
            metrics: None,
            child: None,
        })
    }

    /// Starts `bin --port <free> --dir <temp>/data --appendonly yes --appendfsync everysec
    /// [--metrics-port <free>] <extra…>` with its output in `<temp>/server.log`, and waits
    /// until it answers `PING`.
    pub async fn spawn(bin: &Path, extra: &[String], metrics: bool) -> Result<Target> {
        let port = free_port()?;
        let metrics = if metrics { Some(free_port()?) } else { None };
        let metrics_args = match metrics {
            Some(p) => vec!["--metrics-port".to_owned(), p.to_string()],
            None => Vec::new(),
        };
        let root = std::env::temp_dir().join(format!("sluice-soak-{}-{port}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("data"))
            .with_context(|| format!("creating {}", root.display()))?;
        let log = fs::File::create(root.join("server.log")).context("creating server.log")?;
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(root.join("data"))
            .args(["--appendonly", "yes", "--appendfsync", "everysec"])
            .args(&metrics_args)
            .args(extra)
            // server.log is read by people, not terminals: no colour codes.
            .env("NO_COLOR", "1")
            .stdout(log.try_clone().context("server.log handle")?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut target = Target {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            metrics: metrics.map(|p| SocketAddr::from(([127, 0, 0, 1], p))),
            child: Some(OwnedServer { child, root }),
        };
        target.wait_ready().await?;
        Ok(target)
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(mut conn) = proto::connect(self.addr).await
                && redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok_and(|r| r == "PONG")
            {
                return Ok(());
            }
            if let Some(owned) = &mut self.child
                && let Some(status) = owned.child.try_wait().context("checking the server")?
            {
                bail!(
                    "the server exited at start-up ({status}):\n{}",
                    self.log_tail()
                );
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!("the server did not answer PING within {READY_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The child's process ID, when this tool started the server.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|o| o.child.id())
    }

    /// The server's resident memory, bytes: `VmRSS` of its `/proc/<pid>/status` when it is our
    /// child, else `used_memory_rss` of `INFO memory`.
    pub async fn rss(&self, conn: &mut MultiplexedConnection) -> Result<u64> {
        if let Some(pid) = self.pid() {
            return sluice_tests::vm_rss_bytes(pid);
        }
        let info = info(conn, "memory").await?;
        proto::info_field(&info, "used_memory_rss").context("INFO memory has no used_memory_rss")
    }

    /// Whether the child has exited (it should not, while the load runs).
    pub fn exited(&mut self) -> Option<String> {
        let owned = self.child.as_mut()?;
        match owned.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("unknown ({e})")),
        }
    }

    /// Bytes in the child's data folder (its log and snapshots), when we own it.
    pub fn data_bytes(&self) -> Option<u64> {
        self.child.as_ref().map(|o| dir_bytes(&o.root.join("data")))
    }

    /// The last lines the child printed.
    pub fn log_tail(&self) -> String {
        let Some(owned) = &self.child else {
            return String::new();
        };
        let text = fs::read_to_string(owned.root.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops a child with `SHUTDOWN` and returns how it exited (killed after 20 s if it has
    /// not); leaves a server we did not start running.
    pub async fn stop(&mut self) -> Result<Option<String>> {
        let Some(owned) = &mut self.child else {
            return Ok(None);
        };
        if let Ok(mut conn) = proto::connect(self.addr).await {
            // The connection closes instead of replying: the error is the expected outcome.
            let _ = redis::cmd("SHUTDOWN").query_async::<()>(&mut conn).await;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = owned.child.try_wait().context("waiting for the server")? {
                return Ok(Some(status.to_string()));
            }
            if Instant::now() > deadline {
                owned.child.kill().context("killing the server")?;
                owned.child.wait().context("reaping the server")?;
                return Ok(Some("did not exit within 20 s of SHUTDOWN; killed".into()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for OwnedServer {
    fn drop(&mut self) {
        // Errors mean the child is already gone; only the folder is left to remove.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// The text of `INFO <section>`.
pub async fn info(conn: &mut MultiplexedConnection, section: &str) -> Result<String> {
    redis::cmd("INFO")
        .arg(section)
        .query_async(conn)
        .await
        .with_context(|| format!("INFO {section}"))
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(read) = fs::read_dir(dir) else {
        return 0;
    };
    read.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(Target::external("127.0.0.1:6379").is_ok());
        assert!(Target::external("[::1]:6379").is_ok());
        assert!(Target::external("10.0.0.1:6379").is_err());
        assert!(Target::external("192.168.1.2:6379").is_err());
    }
}
