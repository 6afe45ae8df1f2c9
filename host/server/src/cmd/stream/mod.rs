//! Stream commands: appending, reading, trimming and inspecting one stream, or several at
//! once with `XREAD`. Consumer groups are in [`super::group`].
//!
//! # Layout
//! - [`args`] — what they share: the trimming options, the reply sink, ID replies.
//! - [`xadd`] — `XADD`, with reference modes and idempotency.
//! - [`xlen`] — `XLEN`.
//! - [`xrange`] — `XRANGE`, `XREVRANGE`.
//! - [`xdel`] — `XDEL`.
//! - [`xdelex`] — `XDELEX` (Redis 8.2: deletion with a reference mode).
//! - [`xtrim`] — `XTRIM`.
//! - [`xsetid`] — `XSETID`.
//! - [`xcfgset`] — `XCFGSET` (Redis 8.6: a stream's idempotency window).
//! - [`idmp`] — XADD's `IDMP`/`IDMPAUTO`: the IDMPAUTO digest, how iids are logged.
//! - [`xread`] — `XREAD`, blocking or not.
//! - [`xinfo`] — `XINFO STREAM|GROUPS|CONSUMERS|HELP`.

pub mod args;
pub mod idmp;
pub mod xadd;
pub mod xcfgset;
pub mod xdel;
pub mod xdelex;
pub mod xinfo;
pub mod xlen;
pub mod xrange;
pub mod xread;
pub mod xsetid;
pub mod xtrim;
