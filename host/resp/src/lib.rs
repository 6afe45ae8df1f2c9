//! RESP2/RESP3 for Sluice: requests from bytes, replies to bytes, and an argument cursor.
//!
//! Requests arrive as RESP arrays of bulk strings (any protocol version) or as inline
//! commands typed into telnet. Replies are values ([`Reply`]) encoded for the connection's
//! protocol version, so a command never writes to a socket.
//!
//! The request parser is incremental and hand-written: it keeps its place across reads, so a
//! large frame arriving in many chunks is scanned once, it refuses oversized lengths as soon as
//! it sees their header (`proto-max-bulk-len`), and it produces Redis's exact protocol error
//! texts. The `redis-protocol` crate is the reference decoder our encoder is checked against.
//!
//! # Layout
//! - [`request`]: [`RequestParser`], bytes → [`Args`] over the request's frame (multibulk and
//!   inline).
//! - [`reply`]: [`Reply`], the reply value, and [`StreamEntries`], a packed list of stream entries.
//! - [`encode`]: [`Reply`] → RESP2 or RESP3 bytes.
//! - [`args`]: [`Args`], a cursor over a command's arguments with Redis's parse errors.

pub mod args;
pub mod encode;
pub mod reply;
pub mod request;

pub use args::{ArgError, Args};
pub use encode::{Protocol, encode};
pub use reply::{Reply, StreamEntries};
pub use request::{ProtocolError, RequestParser};
