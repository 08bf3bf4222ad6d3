//! `peat peers [list] | add | remove`: the peers a node syncs with.

use super::{Context, printer};
use crate::sync::PeerInfo;

/// List, add or remove peers
#[derive(Debug, clap::Args)]
#[command(
    long_about = "List, add or remove the peers this node syncs with.\n\n\
Without a subcommand, lists the known peers: id, addresses, whether connected, direct or relayed, \
round-trip time, last completed sync, documents sent and received, and how many change-log \
entries each side still lacks of the other's (\"them\": this node's entries the peer has not \
acknowledged; \"us\": the peer's entries this node has not merged). Peers added here are \
remembered in config.toml and dialed (and redialed with backoff) whenever the node runs.",
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
once and report whether it answered. ADDR is ID@HOST:PORT or a join ticket of this formation. \
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
        long_about = "Forget a peer: remove it from config.toml and close its connection. \
Exits 3 if no such peer is known.",
        after_help = "Examples:\n  peat peers remove 8f3c...e1"
    )]
    Remove {
        /// The peer's node id
        id: String,
    },
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let backend = ctx.backend().await?;
    let peers = backend.peer_discovery();
    match args.command.unwrap_or(Command::List) {
        Command::List => {
            let list = peers.peers().await?;
            backend.shutdown().await?;
            print(ctx, &list)?;
        }
        Command::Add { addr } => {
            let info = peers.add_peer(&addr).await?;
            let running = backend.sync_engine().status().await?.running;
            backend.shutdown().await?;
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
            peers.remove_peer(&id).await?;
            backend.shutdown().await?;
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
    let mut t = printer::table();
    t.set_header([
        "peer",
        "addresses",
        "connected",
        "path",
        "rtt",
        "last sync",
        "sent",
        "received",
        "behind",
    ]);
    for p in peers {
        t.add_row([
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
        ]);
    }
    ctx.printer.table(&t)?;
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
