//! The `peat` command line: argument definitions, and one module per command. Each command
//! opens a backend for the directory and makes one trait call on it.

mod backup;
mod collection;
mod complete;
mod conflicts;
mod context;
mod doctor;
mod duration;
mod exit;
mod export;
mod formation;
mod generate;
mod get;
mod hints;
mod history;
mod import;
mod index;
mod init;
pub(crate) mod input;
mod interrupt;
mod logs;
mod peers;
mod printer;
mod query;
mod remove;
mod status;
mod sync;
mod table;
mod unit;
mod upsert;
mod watch;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use context::Context;
pub use exit::{ExitStatus, install_panic_hook};
pub use printer::{Format, Printer};

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

    /// No messages on stderr, only errors (data on stdout is unchanged)
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// Tables show every cell whole, however wide (default: cut to fit the terminal)
    #[arg(long, global = true)]
    pub wide: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Upsert(upsert::Args),
    Query(query::Args),
    Get(get::Args),
    History(history::Args),
    Collection(collection::Args),
    Remove(remove::Args),
    Index(index::Args),
    Status(status::Args),
    Watch(watch::Args),
    Peers(peers::Args),
    Export(export::Args),
    Import(import::Args),
    Backup(backup::Args),
    Restore(backup::RestoreArgs),
    Logs(logs::Args),
    Doctor(doctor::DoctorArgs),
    Repair(doctor::RepairArgs),
    /// Run the node: start, stop, status, wait for peers
    #[command(
        subcommand,
        long_about = "Run the node for the directory. A running node serves the control socket, \
so other peat commands go through it (writes sync at once, watch sees remote changes), and syncs \
with peers over Iroh.",
        after_help = "Examples:\n  peat sync start\n  peat sync status\n  peat sync wait --timeout 30s\n  peat sync stop\n  peat sync unit > ~/.config/systemd/user/peat.service"
    )]
    Sync(sync::Command),
    /// Manage the formation: rekey to revoke removed nodes and leaked tickets
    #[command(
        subcommand,
        long_about = "Manage the formation this node belongs to. Its key is the secret every member proves it holds (join tickets carry it); `rekey` replaces it, so that removed nodes and leaked tickets lose access.",
        after_help = "Examples:
  peat peers remove 8f3c...e1
  peat formation rekey"
    )]
    Formation(formation::Command),
    Completions(generate::CompletionsArgs),
    Man(generate::ManArgs),
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

    /// Sets up logging: a command warns on stderr (`-v` for more); a node logs at
    /// config.toml's `log_level` (`-v` overrides), to `node.log` when detached.
    pub fn init_logging(&self) {
        use crate::node::logging::{Sink, init};
        let ansi =
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let verbose = match self.verbose {
            0 => None,
            1 => Some("info,iroh=warn"),
            2 => Some("debug,iroh=info"),
            _ => Some("trace"),
        };
        let Command::Sync(sync::Command::Start(args)) = &self.command else {
            return init(verbose.unwrap_or("warn"), Sink::Command, ansi);
        };
        let dir = self.dir.clone().or_else(crate::home::NodeDir::default_path).map(crate::home::NodeDir::new);
        let configured = dir.as_ref().and_then(|d| d.config().ok()).map(|c| c.log_level);
        let level = verbose.map(str::to_string).or(configured).unwrap_or_else(|| "info".into());
        let sink = match dir {
            Some(dir) if args.log_file => Sink::File(dir.file(crate::home::LOG_FILE)),
            _ => Sink::Node,
        };
        init(&level, sink, ansi);
    }
}

/// Answers a shell's completion request (`PEAT_COMPLETE=SHELL peat -- WORDS...`) and exits;
/// returns at once on any other run.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command_with_tables)
        .var(complete::COMPLETE_VAR)
        .completer("peat")
        .complete();
}

/// Runs a parsed command line. Ctrl-C interrupts any command (exit 130) except those that
/// handle it themselves (`Command::handles_ctrl_c`).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::new(context::Options {
        dir: cli.dir.as_deref(),
        output: cli.output,
        verbose: cli.verbose,
        quiet: cli.quiet,
        wide: cli.wide,
    })?;
    let command = cli.command;
    if command.handles_ctrl_c() {
        return command.run(&ctx).await;
    }
    tokio::select! {
        result = command.run(&ctx) => result,
        _ = tokio::signal::ctrl_c() => Err(Error::interrupted().into()),
    }
}

impl Command {
    /// Whether the command handles Ctrl-C itself (a node in the foreground stops gracefully;
    /// an upsert stops after the batch in flight and says how many documents were stored).
    fn handles_ctrl_c(&self) -> bool {
        matches!(self, Command::Sync(sync::Command::Start(args)) if args.foreground)
            || matches!(self, Command::Upsert(_))
    }

    async fn run(self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Command::Init(args) => init::run(ctx, args).await,
            Command::Upsert(args) => upsert::run(ctx, args).await,
            Command::Query(args) => query::run(ctx, args).await,
            Command::Get(args) => get::run(ctx, args).await,
            Command::History(args) => history::run(ctx, args).await,
            Command::Collection(args) => collection::run(ctx, args).await,
            Command::Remove(args) => remove::run(ctx, args).await,
            Command::Index(args) => index::run(ctx, args).await,
            Command::Status(args) => status::run(ctx, args).await,
            Command::Watch(args) => watch::run(ctx, args).await,
            Command::Peers(args) => peers::run(ctx, args).await,
            Command::Export(args) => export::run(ctx, args).await,
            Command::Import(args) => import::run(ctx, args).await,
            Command::Backup(args) => backup::run(ctx, args).await,
            Command::Restore(args) => backup::restore(ctx, args).await,
            Command::Doctor(args) => doctor::doctor(ctx, args).await,
            Command::Repair(args) => doctor::repair(ctx, args).await,
            Command::Logs(args) => logs::run(ctx, args).await,
            Command::Sync(command) => sync::run(ctx, command).await,
            Command::Formation(command) => formation::run(ctx, command).await,
            Command::Completions(args) => generate::completions(ctx, args),
            Command::Man(args) => generate::man(ctx, args),
            Command::Generate(args) => generate::generate(ctx, args),
        }
    }
}

/// Checks a collection name and document ids before anything is opened (exit 2).
fn check_names(collection: &str, ids: &[String]) -> Result<(), Error> {
    crate::sync::validate::collection(collection).map_err(Error::invalid)?;
    ids.iter().try_for_each(|id| crate::sync::validate::id(id).map_err(Error::invalid))
}
