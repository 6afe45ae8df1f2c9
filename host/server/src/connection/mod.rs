//! One client connection: read requests, run them, write replies.
//!
//! Requests are parsed and run in the order they arrive; the replies of everything a read
//! brought in (a pipeline) go out in one write. A command that blocks flushes what is pending,
//! then parks the task until a writer answers it, its timeout passes or the client goes away.
//! `MULTI`/`EXEC`/`DISCARD` live beside it (`transaction`) because they decide whether a
//! command runs at all; so do the wait of a blocked command (`wait`) and making the log
//! durable before replies acknowledge writes (`durable`).
//!
//! The loop is generic over the byte stream (plain TCP or TLS), monomorphised for each. It
//! enforces the per-client limits: unparsed input past `client-query-buffer-limit`, pending
//! replies at `client-output-buffer-limit`'s hard limit, or above its soft limit for its
//! seconds (a write that does not finish), close the connection without a reply, as in Redis.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::BytesMut;
use sluice_resp::{Args, Protocol, Reply, RequestParser, encode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::acl::log::{Context, Refused};
use crate::acl::{Refusal, Session};
use crate::clients::ClientInfo;
use crate::cmd::{self, Outcome, Resolved, flags};
use crate::error::{self, CmdError};
use crate::limits::{self, ClientLimits, LimitReached};
use crate::shared::Shared;
use sluice_broker::ready::{BlockRequest, ReadyKeys};

mod durable;
mod execute;
mod recheck;
mod transaction;
mod wait;

pub use durable::ReplyWait;
pub(crate) use execute::execute_gated;
use execute::{count_error, elapsed_nanos, execute, oom_refusal};
pub use transaction::Multi;

/// Replies are written once this much is pending even in the middle of a pipeline.
const OUTPUT_FLUSH_BYTES: usize = 64 * 1024;
/// Read buffer size to start with.
const READ_CHUNK: usize = 16 * 1024;
/// How long a closing connection may take to say goodbye (TLS `close_notify`).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

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
    /// The ACL user and whether the connection authenticated.
    pub session: Session,
    /// Keys the running command (or `EXEC`) made ready, served once it has finished.
    pub ready: ReadyKeys,
    /// Whether keys nobody is blocked on wait in `ready` for the end of the batch (a
    /// connection's pipelined requests), where the routes reading them are woken once.
    pub defer_ready: bool,
    /// The time the requests being run arrived (Unix ms), read once per batch of pipelined
    /// requests as Redis reads it once per event-loop turn; `None` reads the clock per
    /// command.
    pub batch_now_ms: Option<u64>,
    /// When the last command run back to back with the next one ended: the next one's time
    /// runs from here, so a pipeline reads the clock once per command rather than twice.
    /// Set at the start of a batch, after every wait and after a request that ran nothing;
    /// `None` (commands run without a connection: log replay, the fuzzing harness) reads the
    /// clock when a command starts.
    pub timing_mark: Option<quanta::Instant>,
}

impl ClientState {
    /// State for commands run without a connection (log replay at start).
    pub fn detached(info: Arc<ClientInfo>) -> Self {
        ClientState {
            info,
            db: 0,
            proto: Protocol::Resp2,
            multi: None,
            session: Session::internal(cmd::catalog()),
            ready: ReadyKeys::default(),
            defer_ready: false,
            batch_now_ms: None,
            timing_mark: None,
        }
    }

    /// The time the running request arrived: its batch's, else the clock's now.
    fn now_ms(&self, shared: &Shared) -> u64 {
        self.batch_now_ms.unwrap_or_else(|| shared.now_ms())
    }

    /// Switches the connection's user (`AUTH`, `HELLO AUTH`, `RESET`).
    pub fn set_session(&mut self, session: Session) {
        *self.info.user.lock() = session.user().display_name();
        self.session = session;
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

/// What the connection does after a request.
enum Step {
    Continue,
    /// Wait, in the command at this catalog index.
    Block(BlockRequest, usize),
    Close,
}

/// Serves one plain TCP client until it disconnects, sends `QUIT`, breaks the protocol or a
/// limit, or the server shuts down.
pub async fn serve(shared: Arc<Shared>, socket: TcpStream, shutdown: watch::Receiver<bool>) {
    let _ = socket.set_nodelay(true);
    let (Ok(addr), Ok(laddr)) = (socket.peer_addr(), socket.local_addr()) else {
        return;
    };
    serve_stream(shared, socket, addr, laddr, shutdown).await;
}

/// [`serve`] over any byte stream (a TLS session): `addr` is the peer's, `laddr` ours.
pub async fn serve_stream<S>(
    shared: Arc<Shared>,
    mut socket: S,
    addr: SocketAddr,
    laddr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    if crate::protected::refuses(&shared, addr.ip()) {
        shared
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            socket.write_all(crate::protected::DENIED_REPLY).await?;
            socket.shutdown().await
        })
        .await;
        return;
    }
    let info = shared.clients.add(addr, laddr, shared.now_ms());
    let mut conn = Connection {
        state: ClientState {
            info: info.clone(),
            db: 0,
            proto: Protocol::Resp2,
            multi: None,
            session: Session::new(&shared.acl),
            ready: ReadyKeys::default(),
            defer_ready: true,
            batch_now_ms: None,
            timing_mark: None,
        },
        parser: RequestParser::new(max_bulk_len(&shared)),
        wait: ReplyWait::default(),
        shared: shared.clone(),
        input: BytesMut::with_capacity(READ_CHUNK),
        output: BytesMut::with_capacity(READ_CHUNK),
        limits: ClientLimits::default(),
    };
    let ended = conn.run(&mut socket, &mut shutdown).await;
    // A connection that broke off mid-batch still wakes the routes of what it wrote.
    conn.serve_deferred();
    match ended {
        // A clean end: let a TLS client know the stream is complete.
        Ok(()) => {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.shutdown()).await;
        }
        Err(e) => tracing::debug!(client = info.id, "connection closed: {e}"),
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
    /// What the replies since the last flush wait for: their commands' log records, or the
    /// changes their reads saw (`durable`).
    wait: ReplyWait,
    /// The per-client limits, read from the settings before each read.
    limits: ClientLimits,
}

impl Connection {
    async fn run<S>(
        &mut self,
        socket: &mut S,
        shutdown: &mut watch::Receiver<bool>,
    ) -> std::io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        self.limits = ClientLimits::load(&self.shared.settings);
        let info = self.state.info.clone();
        // Made once: a new one per read would register with the channel again each time.
        let shut_down = shutdown.changed();
        tokio::pin!(shut_down);
        loop {
            // Run every complete request already received, at the time they arrived.
            self.state.batch_now_ms = Some(self.shared.now_ms());
            self.state.timing_mark = Some(quanta::Instant::now());
            loop {
                let args = match self.parser.parse(&mut self.input) {
                    Ok(Some(args)) => args,
                    Ok(None) => break,
                    Err(e) => {
                        self.reply(&Reply::error(format!("ERR {e}")));
                        return self.flush(socket).await;
                    }
                };
                if args.argc() == 0 {
                    continue;
                }
                let mark = self.state.timing_mark;
                let step = self.handle(args);
                if self.state.timing_mark == mark {
                    // Nothing ran (queued, refused, unknown): the next command's time starts
                    // now, not with this one's.
                    self.state.timing_mark = Some(quanta::Instant::now());
                }
                match step {
                    Step::Continue => {}
                    Step::Close => return self.flush(socket).await,
                    Step::Block(request, index) => {
                        self.flush(socket).await?;
                        let waited = self.wait(socket, request).await?;
                        // Time has passed while blocked: the rest of the batch runs now.
                        self.state.batch_now_ms = Some(self.shared.now_ms());
                        self.state.timing_mark = Some(quanta::Instant::now());
                        match waited {
                            Some(reply) => {
                                // A writer may have logged what it handed us (group deliveries).
                                self.wait.log = true;
                                if reply.is_error() {
                                    self.shared.command_stats.failed(index);
                                }
                                self.reply(&reply);
                            }
                            None => return Ok(()),
                        }
                    }
                }
                if self.output.len() >= OUTPUT_FLUSH_BYTES {
                    self.flush(socket).await?;
                    self.state.timing_mark = Some(quanta::Instant::now());
                }
            }
            self.flush(socket).await?;
            self.parser.set_max_bulk_len(max_bulk_len(&self.shared));
            self.limits = ClientLimits::load(&self.shared.settings);
            // What is left is the start of a request still arriving.
            self.check_query_buffer()?;
            if self.input.capacity() - self.input.len() < 1024 {
                self.input.reserve(READ_CHUNK);
            }
            tokio::select! {
                read = socket.read_buf(&mut self.input) => {
                    let n = read?;
                    if n == 0 {
                        return Ok(());
                    }
                    let stats = &self.shared.stats;
                    stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    stats.reads_processed.fetch_add(1, Ordering::Relaxed);
                }
                () = info.user_changed.notified() => {
                    if self.state.session.user_gone(&self.shared.acl) {
                        return Ok(());
                    }
                }
                _ = &mut shut_down => return Ok(()),
            }
        }
    }

    fn reply(&mut self, reply: &Reply) {
        count_error(&self.shared, reply);
        encode(reply, self.state.proto, &mut self.output);
    }

    /// Closes the connection (without a reply, as Redis) if the client has sent more than
    /// `client-query-buffer-limit` bytes that do not yet make a request.
    fn check_query_buffer(&self) -> std::io::Result<()> {
        let pending = self.input.len();
        if pending <= self.limits.query_buffer {
            return Ok(());
        }
        let info = &self.state.info;
        Err(limits::closing(
            &self.shared,
            info,
            LimitReached::QueryBuffer,
            pending,
        ))
    }

    /// Wakes the routes reading the keys the batch's commands made ready (see
    /// [`ClientState::defer_ready`]); before the batch's replies go out, or before it waits.
    fn serve_deferred(&mut self) {
        if !self.state.ready.is_empty() {
            let _gate = self.shared.broker.keyspace.gate.read();
            self.shared.serve_ready(&mut self.state.ready);
        }
    }

    /// Sends the pending replies. At the hard output limit nothing is sent and the connection
    /// closes; while the soft limit or more is pending, the client has the soft limit's
    /// seconds to take the excess.
    async fn flush<S>(&mut self, socket: &mut S) -> std::io::Result<()>
    where
        S: AsyncWrite + Unpin,
    {
        self.serve_deferred();
        if self.output.is_empty() {
            return Ok(());
        }
        let (limit, pending) = (self.limits.output, self.output.len());
        let info = &self.state.info;
        if limit.hard_reached(pending) {
            return Err(limits::closing(
                &self.shared,
                info,
                LimitReached::OutputHard,
                pending,
            ));
        }
        durable::settle(&self.shared, std::mem::take(&mut self.wait)).await?;
        let Some(written) = limits::write_above_soft(socket, &self.output, limit).await? else {
            let info = &self.state.info;
            return Err(limits::closing(
                &self.shared,
                info,
                LimitReached::OutputSoft,
                pending,
            ));
        };
        socket.write_all(&self.output[written..]).await?;
        // Nothing for TCP; sends what TLS has buffered.
        socket.flush().await?;
        let stats = &self.shared.stats;
        stats
            .net_output_bytes
            .fetch_add(self.output.len() as u64, Ordering::Relaxed);
        stats.writes_processed.fetch_add(1, Ordering::Relaxed);
        self.output.clear();
        Ok(())
    }

    /// Runs or queues one request and encodes its reply.
    fn handle(&mut self, mut args: Args) -> Step {
        let info = &self.state.info;
        let now_ms = self.state.now_ms(&self.shared);
        info.last_active_ms.store(now_ms, Ordering::Relaxed);
        let resolved = match cmd::resolve(&args) {
            Ok(resolved) => resolved,
            Err(e) => return self.unresolved(&args, e),
        };
        info.last_cmd.store(resolved.index + 1, Ordering::Relaxed);
        // Authentication and ACLs, before MULTI queues anything, as in Redis.
        if let Err(refusal) = self
            .state
            .session
            .admit(&self.shared.acl, resolved.index, &args)
        {
            return self.refuse(resolved, refusal);
        }
        if let Some(refusal) = crate::attached::refusal(&self.shared, &resolved) {
            self.reply(&refusal);
            return Step::Continue;
        }
        if matches!(resolved.command.name, "multi" | "exec" | "discard") {
            let started = quanta::Instant::now();
            let reply = match resolved.command.name {
                "multi" => self.multi(),
                "exec" => self.exec(),
                _ => self.discard(),
            };
            self.shared
                .command_stats
                .ran(resolved.index, elapsed_nanos(started), reply.is_error());
            self.reply(&reply);
            return Step::Continue;
        }
        if self.state.multi.is_some() && !resolved.target().has(flags::NO_MULTI) {
            if self.shared.over_memory_limit() {
                // As Redis: out of memory, a transaction queues nothing more, and EXEC aborts.
                if let Some(multi) = self.state.multi.as_mut() {
                    multi.dirty = true;
                }
                self.reply(&Reply::error(error::OOM));
                return Step::Continue;
            }
            self.state.queue(resolved, args);
            self.reply(&Reply::Simple("QUEUED".into()));
            return Step::Continue;
        }
        // A blocked command is checked again when served: keep what that check needs.
        let blocking = recheck::keep(resolved.target(), &self.state.session, &args);
        match self.run_gated(resolved, &mut args) {
            Outcome::Reply(reply) => {
                self.reply(&reply);
                Step::Continue
            }
            Outcome::Block(request) => {
                let request = match blocking {
                    Some((user, args)) => recheck::recheck(
                        request,
                        &self.shared,
                        &self.state.info,
                        user,
                        resolved.index,
                        args,
                    ),
                    None => request,
                };
                Step::Block(request, resolved.index)
            }
            Outcome::Close(reply) => {
                self.reply(&reply);
                Step::Close
            }
            Outcome::Disconnect => Step::Close,
        }
    }

    /// Answers a request that names no command, or a known one with the wrong number of
    /// arguments. Inside `MULTI` the transaction is marked to abort.
    fn unresolved(&mut self, args: &Args, e: CmdError) -> Step {
        // A known command refused for its arity counts as rejected, as in Redis.
        if let Some(top) = Resolved::top(args.name()) {
            let target = args.all().get(1).and_then(|sub| top.subcommand(sub));
            self.shared
                .command_stats
                .rejected(target.unwrap_or(top).index);
        }
        if let Some(multi) = self.state.multi.as_mut() {
            multi.dirty = true;
        }
        self.reply(&e.into_reply());
        Step::Continue
    }

    /// Answers a command the connection's user may not run. Inside `MULTI` the transaction
    /// is marked to abort; a refused `EXEC` discards it, as Redis's `rejectCommand` does.
    fn refuse(&mut self, resolved: Resolved, refusal: Refusal) -> Step {
        let text = match refusal {
            // The user was deleted: its connection closes, as Redis closes it (an idle one
            // is closed as soon as the deletion wakes it).
            Refusal::UserGone => return Step::Close,
            Refusal::NoAuth => error::NOAUTH.to_owned(),
            Refusal::Denied(denial) => {
                // Redis logs a refusal inside MULTI (EXEC's own included) as `multi`.
                let context = if self.state.multi.is_some() {
                    Context::Multi
                } else {
                    Context::Toplevel
                };
                let refused = Refused {
                    reason: denial.reason,
                    context,
                    object: &denial.object,
                    username: &self.state.session.user().name,
                };
                self.shared.note_acl_refusal(&refused, &self.state.info);
                denial.reply
            }
        };
        self.shared.command_stats.rejected(resolved.index);
        if resolved.command.name == "exec" {
            self.state.set_multi(None);
            self.reply(&Reply::error(format!(
                "EXECABORT Transaction discarded because of: {text}"
            )));
        } else {
            if let Some(multi) = self.state.multi.as_mut() {
                multi.dirty = true;
            }
            self.reply(&Reply::error(text));
        }
        Step::Continue
    }

    /// Runs a command holding the keyspace gate as its flags ask.
    fn run_gated(&mut self, resolved: Resolved, args: &mut Args) -> Outcome {
        if resolved.target().has(flags::WRITE) {
            if let Some(refusal) = oom_refusal(&self.shared, resolved.target()) {
                return Outcome::Reply(refusal);
            }
            if self
                .shared
                .broker
                .settings
                .maxmemory
                .load(Ordering::Relaxed)
                != 0
            {
                self.shared.broker.memory.note_write(args.iter());
            }
        }
        let (shared, state) = (&self.shared, &mut self.state);
        execute_gated(shared, state, resolved, args, false, &mut self.wait)
    }
}
