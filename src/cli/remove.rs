//! `peat remove`: remove documents.

use super::Context;
use crate::sync::SyncDirection;

/// Remove documents
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Remove documents by id.\n\n\
A removal deletes the document's fields and leaves a tombstone (only \"_deleted\": true) \
that syncs to peers like any change: queries hide the document (see query --include-deleted) \
and watchers see a removed event. The old values stay in the document's Automerge history \
(in the store, in backups and exports in automerge format, and on peers that held them). \
Upserting the id again revives it with only the new fields. Exits 3 if a document does not \
exist or is already removed, or if the directory holds no node.",
    after_help = "Examples:\n  peat remove units u1\n  peat remove units u1 u2 u3"
)]
pub struct Args {
    /// Collection of the documents
    #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
    pub collection: String,
    /// Ids of the documents to remove
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Then wait until connected peers hold the removal (default 30s; needs a running node)
    #[arg(long, value_name = "TIMEOUT", num_args = 0..=1, default_missing_value = "30s", value_parser = super::duration::parse)]
    pub wait_for_sync: Option<std::time::Duration>,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    super::check_names(&args.collection, &args.ids)?;
    crate::sync::validate::writable_collection(&args.collection).map_err(crate::sync::Error::invalid)?;
    let backend = ctx.reader().await?;
    let store = backend.document_store();
    let mut removed = Vec::new();
    let mut missing = None;
    for id in &args.ids {
        match store.remove(&args.collection, id).await {
            Ok(()) => removed.push(id.clone()),
            Err(e) if e.kind == crate::sync::ErrorKind::NotFound => missing = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    let waited = match (args.wait_for_sync, &missing) {
        (Some(timeout), None) => backend.sync_engine().wait_for_sync(SyncDirection::Push, timeout).await,
        _ => Ok(()),
    };
    ctx.close(backend).await?;
    if !ctx.printer.for_people() || !removed.is_empty() {
        ctx.printer.ids(&removed)?;
    }
    waited?;
    match missing {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
