//! `peat export`: documents out, as one consistent snapshot, one record per line.

use std::io::Write;
use std::path::PathBuf;

use super::Context;
use crate::sync::{Error, ExportEvent, ExportFormat, ExportRequest, validate};

/// Write documents out as NDJSON or Automerge (a consistent snapshot)
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Write the documents of the named collections (all when none is named) to stdout \
or --out FILE, as they were at one moment: the export reads one snapshot of the store (through the \
node when one runs), so writes that go on meanwhile are wholly in or wholly out. Documents are \
streamed, one record per line.\n\n\
--format ndjson (the default) writes each document's JSON: \
{\"collection\":C,\"id\":ID,\"doc\":{...}}; removed documents are left out unless --include-deleted \
(then with \"deleted\":true). --format automerge writes each document's whole saved Automerge \
document, with its history, in base64: {\"collection\":C,\"id\":ID,\"automerge\":\"...\"}; removed \
documents are included as tombstones (\"deleted\":true), so an import removes them too.\n\n\
With --out the file is written beside FILE and renamed into place once complete. `peat import` reads \
both formats.",
    after_help = "Examples:\n  peat export > all.ndjson\n  peat export units alerts --out units.ndjson\n  \
peat export --format automerge --out convoy.peat\n  peat export units | jq -c .doc | peat upsert units"
)]
pub struct Args {
    /// Collections to export [default: all]
    #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
    pub collections: Vec<String>,
    /// What each record carries: the document's JSON, or its Automerge document with history
    #[arg(long, value_enum, default_value_t)]
    pub format: ExportFormat,
    /// Write to FILE instead of stdout (-o is the global output format)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Include removed documents (ndjson; the automerge format always carries tombstones)
    #[arg(long)]
    pub include_deleted: bool,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    for collection in &args.collections {
        validate::collection(collection).map_err(Error::invalid)?;
    }
    let target = Target::open(args.out.clone())?;
    let request = ExportRequest {
        collections: args.collections,
        format: args.format,
        include_deleted: args.include_deleted,
    };
    let backend = ctx.reader().await?;
    let mut stream = backend.document_store().export(request).await?;
    let mut out = target.writer;
    let documents = loop {
        match stream.next().await {
            Some(ExportEvent::Doc(record)) => {
                serde_json::to_writer(&mut out, &record)?;
                out.write_all(b"\n")?;
            }
            Some(ExportEvent::End { documents }) => break documents,
            Some(ExportEvent::Failed(e)) => return Err(e.into()),
            None => return Err(Error::failed("the export ended early (did the node stop?)").into()),
        }
    };
    ctx.close(backend).await?;
    out.flush()?;
    drop(out);
    let whither = match &target.path {
        Some((partial, path)) => {
            std::fs::rename(partial, path).map_err(|e| Error::context(&path.display().to_string(), e))?;
            path.display().to_string()
        }
        None => "stdout".into(),
    };
    ctx.printer.note(format!("exported {documents} documents to {whither}"));
    Ok(())
}

/// Where records go: stdout, or a partial file renamed to FILE once complete.
struct Target {
    writer: Box<dyn Write + Send>,
    /// (partial file, FILE)
    path: Option<(PathBuf, PathBuf)>,
}

impl Target {
    fn open(path: Option<PathBuf>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self { writer: Box::new(std::io::BufWriter::new(std::io::stdout())), path: None });
        };
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        let partial = path.with_file_name(name);
        let file = std::fs::File::create(&partial)
            .map_err(|e| Error::context(&format!("cannot create {}", partial.display()), e))?;
        Ok(Self { writer: Box::new(std::io::BufWriter::new(file)), path: Some((partial, path)) })
    }
}
