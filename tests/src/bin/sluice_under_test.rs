//! The `sluice` binary, built inside the test crate so end-to-end tests can start it as a
//! child process and kill it for real. Same code: `sluice_server::cli::main`, plus what tests
//! set that has no flag: `SLUICE_TEST_LOG_FAULT_FILE` names a file while which the log's
//! writes fail as on a full disk.

fn main() -> anyhow::Result<()> {
    sluice_server::cli::main_with(|config| {
        config.log_fault_file =
            std::env::var_os("SLUICE_TEST_LOG_FAULT_FILE").map(std::path::PathBuf::from);
    })
}
