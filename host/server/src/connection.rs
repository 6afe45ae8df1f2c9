//! One client connection: read requests, run them, write replies.
//!
//! Requests are parsed and run in the order they arrive; the replies of everything a read
//! brought in (a pipeline) go out in one write. A command that blocks flushes what is pending,
//! then parks the task until a writer answers it, its timeout passes or the client goes away.
//! `MULTI`/`EXEC`/`DISCARD` live here because they decide whether a command runs at all.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use sluice_resp::{Args, Protocol, Reply, RequestParser, encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::blocking::BlockRequest;
use crate::clients::ClientInfo;
use crate::cmd::{self, Ctx, Outcome, Resolved, flags};
use crate::error::{self, CmdError};
use crate::shared::Shared;

/// Replies are written once this much is pending even in the middle of a pipeline.
const OUTPUT_FLUSH_BYTES: usize = 64 * 1024;
/// Read buffer size to start with.
const READ_CHUNK: usize = 16 * 1024;

/// The state of a connection that commands may change.
#[derive(Debug)]
pub struct ClientState {
    /// What other connections see of this one.
    pub info: Arc<ClientInfo>,
    /// Selected database index.
    pub db: usize,
    /// Protocol version chosen with `HELLO`.
    pub proto: Protocol,
    /// Commands queued since `MULTI`, if in a transaction.
    pub multi: Option<Multi>,
}

impl ClientState {
    /// State for commands run without a connection (log replay at start).
    pub fn detached(info: Arc<ClientInfo>) -> Self {
        ClientState {
            info,
            db: 0,
            proto: Protocol::Resp2,
            multi: None,
        }
    }

    /// Selects database `db` (already range-checked).
    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Ordering::Relaxed);
    }

    /// Switches the protocol version.
    pub fn set_proto(&mut self, proto: Protocol) {
        self.proto = proto;
        self.info.resp.store(
            if proto == Protocol::Resp3 { 3 } else { 2 },
            Ordering::Relaxed,
        );
    }

    /// Queues a command in the open transaction (`MULTI` … `EXEC`).
    fn queue(&mut self, resolved: Resolved, args: Args) {
        if let Some(multi) = self.multi.as_mut() {
            multi.queued.push((resolved, args));
            self.info
                .multi_plus_one
                .store(multi.queued.len() as u64 + 1, Ordering::Relaxed);
        }
    }

    fn set_multi(&mut self, multi: Option<Multi>) {
        let count = multi.as_ref().map_or(0, |m| m.queued.len() as u64 + 1);
        self.info.multi_plus_one.store(count, Ordering::Relaxed);
        self.multi = multi;
    }

    /// Back to a fresh connection's state (`RESET`).
    pub fn reset(&mut self) {
        self.select(0);
        self.set_proto(Protocol::Resp2);
        self.set_multi(None);
        self.info.name.lock().clear();
    }
}

/// A transaction being queued.
#[derive(Debug, Default)]
pub struct Multi {
    queued: Vec<(Resolved, Args)>,
    /// A command was refused while queueing: `EXEC` must abort.
    dirty: bool,
}

/// What the connection does after a request.
enum Step {
    Continue,
    Block(BlockRequest),
    Close,
}

/// Serves one client until it disconnects, sends `QUIT`, breaks the protocol, or the server
/// shuts down.
pub async fn serve(
    shared: Arc<Shared>,
    mut socket: TcpStream,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = socket.set_nodelay(true);
    let (Ok(addr), Ok(laddr)) = (socket.peer_addr(), socket.local_addr()) else {
        return;
    };
    let info = shared.clients.add(addr, laddr, shared.now_ms());
    let mut conn = Connection {
        state: ClientState {
            info: info.clone(),
            db: 0,
            proto: Protocol::Resp2,
            multi: None,
        },
        parser: RequestParser::new(max_bulk_len(&shared)),
        needs_durable: false,
        shared: shared.clone(),
        input: BytesMut::with_capacity(READ_CHUNK),
        output: BytesMut::with_capacity(READ_CHUNK),
    };
    if let Err(e) = conn.run(&mut socket, &mut shutdown).await {
        tracing::debug!(client = info.id, "connection closed: {e}");
    }
    shared.clients.remove(info.id);
}

fn max_bulk_len(shared: &Shared) -> usize {
    usize::try_from(shared.settings.proto_max_bulk_len.load(Ordering::Relaxed))
        .unwrap_or(usize::MAX)
}

struct Connection {
    shared: Arc<Shared>,
    state: ClientState,
    parser: RequestParser,
    input: BytesMut,
    output: BytesMut,
    /// A command since the last flush may have logged a change: make the log durable before
    /// sending its reply.
    needs_durable: bool,
}

impl Connection {
    async fn run(
        &mut self,
        socket: &mut TcpStream,
        shutdown: &mut watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        loop {
            // Run every complete request already received.
            loop {
                let args = match self.parser.parse(&mut self.input) {
                    Ok(Some(args)) => args,
                    Ok(None) => break,
                    Err(e) => {
                        self.reply(&Reply::error(format!("ERR {e}")));
                        return self.flush(socket).await;
                    }
                };
                if args.is_empty() {
                    continue;
                }
                match self.handle(args) {
                    Step::Continue => {}
                    Step::Close => return self.flush(socket).await,
                    Step::Block(request) => {
                        self.flush(socket).await?;
                        match self.wait(socket, request).await? {
                            Some(reply) => {
                                // A writer may have logged what it handed us (group deliveries).
                                self.needs_durable = true;
                                self.reply(&reply);
                            }
                            None => return Ok(()),
                        }
                    }
                }
                if self.output.len() >= OUTPUT_FLUSH_BYTES {
                    self.flush(socket).await?;
                }
            }
            self.flush(socket).await?;
            self.parser.set_max_bulk_len(max_bulk_len(&self.shared));
            if self.input.capacity() - self.input.len() < 1024 {
                self.input.reserve(READ_CHUNK);
            }
            tokio::select! {
                read = socket.read_buf(&mut self.input) => {
                    let n = read?;
                    if n == 0 {
                        return Ok(());
                    }
                    self.shared.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }

    /// Makes every logged change durable as `appendfsync` asks before replies acknowledge
    /// them: in the OS (`everysec`, `no`: a crash of the process loses nothing) or on disk
    /// (`always`). If the log cannot be written, the replies are not sent: the connection is
    /// closed, so the client never hears "stored" for a write that is not.
    async fn make_durable(&mut self) -> std::io::Result<()> {
        let Some(wal) = self.shared.journal.wal() else {
            return Ok(());
        };
        let lsn = wal.last_lsn();
        // Let the other connections this worker has ready append their records first, so one
        // write(2) (or one fsync) carries all of them: group commit, as Redis writes its AOF
        // once per event-loop turn. Measured: ~15 pipelined batches per write instead of 1.
        tokio::task::yield_now().await;
        let result = match wal.policy() {
            sluice_storage::FsyncPolicy::Always => wal.wait_synced(lsn).await,
            _ => wal.write_through(lsn),
        };
        result.map_err(|e| {
            tracing::error!("write-ahead log failed, closing the connection unacknowledged: {e}");
            std::io::Error::other(e.to_string())
        })
    }

    fn reply(&mut self, reply: &Reply) {
        count_error(&self.shared, reply);
        encode(reply, self.state.proto, &mut self.output);
    }

    async fn flush(&mut self, socket: &mut TcpStream) -> std::io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        if std::mem::take(&mut self.needs_durable) {
            self.make_durable().await?;
        }
        socket.write_all(&self.output).await?;
        self.shared
            .stats
            .net_output_bytes
            .fetch_add(self.output.len() as u64, Ordering::Relaxed);
        self.output.clear();
        Ok(())
    }

    /// Runs or queues one request and encodes its reply.
    fn handle(&mut self, args: Vec<Bytes>) -> Step {
        let args = Args::new(args);
        let info = &self.state.info;
        info.last_active_ms
            .store(self.shared.now_ms(), Ordering::Relaxed);
        let resolved = match cmd::resolve(&args) {
            Ok(resolved) => resolved,
            Err(e) => {
                // A known command refused for its arity counts as rejected, as in Redis.
                if let Some(command) = cmd::lookup(args.name()) {
                    let sub = args.all().get(1).and_then(|s| {
                        command
                            .subcommands
                            .iter()
                            .find(|c| c.name.as_bytes().eq_ignore_ascii_case(s))
                    });
                    self.shared
                        .command_stats
                        .rejected((command.name, sub.map(|s| s.name)));
                }
                if let Some(multi) = self.state.multi.as_mut() {
                    multi.dirty = true;
                }
                self.reply(&e.into_reply());
                return Step::Continue;
            }
        };
        *info.last_cmd.lock() = (resolved.command.name, resolved.sub.map(|s| s.name));
        if matches!(resolved.command.name, "multi" | "exec" | "discard") {
            let started = std::time::Instant::now();
            let reply = match resolved.command.name {
                "multi" => self.multi(),
                "exec" => self.exec(),
                _ => self.discard(),
            };
            self.shared.command_stats.ran(
                (resolved.command.name, None),
                elapsed_usec(started),
                reply.is_error(),
            );
            self.reply(&reply);
            return Step::Continue;
        }
        if self.state.multi.is_some() && !resolved.target().has(flags::NO_MULTI) {
            self.state.queue(resolved, args);
            self.reply(&Reply::Simple("QUEUED".into()));
            return Step::Continue;
        }
        match self.run_gated(resolved, args) {
            Outcome::Reply(reply) => {
                self.reply(&reply);
                Step::Continue
            }
            Outcome::Block(request) => Step::Block(request),
            Outcome::Close(reply) => {
                self.reply(&reply);
                Step::Close
            }
            Outcome::Disconnect => Step::Close,
        }
    }

    /// Runs a command holding the keyspace gate as its flags ask.
    fn run_gated(&mut self, resolved: Resolved, args: Args) -> Outcome {
        if resolved.target().has(flags::WRITE) {
            if let Some(Err(e)) = self.shared.journal.wal().map(|wal| wal.check_writable()) {
                // As Redis refuses writes once its AOF cannot be written.
                return Outcome::Reply(Reply::error(format!(
                    "MISCONF Errors writing to the AOF file: {e}"
                )));
            }
            self.needs_durable = true;
        }
        let Connection { shared, state, .. } = self;
        execute_gated(shared, state, resolved, args, false)
    }

    fn multi(&mut self) -> Reply {
        if self.state.multi.is_some() {
            Reply::error(error::MULTI_NESTED)
        } else {
            self.state.set_multi(Some(Multi::default()));
            Reply::Ok
        }
    }

    fn discard(&mut self) -> Reply {
        if self.state.multi.is_none() {
            Reply::error(error::DISCARD_WITHOUT_MULTI)
        } else {
            self.state.set_multi(None);
            Reply::Ok
        }
    }

    /// Runs the queued commands as one step: no other command sees the keyspace between them.
    fn exec(&mut self) -> Reply {
        let Some(multi) = self.state.multi.take() else {
            return Reply::error(error::EXEC_WITHOUT_MULTI);
        };
        self.state.set_multi(None);
        if multi.dirty {
            return Reply::error(error::EXECABORT);
        }
        let Connection { shared, state, .. } = self;
        let gate = shared.keyspace.gate.write();
        let mut replies = Vec::with_capacity(multi.queued.len());
        for (resolved, args) in multi.queued {
            let reply = match execute(shared, state, resolved, args, true) {
                Outcome::Reply(reply) | Outcome::Close(reply) => reply,
                Outcome::Disconnect => Reply::Null,
                // Blocking commands answer at once inside EXEC; this is their empty answer.
                Outcome::Block(request) => request.read.timeout_reply(),
            };
            // Redis counts the errors inside EXEC's array in `errorstats` too.
            count_error(shared, &reply);
            replies.push(reply);
        }
        drop(gate);
        Reply::Array(replies)
    }

    /// Waits for a blocked read's answer. `None`: the client went away.
    async fn wait(
        &mut self,
        socket: &mut TcpStream,
        request: BlockRequest,
    ) -> std::io::Result<Option<Reply>> {
        let deadline = request.timeout.map(|t| Instant::now() + t);
        let registration = {
            let _gate = self.shared.keyspace.gate.read();
            self.shared
                .blocking
                .register(&self.shared, request, self.state.proto)
        };
        let mut registration = match registration {
            Ok(registration) => registration,
            Err(reply) => return Ok(Some(reply)),
        };
        let info = self.state.info.clone();
        info.blocked.store(true, Ordering::Relaxed);
        let result = loop {
            tokio::select! {
                reply = &mut registration.reply => break Ok(Some(reply.unwrap_or(Reply::NullArray))),
                () = sleep_until(deadline) => {
                    break Ok(Some(match self.shared.blocking.cancel(registration.id) {
                        Some(reply) => reply,
                        // A writer answered just now: its reply is in the channel.
                        None => registration.reply.try_recv().unwrap_or(Reply::NullArray),
                    }));
                }
                read = socket.read_buf(&mut self.input) => {
                    // Requests sent meanwhile wait their turn; a closed socket ends the wait.
                    match read {
                        Ok(n) if n > 0 => continue,
                        Ok(_) => break Ok(None),
                        Err(e) => break Err(e),
                    }
                }
            }
        };
        if !matches!(result, Ok(Some(_))) {
            let _ = self.shared.blocking.cancel(registration.id);
        }
        info.blocked.store(false, Ordering::Relaxed);
        result
    }
}

/// Runs one command holding the keyspace gate as its flags ask: none (`UNGATED`), exclusive
/// (`EXCLUSIVE`) or shared. Also the fuzzing [`crate::harness`]'s step.
pub(crate) fn execute_gated(
    shared: &Shared,
    state: &mut ClientState,
    resolved: Resolved,
    args: Args,
    in_exec: bool,
) -> Outcome {
    if resolved.target().has(flags::UNGATED) {
        execute(shared, state, resolved, args, in_exec)
    } else if resolved.target().has(flags::EXCLUSIVE) {
        let _gate = shared.keyspace.gate.write();
        execute(shared, state, resolved, args, in_exec)
    } else {
        let _gate = shared.keyspace.gate.read();
        execute(shared, state, resolved, args, in_exec)
    }
}

/// Runs one command; the caller holds the keyspace gate.
fn execute(
    shared: &Shared,
    state: &mut ClientState,
    resolved: Resolved,
    args: Args,
    in_exec: bool,
) -> Outcome {
    shared
        .stats
        .commands_processed
        .fetch_add(1, Ordering::Relaxed);
    let mut ctx = Ctx {
        now_ms: shared.now_ms(),
        shared,
        client: state,
        in_exec,
    };
    let started = std::time::Instant::now();
    let outcome = cmd::execute(&mut ctx, resolved, args)
        .unwrap_or_else(|e: CmdError| Outcome::Reply(e.into_reply()));
    let failed = matches!(&outcome, Outcome::Reply(r) | Outcome::Close(r) if r.is_error());
    shared.command_stats.ran(
        (resolved.command.name, resolved.sub.map(|s| s.name)),
        elapsed_usec(started),
        failed,
    );
    outcome
}

/// Counts an error reply for `INFO stats` (`total_error_replies`) and `INFO errorstats`.
fn count_error(shared: &Shared, reply: &Reply) {
    if let Reply::Error(text) = reply {
        shared.stats.error_replies.fetch_add(1, Ordering::Relaxed);
        shared.command_stats.error(text);
    }
}

fn elapsed_usec(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
