//! The `peat` binary: parse, run, map errors to exit codes. Everything else is in the library.

use std::process::ExitCode;

use peat::cli::{self, Cli, ExitStatus};

/// mimalloc rather than glibc's malloc: faster for the many small allocations of JSON and
/// Automerge, and it gives freed memory back to the system, so that a node's memory comes
/// back after a big request (glibc keeps freed arenas).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Everything peat creates (store, config, log, pid file, socket, keys, exports) is for
    // this user only: files 0600, directories 0700.
    // SAFETY: umask has no preconditions and cannot fail.
    unsafe { libc::umask(0o077) };
    cli::install_panic_hook();
    cli::complete_if_asked();
    let cli = Cli::parse_args();
    cli.init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    ExitStatus::report(match runtime {
        Ok(runtime) => runtime.block_on(cli::run(cli)),
        Err(e) => Err(anyhow::anyhow!("cannot start the async runtime: {e}")),
    })
}
