//! Helpers for Sluice's end-to-end tests: the real server on `127.0.0.1:0`, real clients.
//!
//! [`TestServer`] runs `sluice_server::run` on its own runtime thread, so tests can use the
//! blocking `redis` client or raw sockets without sharing the server's executor, and stops it
//! when dropped. [`RawClient`] speaks RESP byte for byte for wire-exact assertions, over plain
//! TCP or, with [`TestServer::start_tls`] and [`RawClient::connect_tls`], over TLS with the
//! certificates in `tests/fixtures/tls`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::sync::oneshot;

pub mod cluster;
pub mod plugins;
pub mod real_server;
pub mod redis_cli;

pub use sluice_server::{Clock, Config};

/// A running server; stopped and its data folder removed on drop.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its `--dir`.
    pub dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Remove `dir` when dropped (false for a folder the test passed in).
    owns_dir: bool,
    /// Where it listens for TLS clients ([`TestServer::start_tls`]).
    pub tls_addr: Option<SocketAddr>,
    /// Where `/metrics` is served, when the config set `metrics-port` (any value: the test
    /// server listens on `127.0.0.1:0`).
    pub metrics_addr: Option<SocketAddr>,
}

impl TestServer {
    /// Starts a server with the default configuration.
    pub fn start() -> Result<TestServer> {
        Self::start_with(Config::default())
    }

    /// Starts a server with `config` (its port and dir are replaced).
    pub fn start_with(config: Config) -> Result<TestServer> {
        Self::start_with_clock(config, Arc::new(sluice_server::SystemClock))
    }

    /// Starts a server with `config` that reads the time from `clock` (for example a
    /// [`ManualClock`], so idle times and generated IDs are exact).
    pub fn start_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<TestServer> {
        let dir = tempdir()?;
        let mut server = Self::start_in(&dir, config, clock)?;
        server.owns_dir = true;
        Ok(server)
    }

    /// Starts a server on the data folder `dir`, which it leaves in place when dropped: the
    /// way to restart on the same data. Fails with the server's own error if the folder
    /// cannot be loaded.
    pub fn start_in(dir: &Path, config: Config, clock: Arc<dyn Clock>) -> Result<TestServer> {
        Self::start_listening(dir, config, clock, false)
    }

    /// Starts a server with `config` that also serves TLS on `127.0.0.1:0` ([`Self::tls_addr`]).
    /// Without certificate files in `config`, it uses the fixtures' `server.crt` and
    /// `server.key`; client certificates are asked for only if `config` names a CA.
    pub fn start_tls(mut config: Config) -> Result<TestServer> {
        if config.tls_cert_file.is_none() {
            config.tls_cert_file = Some(tls_fixture("server.crt"));
            config.tls_key_file = Some(tls_fixture("server.key"));
        }
        let dir = tempdir()?;
        let mut server =
            Self::start_listening(&dir, config, Arc::new(sluice_server::SystemClock), true)?;
        server.owns_dir = true;
        Ok(server)
    }

    fn start_listening(
        dir: &Path,
        mut config: Config,
        clock: Arc<dyn Clock>,
        tls: bool,
    ) -> Result<TestServer> {
        let dir = dir.to_path_buf();
        config.dir = dir.clone();
        config.port = 0;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("test runtime")?;
        // `config.bind` is 127.0.0.1 unless a test asks for another address (protected mode).
        let bind = format!("{}:0", config.bind);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(&bind))
            .with_context(|| format!("bind {bind}"))?;
        let addr = listener.local_addr()?;
        let tls = if tls {
            config.tls_port = Some(0);
            Some(sluice_server::TlsListener {
                acceptor: sluice_server::tls::acceptor(&config)?,
                listener: runtime
                    .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                    .context("bind 127.0.0.1:0 for TLS")?,
            })
        } else {
            None
        };
        let tls_addr = match &tls {
            Some(tls) => Some(tls.listener.local_addr()?),
            None => None,
        };
        let metrics = match config.metrics_port {
            Some(_) => Some(
                runtime
                    .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                    .context("bind 127.0.0.1:0 for /metrics")?,
            ),
            None => None,
        };
        let metrics_addr = match &metrics {
            Some(listener) => Some(listener.local_addr()?),
            None => None,
        };
        // Opening loads the data folder: its errors are the test's to see.
        let server = sluice_server::Server::open(config, clock, addr)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let listeners = sluice_server::Listeners {
            tcp: listener,
            tls,
            metrics,
        };
        let thread = std::thread::spawn(move || {
            let result = runtime.block_on(server.serve_with(listeners, async {
                let _ = stopped.await;
            }));
            if let Err(e) = result {
                eprintln!("test server failed: {e}");
            }
            runtime.shutdown_timeout(Duration::from_secs(1));
        });
        Ok(TestServer {
            addr,
            dir,
            stop: Some(stop),
            thread: Some(thread),
            owns_dir: false,
            tls_addr,
            metrics_addr,
        })
    }

    /// `redis://127.0.0.1:<port>` (RESP2), or with `?protocol=resp3`.
    pub fn url(&self, resp3: bool) -> String {
        let proto = if resp3 { "/?protocol=resp3" } else { "" };
        format!("redis://{}{proto}", self.addr)
    }

    /// A blocking `redis` crate connection speaking RESP2.
    pub fn client(&self) -> Result<redis::Connection> {
        Ok(redis::Client::open(self.url(false))?
            .get_connection_with_timeout(Duration::from_secs(5))?)
    }

    /// A blocking `redis` crate connection speaking RESP3.
    pub fn client3(&self) -> Result<redis::Connection> {
        Ok(redis::Client::open(self.url(true))?
            .get_connection_with_timeout(Duration::from_secs(5))?)
    }

    /// An async multiplexed `redis` crate connection.
    pub async fn async_client(&self) -> Result<redis::aio::MultiplexedConnection> {
        Ok(redis::Client::open(self.url(false))?
            .get_multiplexed_async_connection()
            .await?)
    }

    /// A raw socket for byte-exact checks.
    pub fn raw(&self) -> Result<RawClient> {
        RawClient::connect(self.addr)
    }

    /// A raw TLS session to [`Self::tls_addr`], showing the fixture certificate
    /// `<client_cert>.crt` if named (`"client"`, `"untrusted-client"`).
    pub fn tls_raw(&self, client_cert: Option<&str>) -> Result<RawClient<TlsStream>> {
        RawClient::connect_tls(
            self.tls_addr
                .context("the server was not started with TLS")?,
            client_cert,
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A clock the test sets by hand: Unix ms, starting wherever [`ManualClock::new`] puts it.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock showing `now_ms`.
    pub fn new(now_ms: u64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicU64::new(now_ms)))
    }

    /// Sets the time to `now_ms`.
    pub fn set(&self, now_ms: u64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A fresh, empty folder under the system temp dir.
pub fn tempdir() -> Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("sluice-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    Ok(dir)
}

/// A file of `tests/fixtures/tls` (see its README).
pub fn tls_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

/// A client TLS session over TCP (rustls, blocking).
pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A client that sends bytes and reads whole RESP replies as bytes, over TCP or TLS.
#[derive(Debug)]
pub struct RawClient<S = TcpStream> {
    stream: S,
    buf: Vec<u8>,
}

impl RawClient {
    /// Connects with a 5 s read timeout.
    pub fn connect(addr: SocketAddr) -> Result<RawClient> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_nodelay(true)?;
        Ok(RawClient {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sets how long reads wait.
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<()> {
        self.stream.set_read_timeout(Some(timeout))?;
        Ok(())
    }
}

impl RawClient<TlsStream> {
    /// Connects and completes a TLS handshake trusting the fixtures' CA, with a 5 s read
    /// timeout, showing the fixture certificate `<client_cert>.crt` if named. With TLS 1.3 a
    /// server that refuses the client's certificate says so after the handshake: the first
    /// read fails.
    pub fn connect_tls(addr: SocketAddr, client_cert: Option<&str>) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from_pem_file(tls_fixture("ca.crt"))?)?;
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let config = match client_cert {
            Some(name) => {
                let chain = vec![CertificateDer::from_pem_file(tls_fixture(&format!(
                    "{name}.crt"
                )))?];
                let key = PrivateKeyDer::from_pem_file(tls_fixture(&format!("{name}.key")))?;
                builder.with_client_auth_cert(chain, key)?
            }
            None => builder.with_no_client_auth(),
        };
        let name = ServerName::try_from("127.0.0.1")?;
        let mut session = rustls::ClientConnection::new(Arc::new(config), name)?;
        let mut socket = TcpStream::connect(addr)?;
        socket.set_read_timeout(Some(Duration::from_secs(5)))?;
        socket.set_nodelay(true)?;
        while session.is_handshaking() {
            session.complete_io(&mut socket)?;
        }
        Ok(RawClient {
            stream: rustls::StreamOwned::new(session, socket),
            buf: Vec::new(),
        })
    }
}

impl<S: Read + Write> RawClient<S> {
    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Sends a command as a RESP array of bulk strings.
    pub fn send_cmd(&mut self, args: &[&[u8]]) -> Result<()> {
        self.send(&encode_command(args))
    }

    /// Sends a command and returns its one reply's bytes.
    pub fn cmd(&mut self, args: &[&str]) -> Result<String> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send_cmd(&args)?;
        self.read_reply()
    }

    /// `XREADGROUP GROUP <group> <consumer> COUNT <count> STREAMS <key> >`: up to `count` new
    /// entries of `key` delivered to `consumer`; the reply's bytes.
    pub fn read_new(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        count: u64,
    ) -> Result<String> {
        let count = count.to_string();
        self.cmd(&[
            "XREADGROUP",
            "GROUP",
            group,
            consumer,
            "COUNT",
            &count,
            "STREAMS",
            key,
            ">",
        ])
    }

    /// Polls `INFO clients` until `blocked_clients` is `n` (a client blocks, and a
    /// disconnect is noticed, asynchronously); about 5 s at most.
    pub fn wait_blocked(&mut self, n: usize) -> Result<()> {
        let want = n.to_string();
        for _ in 0..500 {
            if self.info_field("clients", "blocked_clients")? == want {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        anyhow::bail!(
            "blocked_clients is {}, not {n}",
            self.info_field("clients", "blocked_clients")?
        )
    }

    /// The value of `field` in `INFO <section>`.
    pub fn info_field(&mut self, section: &str, field: &str) -> Result<String> {
        let reply = self.cmd(&["INFO", section])?;
        reply
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{field}:")))
            .map(str::to_owned)
            .with_context(|| format!("no {field} in INFO {section}"))
    }

    /// Reads exactly one reply (RESP2 or RESP3) and returns it as text.
    pub fn read_reply(&mut self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.read_reply_bytes()?).into_owned())
    }

    /// Reads exactly one reply and returns its bytes as sent (for non-UTF-8 replies).
    pub fn read_reply_bytes(&mut self) -> Result<Vec<u8>> {
        loop {
            if let Some(len) = reply_len(&self.buf) {
                return Ok(self.buf.drain(..len).collect());
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).context("reading a reply")?;
            if n == 0 {
                bail!(
                    "connection closed by the server (buffered: {:?})",
                    String::from_utf8_lossy(&self.buf)
                );
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Waits for the server to close the connection, returning anything it sent first.
    pub fn read_to_close(&mut self) -> Result<String> {
        let mut rest = Vec::new();
        self.stream.read_to_end(&mut rest)?;
        self.buf.extend_from_slice(&rest);
        Ok(String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned())
    }
}

/// `*2\r\n$<n>\r\n<name>\r\n$<n>\r\n<value>\r\n`: a one-parameter `CONFIG GET` reply.
pub fn config_pair(name: &str, value: &str) -> String {
    format!(
        "*2\r\n${}\r\n{name}\r\n${}\r\n{value}\r\n",
        name.len(),
        value.len()
    )
}

/// `*<n>\r\n$<len>\r\n<arg>\r\n…`
pub fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Length of the first complete RESP2/RESP3 value in `buf`, if complete.
fn reply_len(buf: &[u8]) -> Option<usize> {
    let line_end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&buf[1..line_end]).ok()?;
    let after = line_end + 2;
    match buf.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n: i64 = line.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + usize::try_from(n).ok()? + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = line.parse().ok()?;
            let items = if buf[0] == b'%' || buf[0] == b'|' {
                n * 2
            } else {
                n
            };
            let mut pos = after;
            for _ in 0..items.max(0) {
                pos += reply_len(&buf[pos..])?;
            }
            Some(pos)
        }
        _ => None,
    }
}

/// The `sluice` binary run as a child process (the tests' copy, `sluice-under-test`, which
/// runs the same start-up code), for tests that must kill the server for real.
#[derive(Debug)]
pub struct ChildServer {
    /// Where it listens.
    pub addr: SocketAddr,
    child: std::process::Child,
}

impl ChildServer {
    /// Starts `<bin> --port <free> --dir <dir> <extra…>` and waits until it answers PING.
    /// `bin` is `env!("CARGO_BIN_EXE_sluice-under-test")`, which only test targets see.
    pub fn start(bin: &str, dir: &std::path::Path, extra: &[&str]) -> Result<ChildServer> {
        Self::start_env(bin, dir, extra, &[])
    }

    /// [`ChildServer::start`] with `env` added to the child's environment.
    pub fn start_env(
        bin: &str,
        dir: &std::path::Path,
        extra: &[&str],
        env: &[(&str, &std::path::Path)],
    ) -> Result<ChildServer> {
        let port = free_port()?;
        let child = std::process::Command::new(bin)
            .envs(env.iter().copied())
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir)
            .arg("--loglevel")
            .arg("warning")
            .args(extra)
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting sluice-under-test")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = ChildServer { addr, child };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut raw) = RawClient::connect(addr)
                && raw.cmd(&["PING"]).is_ok_and(|r| r == "+PONG\r\n")
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("sluice exited at start-up: {status}");
            }
            if std::time::Instant::now() > deadline {
                bail!("sluice did not answer PING within 20 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident set size of process `pid`, bytes (`VmRSS` of `/proc/<pid>/status`): the benchmark's
/// memory rows and the soak tool read a server's memory this way.
pub fn vm_rss_bytes(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .with_context(|| format!("no VmRSS line in {path}"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("unreadable VmRSS line {line:?}"))?;
    Ok(kib * 1024)
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
