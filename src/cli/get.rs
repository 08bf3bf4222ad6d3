//! `peat get`: documents by id.

use serde_json::Value;

use super::{Context, hints};
use crate::sync::{Error, Query};

/// Print documents by id
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print documents by id, in the order given: one lookup per id, no scan. Prints \
what it finds like query does (a JSON array when piped, so the output feeds back into upsert) and \
exits 3 if any id names no document, or a removed one (--include-deleted prints a removed one, \
marked \"_deleted\": true, instead).",
    after_help = "Examples:\n  peat get units u1\n  peat get units u1 u2 -o ndjson\n  \
peat get units u1 | jq '.[0].speed = 7' | peat upsert units"
)]
pub struct Args {
    /// Collection of the documents
    pub collection: String,
    /// Ids of the documents
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Print removed documents too (marked "_deleted": true) rather than count them missing
    #[arg(long)]
    pub include_deleted: bool,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    super::check_names(&args.collection, &args.ids)?;
    let backend = ctx.reader().await?;
    let store = backend.document_store();
    let mut found: Vec<Value> = Vec::new();
    let mut missing = Vec::new();
    for id in &args.ids {
        match store.get(&args.collection, id).await? {
            Some(doc) if !doc.deleted || args.include_deleted => found.push(doc.to_json()),
            Some(_) => missing.push(format!("document '{id}' in '{}' was removed", args.collection)),
            None => missing.push(format!("no document '{id}' in '{}'", args.collection)),
        }
    }
    let hints = if found.is_empty() {
        hints::for_nothing_found(store, &args.collection, &Query::All).await?
    } else {
        Vec::new()
    };
    ctx.close(backend).await?;
    if !found.is_empty() || !ctx.printer.for_people() {
        ctx.printer.list(&found)?;
    }
    hints.iter().for_each(|h| ctx.printer.note(h));
    match missing.len() {
        0 => Ok(()),
        1 => Err(Error::not_found(missing.remove(0)).into()),
        n => {
            Err(Error::not_found(format!("{n} of {} ids not found: {}", args.ids.len(), missing.join("; ")))
                .into())
        }
    }
}
