//! `peat peers [list] | add | remove`: the peers a node syncs with.

use super::Context;
use super::table::Grid;
use crate::sync::PeerInfo;

/// List, add or remove peers
#[derive(Debug, clap::Args)]
#[command(
    long_about = "List, add or remove the peers this node syncs with.\n\n\
Without a subcommand, lists the known peers: id, addresses, whether connected, direct or relayed, \
round-trip time, last completed sync, documents sent and received, how many change-log entries \
each side still lacks of the other's (\"them\": this node's entries the peer has not acknowledged; \
\"us\": the peer's entries this node has not merged), and how the peer became known (config, \
ticket, incoming, exchange, mdns). Peers added here are remembered in config.toml and dialed (and \
redialed with backoff) whenever the node runs; members of the formation that peers tell about \
(peer exchange) are dialed too, up to max_peers in config.toml.",
    after_help = "Examples:\n  peat peers\n  peat peers add 8f3c...e1@192.168.1.20:7890\n  \
peat peers add peat1...   # a join ticket of this formation\n  peat peers remove 8f3c...e1\n  \
peat peers -o json | jq '.[] | select(.connected)'"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List known peers and their connection state (the default)
    #[command(
        long_about = "List the peers this node knows: id, addresses, whether connected, direct or \
relayed, round-trip time, last completed sync, documents sent and received, and while connected \
how many change-log entries each side lacks (peer_behind, we_behind). Without a running node, \
lists the peers remembered in config.toml, none connected.",
        after_help = "Examples:\n  peat peers list\n  peat peers list -o json | jq '.[] | select(.connected) | .rtt_ms'"
    )]
    List,
    /// Remember a peer and connect to it if the node runs
    #[command(
        long_about = "Remember a peer (in config.toml) and, if the node runs, connect to it at \
once and report whether it answered. A peer removed earlier is no longer blocked. ADDR is \
ID@HOST:PORT or a join ticket of this formation. \
Exits 4 if the peer refuses (another formation key or app id), 2 for a malformed address.",
        after_help = "Examples:\n  peat peers add 8f3c...e1@192.168.1.20:7890\n  peat peers add peat1..."
    )]
    Add {
        /// ID@HOST:PORT or a join ticket
        #[arg(value_name = "ADDR")]
        addr: String,
    },
    /// Forget a peer and drop its connection
    #[command(
        long_about = "Forget and block a peer: remove it from config.toml and close its connection. \
Until `peers add` names it again, it is refused when it dials in, never dialed, and not learned \
again from other members (peer exchange) or mDNS. Exits 3 if no such peer is known.",
        after_help = "Examples:\n  peat peers remove 8f3c...e1"
    )]
    Remove {
        /// The peer's node id
        #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::peer_ids))]
        id: String,
    },
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    match args.command.unwrap_or(Command::List) {
        Command::List => {
            let backend = ctx.reader().await?;
            let list = backend.peer_discovery().peers().await?;
            ctx.close(backend).await?;
            print(ctx, &list)?;
        }
        Command::Add { addr } => {
            // Adding a peer writes config.toml: it may create the node.
            let backend = ctx.writer().await?;
            let info = backend.peer_discovery().add_peer(&addr).await?;
            let running = backend.sync_engine().status().await?.running;
            ctx.close(backend).await?;
            ctx.printer.note(if !running {
                format!("peer {} remembered; the node will dial it when it runs", info.id)
            } else if info.connected {
                format!("connected to peer {}", info.id)
            } else {
                let why = info.last_error.as_deref().unwrap_or("no answer yet");
                format!("peer {} remembered but not reachable now ({why}); the node keeps trying", info.id)
            });
            if !ctx.printer.for_people() {
                print(ctx, std::slice::from_ref(&info))?;
            }
        }
        Command::Remove { id } => {
            let backend = ctx.reader().await?;
            backend.peer_discovery().remove_peer(&id).await?;
            ctx.close(backend).await?;
            ctx.printer.note(format!("peer {id} removed"));
        }
    }
    Ok(())
}

fn print(ctx: &Context, peers: &[PeerInfo]) -> anyhow::Result<()> {
    if !ctx.printer.for_people() {
        let items: Vec<serde_json::Value> =
            peers.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
        ctx.printer.list(&items)?;
        return Ok(());
    }
    let header = [
        "peer",
        "addresses",
        "connected",
        "path",
        "rtt",
        "last sync",
        "sent",
        "received",
        "behind",
        "known from",
    ];
    let mut grid = Grid::new(Some(header.map(String::from).to_vec())).whole(0);
    for p in peers {
        grid.row(vec![
            p.id.clone(),
            p.addrs.join(" "),
            if p.connected {
                "yes".into()
            } else {
                p.last_error.clone().map_or("no".into(), |e| format!("no: {e}"))
            },
            match (p.connected, p.relayed) {
                (false, _) => String::new(),
                (true, false) => "direct".into(),
                (true, true) => "relay".into(),
            },
            p.rtt_ms.map(|r| format!("{r:.1} ms")).unwrap_or_default(),
            p.last_sync_ms.map(ago).unwrap_or_default(),
            p.docs_sent.to_string(),
            p.docs_received.to_string(),
            behind(p),
            serde_json::to_value(p.source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        ]);
    }
    ctx.printer.grid(grid)?;
    Ok(())
}

/// How many log entries each side still lacks of the other's, while connected: "them 0 / us 12".
pub(crate) fn behind(p: &PeerInfo) -> String {
    match (p.peer_behind, p.we_behind) {
        (Some(them), Some(us)) => format!("them {them} / us {us}"),
        _ => String::new(),
    }
}

/// A past Unix-millisecond time as "3s ago".
fn ago(ms: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let secs = now.saturating_sub(ms) / 1000;
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        _ => format!("{}h ago", secs / 3600),
    }
}
