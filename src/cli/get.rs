//! `peat get`: documents by id.

use serde_json::Value;

use super::{Context, conflicts, hints};
use crate::sync::{Document, Error, Query};

/// Print documents by id
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print documents by id, in the order given: one lookup per id, no scan. Prints \
what it finds like query does (a JSON array when piped, so the output feeds back into upsert) and \
exits 3 if any id names no document, or a removed one (--include-deleted prints a removed one, \
marked \"_deleted\": true, instead).",
    after_help = "Examples:\n  peat get units u1\n  peat get units u1 u2 -o ndjson\n  peat get units u1 --conflicts\n  \
peat get units u1 | jq '.[0].speed = 7' | peat upsert units"
)]
pub struct Args {
    /// Collection of the documents
    #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
    pub collection: String,
    /// Ids of the documents
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Show fields that concurrent writes left with several values: every value, which one
    /// won and why (as `_conflicts` in JSON)
    #[arg(long)]
    pub conflicts: bool,
    /// Print removed documents too (marked "_deleted": true) rather than count them missing
    #[arg(long)]
    pub include_deleted: bool,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    super::check_names(&args.collection, &args.ids)?;
    let backend = ctx.reader().await?;
    let store = backend.document_store();
    let mut found: Vec<Document> = Vec::new();
    let mut missing = Vec::new();
    for id in &args.ids {
        match store.get(&args.collection, id).await? {
            Some(mut doc) if !doc.deleted || args.include_deleted => {
                if args.conflicts {
                    doc.conflicts = store.conflicts(&args.collection, id).await?.unwrap_or_default();
                }
                found.push(doc);
            }
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
        let people = ctx.printer.for_people();
        let items: Vec<Value> = found
            .iter()
            .map(|d| if people { d.to_json() } else { conflicts::attach(d.to_json(), d) })
            .collect();
        ctx.printer.list(&items)?;
        if args.conflicts && people && !found.is_empty() {
            conflicts::print_table(&ctx.printer, &found)?;
        }
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
