//! The stream commands, blocking reads and when blocked readers are served.

mod blocking;
mod commands;
mod ready_keys;
mod xread_last;
