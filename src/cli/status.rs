//! `peat status`: what this node is and holds.

use super::Context;
use super::table::Grid;
use crate::node::status::{NodeStatus, status};

/// Show the node's identity and what it holds
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Show the node id, app id, persistence directory, whether a node is running, \
and the collections with their live document counts. Exits 3 if the directory holds no node.",
    after_help = "Examples:\n  peat status\n  peat status --output json | jq .collections"
)]
pub struct Args {}

pub async fn run(ctx: &Context, _args: Args) -> anyhow::Result<()> {
    let status = status(&ctx.dir, false, &ctx.notice()).await?;
    if ctx.printer.for_people() {
        print_for_people(ctx, &status)?;
    } else {
        ctx.printer.record(&status)?;
    }
    Ok(())
}

fn print_for_people(ctx: &Context, status: &NodeStatus) -> std::io::Result<()> {
    let running = if status.running { "running (see `peat sync status`)" } else { "not running" };
    let mut text = format!(
        "node id      {}\napp id       {}\ndirectory    {}\nnode         {running}",
        status.node_id, status.app_id, status.dir
    );
    if status.collections.is_empty() {
        text += "\ncollections  none";
    } else {
        let mut grid = Grid::new(Some(vec!["collection".into(), "documents".into()]));
        for c in &status.collections {
            grid.row(vec![c.name.clone(), c.documents.to_string()]);
        }
        text += &format!("\n{}", grid.render(ctx.printer.width()));
    }
    ctx.printer.line(text)
}
