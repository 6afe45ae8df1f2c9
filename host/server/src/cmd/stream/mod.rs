//! Stream commands: appending, reading, trimming and inspecting one stream, or several at
//! once with `XREAD`. Consumer groups are in [`super::group`].
//!
//! # Layout
//! - [`args`] — what they share: the trimming options, the reply sink, ID replies.
//! - [`xadd`] — `XADD`.
//! - [`xlen`] — `XLEN`.
//! - [`xrange`] — `XRANGE`, `XREVRANGE`.
//! - [`xdel`] — `XDEL`.
//! - [`xtrim`] — `XTRIM`.
//! - [`xsetid`] — `XSETID`.
//! - [`xread`] — `XREAD`, blocking or not.
//! - [`xinfo`] — `XINFO STREAM|GROUPS|CONSUMERS|HELP`.

pub mod args;
pub mod xadd;
pub mod xdel;
pub mod xinfo;
pub mod xlen;
pub mod xrange;
pub mod xread;
pub mod xsetid;
pub mod xtrim;
