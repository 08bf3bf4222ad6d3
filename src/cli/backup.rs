//! `peat backup` and `peat restore`: a whole node to a directory and back.

use std::path::PathBuf;

use super::Context;
use crate::home::STORE_FILE;
use crate::node::backup;

/// Back up the node: its store and config (and keys if asked) into a new directory
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Copy the node into DIR (new or empty): a consistent copy of the store (one \
snapshot, made by the running node itself when one runs, so writes may go on), config.toml, and a \
manifest (peat-backup.json, written last: a backup without it is incomplete). The keys \
(identity.key, formation.key) are secrets and are copied only with --include-keys; without them a \
backup can be restored only into a node that has its own keys.",
    after_help = "Examples:\n  peat backup /backups/convoy-$(date +%F)\n  \
peat backup /backups/full --include-keys\n  peat --dir /tmp/a backup /tmp/a.bak && peat --dir /tmp/a2 restore /tmp/a.bak"
)]
pub struct Args {
    /// Directory to write the backup into (must be new or empty)
    #[arg(value_name = "DIR")]
    pub target: PathBuf,
    /// Also copy identity.key and formation.key (secrets: keep the backup private)
    #[arg(long)]
    pub include_keys: bool,
}

/// Restore a node from a backup directory
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Restore the backup in DIR into the node directory (--dir): its store, its \
config.toml and, when the backup holds them, its keys. No node may run on the directory (exit 4); \
one that already has a store is replaced only with --force. The restored store gets a new store id, \
so peers read its change log afresh (comparing heads, moving only what differs) while it catches up \
on what they changed since the backup. Start it with `peat sync start`.",
    after_help = "Examples:\n  peat --dir /var/lib/peat restore /backups/full\n  \
peat --dir /tmp/a restore /tmp/a.bak --force"
)]
pub struct RestoreArgs {
    /// Backup directory made by `peat backup`
    #[arg(value_name = "DIR")]
    pub source: PathBuf,
    /// Replace the directory's existing store
    #[arg(long)]
    pub force: bool,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    ctx.dir.require()?;
    let dest = backup::prepare(&args.target)?;
    let backend = ctx.reader().await?;
    backend.document_store().backup(&dest.join(STORE_FILE)).await?;
    ctx.close(backend).await?;
    let manifest = backup::finish(&ctx.dir, &dest, args.include_keys)?;
    ctx.printer.record(&manifest)?;
    if !args.include_keys {
        ctx.printer.note("the keys are not in the backup (--include-keys adds them)");
    }
    Ok(())
}

pub async fn restore(ctx: &Context, args: RestoreArgs) -> anyhow::Result<()> {
    let manifest = backup::restore(&ctx.dir, &args.source, args.force).await?;
    ctx.printer.record(&manifest)?;
    ctx.printer.note(format!("restored node {} into {}", manifest.node_id, ctx.dir.path().display()));
    Ok(())
}
