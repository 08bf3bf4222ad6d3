//! One authenticated connection to a peer, syncing both ways over one QUIC stream pair.
//!
//! Each side *feeds* its change log to the other (catch-up from the peer's cursor, then live
//! as local commits land) and *pulls* from the other's feed: for each entry it sends a
//! `Want` with the heads it has, and the feeder answers with exactly the changes not
//! reachable from the heads it knows of those (the whole document when the puller has
//! none, nothing when the puller holds all the feeder does). That is the Automerge "changes
//! since heads" exchange in one round trip per batch, with many batches in flight: no
//! per-document lock-step. Entries carry no heads: the feeder compares them, so a document
//! the puller lacks costs no hashes at all.
//! The puller acknowledges log positions once the changes up to them are merged; the feeder
//! uses the acks as a flow-control window and `wait_for_sync` as proof of delivery.
//!
//! Each side also tells the other where its log ends (`Head`, when it moves, coalesced) and
//! answers `HeadQuery`s, so a wait knows exactly what the peer had when it began: it is over
//! once the puller's merged cursor reaches that head.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use automerge::{AutoCommit, ChangeHash};
use iroh::EndpointId;
use iroh::endpoint::{RecvStream, SendStream};
use tokio::io::{AsyncRead, BufReader};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::cursor::Cursor;
use super::echo::PeerHolds;
use super::peers::{Counters, Progress, now_ms};
use super::wire::{CHANGES_BUDGET, Compressor, Decompressor, DocChanges, Entry, Hash, Msg, Want};
use super::{Shared, blocking, chunks, merge_from_peer};
use crate::backend::automerge::cores;
use crate::sync::{Error, Result, SyncEvent};

/// Log entries per `Entries` frame.
const BATCH: usize = 1000;
/// Log positions the feeder may run ahead of the peer's acknowledgements.
const WINDOW: u64 = 20 * BATCH as u64;
/// Documents per `Want`.
const WANT_CHUNK: usize = 500;
/// Documents of the peer's answers merged in one write at most.
const MERGE_MAX: usize = 5_000;
/// Outgoing frames buffered before producers wait.
const OUT_BUFFER: usize = 64;
/// How often a moving cursor is persisted, and how soon after the pull pauses.
const PERSIST_EVERY: Duration = Duration::from_millis(500);
/// Documents a peer may have asked for (`Want`) and not yet been answered: what a peer that
/// keeps to our feed's window can ask, twice over. More, and it is disconnected.
const MAX_WANTED: u64 = 2 * (WINDOW + BATCH as u64);
/// Bytes of the peer's frames waiting for the puller. A peer that keeps to our window stays
/// well below; more, and it is disconnected rather than held in memory.
const MAX_PULL_QUEUE: usize = 256 * 1024 * 1024;
/// The least time between two `Head`s that only say our log moved.
const HEAD_EVERY: Duration = Duration::from_millis(250);
/// How long the session's tasks may take to end once it is over.
const WIND_DOWN: Duration = Duration::from_secs(2);

/// What the reader hands to the puller.
enum PullIn {
    Entries { upto: u64, entries: Vec<Entry> },
    Changes { req: u64, last: bool, docs: Vec<DocChanges> },
}

/// Where a session starts, as the two `Hello`s settled it.
pub(super) struct Start {
    /// How far we merged the peer's log (0 of a store we never pulled).
    pub cursor: Cursor,
    /// Where the peer asked for our log from.
    pub their_since: u64,
}

/// Runs the sync of one session until the connection ends or a frame is bad. `progress` is
/// where the peer's acknowledgements of our log, its head and our merged cursor of its log
/// go. When the reader ends, the other tasks are told to stop and waited for: the puller
/// persists its cursor on the way out.
pub(super) async fn run(
    shared: Arc<Shared>,
    peer: EndpointId,
    Start { cursor, their_since }: Start,
    counters: Arc<Counters>,
    send: SendStream,
    recv: BufReader<RecvStream>,
    progress: Arc<Progress>,
) -> Result<()> {
    let (out_tx, out_rx) = mpsc::channel::<Msg>(OUT_BUFFER);
    let (pull_tx, pull_rx) = mpsc::unbounded_channel::<(PullIn, usize)>();
    let (want_tx, want_rx) = mpsc::unbounded_channel::<(u64, Vec<Want>)>();
    let queued = Arc::new(Queued::default());
    Progress::raise(&progress.acked, their_since);
    // The latest head query of the peer, for the heads task to answer.
    let (queried_tx, queried_rx) = watch::channel(0u64);
    // Dropped to tell the tasks to stop.
    let (stop_tx, stop) = watch::channel(());
    Progress::raise(&progress.merged, cursor.seq);

    let acked_rx = progress.acked.subscribe();
    let holds = Arc::new(PeerHolds::default());
    let mut tasks = JoinSet::new();
    tasks.spawn(write_frames(send, out_rx, stop.clone()));
    tasks.spawn(feed(shared.clone(), out_tx.clone(), their_since, acked_rx, holds.clone(), stop.clone()));
    tasks.spawn(heads(shared.clone(), out_tx.clone(), queried_rx, progress.asked.subscribe(), stop.clone()));
    tasks.spawn(serve(
        shared.clone(),
        out_tx.clone(),
        want_rx,
        queued.clone(),
        counters.clone(),
        holds.clone(),
        stop.clone(),
    ));
    tasks.spawn(
        Puller {
            shared: shared.clone(),
            peer: peer.to_string(),
            peer_id: peer,
            peer_store: cursor.store,
            out: out_tx,
            cursor: cursor.seq,
            persisted: cursor.seq,
            last_persist: Instant::now(),
            batches: VecDeque::new(),
            first_batch: 0,
            reqs: HashMap::new(),
            next_req: 0,
            summary: Summary::new(&counters),
            counters,
            progress: progress.clone(),
            holds,
        }
        .run(pull_rx, queued.clone(), stop),
    );
    let to = Readers { pull: pull_tx, want: want_tx, queried: queried_tx, queued };
    let result = read_frames(Decompressor::new(recv)?, to, &progress).await;
    // A task that failed explains the end better than the reader's "stream closed"; the
    // ones still running end because the session does, so their errors are no news.
    let mut failure = None;
    while let Some(ended) = tasks.try_join_next() {
        if let Ok(Err(e)) = ended {
            failure.get_or_insert(e);
        }
    }
    drop(stop_tx);
    let wound_down = tokio::time::timeout(WIND_DOWN, async {
        while let Some(ended) = tasks.join_next().await {
            if let Err(e) = ended
                && e.is_panic()
            {
                tracing::error!("peer {peer}: session task failed: {e}");
            }
        }
    });
    if wound_down.await.is_err() {
        tracing::warn!(
            "peer {peer}: session tasks did not end within {}s; aborted them",
            WIND_DOWN.as_secs()
        );
        tasks.shutdown().await;
    }
    failure.map_or(result, Err)
}

/// Resolves once the session stops (its end of the channel is dropped). The tasks wait for
/// it only where they wait for input, never around a store call: none outlives the session.
async fn stopped(stop: &mut watch::Receiver<()>) {
    while stop.changed().await.is_ok() {}
}

fn closed() -> Error {
    Error::failed("connection closed")
}

/// Where the reader hands what it reads.
struct Readers {
    pull: mpsc::UnboundedSender<(PullIn, usize)>,
    want: mpsc::UnboundedSender<(u64, Vec<Want>)>,
    queried: watch::Sender<u64>,
    queued: Arc<Queued>,
}

/// What the reader has handed on and its tasks have not yet taken: the hard caps on what a
/// peer can make this node hold.
#[derive(Default)]
struct Queued {
    /// Bytes of frames for the puller.
    pull: AtomicUsize,
    /// Documents asked for in `Want`s not yet answered.
    wanted: AtomicU64,
}

fn flooding(what: String) -> Error {
    Error::refused(format!("disconnected: the peer ignored flow control ({what})"))
}

/// Reads frames and hands each to its task. Never waits on those tasks, so a response can
/// always be read and nothing deadlocks; a peer that keeps to the feed's window never fills
/// them, and one that does not is disconnected at a hard cap ([`Queued`]).
async fn read_frames(
    mut recv: Decompressor<impl AsyncRead + Unpin>,
    to: Readers,
    progress: &Progress,
) -> Result<()> {
    // The end of the peer's last `Entries`: it may send the next only while that is within
    // the window of what we acknowledged (we acknowledge no more than we merged).
    let mut last_upto = 0u64;
    loop {
        let Some((msg, size)) = recv.read().await? else { return Ok(()) };
        let pull = |input: PullIn| {
            let held = to.queued.pull.fetch_add(size, Ordering::Relaxed) + size;
            if held > MAX_PULL_QUEUE {
                return Err(flooding(format!("{held} bytes waiting to be merged")));
            }
            Ok(to.pull.send((input, size)).is_ok())
        };
        let sent = match msg {
            Msg::Entries { upto, entries } => {
                let merged = *progress.merged.borrow();
                if last_upto.saturating_sub(merged) > WINDOW {
                    return Err(flooding(format!(
                        "log entries up to {upto} while only {merged} were acknowledged"
                    )));
                }
                last_upto = last_upto.max(upto);
                pull(PullIn::Entries { upto, entries })?
            }
            Msg::Changes { req, last, docs } => pull(PullIn::Changes { req, last, docs })?,
            Msg::Want { req, items } => {
                let n = items.len() as u64;
                let wanted = to.queued.wanted.fetch_add(n, Ordering::Relaxed) + n;
                if wanted > MAX_WANTED {
                    return Err(flooding(format!("{wanted} documents asked for at once")));
                }
                to.want.send((req, items)).is_ok()
            }
            Msg::Ack { seq } => {
                Progress::raise(&progress.acked, seq);
                true
            }
            Msg::Head { seq, answers } => {
                Progress::raise(&progress.peer_head, seq);
                progress.answered.send_if_modified(|a| {
                    let newer = answers > a.0;
                    if newer {
                        *a = (answers, seq);
                    }
                    newer
                });
                true
            }
            Msg::HeadQuery { query } => {
                Progress::raise(&to.queried, query);
                true
            }
            Msg::Refuse { reason } => {
                return Err(Error::refused(format!("the peer closed the session: {reason}")));
            }
            other => {
                return Err(Error::invalid(format!("unexpected message after the handshake: {other:?}")));
            }
        };
        if !sent {
            return Err(closed());
        }
    }
}

/// Sends what the other tasks queue. Stops at once when the session does (the connection
/// is going), which also makes the others' sends fail.
async fn write_frames(
    mut send: SendStream,
    mut out: mpsc::Receiver<Msg>,
    mut stop: watch::Receiver<()>,
) -> Result<()> {
    let mut zstd = Compressor::new()?;
    let write = async {
        while let Some(msg) = out.recv().await {
            zstd.write(&mut send, &msg).await?;
        }
        let _ = send.finish();
        Ok(())
    };
    tokio::select! {
        biased;
        () = stopped(&mut stop) => Ok(()),
        r = write => r,
    }
}

/// Streams our change log to the peer from where it subscribed, then live, but for the
/// entries the peer is known to hold (`holds`: it sent us those documents).
///
/// A batch that reaches the log's end goes only once the peer acknowledged the last one
/// that did: while the peer does not answer (a partition), writes gather in the log, which
/// keeps one entry per document, instead of queuing a frame per write that QUIC would
/// resend stale after the heal, each asking for the same documents again. Full batches of
/// a catch-up are not held back.
async fn feed(
    shared: Arc<Shared>,
    out: mpsc::Sender<Msg>,
    mut sent: u64,
    mut acked: watch::Receiver<u64>,
    holds: Arc<PeerHolds>,
    mut stop: watch::Receiver<()>,
) -> Result<()> {
    let mut last_seq = shared.last_seq.subscribe();
    // The end of the last batch that reached the log's end.
    let mut tail_sent = 0;
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => return Ok(()),
            a = acked.wait_for(|a| sent.saturating_sub(*a) <= WINDOW && *a >= tail_sent) => {
                drop(a.map_err(|_| closed())?);
            }
        }
        let store = shared.store.clone();
        let from = sent;
        let read = holds.begin_read();
        let log = blocking(move || store.log_since(from, BATCH)).await?;
        let Some(upto) = log.last().map(|e| e.seq) else {
            tokio::select! {
                biased;
                () = stopped(&mut stop) => return Ok(()),
                s = last_seq.wait_for(|&s| s > sent) => drop(s.map_err(|_| closed())?),
            }
            continue;
        };
        sent = upto;
        let at_end = log.len() < BATCH;
        let entries = log
            .into_iter()
            .filter(|e| {
                let heads: Vec<_> = e.heads.iter().map(|h| h.0).collect();
                !holds.take_if_held(&e.collection, &e.id, &heads)
            })
            .map(|e| Entry { collection: e.collection, id: e.id })
            .collect();
        if at_end {
            tail_sent = upto;
            holds.read_to_end(read);
        }
        out.send(Msg::Entries { upto, entries }).await.map_err(|_| closed())?;
    }
}

/// Tells the peer where our log ends whenever that moves, at most once per [`HEAD_EVERY`],
/// answers its head queries from the store at once, and sends the head queries of our waits
/// (`asked`). The pace is what coalesces a burst of commits: the connection always has room
/// (QUIC buffers what it cannot send), so during a partition every move was a frame, each
/// resent once the link healed.
async fn heads(
    shared: Arc<Shared>,
    out: mpsc::Sender<Msg>,
    mut queried: watch::Receiver<u64>,
    mut asked: watch::Receiver<u64>,
    mut stop: watch::Receiver<()>,
) -> Result<()> {
    let mut last_seq = shared.last_seq.subscribe();
    let mut answers = 0;
    let seq = *last_seq.borrow_and_update();
    out.send(Msg::Head { seq, answers }).await.map_err(|_| closed())?;
    let mut next_head = tokio::time::Instant::now() + HEAD_EVERY;
    // A wait may have asked before this task ran.
    asked.mark_changed();
    loop {
        // Queries first: they are rare, and a busy log must not hold up a wait's answer.
        let msg = tokio::select! {
            biased;
            () = stopped(&mut stop) => return Ok(()),
            a = asked.changed() => {
                a.map_err(|_| closed())?;
                let query = *asked.borrow_and_update();
                if query == 0 {
                    continue;
                }
                Msg::HeadQuery { query }
            }
            q = queried.changed() => {
                // The reader ended: so does the session.
                if q.is_err() {
                    return Ok(());
                }
                answers = *queried.borrow_and_update();
                // The store, not the tracker (which may trail a commit by a moment): the
                // answer covers every write that returned before the query arrived.
                let store = shared.store.clone();
                let seq = blocking(move || store.last_seq()).await?;
                Msg::Head { seq, answers }
            }
            s = async {
                tokio::time::sleep_until(next_head).await;
                last_seq.changed().await
            } => {
                s.map_err(|_| closed())?;
                next_head = tokio::time::Instant::now() + HEAD_EVERY;
                Msg::Head { seq: *last_seq.borrow_and_update(), answers }
            }
        };
        out.send(msg).await.map_err(|_| closed())?;
    }
}

/// Answers `Want`s: for each document, the changes the peer misses. The peer then holds
/// each at our heads, which `holds` records for the feed.
async fn serve(
    shared: Arc<Shared>,
    out: mpsc::Sender<Msg>,
    mut wants: mpsc::UnboundedReceiver<(u64, Vec<Want>)>,
    queued: Arc<Queued>,
    counters: Arc<Counters>,
    holds: Arc<PeerHolds>,
    mut stop: watch::Receiver<()>,
) -> Result<()> {
    loop {
        let (req, items) = tokio::select! {
            biased;
            () = stopped(&mut stop) => return Ok(()),
            want = wants.recv() => match want {
                Some(want) => want,
                None => return Ok(()),
            },
        };
        let store = shared.store.clone();
        let asked = items.len() as u64;
        let (docs, held) = blocking(move || answer(&store, items)).await?;
        for (collection, id, heads) in held {
            holds.served(&collection, &id, &heads);
        }
        Counters::add(&counters.docs_sent, docs.len() as u64);
        let mut frame = Vec::new();
        let mut size = 0;
        for doc in docs {
            if doc.bytes.len() > CHANGES_BUDGET {
                tracing::warn!(
                    "document {}/{} is too large to sync ({} bytes)",
                    doc.collection,
                    doc.id,
                    doc.bytes.len()
                );
                continue;
            }
            if size + doc.bytes.len() > CHANGES_BUDGET {
                let docs = std::mem::take(&mut frame);
                out.send(Msg::Changes { req, last: false, docs }).await.map_err(|_| closed())?;
                size = 0;
            }
            size += doc.bytes.len() + doc.collection.len() + doc.id.len();
            Counters::add(&counters.change_bytes_sent, doc.bytes.len() as u64);
            frame.push(doc);
        }
        out.send(Msg::Changes { req, last: true, docs: frame }).await.map_err(|_| closed())?;
        queued.wanted.fetch_sub(asked, Ordering::Relaxed);
    }
}

/// Documents and the heads a peer holds of them.
type Held = Vec<(String, String, Vec<Hash>)>;

/// The answers to one `Want`: for each document we hold, what the peer misses of it, and
/// the heads the peer then holds. The documents are read in one transaction; the Automerge
/// work runs on every core.
fn answer(store: &crate::backend::automerge::Store, items: Vec<Want>) -> Result<(Vec<DocChanges>, Held)> {
    let stored = store.heads_and_raw(items.iter().map(|w| (w.collection.as_str(), w.id.as_str())))?;
    let asked: Vec<(&Want, Option<_>)> = items.iter().zip(stored).collect();
    let answers = cores::map(&asked, |(want, stored)| match stored {
        Some((heads, raw)) => Ok(missing_changes(heads, raw, &want.have)?.map(|b| chunks::strip(&b))),
        None => Ok(None),
    });
    let mut docs = Vec::with_capacity(items.len());
    for (want, answer) in items.iter().zip(answers) {
        if let Some(bytes) = answer? {
            let (collection, id) = (want.collection.clone(), want.id.clone());
            docs.push(DocChanges { collection, id, bytes });
        }
    }
    let held = asked
        .iter()
        .filter_map(|(want, stored)| {
            let heads = stored.as_ref()?.0.iter().map(|h| h.0).collect();
            Some((want.collection.clone(), want.id.clone(), heads))
        })
        .collect();
    Ok((docs, held))
}

/// The changes of a document (its `heads` and stored bytes) that a holder of `have`
/// misses: nothing when it holds all our heads, the whole document when it shares none of
/// our changes, else every change not reachable from the heads we know.
fn missing_changes(heads: &[ChangeHash], raw: &[u8], have: &[Hash]) -> Result<Option<Vec<u8>>> {
    if heads.iter().all(|h| have.contains(&h.0)) {
        return Ok(None);
    }
    if have.is_empty() {
        return whole(raw).map(Some);
    }
    let mut doc = AutoCommit::load(raw).map_err(|e| Error::context("corrupt document", e))?;
    let known: Vec<ChangeHash> =
        have.iter().map(|h| ChangeHash(*h)).filter(|h| doc.get_change_by_hash(h).is_some()).collect();
    if known.is_empty() {
        return whole(raw).map(Some);
    }
    let bytes = doc.save_after(&known);
    Ok((!bytes.is_empty()).then_some(bytes))
}

/// A whole document for a peer that has none of it, in its smallest form: a document of one
/// change as that change (no heads hash, and it loads as a document all the same), else its
/// stored bytes.
fn whole(raw: &[u8]) -> Result<Vec<u8>> {
    if chunks::is_one_change(raw) {
        return Ok(raw.to_vec());
    }
    // Our own stored bytes, checked when they were stored: not hashed again.
    let options = automerge::LoadOptions::new().verification_mode(automerge::VerificationMode::DontCheck);
    let doc = automerge::Automerge::load_with_options(raw, options)
        .map_err(|e| Error::context("corrupt document", e))?;
    match doc.get_changes(&[]).as_slice() {
        [one] => Ok(one.raw_bytes().to_vec()),
        _ => Ok(raw.to_vec()),
    }
}

/// One `Entries` frame being pulled: done when its `Want`s are answered and merged.
struct Batch {
    upto: u64,
    outstanding: usize,
    /// Its entries already merged or found held here.
    handled: u64,
}

/// Pulls the peer's feed into the local store and acknowledges what it holds.
struct Puller {
    shared: Arc<Shared>,
    peer: String,
    peer_id: EndpointId,
    /// The store the peer runs: our cursor is a position in its log.
    peer_store: [u8; 16],
    out: mpsc::Sender<Msg>,
    cursor: u64,
    persisted: u64,
    last_persist: Instant,
    batches: VecDeque<Batch>,
    /// The batch number of `batches[0]`.
    first_batch: u64,
    /// Request -> batch number and the documents it asks for.
    reqs: HashMap<u64, (u64, u64)>,
    next_req: u64,
    counters: Arc<Counters>,
    /// Where the merged cursor is published, for waits and `peers`.
    progress: Arc<Progress>,
    summary: Summary,
    /// Where documents the peer holds whole once merged are recorded, for the feed.
    holds: Arc<PeerHolds>,
}

/// How often a live session logs what it exchanged; the first catch-up logs at once.
const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// The log's sync summaries of one session: documents and bytes each way since the last line.
struct Summary {
    /// When the last line was logged; `None` until the first catch-up round completes.
    logged: Option<Instant>,
    /// The peer's counters when the last line was logged.
    mark: [u64; 4],
}

impl Summary {
    fn new(counters: &Counters) -> Self {
        Self { logged: None, mark: Self::read(counters) }
    }

    fn read(c: &Counters) -> [u64; 4] {
        [&c.docs_received, &c.change_bytes_received, &c.docs_sent, &c.change_bytes_sent]
            .map(|n| n.load(Ordering::Relaxed))
    }

    /// A round completed: the first is the catch-up, logged at once; later ones at most once
    /// per [`SUMMARY_EVERY`].
    fn in_sync(&mut self, peer: &str, counters: &Counters) {
        match self.logged {
            None => self.log(peer, counters, "caught up"),
            Some(at) if at.elapsed() >= SUMMARY_EVERY => self.log(peer, counters, "in sync"),
            Some(_) => {}
        }
    }

    /// The session ended: what it exchanged since the last line, if anything.
    fn ended(&mut self, peer: &str, counters: &Counters) {
        if Self::read(counters) != self.mark {
            self.log(peer, counters, "session ended");
        }
    }

    fn log(&mut self, peer: &str, counters: &Counters, what: &str) {
        let now = Self::read(counters);
        let [docs_in, bytes_in, docs_out, bytes_out] =
            [0, 1, 2, 3].map(|i| now[i].saturating_sub(self.mark[i]));
        tracing::info!(
            "peer {peer}: {what}: received {docs_in} documents ({bytes_in} bytes), sent {docs_out} \
documents ({bytes_out} bytes)"
        );
        self.mark = now;
        self.logged = Some(Instant::now());
    }
}

impl Puller {
    /// Pulls until the reader or the session stops, then persists the cursor.
    async fn run(
        mut self,
        mut input: mpsc::UnboundedReceiver<(PullIn, usize)>,
        queued: Arc<Queued>,
        mut stop: watch::Receiver<()>,
    ) -> Result<()> {
        let result = async {
            let mut next = None;
            loop {
                let msg = match next.take() {
                    Some(msg) => msg,
                    None => tokio::select! {
                        biased;
                        () = stopped(&mut stop) => break,
                        msg = input.recv() => match msg {
                            Some((msg, size)) => {
                                queued.pull.fetch_sub(size, Ordering::Relaxed);
                                msg
                            }
                            None => break,
                        },
                        () = tokio::time::sleep_until((self.last_persist + PERSIST_EVERY).into()),
                            if self.cursor != self.persisted =>
                        {
                            self.persist().await?;
                            continue;
                        }
                    },
                };
                match msg {
                    PullIn::Entries { upto, entries } => self.entries(upto, entries).await?,
                    PullIn::Changes { req, last, docs } => {
                        let mut frames = vec![Answer { req, last, docs }];
                        next = more_answers(&mut input, &queued, &mut frames);
                        self.changes(frames).await?;
                    }
                }
                self.advance().await?;
            }
            Ok(())
        }
        .await;
        // Whatever happened, keep what was merged from being pulled again.
        let _ = self.persist().await;
        self.summary.ended(&self.peer, &self.counters);
        result
    }

    async fn entries(&mut self, upto: u64, entries: Vec<Entry>) -> Result<()> {
        if upto <= self.batches.back().map_or(self.cursor, |b| b.upto) {
            return Err(Error::invalid("the peer's change log went backwards"));
        }
        let store = self.shared.store.clone();
        let wants = blocking(move || wanted(&store, entries)).await?;
        let batch = self.first_batch + self.batches.len() as u64;
        let chunks: Vec<Vec<Want>> = wants.chunks(WANT_CHUNK).map(<[Want]>::to_vec).collect();
        self.batches.push_back(Batch { upto, outstanding: chunks.len(), handled: 0 });
        for items in chunks {
            let req = self.next_req;
            self.next_req += 1;
            self.reqs.insert(req, (batch, items.len() as u64));
            self.out.send(Msg::Want { req, items }).await.map_err(|_| closed())?;
        }
        Ok(())
    }

    /// Merges the documents of answers to our requests, in one write.
    async fn changes(&mut self, answers: Vec<Answer>) -> Result<()> {
        let mut docs = Vec::new();
        let mut done = Vec::new();
        for Answer { req, last, docs: answered } in answers {
            let Some(&(batch, asked)) = self.reqs.get(&req) else {
                return Err(Error::invalid(format!("the peer answered request {req}, which was never made")));
            };
            docs.extend(answered);
            if last {
                done.push((req, batch, asked));
            }
        }
        if !docs.is_empty() {
            let bytes: u64 = docs.iter().map(|d| d.bytes.len() as u64).sum();
            Counters::add(&self.counters.change_bytes_received, bytes);
            let (merged, refused) =
                merge_from_peer(self.shared.store.clone(), self.peer.clone(), docs, Some(self.holds.clone()))
                    .await?;
            for why in refused {
                tracing::warn!("peer {}: refused a document it sent: {why}", self.peer);
                self.counters.refuse(format!("refused a document it sent: {why}"));
            }
            Counters::add(&self.counters.docs_received, merged.len() as u64);
            if self.shared.sync_events.receiver_count() > 0 {
                for (collection, id) in merged {
                    let _ = self.shared.sync_events.send(SyncEvent::Received {
                        peer: self.peer.clone(),
                        collection,
                        id,
                    });
                }
            }
        }
        for (req, batch, asked) in done {
            self.reqs.remove(&req);
            let i = (batch - self.first_batch) as usize;
            if let Some(b) = self.batches.get_mut(i) {
                b.outstanding = b.outstanding.saturating_sub(1);
                b.handled += asked;
                self.progress.ahead.send_modify(|a| *a += asked);
            }
        }
        Ok(())
    }

    /// Moves the cursor over completed batches, acknowledges it, persists it now and then.
    async fn advance(&mut self) -> Result<()> {
        let before = self.cursor;
        let mut passed = 0;
        while self.batches.front().is_some_and(|b| b.outstanding == 0) {
            let b = self.batches.pop_front().expect("front");
            self.first_batch += 1;
            self.cursor = b.upto;
            passed += b.handled;
        }
        if self.cursor == before {
            return Ok(());
        }
        Progress::raise(&self.progress.merged, self.cursor);
        self.progress.ahead.send_modify(|a| *a = a.saturating_sub(passed));
        self.out.send(Msg::Ack { seq: self.cursor }).await.map_err(|_| closed())?;
        // Persisted at most every PERSIST_EVERY (a commit waits for the disk), and once the
        // pull pauses (the loop in `run`): a crash re-pulls at most what merged since.
        if self.last_persist.elapsed() > PERSIST_EVERY {
            self.persist().await?;
        }
        let idle = self.batches.is_empty();
        if idle {
            self.summary.in_sync(&self.peer, &self.counters);
            self.counters.last_sync_ms.store(now_ms(), Ordering::Relaxed);
            let _ = self.shared.sync_events.send(SyncEvent::Synced { peer: self.peer.clone() });
        }
        Ok(())
    }

    async fn persist(&mut self) -> Result<()> {
        if self.cursor != self.persisted {
            let (store, peer) = (self.shared.store.clone(), self.peer_id);
            let cursor = Cursor { store: self.peer_store, seq: self.cursor };
            blocking(move || cursor.save(&store, &peer)).await?;
            self.persisted = cursor.seq;
        }
        self.last_persist = Instant::now();
        Ok(())
    }
}

/// One `Changes` frame: documents answering request `req`, the last of them when `last`.
struct Answer {
    req: u64,
    last: bool,
    docs: Vec<DocChanges>,
}

/// Takes the answers already waiting behind `frames` into it, up to [`MERGE_MAX`] documents
/// in all, so that they merge in one write: a write commits to disk, and an initial sync
/// otherwise waited on a commit per 500 documents. Returns the first other message taken.
fn more_answers(
    input: &mut mpsc::UnboundedReceiver<(PullIn, usize)>,
    queued: &Queued,
    frames: &mut Vec<Answer>,
) -> Option<PullIn> {
    let mut docs: usize = frames.iter().map(|f| f.docs.len()).sum();
    while docs < MERGE_MAX {
        let Ok((msg, size)) = input.try_recv() else { return None };
        queued.pull.fetch_sub(size, Ordering::Relaxed);
        match msg {
            PullIn::Changes { req, last, docs: more } => {
                docs += more.len();
                frames.push(Answer { req, last, docs: more });
            }
            other => return Some(other),
        }
    }
    None
}

/// The entries as `Want`s, each with the heads we hold of its document.
fn wanted(store: &crate::backend::automerge::Store, entries: Vec<Entry>) -> Result<Vec<Want>> {
    let local = store.heads_of(entries.iter().map(|e| (e.collection.as_str(), e.id.as_str())))?;
    Ok(entries
        .into_iter()
        .zip(local)
        .map(|(entry, ours)| Want {
            collection: entry.collection,
            id: entry.id,
            have: ours.unwrap_or_default().into_iter().map(|h| h.0).collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `read_frames` makes of `frames` from a peer, its tasks taking nothing.
    async fn read_all(frames: &[Msg]) -> Result<()> {
        let mut zstd = Compressor::new().unwrap();
        let bytes: Vec<u8> = frames.iter().flat_map(|m| zstd.frame(m).unwrap()).collect();
        let (pull, _pull_rx) = mpsc::unbounded_channel();
        let (want, _want_rx) = mpsc::unbounded_channel();
        let to = Readers { pull, want, queried: watch::channel(0).0, queued: Arc::new(Queued::default()) };
        read_frames(Decompressor::new(&bytes[..]).unwrap(), to, &Progress::default()).await
    }

    fn entries(upto: u64) -> Msg {
        let entry = Entry { collection: "c".into(), id: format!("d{upto}") };
        Msg::Entries { upto, entries: vec![entry] }
    }

    #[tokio::test]
    async fn a_peer_that_ignores_the_window_is_disconnected_at_a_hard_cap() {
        // Within the window (nothing acknowledged yet): read to the end.
        let within: Vec<Msg> = (1..=WINDOW / 1000).map(|i| entries(i * 1000)).collect();
        assert!(read_all(&within).await.is_ok());
        // Running on past it: refused, with the reason.
        let past: Vec<Msg> = (1..=WINDOW / 1000 + 2).map(|i| entries(i * 1000)).collect();
        let err = read_all(&past).await.unwrap_err();
        assert!(err.message.contains("ignored flow control"), "{err}");
        // Asking for far more documents than it could have been offered: refused.
        let items: Vec<Want> = (0..WANT_CHUNK)
            .map(|i| Want { collection: "c".into(), id: format!("d{i}"), have: vec![] })
            .collect();
        let flood: Vec<Msg> = (0..MAX_WANTED / WANT_CHUNK as u64 + 1)
            .map(|req| Msg::Want { req, items: items.clone() })
            .collect();
        let err = read_all(&flood).await.unwrap_err();
        assert!(err.message.contains("documents asked for at once"), "{err}");
    }
}
