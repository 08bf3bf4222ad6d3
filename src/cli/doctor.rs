//! `peat doctor` and `peat repair`: check a store file, and salvage a damaged one.

use super::Context;
use crate::backend::automerge::doctor;
use crate::home::{DirLock, STORE_FILE};
use crate::sync::Error;

/// Check the store: every table reads, every document loads and matches its projection
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Check the node's store (store.redb) through and through: every table reads, every \
Automerge document loads, and each document's projection, heads and the collection counts match \
the documents. Prints a report; exit 1 when it finds a problem (then `peat repair`). No node may run \
on the directory (exit 4).",
    after_help = "Examples:\n  peat doctor\n  peat doctor || peat repair"
)]
pub struct DoctorArgs {}

/// Salvage a damaged store: copy every readable document into a new one
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Salvage the node's store: every document that still reads is merged into a new \
store, whose projections, heads, counts and change log are rebuilt from the Automerge documents. \
The old file is kept as store.redb.damaged-SECONDS. The new store has a new store id, so peers \
compare heads afresh and send what was lost. No node may run on the directory (exit 4).",
    after_help = "Examples:\n  peat repair\n  peat repair && peat doctor"
)]
pub struct RepairArgs {}

/// The directory lock, or exit 4 while a node runs: both commands need the store to themselves.
fn stopped_node(ctx: &Context) -> anyhow::Result<DirLock> {
    ctx.dir.require()?;
    DirLock::try_acquire(&ctx.dir)?.ok_or_else(|| {
        Error::refused(format!(
            "a node is running on {}; stop it with `peat sync stop` first",
            ctx.dir.path().display()
        ))
        .into()
    })
}

pub async fn doctor(ctx: &Context, _args: DoctorArgs) -> anyhow::Result<()> {
    let _lock = stopped_node(ctx)?;
    let path = ctx.dir.file(STORE_FILE);
    let report = tokio::task::spawn_blocking(move || doctor::verify(&path)).await?;
    ctx.printer.record(&report)?;
    if report.problems > 0 {
        return Err(Error::failed(format!(
            "{} problems in {}; `peat repair` salvages the readable documents",
            report.problems,
            report.store.display()
        ))
        .into());
    }
    Ok(())
}

pub async fn repair(ctx: &Context, _args: RepairArgs) -> anyhow::Result<()> {
    let _lock = stopped_node(ctx)?;
    let path = ctx.dir.file(STORE_FILE);
    let actor = automerge::ActorId::from(ctx.dir.identity()?.public().as_bytes().as_slice());
    let salvage = tokio::task::spawn_blocking(move || doctor::repair(&path, actor)).await??;
    ctx.printer.record(&salvage)?;
    ctx.printer.note(format!(
        "salvaged {} documents ({} lost); the damaged store is kept as {}",
        salvage.documents,
        salvage.lost,
        salvage.damaged.display()
    ));
    Ok(())
}
