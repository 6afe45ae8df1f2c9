//! List commands: pushing and popping at either end (`LPUSH`, `RPOP`…), reading by index
//! and value (`LRANGE`, `LPOS`…), editing in place (`LSET`, `LREM`…), moving elements between
//! lists (`LMOVE`), and the blocking pops (`BLPOP`, `BRPOP`, `BLMOVE`) that wait for a push.
//!
//! Every change is logged under its key's lock as commands that replay it exactly (a pop as
//! the `LPOP`/`RPOP` of the number it took), and marks its key ready, which serves the
//! clients blocked on it.
//!
//! # Layout
//! - [`push`] — `LPUSH`, `RPUSH`, `LPUSHX`, `RPUSHX`.
//! - [`pop`] — `LPOP`, `RPOP`, with or without a count.
//! - [`read`] — `LRANGE`, `LLEN`, `LINDEX`, `LPOS`.
//! - [`edit`] — `LSET`, `LINSERT`, `LREM`, `LTRIM`.
//! - [`lmove`] — `LMOVE`, and the move `BLMOVE` shares.
//! - [`blocking`] — `BLPOP`, `BRPOP`, `BLMOVE`: what they wait for and how a push serves them.
//! - [`timeout`] — the blocking commands' timeout, seconds as a double.

pub mod blocking;
pub mod edit;
pub mod lmove;
pub mod pop;
pub mod push;
pub mod read;
pub mod timeout;
