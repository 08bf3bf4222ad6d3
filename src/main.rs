//! The `peat` binary: parse, run, map errors to exit codes. Everything else is in the library.

use std::process::ExitCode;

use peat::cli::{self, Cli, ExitStatus};

/// mimalloc rather than glibc's malloc: faster for the many small allocations of JSON and
/// Automerge, and it gives freed memory back to the system, so that a node's memory comes
/// back after a big request (glibc keeps freed arenas).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `arena_eager_commit` (v3 numbering, `mimalloc.h`).
#[cfg(target_os = "linux")]
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
/// mimalloc's `purge_delay` (v3 numbering, `mimalloc.h`).
#[cfg(target_os = "linux")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Gives freed memory back at once and commits arena memory only as it is used. With
/// mimalloc's defaults (purge after a delay, arenas committed eagerly) freed memory stayed
/// resident: a 300,000-document `upsert` peaked at 311 MB, 160 MB with these options, at the
/// same speed (`/usr/bin/time -f %M`). It runs from `.init_array`, before the Rust runtime's
/// first allocation reserves the first arena: the arena option is read only then.
#[cfg(target_os = "linux")]
extern "C" fn tune_allocator() {
    // SAFETY: setting an option has no preconditions; both options are read as they are used.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

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
