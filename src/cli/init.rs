//! `peat init`: create a node's persistence directory.

use std::io::IsTerminal;
use std::net::SocketAddr;

use serde::Serialize;

use super::Context;
use crate::home::{Config, DirLock, NodeDir, Ticket};
use crate::sync::Error;

/// Create a node: keys, config and an empty store
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Create a node's persistence directory (mode 0700) with a fresh identity key, a \
formation key (both 0600) and config.toml, and print the node id and a join ticket.\n\n\
Other commands initialise a missing directory with defaults, so init is only needed for options. \
With --join, the node adopts the app id and formation key of the node that printed the ticket, \
and remembers that node as a peer. The ticket holds the formation secret: share it like a password; \
on a terminal it is printed on a line of its own.\n\n\
--force replaces the keys and config of an existing node (a new node id and formation key, the \
default listen address, no peers) and keeps its documents. It is refused (exit 4) while the node \
runs, or while another command has the directory open; on a terminal it asks first (--yes skips \
the question).",
    after_help = "Examples:\n  peat init --app-id convoy\n  peat init --join peat1...   # the ticket printed on the first node\n  \
peat --dir /tmp/n2 init --listen 127.0.0.1:7891"
)]
pub struct Args {
    /// Application id: nodes sync only within one app id
    #[arg(long, value_name = "ID", conflicts_with = "join")]
    pub app_id: Option<String>,
    /// Join the formation of the node that printed this ticket
    #[arg(long, value_name = "TICKET")]
    pub join: Option<String>,
    /// UDP address for the sync endpoint [default: 0.0.0.0:7890]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Replace the keys and config of an initialised directory (documents are kept); refused
    /// while its node runs, and asks first on a terminal
    #[arg(long)]
    pub force: bool,
    /// Do not ask before --force replaces a node
    #[arg(long, short = 'y', requires = "force")]
    pub yes: bool,
}

#[derive(Serialize)]
struct Initialized {
    node_id: String,
    app_id: String,
    dir: String,
    ticket: String,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let dir = &ctx.dir;
    let ticket = args.join.as_deref().map(Ticket::decode).transpose()?;
    let app_id = match (&ticket, &args.app_id) {
        (Some(t), _) => t.app_id.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => "peat".into(),
    };
    crate::sync::validate::app_id(&app_id).map_err(|e| Error::invalid(format!("--app-id: {e}")))?;
    let mut config = Config::new(&app_id);
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let formation = ticket.as_ref().map(Ticket::formation_key).transpose()?;
    {
        // Held while the keys are replaced, so no node starts on them half-written.
        let _lock = if args.force && dir.is_initialized() { Some(replaceable(ctx, &args)?) } else { None };
        dir.init(config, formation, args.force)?;
    }
    if let Some(join) = &args.join {
        // The ticket's node becomes a peer as `peers add TICKET` makes one.
        let backend = ctx.writer().await?;
        let added = backend.peer_discovery().add_peer(join).await;
        ctx.close(backend).await?;
        added?;
    }
    let summary = summary(dir)?;
    if dir.config()?.listen.port() == 0 {
        ctx.printer.note(
            "the node listens on a port chosen when it starts, so this ticket carries no address: \
             `peat sync status --show-ticket` of the running node prints one that does",
        );
    }
    if !ctx.printer.for_people() {
        ctx.printer.record(&summary)?;
        return Ok(());
    }
    ctx.printer.note(format!("initialised node in {}", summary.dir));
    let Initialized { node_id, app_id, dir, ticket } = summary;
    ctx.printer.record(&serde_json::json!({ "node_id": node_id, "app_id": app_id, "dir": dir }))?;
    // The secret on a line of its own, whole, so it can be copied.
    ctx.printer.note("join ticket (a secret: share it only with nodes of this formation):");
    ctx.printer.line(ticket)?;
    Ok(())
}

/// The directory lock, when the existing node may be replaced: it does not run, no other
/// command has it open, and the person at the terminal said yes (or gave `--yes`).
fn replaceable(ctx: &Context, args: &Args) -> anyhow::Result<DirLock> {
    let dir = &ctx.dir;
    let Some(lock) = DirLock::try_acquire(dir)? else {
        let pid = DirLock::holder(dir).map(|pid| format!(" (pid {pid})")).unwrap_or_default();
        return Err(Error::refused(format!(
            "the node in {} is running or in use{pid}; stop it first (`peat sync stop`)",
            dir.path().display()
        ))
        .into());
    };
    if !args.yes && std::io::stdin().is_terminal() {
        let question = format!(
            "replace node {} in {}? It gets a new node id and formation key, the default listen \
             address and no peers (documents are kept)",
            dir.identity()?.public(),
            dir.path().display()
        );
        if !ctx.printer.confirm(question)? {
            return Err(Error::failed("not confirmed: nothing was changed").into());
        }
    }
    Ok(lock)
}

/// The node id, app id and a join ticket for this directory.
fn summary(dir: &NodeDir) -> anyhow::Result<Initialized> {
    let config = dir.config()?;
    Ok(Initialized {
        node_id: dir.identity()?.public().to_string(),
        ticket: Ticket::for_node(dir, &[config.listen])?.encode()?,
        app_id: config.app_id,
        dir: dir.path().display().to_string(),
    })
}
