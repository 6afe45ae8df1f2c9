//! Integration tests of `sluice-rdb`: committed payloads from real servers, round trips of
//! random values, and damaged payloads. No server is needed; `fixtures/README.md` says how the
//! payloads were made and how to re-check written ones against a real server.

mod bytes;
mod corrupt;
mod fixtures;
mod handmade;
mod handmade_stream;
mod model;
mod round_trip;
mod server_check;
