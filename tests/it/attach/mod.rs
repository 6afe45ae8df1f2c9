//! Attached mode (`--attach`): routes and claim policies run against a real Redis Cluster or
//! standalone `redis-server`, by one or several Sluice instances. Every scenario counts each
//! source entry in the outputs. These need Debian's `redis-server` and `redis-cli`, so they
//! are ignored by default; `.ci/run` runs them.
//!
//! - [`standalone`]: one instance over one server: outputs, what the instance serves.
//! - [`cluster`]: several instances over a 3-master cluster: exactly once in one slot
//!   through SIGKILL and SIGSTOP, effectively once across slots, glob sources, policies.
//! - [`kill_points`]: an instance killed before, inside and after a commit.

mod cluster;
mod kill_points;
mod standalone;
mod support;
