//! The `sluice` binary, built inside the test crate so end-to-end tests can start it as a
//! child process and kill it for real. Same code: `sluice_server::cli::main`.

fn main() -> anyhow::Result<()> {
    sluice_server::cli::main()
}
