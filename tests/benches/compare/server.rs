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
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::resp::Conn;

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
pub enum Fsync {
    Always,
    EverySec,
    #[allow(dead_code)] // No workload measures `appendfsync no` yet.
    No,
}

impl Fsync {
    pub fn arg(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }
}

/// What a workload asks of the servers' durability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Each server as deployed by default, minus Redis's RDB snapshots: Sluice writes its
    /// write-ahead log with its default policy, Redis keeps everything in memory only.
    Default,
    /// Both servers log every write, with this fsync policy (`--appendonly yes` for Redis).
    AppendFsync(Fsync),
    /// As `AppendFsync`, but Sluice never snapshots on its own (`auto-snapshot-min-size` past
    /// any log a workload writes), so a restart replays the whole log.
    LogOnly(Fsync),
    /// Neither server persists anything (`appendonly no`; for Redis also no RDB).
    Off,
}

impl Durability {
    /// Short name for the table: `default`, `always`, `everysec`, `no`, `off`.
    pub fn label(self) -> &'static str {
        match self {
            Durability::Default => "default",
            Durability::AppendFsync(fsync) => fsync.arg(),
            Durability::LogOnly(_) => "log-only",
            Durability::Off => "aof-off",
        }
    }

    /// What `CONFIG GET appendonly` and `CONFIG GET appendfsync` must answer on a server of
    /// `flavour` started with this durability; `None` where the answer does not matter.
    fn expected(self, flavour: Kind) -> (&'static str, Option<&'static str>) {
        match (self, flavour) {
            (Durability::Default, Kind::Sluice) => ("yes", Some("everysec")),
            (Durability::Default | Durability::Off, Kind::Redis) => ("no", None),
            (Durability::AppendFsync(fsync) | Durability::LogOnly(fsync), _) => {
                ("yes", Some(fsync.arg()))
            }
            (Durability::Off, Kind::Sluice) => ("no", None),
        }
    }
}

/// How a server is asked to stop before a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// `SHUTDOWN NOSAVE`: no snapshot on the way out; a restart replays the log (AOF).
    ShutdownNoSave,
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
    /// The table column this server fills.
    pub kind: Kind,
    pub port: u16,
    /// Which command line `bin` understands: a calibration run puts Redis in Sluice's column,
    /// and a Sluice-vs-Sluice row puts Sluice in Redis's.
    flavour: Kind,
    bin: PathBuf,
    durability: Durability,
    /// Behind a lock so that a workload, which gets the server by shared reference (and may
    /// share it with client threads), can still restart it.
    child: Mutex<Child>,
    /// Holds `data/` (the server's `--dir`), `server.log` (its stdout and stderr of the latest
    /// start) and Sluice's config file.
    root: PathBuf,
}

impl RunningServer {
    /// Starts the server for `kind`'s column on a free port and waits until it answers `PING`
    /// and reports the durability asked for. `runs` is the implementation: `Kind::Sluice` is
    /// whatever `bins.sluice` names (Redis in a calibration run).
    pub fn start(kind: Kind, runs: Kind, bins: &Binaries, durability: Durability) -> Result<Self> {
        let (bin, flavour) = match (runs, &bins.sluice) {
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

    fn start_once(
        kind: Kind,
        flavour: Kind,
        bin: &Path,
        durability: Durability,
    ) -> Result<Self, StartFailure> {
        let port = free_port()?;
        let root = fresh_temp_dir(kind.label())?;
        let child = spawn_child(flavour, bin, durability, port, &root).inspect_err(|_| {
            // Without a guard yet, nothing else removes the folder.
            let _ = fs::remove_dir_all(&root);
        })?;
        // From here on the guard owns the child: an early return kills it.
        let server = RunningServer {
            kind,
            port,
            flavour,
            bin: bin.to_path_buf(),
            durability,
            child: Mutex::new(child),
            root,
        };
        if let Err(err) = server.wait_ready() {
            let exited = matches!(server.child().try_wait(), Ok(Some(_)));
            let error = anyhow::anyhow!(
                "{} ({}) did not come up on port {port}: {err:#}\n--- end of its output ---\n{}",
                kind.label(),
                bin.display(),
                server.log_tail()
            );
            return Err(StartFailure { error, exited });
        }
        server.check_durability()?;
        Ok(server)
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        // A panic while holding the lock leaves the Child itself intact.
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self
                .child()
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

    /// Asks the server what it persists: a durability setting that silently did not take
    /// would make every persistence number meaningless.
    fn check_durability(&self) -> Result<()> {
        let (appendonly, appendfsync) = self.durability.expected(self.flavour);
        let mut conn = Conn::connect(self.port)?;
        let mut expect = |name: &str, want: &str| -> Result<()> {
            let reply = conn.call_ok(&["CONFIG", "GET", name])?;
            let got = match reply.array()? {
                [_, value] => String::from_utf8_lossy(value.bulk()?).into_owned(),
                other => bail!("CONFIG GET {name} returned {other:?}"),
            };
            if got != want {
                bail!(
                    "{} was started with {:?} but reports {name} {got:?}, not {want:?}",
                    self.kind.label(),
                    self.durability
                );
            }
            Ok(())
        };
        expect("appendonly", appendonly)?;
        if let Some(fsync) = appendfsync {
            expect("appendfsync", fsync)?;
        }
        Ok(())
    }

    /// Stops the server as `stop` says, waits for it to exit, and starts it again on the same
    /// port and data folder. Returns the instant just before the new process was spawned; the
    /// caller polls for readiness, since what "ready" means (which reply) is the caller's.
    pub fn restart(&self, stop: Stop) -> Result<Instant> {
        let mut conn = Conn::connect(self.port)?;
        match stop {
            Stop::ShutdownNoSave => conn.queue(&["SHUTDOWN", "NOSAVE"]),
        }
        conn.flush()?;
        let deadline = Instant::now() + READY_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child().try_wait().context("polling the server")? {
                break status;
            }
            if Instant::now() > deadline {
                bail!(
                    "{} still running {READY_TIMEOUT:?} after SHUTDOWN",
                    self.kind.label()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if !status.success() {
            bail!(
                "{} exited with {status} on SHUTDOWN NOSAVE:\n{}",
                self.kind.label(),
                self.log_tail()
            );
        }
        let started = Instant::now();
        *self.child() = spawn_child(
            self.flavour,
            &self.bin,
            self.durability,
            self.port,
            &self.root,
        )
        .map_err(|f| f.error)?;
        Ok(started)
    }

    /// The `sluice` binary this server runs, if it is Sluice.
    pub fn bin(&self) -> Option<&std::path::Path> {
        (self.flavour == Kind::Sluice).then_some(self.bin.as_path())
    }

    /// Sluice's config file, which a workload may add to (routes) before `SLUICE RELOAD`;
    /// `None` for Redis.
    pub fn config_file(&self) -> Option<PathBuf> {
        (self.flavour == Kind::Sluice).then(|| self.root.join("sluice.toml"))
    }

    /// Which implementation this is (see [`RunningServer::start`]).
    pub fn flavour(&self) -> Kind {
        self.flavour
    }

    /// Everything the server printed since its latest start.
    pub fn log(&self) -> String {
        fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }

    /// Resident set size of the server process, in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_bytes(&self) -> Result<u64> {
        sluice_tests::vm_rss_bytes(self.child().id())
    }

    /// `redis://` URL of this server, for the `redis` crate.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The last lines of the server's output, for error messages.
    pub fn log_tail(&self) -> String {
        let text = self.log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // Errors here mean the child is already gone; nothing left to clean up but the folder.
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Spawns `bin` on `port` with `root/data` as its data folder and `root/server.log` (truncated)
/// for its output.
fn spawn_child(
    flavour: Kind,
    bin: &Path,
    durability: Durability,
    port: u16,
    root: &Path,
) -> Result<Child, StartFailure> {
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
        (Kind::Sluice, durability) => {
            // Through the config file, which the flags would override: `check_durability`
            // confirms the server runs with what was asked.
            let (appendonly, appendfsync) = match durability {
                Durability::Default => (true, Fsync::EverySec),
                Durability::AppendFsync(fsync) | Durability::LogOnly(fsync) => (true, fsync),
                Durability::Off => (false, Fsync::EverySec),
            };
            let mut text = format!(
                "appendonly = {appendonly}\nappendfsync = \"{}\"\n",
                appendfsync.arg()
            );
            if let Durability::LogOnly(_) = durability {
                text.push_str("auto-snapshot-min-size = 1099511627776\n");
            }
            let config = root.join("sluice.toml");
            fs::write(&config, text).with_context(|| format!("writing {}", config.display()))?;
            cmd.arg("--config").arg(config);
        }
        (Kind::Redis, Durability::Default | Durability::Off) => {
            cmd.args(["--save", "", "--appendonly", "no"]);
        }
        (Kind::Redis, Durability::AppendFsync(fsync) | Durability::LogOnly(fsync)) => {
            // No automatic AOF rewrite: a restart then replays every command, like Sluice's
            // log, instead of whatever state a background rewrite happened to capture.
            cmd.args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                fsync.arg(),
                "--auto-aof-rewrite-percentage",
                "0",
            ]);
        }
    }
    Ok(cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("duplicating the log file handle")?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))?)
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
