//! Behaviour tests of `sluice-storage`: real files in temporary directories, crashes simulated by
//! copying what the OS holds, damage done byte by byte.
//!
//! One test binary (one link step) with a module per concern.

mod common;
mod disk_full;
mod fixtures;
mod policy;
mod recovery;
mod roundtrip;
mod snapshots;
mod torn;
