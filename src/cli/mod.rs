//! The `peat` command line: argument definitions, and one module per command. Each command
//! opens a backend for the directory and makes one trait call on it.

mod duration;
mod exit;
mod generate;
mod init;
mod input;
mod output;
mod peers;
mod query;
mod remove;
mod status;
mod sync;
mod upsert;
mod watch;

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use exit::{EXIT_CODES, exit_code, is_broken_pipe, is_interrupted};
pub use output::Format;

use crate::home::NodeDir;
use crate::sync::Error;

/// Operate Peat sync nodes.
#[derive(Debug, Parser)]
#[command(
    name = "peat",
    version,
    about = "Operate Peat sync nodes: JSON documents as Automerge CRDTs, synced peer-to-peer over Iroh",
    long_about = "Operate Peat sync nodes. A node keeps JSON documents in collections as Automerge \
CRDT documents in a local persistence directory and syncs them peer-to-peer over Iroh (QUIC). \
Every command works on one directory; without a running node it opens the store itself, with one \
it goes through the node's control socket.",
    after_help = "Examples:\n  \
peat upsert units u1 --set name=Alpha --set speed=4\n  \
peat query units --where 'speed > 3'\n  \
peat sync start && peat watch units\n\n\
Run 'peat help COMMAND' for more, 'peat --help' for exit codes and environment."
)]
pub struct Cli {
    /// Persistence directory of the node [default: the platform data dir + /peat]
    #[arg(long, global = true, env = "PEAT_DIR", value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Output format [default: table on a terminal, json when piped]
    #[arg(long, short = 'o', global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,

    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Upsert(upsert::Args),
    Query(query::Args),
    Remove(remove::Args),
    Status(status::Args),
    Watch(watch::Args),
    Peers(peers::Args),
    /// Run the node: start, stop, status, wait for peers
    #[command(
        subcommand,
        long_about = "Run the node for the directory. A running node serves the control socket, \
so other peat commands go through it (writes sync at once, watch sees remote changes), and syncs \
with peers over Iroh.",
        after_help = "Examples:\n  peat sync start\n  peat sync status\n  peat sync wait --timeout 30s\n  peat sync stop"
    )]
    Sync(sync::Command),
    Completions(generate::CompletionsArgs),
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

impl Cli {
    /// The full command definition: the derived one plus the exit-code and environment
    /// tables, which `--help`, completions and man pages all share.
    pub fn command_with_tables() -> clap::Command {
        Cli::command().after_long_help(exit::help_text())
    }

    /// Parses the process arguments, exiting with a usage error (2) when they are wrong.
    pub fn parse_args() -> Self {
        let matches = Self::command_with_tables().get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// Whether this invocation runs a node (whose log wants timestamps) rather than a command.
    pub fn runs_node(&self) -> bool {
        matches!(self.command, Command::Sync(sync::Command::Start(_)))
    }

    /// The persistence directory this invocation works on.
    pub fn node_dir(&self) -> Result<NodeDir, Error> {
        match &self.dir {
            Some(dir) => Ok(NodeDir::new(dir)),
            None => NodeDir::default_path().map(NodeDir::new).ok_or_else(|| {
                Error::invalid("no data directory on this platform; pass --dir or set PEAT_DIR")
            }),
        }
    }
}

/// Runs a parsed command line. Ctrl-C interrupts any command (exit 130) except a node in
/// the foreground, which handles it as a graceful shutdown.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let dir = cli.node_dir()?;
    let format = Format::resolve(cli.output);
    if let Command::Sync(sync::Command::Start(args)) = cli.command {
        return sync::start(&dir, format, cli.verbose, args).await;
    }
    let command = async {
        match cli.command {
            Command::Init(args) => init::run(&dir, format, args).await,
            Command::Upsert(args) => upsert::run(&dir, format, args).await,
            Command::Query(args) => query::run(&dir, format, args).await,
            Command::Remove(args) => remove::run(&dir, format, args).await,
            Command::Status(args) => status::run(&dir, format, args).await,
            Command::Watch(args) => watch::run(&dir, format, args).await,
            Command::Peers(args) => peers::run(&dir, format, args).await,
            Command::Sync(command) => sync::run(&dir, format, command).await,
            Command::Completions(args) => generate::completions(args),
            Command::Generate(args) => generate::generate(args),
        }
    };
    tokio::select! {
        result = command => result,
        _ = tokio::signal::ctrl_c() => Err(Error::interrupted().into()),
    }
}

/// Initialises a missing directory with defaults, telling the user where and who it is.
fn ensure_initialized(dir: &NodeDir) -> anyhow::Result<()> {
    if dir.ensure()?.created {
        eprintln!(
            "peat: initialised a new node in {} (node {})",
            dir.path().display(),
            dir.identity()?.public()
        );
    }
    Ok(())
}

/// Opens the backend for a command, initialising the directory first if needed.
async fn open(dir: &NodeDir) -> anyhow::Result<Box<dyn crate::sync::DataSyncBackend>> {
    ensure_initialized(dir)?;
    Ok(crate::node::open::open(dir).await?.boxed())
}
