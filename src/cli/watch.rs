//! `peat watch`: stream changes to documents as they happen, like `kubectl get -w`.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::query::parse_filter;
use super::{Context, duration};
use crate::node::open;
use crate::sync::{ChangeEvent, ChangeKind, ChangeStream, DataSyncBackend, Error, Query, Start, validate};

/// Stream changes to documents as they happen
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Stream changes to the documents of a collection that match --where, whether \
written locally or received from a peer. Each event has a kind, a time (RFC 3339, UTC), an origin \
(\"local\", or the node id of the peer it came from; null when not known), the collection, the \
id, its change-log position (seq) and the document as it now is:\n  \
added     a document matches that did not: new, revived, or changed into the filter\n  \
updated   a matching document changed and still matches\n  \
removed   a matching document was removed (the document is its tombstone, without fields)\n  \
left      a matching document changed and no longer matches the filter\n  \
lagged    the reader fell behind and \"missed\" events were dropped (also said on stderr); \
the node queues a bounded number of events per watcher rather than grow without bound\n\
First come the current matches, as added events with \"initial\": true (--no-initial hides them). \
Prints NDJSON when piped and rows on a terminal.\n\n\
Works whether or not a node runs: without one, watch serves the directory itself while it runs, \
so other peat commands on the directory go through it and are seen at once. When the node stops, \
watch waits for it to come back and resumes after the last position it saw, missing nothing \
(--no-reconnect exits 1 instead).\n\n\
Exits 0 after --count events, or when --timeout passes (exit 1 if --count events had not come \
by then); 130 on Ctrl-C; 3 if the directory holds no node.",
    after_help = "Examples:\n  peat watch units\n  peat watch units --where 'speed > 10' --no-initial\n  \
peat watch alerts --count 1 --timeout 30s | jq .document\n  peat watch units --timeout 1m -o ndjson > changes.ndjson"
)]
pub struct Args {
    /// Collection to watch
    #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
    pub collection: String,
    /// Only documents matching this expression (repeatable; all must hold)
    #[arg(long = "where", short = 'w', value_name = "EXPR", add = clap_complete::ArgValueCompleter::new(super::complete::where_paths))]
    pub filters: Vec<String>,
    /// Exit after this many events
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long (e.g. 30s): exit 0, or 1 if --count events had not come
    #[arg(long, value_parser = duration::parse, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Skip the current matches; only report changes
    #[arg(long)]
    pub no_initial: bool,
    /// Exit 1 when the node stops, instead of waiting for it and resuming
    #[arg(long)]
    pub no_reconnect: bool,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    validate::collection(&args.collection).map_err(Error::invalid)?;
    let mut filter = Query::All;
    for src in &args.filters {
        filter = filter.and(parse_filter(src)?);
    }
    let backend = ctx.serving_reader().await?;
    Watch::new(ctx, &args, filter).run(backend).await
}

/// One watch: what it has seen, so that it can resume where it was.
struct Watch<'a> {
    ctx: &'a Context,
    args: &'a Args,
    filter: Query,
    deadline: Option<Instant>,
    /// Events printed so far.
    printed: u64,
    /// The change-log position of the last event seen.
    seq: u64,
    /// The ids that match now, as the events told.
    matching: HashSet<String>,
}

/// How a stream of events ended.
enum Ended {
    /// --count events came, or the deadline passed: the watch is over.
    Done,
    /// The stream closed: the node stopped.
    NodeStopped,
}

impl<'a> Watch<'a> {
    fn new(ctx: &'a Context, args: &'a Args, filter: Query) -> Self {
        let deadline = args.timeout.map(|t| Instant::now() + t);
        Self { ctx, args, filter, deadline, printed: 0, seq: 0, matching: HashSet::new() }
    }

    /// Streams from `backend`, and from the node again each time it comes back.
    async fn run(&mut self, mut backend: Box<dyn DataSyncBackend>) -> anyhow::Result<()> {
        // Ask for the current matches even with --no-initial: they tell which documents
        // match, so that a later `left` is known.
        let mut start = Start::Now { initial: true };
        loop {
            let stream =
                backend.document_store().observe(&self.args.collection, self.filter.clone(), start).await;
            let ended = match stream {
                Ok(stream) => {
                    self.say_watching();
                    self.stream(stream).await
                }
                Err(e) => Err(e.into()),
            };
            let closed = self.ctx.close(backend).await;
            match ended? {
                Ended::Done => return closed,
                Ended::NodeStopped if self.args.no_reconnect => {
                    return Err(
                        Error::failed(format!("the node stopped after {} events", self.printed)).into()
                    );
                }
                Ended::NodeStopped => {}
            }
            self.ctx.printer.note(format!(
                "the node stopped; waiting for it to come back, to resume after position {} (Ctrl-C to stop)",
                self.seq
            ));
            backend = match open::wait_for_node(&self.ctx.dir, self.deadline).await {
                Ok(client) => Box::new(client),
                Err(e) if e.kind == crate::sync::ErrorKind::Timeout => return self.timed_out(),
                Err(e) => return Err(e.into()),
            };
            start = Start::After { seq: self.seq, matching: self.matching.iter().cloned().collect() };
        }
    }

    fn say_watching(&self) {
        let message = if self.seq == 0 && self.matching.is_empty() {
            format!("watching '{}' (Ctrl-C to stop)", self.args.collection)
        } else {
            format!("watching '{}' again, from position {}", self.args.collection, self.seq)
        };
        self.ctx.printer.note(message);
    }

    /// Prints events until `--count` of them came, the deadline passed or the stream ended.
    async fn stream(&mut self, mut stream: ChangeStream) -> anyhow::Result<Ended> {
        while self.args.count.is_none_or(|n| self.printed < n) {
            let next = match self.deadline {
                Some(d) => match tokio::time::timeout_at(d, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => return self.timed_out().map(|()| Ended::Done),
                },
                None => stream.next().await,
            };
            let Some(event) = next else { return Ok(Ended::NodeStopped) };
            self.remember(&event);
            if event.event == ChangeKind::Lagged {
                // Printed as an event too, so that a program reading the stream knows.
                self.ctx.printer.note(format!(
                    "watch fell behind: {} events were dropped (read faster, or narrow --where)",
                    event.missed
                ));
                self.ctx.printer.event(&event)?;
                continue;
            }
            if !(event.initial && self.args.no_initial) {
                self.ctx.printer.event(&event)?;
                self.printed += 1;
            }
        }
        Ok(Ended::Done)
    }

    /// Keeps the position and the matching ids that a resume starts from.
    fn remember(&mut self, event: &ChangeEvent) {
        self.seq = self.seq.max(event.seq);
        match event.event {
            ChangeKind::Added | ChangeKind::Updated => self.matching.insert(event.id.clone()),
            ChangeKind::Removed | ChangeKind::Left => self.matching.remove(&event.id),
            ChangeKind::Lagged => false,
        };
    }

    /// The end at the deadline: fine, unless `--count` events were asked for and did not come.
    fn timed_out(&self) -> anyhow::Result<()> {
        match self.args.count {
            Some(n) if self.printed < n => {
                Err(Error::timeout(format!("timed out after {} of {n} events", self.printed)).into())
            }
            _ => Ok(()),
        }
    }
}
