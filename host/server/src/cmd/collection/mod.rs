//! What the hash and set commands share: walking a collection with a cursor (`HSCAN`,
//! `SSCAN`) and picking elements at random (`HRANDFIELD`, `SRANDMEMBER`, `SPOP`).
//!
//! # Layout
//! - [`scan`] — the cursor, `MATCH`/`COUNT`, and the cursor walk over a table.
//! - [`pick`] — random positions, distinct or with repetition, and the count argument.

pub mod pick;
pub mod scan;
