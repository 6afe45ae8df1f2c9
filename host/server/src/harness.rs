//! The command layer without a socket: requests in, reply values out.
//!
//! For the `command` fuzz target and the corpus replay tests. A [`Harness`] is an in-memory
//! server (`appendonly no`, no plugins) with one client. Each request is resolved and run the
//! way a connection runs it — the same arity checks, the same keyspace gate per command flags,
//! the same handlers — through [`crate::connection`]'s own step. Two things differ, so that a
//! request always answers at once: blocking commands answer as they do inside `EXEC` (never
//! wait), and `MULTI`/`EXEC`/`DISCARD`, which only the connection interprets, are refused.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use sluice_resp::{Args, Protocol, Reply};

use crate::cmd::{self, Outcome};
use crate::config::Config;
use crate::connection::{ClientState, ReplyWait, execute_gated};
use crate::shared::Shared;
use sluice_broker::{Broker, Clock, SystemClock};

/// The error a harness answers to `MULTI`, `EXEC` and `DISCARD`.
pub const TRANSACTIONS_REFUSED: &str = "ERR the harness does not run transactions";

/// An in-memory server with one client connected.
#[derive(Debug)]
pub struct Harness {
    shared: Arc<Shared>,
    client: ClientState,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh server reading the system clock.
    pub fn new() -> Harness {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A fresh server reading the time from `clock` (fixed time makes runs reproducible).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Harness {
        let config = Config {
            appendonly: false,
            port: 0,
            ..Config::default()
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let broker = Broker::new(config.broker_config(), clock, None)
            .expect("the harness's fixed config is valid");
        let shared = Arc::new(Shared::new(config, broker, addr));
        let info = shared.clients.add(addr, addr, shared.now_ms());
        Harness {
            client: ClientState::detached(info),
            shared,
        }
    }

    /// Runs one request (name first) and returns its reply. An empty request answers `Null`,
    /// as a connection skips it. `QUIT` answers its reply, `SHUTDOWN` `Null` (it closes).
    pub fn run(&mut self, request: &[Bytes]) -> Reply {
        if request.is_empty() {
            return Reply::Null;
        }
        let mut args = Args::new(request.to_vec());
        let resolved = match cmd::resolve(&args) {
            Ok(resolved) => resolved,
            Err(e) => return e.into_reply(),
        };
        if matches!(resolved.command.name, "multi" | "exec" | "discard") {
            return Reply::error(TRANSACTIONS_REFUSED);
        }
        let mut wait = ReplyWait::default();
        match execute_gated(
            &self.shared,
            &mut self.client,
            resolved,
            &mut args,
            true,
            &mut wait,
        ) {
            Outcome::Reply(reply) | Outcome::Close(reply) => reply,
            Outcome::Disconnect => Reply::Null,
            // Not reached with `in_exec`; the answer a timed-out wait would give.
            Outcome::Block(request) => request.read.timeout_reply(),
        }
    }

    /// The protocol version the client chose (`HELLO`), to encode replies with.
    pub fn proto(&self) -> Protocol {
        self.client.proto
    }

    /// The server state, for checks beyond replies.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(h: &mut Harness, args: &[&str]) -> Reply {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        h.run(&args)
    }

    #[test]
    fn runs_commands_against_its_keyspace() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, &["PING"]), Reply::Simple("PONG".into()));
        assert_eq!(
            run(&mut h, &["XADD", "s", "1-1", "f", "v"]),
            Reply::bulk("1-1")
        );
        assert_eq!(run(&mut h, &["XLEN", "s"]), Reply::count(1));
    }

    #[test]
    fn blocking_reads_answer_at_once() {
        let mut h = Harness::new();
        assert_eq!(
            run(&mut h, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]),
            Reply::NullArray
        );
    }

    #[test]
    fn refuses_what_only_a_connection_does() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, &["MULTI"]), Reply::error(TRANSACTIONS_REFUSED));
        assert_eq!(
            run(&mut h, &["NOSUCH"]),
            Reply::error("ERR unknown command 'NOSUCH', with args beginning with: ")
        );
        assert_eq!(h.run(&[]), Reply::Null);
    }
}
