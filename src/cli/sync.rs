//! `peat sync start|stop|status|wait`: the node daemon.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use super::duration;
use super::output::{Format, print_record};
use crate::home::{NodeDir, Ticket};
use crate::node::client::ClientBackend;
use crate::node::daemon::{self, Stopped};
use crate::sync::{CollectionInfo, Error};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Start(StartArgs),
    Stop(StopArgs),
    Status(StatusArgs),
    Wait(WaitArgs),
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
network and --relays uses the public Iroh relays. --listen, --mdns and --relays are saved in \
config.toml.",
    after_help = "Examples:\n  peat sync start\n  peat sync start --foreground -v\n  \
peat sync start --listen 0.0.0.0:7890 --mdns"
)]
pub struct StartArgs {
    /// Stay attached: log to stderr, stop on SIGTERM/Ctrl-C
    #[arg(long)]
    pub foreground: bool,
    /// UDP address of the sync endpoint, e.g. 0.0.0.0:7890 (saved in config.toml)
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Find and dial peers on the local network with mDNS (saved in config.toml)
    #[arg(long)]
    pub mdns: bool,
    /// Use the public Iroh relays to reach peers behind NAT (saved in config.toml)
    #[arg(long)]
    pub relays: bool,
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
a join ticket with the addresses the node is bound to, connected peers, and collections with \
their document counts.",
    after_help = "Examples:\n  peat sync status\n  peat sync status -o json | jq .running\n  \
peat --dir /tmp/b peers add \"$(peat sync status -o json | jq -r .ticket)\""
)]
pub struct StatusArgs {}

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

/// `sync start`: in the foreground it runs the node here; otherwise it spawns it.
pub async fn start(dir: &NodeDir, format: Format, verbose: u8, args: StartArgs) -> anyhow::Result<()> {
    if args.listen.is_some() || args.mdns || args.relays {
        dir.ensure()?;
        dir.config_file().update(|config| {
            config.listen = args.listen.unwrap_or(config.listen);
            config.mdns |= args.mdns;
            config.relays |= args.relays;
            true
        })?;
    }
    if args.foreground {
        daemon::run_foreground(dir, |line| {
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        })
        .await?;
        return Ok(());
    }
    if let Some(client) = ClientBackend::connect(dir).await? {
        let pid = client.node_info().await?.pid;
        return Err(Error::failed(format!(
            "a node is already running on {} (pid {pid})",
            dir.path().display()
        ))
        .into());
    }
    let extra: Vec<String> = (0..verbose).map(|_| "-v".to_string()).collect();
    let dir_owned = dir.clone();
    let line = tokio::task::spawn_blocking(move || daemon::start_background(&dir_owned, &extra)).await??;
    if format == Format::Table {
        eprintln!("{line}");
        return Ok(());
    }
    status(dir, format).await
}

pub async fn run(dir: &NodeDir, format: Format, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Start(_) => unreachable!("sync start runs outside the Ctrl-C wrapper"),
        Command::Stop(args) => stop(dir, args).await,
        Command::Status(_) => status(dir, format).await,
        Command::Wait(args) => wait(dir, args).await,
    }
}

async fn stop(dir: &NodeDir, args: StopArgs) -> anyhow::Result<()> {
    match daemon::stop(dir, args.timeout).await? {
        Stopped::Stopped(pid) => eprintln!("peat: node stopped (pid {pid})"),
        Stopped::NotRunning(Some(leftovers)) => eprintln!("peat: no node was running; {leftovers}"),
        Stopped::NotRunning(None) => eprintln!("peat: no node is running on {}", dir.path().display()),
    }
    Ok(())
}

#[derive(Serialize)]
struct Status {
    running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime_secs: Option<u64>,
    node_id: String,
    dir: String,
    listen: Vec<String>,
    /// A join ticket with the addresses the running node is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<String>,
    peers_connected: usize,
    collections: Vec<CollectionInfo>,
}

async fn status(dir: &NodeDir, format: Format) -> anyhow::Result<()> {
    let status = match ClientBackend::connect(dir).await? {
        Some(client) => {
            let info = client.node_info().await?;
            let sync = crate::sync::SyncEngine::status(&client).await?;
            let bound: Vec<SocketAddr> = sync.listen.iter().filter_map(|a| a.parse().ok()).collect();
            Status {
                ticket: Some(Ticket::for_node(dir, &bound)?.encode()?),
                running: true,
                pid: Some(info.pid),
                uptime_secs: Some(info.uptime_secs),
                node_id: info.node_id,
                dir: dir.path().display().to_string(),
                listen: sync.listen,
                peers_connected: sync.peers_connected,
                collections: crate::sync::DocumentStore::collections(&client).await?,
            }
        }
        None => {
            let backend = super::open(dir).await?;
            let collections = backend.document_store().collections().await?;
            backend.shutdown().await?;
            Status {
                running: false,
                pid: None,
                uptime_secs: None,
                node_id: dir.identity()?.public().to_string(),
                dir: dir.path().display().to_string(),
                listen: Vec::new(),
                ticket: None,
                peers_connected: 0,
                collections,
            }
        }
    };
    print_record(format, &status)?;
    Ok(())
}

async fn wait(dir: &NodeDir, args: WaitArgs) -> anyhow::Result<()> {
    let Some(client) = ClientBackend::connect(dir).await? else {
        return Err(Error::failed("no node is running; start it with `peat sync start`").into());
    };
    crate::sync::SyncEngine::wait_for_sync(&client, args.timeout).await?;
    eprintln!("peat: connected peers hold this node's changes");
    Ok(())
}
