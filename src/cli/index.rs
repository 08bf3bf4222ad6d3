//! `peat index add | list | remove`: secondary indexes, which let queries read a range of
//! values instead of scanning a collection.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::Context;
use super::table::Grid;
use crate::sync::{Error, IndexInfo, Path};

/// Add, list or remove secondary indexes
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Add, list or remove secondary indexes. An index on a field path keeps the \
documents of a collection ordered by their value there, so `query --where` with ==, <, <=, >, >= \
on that path reads only the matching range, and `query --order-by` on it reads in order (with \
--limit it stops early; without, nothing is sorted). `query --explain` says which index a query \
uses. Indexes are local to this node: they do not sync, each node chooses its own. They are kept \
current on every write, removal, import and change merged from peers.",
    after_help = "Examples:\n  peat index add units speed\n  peat index add units pos.lat\n  \
peat index list\n  peat query units --where 'speed > 30' --explain\n  peat index remove units speed"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the indexes (the default), of one collection or all
    #[command(
        long_about = "List the indexes of this node (of one collection, or of all): collection \
and field path, by collection. Indexes are local: another node lists its own.",
        after_help = "Examples:\n  peat index list\n  peat index list units -o json"
    )]
    List {
        /// Only this collection's indexes
        #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
        collection: Option<String>,
    },
    /// Index a field path of a collection
    #[command(
        long_about = "Index a field path of a collection: builds the index over the existing \
documents (in chunks, so memory stays bounded and writes go on meanwhile; a spinner on a terminal) \
and keeps it current from then on. Adding an index that exists does nothing. Exits 3 for an \
unknown collection, 2 for a malformed path.",
        after_help = "Examples:\n  peat index add units speed\n  peat index add units 'tags[0]'"
    )]
    Add {
        /// The collection
        #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
        collection: String,
        /// The field path, as --where and --order-by name it (speed, pos.lat, tags[0])
        path: String,
    },
    /// Drop an index
    #[command(
        long_about = "Drop an index and its entries; queries scan again. Exits 3 when there is \
no such index.",
        after_help = "Examples:\n  peat index remove units speed"
    )]
    Remove {
        /// The collection
        #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
        collection: String,
        /// The indexed field path
        path: String,
    },
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    match args.command.unwrap_or(Command::List { collection: None }) {
        Command::List { collection } => {
            if let Some(c) = &collection {
                super::check_names(c, &[])?;
            }
            let backend = ctx.reader().await?;
            let list = backend.document_store().indexes(collection.as_deref()).await;
            ctx.close(backend).await?;
            print(ctx, &list?)
        }
        Command::Add { collection, path } => {
            let path = parse(&collection, &path)?;
            let backend = ctx.writer().await?;
            let spinner = spinner(ctx, &collection, &path);
            let added = backend.document_store().add_index(&collection, &path).await;
            spinner.finish_and_clear();
            ctx.close(backend).await?;
            let added = added?;
            ctx.printer.note(format!("indexed {}.{}", added.collection, added.path));
            Ok(())
        }
        Command::Remove { collection, path } => {
            let path = parse(&collection, &path)?;
            let backend = ctx.reader().await?;
            let removed = backend.document_store().remove_index(&collection, &path).await;
            ctx.close(backend).await?;
            removed?;
            ctx.printer.note(format!("removed the index on {collection}.{path}"));
            Ok(())
        }
    }
}

/// Checks the collection name and parses the path (exit 2 when either is malformed).
fn parse(collection: &str, path: &str) -> Result<Path, Error> {
    super::check_names(collection, &[])?;
    path.parse().map_err(|e| Error::invalid(format!("bad index path: {e}")))
}

/// A spinner while an index builds, on a terminal's stderr only, and not with `--quiet`.
fn spinner(ctx: &Context, collection: &str, path: &Path) -> ProgressBar {
    if ctx.printer.quiet() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"));
    bar.set_message(format!("indexing {collection}.{path}"));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn print(ctx: &Context, list: &[IndexInfo]) -> anyhow::Result<()> {
    if ctx.printer.for_people() {
        let mut grid = Grid::new(Some(vec!["collection".into(), "path".into()]));
        for index in list {
            grid.row(vec![index.collection.clone(), index.path.clone()]);
        }
        ctx.printer.grid(grid)?;
    } else {
        let items: Vec<Value> = list.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
        ctx.printer.list(&items)?;
    }
    Ok(())
}
