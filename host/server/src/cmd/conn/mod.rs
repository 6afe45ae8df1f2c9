//! Connection commands: what every client library sends on connect, and the commands that
//! change only the connection (its database, user, name, protocol).
//!
//! Their replies and error texts follow Redis 7.2 exactly. Users and passwords live in
//! [`crate::acl`].
//!
//! # Layout
//! - [`ping`] — `PING`, `ECHO`.
//! - [`hello`] — `HELLO`.
//! - [`auth`] — `AUTH`.
//! - [`select`] — `SELECT`.
//! - [`quit`] — `QUIT`.
//! - [`reset`] — `RESET`.
//! - [`client`] — `CLIENT ID|SETNAME|GETNAME|SETINFO|LIST|INFO|HELP`.
//! - [`multi`] — `MULTI`, `EXEC`, `DISCARD` (run by the connection itself).

pub mod auth;
pub mod client;
pub mod hello;
pub mod multi;
pub mod ping;
pub mod quit;
pub mod reset;
pub mod select;
