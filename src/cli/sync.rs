//! `peat sync start|stop|status|wait`: the node daemon.

use std::time::Duration;

use super::{Context, duration};
use crate::node::daemon::{self, Stopped};
use crate::node::status::status;
use crate::sync::Error;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Start(StartArgs),
    Stop(StopArgs),
    Status(StatusArgs),
    Wait(WaitArgs),
    Unit(super::unit::Args),
}

/// Start the node: serve the directory and sync with peers
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Start the node for the directory: it serves the control socket (so other peat \
commands go through it and writes sync at once) and syncs with peers over Iroh.\n\n\
By default the node detaches into the background (output to node.log in the directory) and this \
command returns once it serves. With --foreground it stays attached and logs to stderr, for \
systemd and containers; SIGTERM or Ctrl-C then stop it gracefully. Exits 1 if a node already runs.\n\n\
The sync endpoint binds the listen address of config.toml. Relays, DNS address lookup and port \
mapping are off, so nothing leaves the networks the node is on; --mdns finds peers on the local \
network and --relays uses the public Iroh relays. --relay uses your own Iroh relay servers instead. --listen, --mdns, --relays, --relay and --advertise are saved in \
config.toml.",
    after_help = "Examples:\n  peat sync start\n  peat sync start --foreground -v\n  \
peat sync start --listen 0.0.0.0:7890 --mdns\n  \
peat sync start --advertise 203.0.113.9:7890   # a port forward on the NAT's public address\n  \
peat sync start --relay http://10.0.0.5:3340    # your own iroh-relay server"
)]
pub struct StartArgs {
    /// Stay attached: log to stderr, stop on SIGTERM/Ctrl-C
    #[arg(long)]
    pub foreground: bool,
    /// Log to node.log in the directory, rotated by size (how `sync start` runs the node)
    #[arg(long, hide = true)]
    pub log_file: bool,
    /// UDP address of the sync endpoint, e.g. 0.0.0.0:7890 (saved in config.toml)
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Find and dial peers on the local network with mDNS (saved in config.toml)
    #[arg(long)]
    pub mdns: bool,
    /// Use the public Iroh relays to reach peers behind NAT (saved in config.toml)
    #[arg(long)]
    pub relays: bool,
    /// HOST:PORT that peers can dial to reach this node, put first in join tickets: for NAT,
    /// port forwards and containers (repeatable; replaces the saved list in config.toml)
    #[arg(long, value_name = "HOST:PORT")]
    pub advertise: Vec<String>,
    /// URL of an Iroh relay server you run (e.g. http://10.0.0.5:3340), for peers with no
    /// direct path to each other (repeatable; replaces the saved list in config.toml)
    #[arg(long = "relay", value_name = "URL")]
    pub relay_urls: Vec<String>,
}

/// Stop the running node gracefully
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Ask the running node to shut down gracefully (flush, close connections) and wait \
until its process has exited. If the node was killed, cleans up its pid file and socket.",
    after_help = "Examples:\n  peat sync stop\n  peat sync stop --timeout 30s"
)]
pub struct StopArgs {
    /// How long to wait for the node to exit (e.g. 10s, 500ms)
    #[arg(long, default_value = "10s", value_parser = duration::parse)]
    pub timeout: Duration,
}

/// Show whether the node runs, and how it is doing
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Show whether a node runs on the directory: pid, uptime, sync listen addresses, \
connected peers, and collections with their document counts. With --show-ticket, also a join \
ticket with the addresses the running node is bound to, on a line of its own: it holds the \
formation key, so it is shown only when asked. Exits 3 if the directory holds no node.",
    after_help = "Examples:\n  peat sync status\n  peat sync status -o json | jq .running\n  \
peat --dir /tmp/b peers add \"$(peat sync status --show-ticket -o json | jq -r .ticket)\""
)]
pub struct StatusArgs {
    /// Also print a join ticket of the running node (a secret: it holds the formation key)
    #[arg(long)]
    pub show_ticket: bool,
}

/// Wait until connected peers hold this node's changes
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Block until every connected peer has acknowledged holding this node's current \
documents. Exits 1 on timeout, when no peer is connected, or when no node runs.",
    after_help = "Examples:\n  peat sync wait --timeout 30s"
)]
pub struct WaitArgs {
    /// Give up after this long
    #[arg(long, default_value = "30s", value_parser = duration::parse)]
    pub timeout: Duration,
}

pub async fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Start(args) => start(ctx, args).await,
        Command::Stop(args) => stop(ctx, args).await,
        Command::Status(args) => print_status(ctx, args.show_ticket).await,
        Command::Wait(args) => wait(ctx, args).await,
        Command::Unit(args) => super::unit::run(ctx, args),
    }
}

/// `sync start`: in the foreground it runs the node here; otherwise it starts it detached.
async fn start(ctx: &Context, args: StartArgs) -> anyhow::Result<()> {
    let dir = &ctx.dir;
    // Checked first, so a typo is a usage error and not a node that fails to start.
    crate::home::ticket::dialable(&[], &args.advertise)?;
    if let Some(bad) =
        args.relay_urls.iter().find(|u| !u.starts_with("http://") && !u.starts_with("https://"))
    {
        return Err(Error::invalid(format!("--relay {bad}: expected an http:// or https:// URL")).into());
    }
    ctx.ensure_initialized()?;
    let changes = args.listen.is_some() || args.mdns || args.relays;
    if changes || !args.advertise.is_empty() || !args.relay_urls.is_empty() {
        dir.config_file().update(|config| {
            config.listen = args.listen.unwrap_or(config.listen);
            config.mdns |= args.mdns;
            config.relays |= args.relays;
            if !args.advertise.is_empty() {
                config.advertise = args.advertise.clone();
            }
            if !args.relay_urls.is_empty() {
                config.relay_urls = args.relay_urls.clone();
            }
            true
        })?;
    }
    if args.foreground {
        // The ready line goes to stdout: a supervisor (or `sync start`) waits for it.
        daemon::run_foreground(dir, |line| {
            let _ = ctx.printer.line(line);
        })
        .await?;
        return Ok(());
    }
    let line = daemon::start_detached(dir, ctx.verbose).await?;
    if ctx.printer.for_people() {
        ctx.printer.note(line.strip_prefix("peat ").unwrap_or(&line));
        return Ok(());
    }
    print_status(ctx, false).await
}

async fn stop(ctx: &Context, args: StopArgs) -> anyhow::Result<()> {
    ctx.printer.note(match daemon::stop(&ctx.dir, args.timeout).await? {
        Stopped::Stopped(pid) => format!("node stopped (pid {pid})"),
        Stopped::NotRunning(Some(leftovers)) => format!("no node was running; {leftovers}"),
        Stopped::NotRunning(None) => format!("no node is running on {}", ctx.dir.path().display()),
    });
    Ok(())
}

async fn print_status(ctx: &Context, show_ticket: bool) -> anyhow::Result<()> {
    let mut status = status(&ctx.dir, show_ticket, &ctx.notice()).await?;
    if show_ticket && status.ticket.is_none() {
        ctx.printer.note("no node is running: start it (`peat sync start`) for a ticket with its addresses");
    }
    if !ctx.printer.for_people() {
        ctx.printer.record(&status)?;
        return Ok(());
    }
    // For people the secret goes on a line of its own, whole, so it can be copied.
    let ticket = status.ticket.take();
    ctx.printer.record(&status)?;
    if let Some(ticket) = ticket {
        ctx.printer.note("join ticket (a secret: share it only with nodes of this formation):");
        ctx.printer.line(ticket)?;
    }
    Ok(())
}

async fn wait(ctx: &Context, args: WaitArgs) -> anyhow::Result<()> {
    daemon::wait_for_sync(&ctx.dir, args.timeout).await?;
    ctx.printer.note("connected peers hold this node's changes");
    Ok(())
}
