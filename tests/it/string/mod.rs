//! String commands: replies and errors ([`commands`]), deadlines ([`expiry`]), restarts
//! ([`durability`]).

mod commands;
mod durability;
mod expiry;
