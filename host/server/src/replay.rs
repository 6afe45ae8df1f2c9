//! The command layer as the broker's [`Replayer`]: at start-up each command of each log record
//! runs through the ordinary handlers, as Redis loads its AOF, on a client of its own.

use bytes::Bytes;
use sluice_broker::Broker;
use sluice_broker::persist::replay::Replayer;
use sluice_resp::Args;

use crate::clients::ClientInfo;
use crate::cmd::{self, Ctx, Outcome};
use crate::connection::ClientState;
use crate::shared::Shared;

/// Replays log records through the command handlers.
#[derive(Debug)]
pub struct CommandReplayer<'a> {
    shared: &'a Shared,
    client: ClientState,
}

impl<'a> CommandReplayer<'a> {
    /// A replayer running commands on `shared` as a client described by `info`.
    pub fn new(shared: &'a Shared, info: std::sync::Arc<ClientInfo>) -> Self {
        CommandReplayer {
            shared,
            client: ClientState::detached(info),
        }
    }
}

impl Replayer for CommandReplayer<'_> {
    fn replay(&mut self, _broker: &Broker, db: usize, command: Vec<Bytes>) -> bool {
        let (shared, client) = (self.shared, &mut self.client);
        client.select(db);
        let mut args = Args::new(command);
        let Ok(resolved) = cmd::resolve(&args) else {
            return false;
        };
        let mut ctx = Ctx {
            now_ms: shared.now_ms(),
            shared,
            client,
            in_exec: true,
        };
        let outcome = cmd::execute(&mut ctx, resolved, &mut args);
        // Nobody is blocked and no route runs yet: what the command made ready is moot.
        client.ready.clear();
        match outcome {
            Ok(Outcome::Reply(reply)) => !reply.is_error(),
            Ok(_) => true,
            Err(e) => {
                tracing::warn!("replay: {}", e.0);
                false
            }
        }
    }
}
