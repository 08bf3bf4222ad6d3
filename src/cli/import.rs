//! `peat import`: documents in from an export file, merged, in batches.

use std::path::PathBuf;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::Context;
use crate::node::protocol::BATCH_BYTES;
use crate::sync::{DocumentStore, Error, ExportRecord, ImportSummary};

/// Records per batch: each is one call and one transaction.
const BATCH: usize = 1000;

/// Merge an export file (either format) into the node
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Merge the records of a `peat export` file (or stdin, with -) into the node, in \
batches of 1000, each one transaction. Records in the automerge format merge their history with \
the document's: concurrent edits on both sides survive, tombstones remove, and importing the same \
file again changes nothing. Records in the ndjson format are upserts of the document's fields.\n\n\
Prints how many records were read and how many documents changed. A malformed line stops the \
import (exit 2) and says how many records before it were imported.",
    after_help = "Examples:\n  peat import convoy.peat\n  peat --dir /tmp/b import all.ndjson\n  \
peat --dir /tmp/a export --format automerge | peat --dir /tmp/b import -"
)]
pub struct Args {
    /// Export file to read ('-' for stdin)
    pub file: PathBuf,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let input: Box<dyn tokio::io::AsyncRead + Unpin + Send> = if args.file.as_os_str() == "-" {
        Box::new(tokio::io::stdin())
    } else {
        Box::new(
            tokio::fs::File::open(&args.file)
                .await
                .map_err(|e| Error::context(&format!("cannot read {}", args.file.display()), e))?,
        )
    };
    let backend = ctx.writer().await?;
    let result = import(backend.document_store(), input).await;
    ctx.close(backend).await?;
    let summary = result?;
    ctx.printer.record(&summary)?;
    Ok(())
}

/// Reads records line by line and imports them in batches.
async fn import(
    store: &dyn DocumentStore,
    input: impl tokio::io::AsyncRead + Unpin,
) -> anyhow::Result<ImportSummary> {
    let mut lines = BufReader::new(input).lines();
    let (mut total, mut batch, mut number) = (ImportSummary::default(), Vec::with_capacity(BATCH), 0u64);
    let mut bytes = 0;
    loop {
        let line = lines.next_line().await.map_err(|e| Error::context("reading the import", e))?;
        if let Some(line) = &line {
            number += 1;
            if line.trim().is_empty() {
                continue;
            }
            let record: ExportRecord = serde_json::from_str(line).map_err(|e| {
                Error::invalid(format!(
                    "line {number}: not an export record ({e}); {} records before it were imported",
                    total.documents
                ))
            })?;
            batch.push(record);
            bytes += line.len();
        }
        // A batch also fits in one control-socket request of a node.
        if batch.len() >= BATCH || bytes >= BATCH_BYTES || (line.is_none() && !batch.is_empty()) {
            bytes = 0;
            let done = store.import(std::mem::take(&mut batch)).await?;
            total.documents += done.documents;
            total.changed += done.changed;
        }
        if line.is_none() {
            break;
        }
    }
    if total.documents == 0 {
        return Err(Error::invalid("the import holds no records").into());
    }
    Ok(total)
}
