//! The stream commands, blocking reads and when blocked readers are served.

mod blocking;
mod commands;
mod delex;
mod idmp;
pub(crate) mod ready_keys;
mod xread_last;
