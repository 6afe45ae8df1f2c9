//! The blocking list commands: `BLPOP`, `BRPOP` (pop from the first of several lists that has
//! an element) and `BLMOVE` (move from a list), each waiting for a push when there is
//! nothing to take.
//!
//! A client with nothing to take waits in the blocking registry as a [`PopWait`] or a
//! [`MoveWait`]. When a key it waits on is made ready and holds a list, the command is run
//! again against the state after the command or `EXEC` that made it ready, as Redis 7.2
//! re-runs it: it pops from its keys in the order it named them, so clients are served in
//! the order they blocked, one element each. A key that became another type, or was deleted
//! (a push then a pop inside one `EXEC`), leaves them waiting; a served `BLMOVE` whose
//! destination holds another type ends with `WRONGTYPE` and moves nothing.
//! A served pop is logged as the `LPOP`/`RPOP` it made, a served move as its pop and push
//! (see [`super::lmove`]). Inside `MULTI`/`EXEC` the commands answer at once.

use bytes::Bytes;
use sluice_broker::Broker;
use sluice_broker::keyspace::WrongType;
use sluice_broker::keyspace::list::List;
use sluice_broker::persist;
use sluice_broker::ready::{BlockRequest, BlockedRead, ReadyKeys};
use sluice_resp::{Args, Protocol, Reply};

use super::lmove::Move;
use super::pop::log_pop;
use super::timeout;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, Outcome};
use crate::error::CmdError;

/// The `BLPOP` command.
pub const BLPOP: Command = Command {
    name: "blpop",
    arity: -3,
    flags: WRITE | BLOCKING | KEY_ACCESS | KEY_DELETE,
    keys: (1, -2, 1),
    categories: LIST_BLOCKING,
    group: "list",
    since: "2.0.0",
    summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
    syntax: "key [key ...] timeout",
    handler: blpop,
    subcommands: &[],
};

/// The `BRPOP` command.
pub const BRPOP: Command = Command {
    name: "brpop",
    arity: -3,
    flags: WRITE | BLOCKING | KEY_ACCESS | KEY_DELETE,
    keys: (1, -2, 1),
    categories: LIST_BLOCKING,
    group: "list",
    since: "2.0.0",
    summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
    syntax: "key [key ...] timeout",
    handler: brpop,
    subcommands: &[],
};

/// The `BLMOVE` command.
pub const BLMOVE: Command = Command {
    name: "blmove",
    arity: 6,
    flags: WRITE | DENYOOM | BLOCKING | EXCLUSIVE | KEY_MOVE,
    keys: (1, 2, 1),
    categories: LIST_BLOCKING,
    group: "list",
    since: "6.2.0",
    summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
    syntax: "source destination LEFT|RIGHT LEFT|RIGHT timeout",
    handler: blmove,
    subcommands: &[],
};

/// `BLPOP key [key ...] timeout`: `[key, element]` from the first key with a list, else waits
/// up to `timeout` seconds (0: forever) and answers a null array if nothing came.
pub fn blpop(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    block_pop(ctx, args, true)
}

/// `BRPOP key [key ...] timeout`: as `BLPOP`, from the tail.
pub fn brpop(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    block_pop(ctx, args, false)
}

fn block_pop(ctx: &mut Ctx<'_>, args: &mut Args, left: bool) -> CmdResult {
    let rest = args.rest();
    let Some((timeout, keys)) = rest.split_last() else {
        return Err(CmdError(crate::error::SYNTAX.into()));
    };
    // The timeout is read before any key is looked at, as Redis does.
    let timeout = timeout::parse_seconds(timeout, ctx.now_ms)?;
    let wait = PopWait {
        keys: keys.to_vec(),
        left,
    };
    if let Some((key, element)) = wait.pop(&ctx.shared.broker, ctx.client.db, ctx.now_ms)? {
        ctx.key_ready(&key);
        return Ok(PopWait::reply(key, element).into());
    }
    if ctx.in_exec {
        return Ok(Reply::NullArray.into());
    }
    Ok(Outcome::Block(BlockRequest {
        db: ctx.client.db,
        keys: wait.keys.clone(),
        timeout,
        read: Box::new(wait),
    }))
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`: as `LMOVE`, but with nothing in
/// `source` waits up to `timeout` seconds for it (a null array if nothing came; nil inside
/// `EXEC`, as Redis answers there).
pub fn blmove(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let plan = Move::parse(args)?;
    let timeout = timeout::parse_seconds(&args.bytes()?, ctx.now_ms)?;
    let moved = plan.run(&ctx.shared.broker, ctx.client.db, ctx.now_ms, true)?;
    if let Some(element) = moved {
        ctx.key_ready(&plan.source);
        ctx.key_ready(&plan.destination);
        return Ok(Reply::bulk(element).into());
    }
    if ctx.in_exec {
        return Ok(Reply::Null.into());
    }
    Ok(Outcome::Block(BlockRequest {
        db: ctx.client.db,
        keys: vec![plan.source.clone()],
        timeout,
        read: Box::new(MoveWait(plan)),
    }))
}

/// True if `key` of database `db` holds a list: what makes Redis re-run a blocked list
/// command when the key is ready.
fn holds_list(broker: &Broker, db: usize, key: &[u8]) -> bool {
    broker.keyspace.db(db).holds::<List>(key, broker.now_ms())
}

/// What a pop took: the key, and the element.
type Popped = (Bytes, Box<[u8]>);

/// A `BLPOP`/`BRPOP`: its keys in the order given, and the end it pops from.
#[derive(Debug)]
pub struct PopWait {
    keys: Vec<Bytes>,
    left: bool,
}

impl PopWait {
    /// Pops one element from the first key holding a list, logging the pop: the key and the
    /// element, or `None` if no key has one. `WrongType` for a key of another type met
    /// before a list, as Redis's loop over the keys meets it.
    fn pop(
        &self,
        broker: &Broker,
        db_index: usize,
        now_ms: u64,
    ) -> Result<Option<Popped>, WrongType> {
        let db = broker.keyspace.db(db_index);
        for key in &self.keys {
            let popped = db.write_as(key, now_ms, |list: &mut List| {
                let element = list.pop(self.left)?;
                list.shrink();
                persist::log(broker, db_index, |rec| log_pop(rec, key, self.left, 1));
                Some(element)
            })?;
            if let Some(element) = popped.flatten() {
                return Ok(Some((key.clone(), element)));
            }
        }
        Ok(None)
    }

    /// `[key, element]`, in RESP2 and RESP3 alike.
    fn reply(key: Bytes, element: Box<[u8]>) -> Reply {
        Reply::Array(vec![Reply::Bulk(key), Reply::bulk(element)])
    }
}

impl BlockedRead for PopWait {
    fn try_serve(
        &mut self,
        broker: &Broker,
        db: usize,
        _proto: Protocol,
        _ready: &mut ReadyKeys,
    ) -> Option<Reply> {
        match self.pop(broker, db, broker.now_ms()) {
            Ok(Some((key, element))) => Some(PopWait::reply(key, element)),
            Ok(None) => None,
            Err(wrong) => Some(CmdError::from(wrong).into_reply()),
        }
    }

    fn wakes_on(&self, broker: &Broker, db: usize, key: &[u8]) -> bool {
        holds_list(broker, db, key)
    }
}

/// A `BLMOVE`: the move to make once its source has an element.
#[derive(Debug)]
pub struct MoveWait(Move);

impl BlockedRead for MoveWait {
    fn try_serve(
        &mut self,
        broker: &Broker,
        db: usize,
        _proto: Protocol,
        ready: &mut ReadyKeys,
    ) -> Option<Reply> {
        match self.0.run(broker, db, broker.now_ms(), false) {
            Ok(Some(element)) => {
                // Clients blocked on the destination are served in the next pass, against
                // the state once this one is done, as Redis serves keys its blocked
                // commands make ready.
                ready.push(db, &self.0.destination);
                Some(Reply::bulk(element))
            }
            Ok(None) => None,
            Err(wrong) => Some(CmdError::from(wrong).into_reply()),
        }
    }

    fn wakes_on(&self, broker: &Broker, db: usize, key: &[u8]) -> bool {
        holds_list(broker, db, key)
    }
}
