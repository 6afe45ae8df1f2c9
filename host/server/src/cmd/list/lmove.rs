//! `LMOVE`: popping an element from one list and pushing it onto another (or the same one,
//! rotating it), as one step; and the move itself, which a served `BLMOVE` makes too.
//!
//! `LMOVE` and `BLMOVE` run with the keyspace gate held exclusively, so nobody sees the
//! element in neither list or in both, and the move is logged as one `LMOVE`. A blocked
//! `BLMOVE` is served where ready keys are served, holding the gate shared: there the pop and
//! the push are logged apart (an `LPOP`/`RPOP` under the source's lock, an `LPUSH`/`RPUSH` of
//! the element under the destination's), which replays the same whatever other clients did
//! to either list in between.

use sluice_broker::Broker;
use sluice_broker::keyspace::WrongType;
use sluice_broker::keyspace::list::List;
use sluice_broker::persist;
use sluice_resp::{Args, Reply};

use super::pop::log_pop;
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::error::{self, CmdError};

/// The `LMOVE` command.
pub const LMOVE: Command = Command {
    name: "lmove",
    arity: 5,
    flags: WRITE | DENYOOM | EXCLUSIVE | KEY_MOVE,
    keys: (1, 2, 1),
    categories: LIST_WRITE_SLOW,
    group: "list",
    since: "6.2.0",
    summary: "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
    syntax: "source destination LEFT|RIGHT LEFT|RIGHT",
    handler: lmove,
    subcommands: &[],
};

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`: the element moved, nil if `source` has
/// none.
pub fn lmove(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let plan = Move::parse(args)?;
    let moved = plan.run(&ctx.shared.broker, ctx.client.db, ctx.now_ms, true)?;
    let Some(element) = moved else {
        return Ok(Reply::Null.into());
    };
    ctx.key_ready(&plan.source);
    ctx.key_ready(&plan.destination);
    Ok(Reply::bulk(element).into())
}

/// One end of a list: `LEFT` is the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl End {
    /// `LEFT` or `RIGHT`, in any case; anything else is a syntax error.
    pub fn parse(arg: &[u8]) -> Result<End, CmdError> {
        if arg.eq_ignore_ascii_case(b"LEFT") {
            Ok(End::Left)
        } else if arg.eq_ignore_ascii_case(b"RIGHT") {
            Ok(End::Right)
        } else {
            Err(CmdError(error::SYNTAX.into()))
        }
    }

    /// True for the head.
    pub fn is_left(self) -> bool {
        self == End::Left
    }

    fn name(self) -> &'static [u8] {
        match self {
            End::Left => b"LEFT",
            End::Right => b"RIGHT",
        }
    }
}

/// A move of one element: from which end of which list, to which end of which.
#[derive(Debug, Clone)]
pub struct Move {
    pub source: bytes::Bytes,
    pub destination: bytes::Bytes,
    pub from: End,
    pub to: End,
}

impl Move {
    /// `source destination LEFT|RIGHT LEFT|RIGHT`.
    pub fn parse(args: &mut Args) -> Result<Move, CmdError> {
        let source = args.bytes()?;
        let destination = args.bytes()?;
        let from = End::parse(&args.bytes()?)?;
        let to = End::parse(&args.bytes()?)?;
        Ok(Move {
            source,
            destination,
            from,
            to,
        })
    }

    /// Moves one element in database `db` and logs it: the element, or `None` if the source
    /// has none. `WrongType` if the source holds another type, or the destination does while
    /// the source has an element (Redis's order of checks). `exclusive`: the caller holds the
    /// keyspace gate exclusively, so the move is logged as one `LMOVE`.
    pub fn run(
        &self,
        broker: &Broker,
        db_index: usize,
        now_ms: u64,
        exclusive: bool,
    ) -> Result<Option<Box<[u8]>>, WrongType> {
        let db = broker.keyspace.db(db_index);
        let log = |build: &dyn Fn(&mut persist::Record)| persist::log(broker, db_index, build);
        if self.source == self.destination {
            return Ok(db
                .write_as(&self.source, now_ms, |list: &mut List| {
                    let element = list.pop(self.from.is_left())?;
                    list.push(&element, self.to.is_left());
                    list.shrink();
                    log(&|rec| self.log_whole(rec));
                    Some(element)
                })?
                .flatten());
        }
        if db
            .read_as(&self.source, now_ms, |list: &List| list.is_empty())?
            .is_none_or(|empty| empty)
        {
            return Ok(None);
        }
        db.read_as(&self.destination, now_ms, |_: &List| ())?;
        let popped = db.write_as(&self.source, now_ms, |list: &mut List| {
            let element = list.pop(self.from.is_left())?;
            // Redis pushes before it looks at the source's encoding; the push is to
            // another list, so checking now comes to the same.
            list.shrink();
            if !exclusive {
                log(&|rec| log_pop(rec, &self.source, self.from.is_left(), 1));
            }
            Some(element)
        })?;
        let Some(element) = popped.flatten() else {
            return Ok(None);
        };
        let pushed = db.write_or_create_as(&self.destination, now_ms, |list: &mut List, _| {
            list.push(&element, self.to.is_left());
            if exclusive {
                log(&|rec| self.log_whole(rec));
            } else {
                log(&|rec| log_push_one(rec, &self.destination, self.to.is_left(), &element));
            }
        });
        if pushed.is_err() {
            // Only without the gate to itself: the destination became another type since it
            // was checked. The element goes back where it came from.
            db.write_or_create_as(&self.source, now_ms, |list: &mut List, _| {
                list.push(&element, self.from.is_left());
                log(&|rec| log_push_one(rec, &self.source, self.from.is_left(), &element));
            })?;
            return Err(WrongType);
        }
        Ok(Some(element))
    }

    fn log_whole(&self, rec: &mut persist::Record) {
        rec.command(&[
            b"LMOVE",
            &self.source,
            &self.destination,
            self.from.name(),
            self.to.name(),
        ]);
    }
}

/// Logs `LPUSH`/`RPUSH key element`.
fn log_push_one(rec: &mut persist::Record, key: &[u8], left: bool, element: &[u8]) {
    let name: &[u8] = if left { b"LPUSH" } else { b"RPUSH" };
    rec.command(&[name, key, element]);
}
