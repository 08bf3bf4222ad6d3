//! `peat upsert`: create or change documents.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};

use super::Context;
use super::conflicts::CONFLICTS_FIELD;
use super::input::{self, parse_set};
use super::interrupt::Interrupt;
use super::printer::IdWriter;
use crate::node::protocol::{BATCH_BYTES, encoded_len};
use crate::sync::{DocInput, Error, Path, SyncDirection, TTL_FIELD, validate};

/// Most documents committed in one transaction: each holds its documents in memory until it
/// commits, and 5,000 keep a 1M-document ingest under 150 MB (10,000 peaked at 156 MB).
const CHUNK: usize = 5_000;
/// A pause in the input this long commits what has arrived.
const IDLE: std::time::Duration = std::time::Duration::from_millis(100);

/// Create or change documents
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Create or change documents in a collection.\n\n\
Documents come from --set, --json, --file, or NDJSON / a JSON array / one object on stdin. \
A whole object sets the fields it names; --replace makes the document equal to it; --set changes \
one path only (VALUE is parsed as JSON, else taken as a string). Unchanged values make no change, \
so concurrent edits of other fields on other nodes survive the merge. A document without an id \
gets a UUID v7. Input is committed in transactions of up to 5,000 documents; the ids are printed \
as each one commits (on a terminal, more than 10 documents end with one summary line on stderr \
instead: count, time, rate). The input is read before the store is opened, so `peat query c | peat upsert c` works \
without a node; an input with no documents is an error (exit 2) and creates nothing. Ctrl-C \
stops after the batch in flight, prints the ids stored and says how many (exit 130).",
    after_help = "Examples:\n  \
peat upsert units u1 --set name=Alpha --set pos.lat=59.33 --set pos.lon=18.06\n  \
peat upsert units --json '{\"id\":\"u2\",\"name\":\"Bravo\",\"speed\":4}'\n  \
peat upsert units --replace --file unit.json\n  \
cat units.ndjson | peat upsert units\n  \
peat query units --where 'id == u1' | jq '.[0].speed = 9' | peat upsert units"
)]
pub struct Args {
    /// Collection to write to
    #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
    pub collection: String,
    /// Document id (for --set or a single --json object); taken from the input otherwise
    pub id: Option<String>,
    /// Set one path, e.g. pos.lat=59.3 or tags[0]=red (repeatable)
    #[arg(long = "set", short = 's', value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// The document as a JSON object
    #[arg(long, value_name = "OBJECT", conflicts_with = "file")]
    pub json: Option<String>,
    /// Read documents from a file ('-' for stdin)
    #[arg(long, short = 'f', value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Make each document equal to the input (drop fields it does not name)
    #[arg(long)]
    pub replace: bool,
    /// Each document expires this long after its last update (e.g. 90s, 10m, 1d), on every
    /// node; kept in its `_ttl` field (seconds), which overrides the collection's `--ttl`
    #[arg(long, value_name = "DURATION", value_parser = super::duration::ttl)]
    pub ttl: Option<u64>,
    /// Then wait until connected peers hold the change (default 30s; needs a running node)
    #[arg(long, value_name = "TIMEOUT", num_args = 0..=1, default_missing_value = "30s", value_parser = super::duration::parse)]
    pub wait_for_sync: Option<std::time::Duration>,
}

/// On a terminal, an upsert of more documents than this prints a summary, not the ids.
const LIST_IDS: usize = 10;

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    validate::writable_collection(&args.collection).map_err(Error::invalid)?;
    if let Some(id) = &args.id {
        validate::id(id).map_err(Error::invalid)?;
    }
    let sets = args.sets.iter().map(|s| parse_set(s)).collect::<Result<Vec<_>, _>>()?;
    let source = source(&args)?;
    let mut interrupt = Interrupt::listen();
    let mut stored = Stored::new(ctx);
    let backend = match source {
        None => {
            let Some(backend) = interrupt.or(ctx.writer()).await else {
                return Err(stored.interrupted(ctx, ""));
            };
            let backend = backend?;
            let mut doc =
                DocInput { id: args.id.clone(), replace: args.replace, sets, ..DocInput::default() };
            if let Some(ttl) = args.ttl {
                doc.fields.insert(TTL_FIELD.into(), ttl.into());
            }
            stored.add(backend.document_store().upsert(&args.collection, vec![doc]).await?)?;
            backend
        }
        Some((reader, name)) => {
            // The input first, the store second: a writer fed by a reader of the same
            // directory (`peat query c | peat upsert c`) never holds the store while the
            // reader still needs it.
            let rules = Rules::of(&args, &sets);
            let mut n = 0;
            let mut items = input::spawn_reader(reader, name.clone(), move |item| {
                n += 1;
                let size = item.as_ref().map_or(0, encoded_len);
                (item.and_then(|fields| rules.to_input(fields, n)), size)
            });
            let Some(first) = interrupt.or(items.recv()).await else {
                return Err(stored.interrupted(ctx, ""));
            };
            let Some(first) = first else {
                return Err(Error::invalid(format!("nothing to write: {name} held no documents")).into());
            };
            let Some(backend) = interrupt.or(ctx.writer()).await else {
                return Err(stored.interrupted(ctx, ""));
            };
            let backend = backend.map_err(before_any_batch)?;
            let store = backend.document_store();
            match write_stream(store, &args, first, items, &mut interrupt, &mut stored).await {
                Ok(true) => {}
                Ok(false) => {
                    ctx.close(backend).await?;
                    return Err(stored.interrupted(ctx, "; the rest of the input was not written"));
                }
                Err(e) => {
                    // The ids stored before the error, if any, are printed as a whole JSON
                    // value; the error says how many.
                    if stored.count > 0 {
                        let _ = stored.close();
                    }
                    return Err(e);
                }
            }
            backend
        }
    };
    if let Some(timeout) = args.wait_for_sync {
        let wait = backend.sync_engine().wait_for_sync(SyncDirection::Push, timeout);
        let Some(waited) = interrupt.or(wait).await else {
            ctx.close(backend).await?;
            return Err(stored.interrupted(ctx, "; stopped waiting for peers"));
        };
        ctx.close(backend).await?;
        stored.finish(ctx)?;
        waited?;
    } else {
        ctx.close(backend).await?;
        stored.finish(ctx)?;
    }
    Ok(())
}

/// The ids stored so far, printed as each batch is stored, so that nothing grows with the
/// input. On a terminal only the first few are kept: printed at the end if there are no
/// more, else replaced by one summary line on stderr (which also follows the ids of a large
/// upsert when they are piped).
struct Stored {
    count: usize,
    /// On a terminal, the ids while there are at most [`LIST_IDS`]; `None` when streaming.
    held: Option<Vec<String>>,
    out: IdWriter,
    started: std::time::Instant,
    /// `--quiet`: no progress on stderr.
    quiet: bool,
}

impl Stored {
    fn new(ctx: &Context) -> Self {
        let held = ctx.printer.to_terminal().then(Vec::new);
        let (out, quiet) = (ctx.printer.id_writer(), ctx.printer.quiet());
        Self { count: 0, held, out, started: std::time::Instant::now(), quiet }
    }

    /// The ids of one stored batch.
    fn add(&mut self, ids: Vec<String>) -> std::io::Result<()> {
        self.count += ids.len();
        match &mut self.held {
            Some(held) if self.count <= LIST_IDS => held.extend(ids),
            Some(held) => held.clear(),
            None => self.out.ids(&ids)?,
        }
        Ok(())
    }

    /// Ends the output: the ids kept, if few, or the summary line.
    fn finish(self, ctx: &Context) -> std::io::Result<()> {
        let (count, started) = (self.count, self.started);
        self.close()?;
        if count > LIST_IDS {
            let secs = started.elapsed().as_secs_f64();
            let rate = (count as f64 / secs.max(1e-3)).round() as u64;
            ctx.printer.note(format!("wrote {count} documents in {secs:.2}s ({rate} documents/s)"));
        }
        Ok(())
    }

    /// Ends the output with the ids kept, if few.
    fn close(mut self) -> std::io::Result<()> {
        if let Some(held) = self.held.take() {
            self.out.ids(&held)?;
        }
        self.out.finish()
    }

    /// The end of an interrupted upsert: the ids kept, how many were stored, and exit 130.
    fn interrupted(self, ctx: &Context, rest: &str) -> anyhow::Error {
        let count = self.count;
        let _ = self.close();
        ctx.printer.note(format!("interrupted: {}{rest}", stored(count)));
        Error::interrupted().into()
    }
}

/// Where documents come from, if not only from --set.
fn source(args: &Args) -> anyhow::Result<Option<(Box<dyn Read + Send>, String)>> {
    if let Some(json) = &args.json {
        return Ok(Some((Box::new(std::io::Cursor::new(json.clone().into_bytes())), "--json".into())));
    }
    match &args.file {
        Some(p) if p.as_os_str() == "-" => return Ok(Some((Box::new(std::io::stdin()), "stdin".into()))),
        Some(p) => {
            let file = std::fs::File::open(p)
                .map_err(|e| Error::invalid(format!("cannot read {}: {e}", p.display())))?;
            return Ok(Some((Box::new(file), p.display().to_string())));
        }
        None => {}
    }
    if !args.sets.is_empty() {
        return Ok(None);
    }
    if std::io::stdin().is_terminal() {
        return Err(Error::invalid(
            "nothing to write: give --set PATH=VALUE, --json OBJECT, --file PATH, or pipe JSON on stdin",
        )
        .into());
    }
    Ok(Some((Box::new(std::io::stdin()), "stdin".into())))
}

/// Commits documents as they arrive, from `first` on: a full chunk, or whatever is there when
/// input pauses, each chunk's ids going to `stored`. Ctrl-C stops it after the chunk in
/// flight (a chunk still being read is dropped): then it returns false.
async fn write_stream(
    store: &dyn crate::sync::DocumentStore,
    args: &Args,
    first: Ready,
    mut items: tokio::sync::mpsc::Receiver<Ready>,
    interrupt: &mut Interrupt,
    stored: &mut Stored,
) -> anyhow::Result<bool> {
    let progress = progress_bar(stored.quiet);
    let mut seen = 0usize;
    let mut next_chunk = Some(first);
    // Take the first document of a chunk, then more until the chunk is full, the input ends
    // or it pauses for IDLE: a live feed is written as it comes, while a bad line that
    // arrives with the rest of its input stops the chunk before anything is stored.
    while let Some(first) = next_chunk {
        let (mut chunk, mut bytes) = (Vec::new(), 0);
        let mut next = Some(first);
        while let Some((doc, size)) = next {
            seen += 1;
            // A chunk also fits in one control-socket request of a node.
            bytes += size;
            chunk.push(doc.map_err(|e| {
                Error::new(e.kind, format!("{} ({})", e.message, stored_before(stored.count)))
            })?);
            next = if chunk.len() < CHUNK && bytes < BATCH_BYTES {
                match interrupt.or(tokio::time::timeout(IDLE, items.recv())).await {
                    Some(next) => next.ok().flatten(),
                    None => return Ok(false),
                }
            } else {
                None
            };
        }
        if args.id.is_some() && seen > 1 {
            return Err(
                Error::invalid("an ID argument names one document, but the input holds several").into()
            );
        }
        let n = chunk.len() as u64;
        let ids = store.upsert(&args.collection, chunk).await.map_err(|e| {
            Error::new(e.kind, format!("{} (stored {} documents before the error)", e.message, stored.count))
        })?;
        stored.add(ids)?;
        progress.inc(n);
        if interrupt.is_set() {
            progress.finish_and_clear();
            return Ok(false);
        }
        next_chunk = interrupt.or(items.recv()).await.flatten();
    }
    progress.finish_and_clear();
    Ok(!interrupt.is_set())
}

/// An error before any batch was sent (the store or the node could not be reached) says
/// that nothing was stored, as every error of an upsert of many documents says what was.
fn before_any_batch(e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<Error>() {
        Ok(e) => Error::new(e.kind, format!("{} ({})", e.message, stored_before(0))).into(),
        Err(e) => e.context(stored_before(0)),
    }
}

fn stored_before(n: usize) -> String {
    if n == 0 { "nothing was stored".into() } else { format!("{n} documents before it were stored") }
}

fn stored(n: usize) -> String {
    match n {
        0 => "nothing was stored".into(),
        1 => "1 document was stored".into(),
        n => format!("{n} documents were stored"),
    }
}

/// An input document as the writer takes it: checked (or why not), and its size in a
/// request to a node.
type Ready = (Result<DocInput, Error>, usize);

/// What the command line says of every input document, for the reader's thread.
struct Rules {
    collection: String,
    replace: bool,
    ttl: Option<u64>,
    id: Option<String>,
    sets: Vec<(Path, Value)>,
}

impl Rules {
    fn of(args: &Args, sets: &[(Path, Value)]) -> Self {
        let (collection, id) = (args.collection.clone(), args.id.clone());
        Self { collection, replace: args.replace, ttl: args.ttl, id, sets: sets.to_vec() }
    }

    /// Input object `n` (from 1) as a document to write, checked.
    fn to_input(&self, fields: Map<String, Value>, n: usize) -> Result<DocInput, Error> {
        let at = |m: String| Error::invalid(format!("document {n}: {m}"));
        if fields.contains_key(CONFLICTS_FIELD) {
            return Err(at(format!(
                "the field '{CONFLICTS_FIELD}' is output of --conflicts; drop it before writing"
            )));
        }
        let mut doc = DocInput::from_object(fields, self.replace).map_err(at)?;
        if let Some(ttl) = self.ttl {
            doc.fields.insert(TTL_FIELD.into(), ttl.into());
        }
        if let Some(id) = &self.id {
            doc.id = Some(id.clone());
        }
        doc.sets = self.sets.clone();
        validate::input(&self.collection, &doc).map_err(at)?;
        Ok(doc)
    }
}

/// A spinner with the count and the rate as a whole number, on a terminal's stderr only
/// (indicatif draws nothing elsewhere), and not with `--quiet`.
fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} documents written ({rate} documents/s) {elapsed}")
            .expect("valid template")
            .with_key("rate", |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", state.per_sec());
            }),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
