//! The `sluice` binary: the command line lives in the library (`sluice_server::cli`).

/// jemalloc, as Redis uses: freed memory goes back to the OS, so resident memory follows the
/// data rather than the largest transient buffer (a snapshot's).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> anyhow::Result<()> {
    let _ = sluice_broker::memory::ALLOCATOR_NAME.set("jemalloc");
    sluice_server::cli::main()
}
