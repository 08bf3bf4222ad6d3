//! `peat formation rekey`: revoke access by replacing the formation key.

use super::Context;
use crate::node::client::ClientBackend;
use crate::sync::{Error, PeerDiscovery};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Replace the formation key; nodes not connected now lose access
    #[command(
        long_about = "Make a new formation key and hand it to the members connected to the running \
node now, over their authenticated connections. Each stores it (formation.key, replaced \
atomically) and reconnects with it. Every other node keeps the old key and is refused from then \
on: a node removed with `peers remove` first, a node that is not connected now, and anybody \
holding an old join ticket. Old tickets stop working; `sync status --show-ticket` prints a new one.\n\n\
Prints the members that took the new key and those connected that did not answer (they lose \
access too). Needs a running node (exit 1 without one).",
        after_help = "Examples:\n  peat peers remove 8f3c...e1 && peat formation rekey\n  \
peat formation rekey -o json | jq .members"
    )]
    Rekey,
}

pub async fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Rekey => rekey(ctx).await,
    }
}

async fn rekey(ctx: &Context) -> anyhow::Result<()> {
    ctx.dir.require()?;
    let Some(node) = ClientBackend::connect(&ctx.dir).await? else {
        return Err(Error::failed(
            "no node is running: start it (`peat sync start`) so that the new key reaches the connected members",
        )
        .into());
    };
    let done = PeerDiscovery::rekey(&node).await?;
    ctx.printer.note(format!(
        "new formation key; {} connected members took it{}; every other node has lost access",
        done.members.len(),
        if done.missed.is_empty() {
            String::new()
        } else {
            format!(" ({} connected did not answer and lost access too)", done.missed.len())
        }
    ));
    ctx.printer.record(&done)?;
    Ok(())
}
