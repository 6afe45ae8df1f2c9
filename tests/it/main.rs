//! End-to-end tests: each starts the real server on `127.0.0.1:0` and talks to it through the
//! `redis` crate or raw RESP, asserting exact replies.

mod acl;
mod acl_perms;
mod blocking;
mod connection;
mod fixtures;
mod fuzz_corpus;
mod fuzzish;
mod groups;
mod groups_block;
mod groups_errors;
mod groups_pel;
mod hostile;
mod io_threads;
mod keys;
mod limits;
mod maxmemory;
mod persistence;
mod plugin_limits;
mod policies;
mod policies_admin;
mod policies_faults;
mod policies_restart;
mod policies_support;
mod protected_mode;
mod protocol;
mod replies;
mod routes;
mod routes_config_reload;
mod routes_faults;
mod routes_reload;
mod routes_restart;
mod routes_support;
mod streams;
mod tls;
mod transactions;
