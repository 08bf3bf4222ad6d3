//! `peat status`: what this node is and holds.

use serde::Serialize;

use super::output::{Format, print_record};
use crate::home::NodeDir;
use crate::sync::CollectionInfo;

/// Show the node's identity and what it holds
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Show the node id, app id, persistence directory, whether a node is running, \
and the collections with their live document counts.",
    after_help = "Examples:\n  peat status\n  peat status --output json | jq .collections"
)]
pub struct Args {}

#[derive(Serialize)]
struct Status {
    node_id: String,
    app_id: String,
    dir: String,
    running: bool,
    collections: Vec<CollectionInfo>,
}

pub async fn run(dir: &NodeDir, format: Format, _args: Args) -> anyhow::Result<()> {
    let backend = super::open(dir).await?;
    let collections = backend.document_store().collections().await?;
    let running = backend.sync_engine().status().await?.running;
    backend.shutdown().await?;
    let status = Status {
        node_id: dir.identity()?.public().to_string(),
        app_id: dir.config()?.app_id,
        dir: dir.path().display().to_string(),
        running,
        collections,
    };
    if format == Format::Table {
        print_table(&status)?;
    } else {
        print_record(format, &status)?;
    }
    Ok(())
}

fn print_table(status: &Status) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = super::output::stdout();
    writeln!(out, "node id      {}", status.node_id)?;
    writeln!(out, "app id       {}", status.app_id)?;
    writeln!(out, "directory    {}", status.dir)?;
    let running = if status.running { "running (see `peat sync status`)" } else { "not running" };
    writeln!(out, "node         {running}")?;
    if status.collections.is_empty() {
        writeln!(out, "collections  none")?;
    } else {
        let mut t = comfy_table::Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["collection", "documents"]);
        for c in &status.collections {
            t.add_row(vec![c.name.clone(), c.documents.to_string()]);
        }
        writeln!(out, "{t}")?;
    }
    out.flush()
}
