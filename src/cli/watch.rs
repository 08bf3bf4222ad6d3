//! `peat watch`: stream changes to documents as they happen.

use std::time::Duration;

use super::query::parse_filter;
use super::{Context, duration};
use crate::sync::{DataSyncBackend, Error, Query, validate};

/// Stream changes to documents as they happen
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Stream changes to the documents of a collection: first the current matches \
(event \"initial\"), then every change as it happens (\"updated\", \"removed\"), whether it was \
written locally or received from a peer. Prints NDJSON when piped (one event per line with the \
event kind, collection, id and document) and rows on a terminal.\n\n\
Works whether or not a node runs: without one, watch serves the directory itself while it runs, \
so other peat commands on the directory go through it and are seen at once. Exits 0 after \
--count events, 1 on --timeout, 130 on Ctrl-C.",
    after_help = "Examples:\n  peat watch units\n  peat watch units --where 'speed > 10' --no-initial\n  \
peat watch alerts --count 1 --timeout 30s | jq .document"
)]
pub struct Args {
    /// Collection to watch
    pub collection: String,
    /// Only documents matching this expression (repeatable; all must hold)
    #[arg(long = "where", short = 'w', value_name = "EXPR")]
    pub filters: Vec<String>,
    /// Exit after this many events
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// Exit with status 1 if no --count events came within this time (e.g. 30s)
    #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Skip the current matches; only report changes
    #[arg(long)]
    pub no_initial: bool,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    validate::collection(&args.collection).map_err(Error::invalid)?;
    let mut filter = Query::All;
    for src in &args.filters {
        filter = filter.and(parse_filter(src)?);
    }
    let backend = ctx.serving_backend().await?;
    let result = stream_events(ctx, backend.as_ref(), &args, filter).await;
    let closed = backend.shutdown().await;
    result?;
    Ok(closed?)
}

/// Prints events until `--count` of them came, the deadline passed or the stream ended.
async fn stream_events(
    ctx: &Context,
    backend: &dyn DataSyncBackend,
    args: &Args,
    filter: Query,
) -> anyhow::Result<()> {
    let mut stream = backend.document_store().observe(&args.collection, filter, !args.no_initial).await?;
    ctx.printer.note(format!("watching '{}' (Ctrl-C to stop)", args.collection));
    let deadline = args.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut seen = 0u64;
    while args.count.is_none_or(|n| seen < n) {
        let next = match deadline {
            Some(d) => tokio::time::timeout_at(d, stream.next())
                .await
                .map_err(|_| Error::timeout(format!("timed out after {seen} events")))?,
            None => stream.next().await,
        };
        let Some(event) = next else {
            return Err(Error::failed("the node stopped").into());
        };
        ctx.printer.event(&event)?;
        seen += 1;
    }
    Ok(())
}
