//! The `peat` binary: parse, run, map errors to exit codes. Everything else is in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use peat::cli::{self, Cli, ExitStatus};

fn main() -> ExitCode {
    let cli = Cli::parse_args();
    init_logging(cli.verbose, cli.runs_node());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    ExitStatus::report(match runtime {
        Ok(runtime) => runtime.block_on(cli::run(cli)),
        Err(e) => Err(anyhow::anyhow!("cannot start the async runtime: {e}")),
    })
}

/// Logs go to stderr; `-v` raises the level, RUST_LOG overrides, NO_COLOR disables colour.
/// A node's log carries timestamps and sources; a command's warnings are just the message.
fn init_logging(verbose: u8, node: bool) {
    let level = match verbose {
        0 => "warn",
        1 => "info,iroh=warn",
        2 => "debug,iroh=info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if node {
        fmt.init();
    } else {
        fmt.without_time().with_target(false).init();
    }
}
