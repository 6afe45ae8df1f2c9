//! The two servers under comparison, as child processes: building `sluice`, starting either
//! server on a free loopback port with a fresh data folder, waiting until it answers `PING`,
//! reading its resident memory, and killing it again.
//!
//! A [`RunningServer`] is a drop guard: whatever way the bench ends (an error, a failed
//! assertion, Ctrl-C excepted), the child is killed and its temporary folder removed, so a
//! failed run never leaves a server holding a port or a data folder behind.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

/// How long a server may take from spawn to its first `PONG`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Which implementation a server is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sluice,
    Redis,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Sluice => "sluice",
            Kind::Redis => "redis",
        }
    }
}

/// An `appendfsync` policy, spelled as both servers spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // Used by the persistence workloads, not all of which exist yet.
pub enum Fsync {
    Always,
    EverySec,
    No,
}

impl Fsync {
    fn arg(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }
}

/// What a workload asks of the servers' durability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // `AppendFsync` is for the persistence workloads.
pub enum Durability {
    /// Each server as deployed by default, minus Redis's RDB snapshots: Sluice writes its
    /// write-ahead log with its default policy, Redis keeps everything in memory only.
    Default,
    /// Both servers log every write, with this fsync policy (`--appendonly yes` for Redis).
    AppendFsync(Fsync),
}

/// Where the server binaries are.
#[derive(Debug)]
pub struct Binaries {
    /// What runs in Sluice's place, or `None` when the run measures Redis alone.
    pub sluice: Option<SluiceBinary>,
    pub redis: PathBuf,
}

/// What runs in Sluice's place.
#[derive(Debug)]
pub enum SluiceBinary {
    /// A `sluice` binary, started with Sluice's flags.
    Sluice(PathBuf),
    /// A second `redis-server` started exactly like the first: a Redis-vs-Redis run whose
    /// ratios show how noisy the machine is.
    Redis,
}

/// Why one start attempt failed, and whether another attempt could help.
struct StartFailure {
    error: anyhow::Error,
    /// The process exited (e.g. its port was taken) rather than hanging.
    exited: bool,
}

impl From<anyhow::Error> for StartFailure {
    fn from(error: anyhow::Error) -> Self {
        StartFailure {
            error,
            exited: false,
        }
    }
}

/// A server child process on `127.0.0.1:<port>`; killed, and its folder removed, on drop.
#[derive(Debug)]
pub struct RunningServer {
    pub kind: Kind,
    pub port: u16,
    child: Child,
    /// Holds `data/` (the server's `--dir`) and `server.log` (its stdout and stderr).
    root: PathBuf,
}

impl RunningServer {
    /// Starts `kind` on a free port and waits until it answers `PING`.
    pub fn start(kind: Kind, bins: &Binaries, durability: Durability) -> Result<Self> {
        let (bin, flavour) = match (kind, &bins.sluice) {
            (Kind::Sluice, Some(SluiceBinary::Sluice(bin))) => (bin.as_path(), Kind::Sluice),
            (Kind::Sluice, Some(SluiceBinary::Redis)) => (bins.redis.as_path(), Kind::Redis),
            (Kind::Sluice, None) => bail!("no sluice binary for this run"),
            (Kind::Redis, _) => (bins.redis.as_path(), Kind::Redis),
        };
        // Picking a port and then binding it in another process races with anything else
        // on the box taking the port in between; the server then exits at once, and a second
        // try makes that a non-event. A server that hangs is not retried.
        let mut attempt = 1;
        loop {
            match Self::start_once(kind, flavour, bin, durability) {
                Ok(server) => return Ok(server),
                Err(failure) if failure.exited && attempt < 3 => attempt += 1,
                Err(failure) => return Err(failure.error),
            }
        }
    }

    /// `flavour` says which command line `bin` understands; `kind` which column it fills.
    fn start_once(
        kind: Kind,
        flavour: Kind,
        bin: &Path,
        durability: Durability,
    ) -> Result<Self, StartFailure> {
        let port = free_port()?;
        let root = fresh_temp_dir(kind.label())?;
        Self::spawn(kind, flavour, bin, durability, port, &root).inspect_err(|_| {
            // Without a guard yet, nothing else removes the folder.
            let _ = fs::remove_dir_all(&root);
        })
    }

    fn spawn(
        kind: Kind,
        flavour: Kind,
        bin: &Path,
        durability: Durability,
        port: u16,
        root: &Path,
    ) -> Result<Self, StartFailure> {
        let data = root.join("data");
        fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
        let log_path = root.join("server.log");
        let log =
            File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;

        let mut cmd = Command::new(bin);
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(&data);
        match (flavour, durability) {
            (Kind::Sluice, Durability::Default) => {}
            (Kind::Sluice, Durability::AppendFsync(fsync)) => {
                cmd.arg("--appendfsync").arg(fsync.arg());
            }
            (Kind::Redis, Durability::Default) => {
                cmd.args(["--save", "", "--appendonly", "no"]);
            }
            (Kind::Redis, Durability::AppendFsync(fsync)) => {
                cmd.args([
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    fsync.arg(),
                ]);
            }
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicating the log file handle")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        // From here on the guard owns the child: an early return kills it.
        let mut server = RunningServer {
            kind,
            port,
            child,
            root: root.to_path_buf(),
        };
        if let Err(err) = server.wait_ready() {
            let exited = matches!(server.child.try_wait(), Ok(Some(_)));
            let error = anyhow::anyhow!(
                "{} ({}) did not come up on port {port}: {err:#}\n--- end of its output ---\n{}",
                kind.label(),
                bin.display(),
                server.log_tail()
            );
            return Err(StartFailure { error, exited });
        }
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .context("polling the server process")?
            {
                bail!("it exited with {status}");
            }
            if ping(self.port).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("no PONG on port {} within {READY_TIMEOUT:?}", self.port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resident set size of the server process, in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_bytes(&self) -> Result<u64> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
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

    /// `redis://` URL of this server, for the `redis` crate.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The last lines of the server's output, for error messages.
    fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // Errors here mean the child is already gone; nothing left to clean up but the folder.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Builds `sluice` in release mode and returns the binary's path.
///
/// Runs the same `cargo` that runs this bench, from the workspace root, so the binary lands in
/// the same target folder as the bench itself.
pub fn build_sluice() -> Result<PathBuf> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building sluice (cargo build --release -p sluice-server --bin sluice) ...");
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "-p",
            "sluice-server",
            "--bin",
            "sluice",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building sluice failed ({status}); `-- --redis-only` benchmarks Redis alone");
    }
    let bin = release_dir(&root).join("sluice");
    if !bin.is_file() {
        bail!("cargo built sluice but {} does not exist", bin.display());
    }
    Ok(bin)
}

/// The workspace root: `$SLUICE_WORKSPACE` if set, else the parent of this crate.
fn workspace_root() -> PathBuf {
    match std::env::var_os("SLUICE_WORKSPACE") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
    }
}

/// `<target>/release`: this bench runs from `<target>/release/deps/`, which also honours
/// `CARGO_TARGET_DIR`; `<root>/target/release` if that layout is not recognised.
fn release_dir(root: &Path) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .filter(|dir| dir.file_name().is_some_and(|n| n == "release"))
        .unwrap_or_else(|| root.join("target").join("release"))
}

/// Finds `redis-server` and `redis-benchmark`, or says how to install them.
pub fn find_redis_tool(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("{name} not found on PATH; install it with `apt-get install -y redis-server redis-tools`"))
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding a probe port")?;
    Ok(listener
        .local_addr()
        .context("reading the probe port")?
        .port())
}

fn fresh_temp_dir(label: &str) -> Result<PathBuf> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "sluice-compare-{label}-{}-{nanos}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Sends one RESP `PING` and expects `+PONG`.
fn ping(port: u16) -> Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.write_all(b"*1\r\n$4\r\nPING\r\n")?;
    let mut buf = [0u8; 64];
    let mut got = 0;
    while got < 7 {
        let n = stream.read(&mut buf[got..])?;
        if n == 0 {
            bail!("connection closed before PONG");
        }
        got += n;
    }
    if !buf[..got].starts_with(b"+PONG\r\n") {
        bail!(
            "unexpected reply to PING: {:?}",
            String::from_utf8_lossy(&buf[..got])
        );
    }
    Ok(())
}
