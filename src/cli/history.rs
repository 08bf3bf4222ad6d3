//! `peat history`: the changes that made a document.

use serde_json::Value;

use super::Context;
use super::printer::cell;
use super::table::Grid;
use crate::sync::{Error, HistoryEntry};

/// Show the changes that made a document
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Show a document's changes, oldest first: when each was made (by its author's \
clock), the node that made it, and what it changed (paths and values). Changes from other nodes \
are there as they merged in; a removed document keeps its history. Exits 3 when the document \
never existed.",
    after_help = "Examples:\n  peat history units u1\n  peat history units u1 -o ndjson | jq .node"
)]
pub struct Args {
    /// Collection of the document
    #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
    pub collection: String,
    /// Id of the document
    pub id: String,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    super::check_names(&args.collection, std::slice::from_ref(&args.id))?;
    let backend = ctx.reader().await?;
    let history = backend.document_store().history(&args.collection, &args.id).await?;
    ctx.close(backend).await?;
    let history = history
        .ok_or_else(|| Error::not_found(format!("no document '{}' in '{}'", args.id, args.collection)))?;
    if ctx.printer.for_people() {
        ctx.printer.grid(table(&history))?;
    } else {
        let items: Vec<Value> = history.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
        ctx.printer.list(&items)?;
    }
    Ok(())
}

/// One row per edit, the change's time and node on its first row.
fn table(history: &[HistoryEntry]) -> Grid {
    let header = ["time", "node", "op", "path", "value"].map(String::from).to_vec();
    let mut grid = Grid::new(Some(header)).whole(0).whole(1);
    for entry in history {
        let time = entry.time.clone().unwrap_or_else(|| "-".into());
        let mut first = vec![time, entry.node.clone()];
        if entry.changes.is_empty() {
            grid.row([first.clone(), vec!["-".into(), String::new(), String::new()]].concat());
        }
        for change in &entry.changes {
            let op = serde_json::to_value(change.op).map(|v| cell(&v)).unwrap_or_default();
            let value = change.value.as_ref().map(cell).unwrap_or_default();
            let lead = std::mem::replace(&mut first, vec![String::new(), String::new()]);
            grid.row([lead, vec![op, change.path.clone(), value]].concat());
        }
    }
    grid
}
