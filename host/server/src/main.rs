//! The `sluice` binary: the command line lives in the library (`sluice_server::cli`).

fn main() -> anyhow::Result<()> {
    sluice_server::cli::main()
}
