//! Routes end to end: outputs of the example plugins ([`flow`]), failing plugins and refused
//! configs ([`faults`]), hot reload of plugin files ([`reload`]) and of the config file
//! ([`config_reload`]), SIGKILL and restarts ([`restart`]), plugin limits
//! ([`plugin_limits`]), and the helpers they share ([`support`]).

mod config_reload;
mod faults;
mod flow;
mod plugin_limits;
mod reload;
mod restart;
pub mod support;
