//! `peat sync start|stop|status|wait`: the node daemon.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{Context, duration};
use crate::node::daemon::{self, Stopped};
use crate::node::status::status;
use crate::sync::{Error, PeerInfo, SyncDirection};

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
connected peers, collections with their document counts, and per peer how many change-log \
entries each side lacks of the other's (peer_behind: this node's entries the peer has not \
acknowledged; we_behind: the peer's entries this node has not merged). With --show-ticket, also \
a join ticket with the addresses the running node is bound to, on a line of its own: it holds \
the formation key, so it is shown only when asked. Exits 3 if the directory holds no node.",
    after_help = "Examples:\n  peat sync status\n  peat sync status -o json | jq .running\n  \
peat --dir /tmp/b peers add \"$(peat sync status --show-ticket -o json | jq -r .ticket)\""
)]
pub struct StatusArgs {
    /// Also print a join ticket of the running node (a secret: it holds the formation key)
    #[arg(long)]
    pub show_ticket: bool,
}

/// Wait until this node and its connected peers hold each other's changes
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Block until this node and its connected peers are in sync, both ways by default: \
every connected peer has acknowledged holding this node's current documents, and this node holds \
every change that the connected peers had when the wait began. --push waits for the first only, \
--pull for the second only. If no peer is connected yet but some are known, waits for one to \
connect first.\n\n\
On a terminal, shows the documents received so far of those known to come. Exits 1 on timeout, \
when no peer is reachable, when a peer disconnects before it is in sync, or when no node runs.",
    after_help = "Examples:\n  peat sync start && peat sync wait && peat query units --count\n  \
peat sync wait --push --timeout 10s   # peers hold what this node wrote\n  \
peat sync wait --pull                 # this node holds what its peers had"
)]
pub struct WaitArgs {
    /// Give up after this long
    #[arg(long, default_value = "30s", value_parser = duration::parse)]
    pub timeout: Duration,
    /// Only wait until connected peers hold this node's changes
    #[arg(long)]
    pub push: bool,
    /// Only wait until this node holds what connected peers had when the wait began
    #[arg(long)]
    pub pull: bool,
}

impl WaitArgs {
    fn direction(&self) -> SyncDirection {
        match (self.push, self.pull) {
            (true, false) => SyncDirection::Push,
            (false, true) => SyncDirection::Pull,
            _ => SyncDirection::Both,
        }
    }
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
    let direction = args.direction();
    if std::io::stderr().is_terminal() {
        let mut bar = WaitBar::new(direction);
        let mut show = |peers: &[PeerInfo]| bar.show(peers);
        let waited = daemon::wait_for_sync(&ctx.dir, direction, args.timeout, Some(&mut show)).await;
        bar.bar.finish_and_clear();
        waited?;
    } else {
        daemon::wait_for_sync(&ctx.dir, direction, args.timeout, None).await?;
    }
    ctx.printer.note(match direction {
        SyncDirection::Push => "connected peers hold this node's changes",
        SyncDirection::Pull => "this node holds what its connected peers had",
        SyncDirection::Both => "this node and its connected peers hold each other's changes",
    });
    Ok(())
}

/// The progress of `sync wait` on a terminal: documents received of those known to come.
struct WaitBar {
    bar: ProgressBar,
    direction: SyncDirection,
    /// Documents received from the peers before the wait (at the first reading).
    before: Option<u64>,
}

impl WaitBar {
    fn new(direction: SyncDirection) -> Self {
        let template = if direction.pulls() {
            "{spinner} [{bar:30}] {pos}/{len} documents received{msg} ({elapsed})"
        } else {
            "{spinner} waiting for peers{msg} ({elapsed})"
        };
        // No length until something is known to come: an empty bar, not a full "0/0".
        let bar = ProgressBar::no_length();
        bar.set_style(ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
        bar.enable_steady_tick(Duration::from_millis(120));
        Self::with(bar, direction)
    }

    fn with(bar: ProgressBar, direction: SyncDirection) -> Self {
        Self { bar, direction, before: None }
    }

    fn show(&mut self, peers: &[PeerInfo]) {
        let connected = || peers.iter().filter(|p| p.connected);
        let received: u64 = peers.iter().map(|p| p.docs_received).sum();
        let before = *self.before.get_or_insert(received);
        let got = received.saturating_sub(before);
        let to_come: u64 = connected().filter_map(|p| p.we_behind).sum();
        let lacking: u64 = connected().filter_map(|p| p.peer_behind).sum();
        if got + to_come > 0 {
            self.bar.set_length(got + to_come);
        }
        self.bar.set_position(got);
        self.bar.set_message(if !self.direction.pushes() {
            String::new()
        } else if self.direction.pulls() {
            format!(", peers lack {lacking} of this node's entries")
        } else {
            format!(": they lack {lacking} of this node's entries")
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_bar_counts_documents_received_of_those_known_to_come() {
        let peer = |received, peer_behind, we_behind| PeerInfo {
            connected: true,
            docs_received: received,
            peer_behind: Some(peer_behind),
            we_behind: Some(we_behind),
            ..PeerInfo::default()
        };
        let mut bar = WaitBar::with(ProgressBar::hidden(), SyncDirection::Both);
        // Documents received before the wait are not progress; a disconnected peer adds none.
        let gone = PeerInfo { docs_received: 7, we_behind: None, ..PeerInfo::default() };
        bar.show(&[peer(100, 3, 900), gone.clone()]);
        assert_eq!((bar.bar.position(), bar.bar.length()), (0, Some(900)));
        bar.show(&[peer(700, 0, 300), gone]);
        assert_eq!((bar.bar.position(), bar.bar.length()), (600, Some(900)));
        assert_eq!(bar.bar.message(), ", peers lack 0 of this node's entries");
        let mut pull = WaitBar::with(ProgressBar::hidden(), SyncDirection::Pull);
        pull.show(&[peer(0, 5, 10)]);
        assert_eq!((pull.bar.length(), pull.bar.message().as_str()), (Some(10), ""));
    }
}
