//! Turning a backend's stream of committed changes into a filtered [`ChangeStream`] of
//! `added`, `updated`, `removed` and `left` events. An observer keeps the ids of the documents
//! that match its filter (bounded by the collection), since only it can tell whether a changed
//! document matched before.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::broadcast;

use crate::sync::{ChangeEvent, ChangeKind, ChangeStream, Document, Query, clock};

/// A change committed to a backend: the document as it now is, its place in the backend's
/// change log, when it was committed and where it came from ([`crate::sync::ORIGIN_LOCAL`]
/// or a peer's id).
#[derive(Debug, Clone)]
pub struct Committed {
    pub seq: u64,
    pub document: Document,
    pub origin: String,
    pub time: SystemTime,
}

/// What an observer starts from, read by the backend in one consistent view of its log.
#[derive(Debug)]
pub enum Opening {
    /// The current matches at log position `seq`, as the backend reads them (streamed, so a
    /// large collection is never held whole); reported as initial `added` events when
    /// `report` is set.
    Snapshot { seq: u64, matches: Initial, report: bool },
    /// The documents of the collection changed after an earlier position, each at its latest
    /// log position (up to `seq`), for an observer to which `matching` matched then.
    Replay { seq: u64, changed: Vec<(u64, Document)>, matching: Vec<String> },
}

/// The documents of a snapshot, sent as they are read; a failed read ends with its error.
pub type Initial = tokio::sync::mpsc::Receiver<crate::sync::Result<Document>>;

/// Documents of a snapshot buffered between the backend's reader and the observer: the
/// reader waits while the observer's reader is behind.
pub const INITIAL_BUFFER: usize = 256;

/// Events queued per observer for its reader. A reader that falls further behind is not
/// waited for (that would hold every later change in memory): the events it cannot take are
/// dropped and counted, and it gets one `lagged` event with the count once it catches up.
const OBSERVER_BUFFER: usize = 1024;

/// Streams the opening, then every change committed to `collection` after it that concerns
/// `filter`. `changes` must be subscribed before the opening was read, so that no change
/// falls between the two (changes the opening already holds are skipped by position).
pub fn spawn_observer(
    mut changes: broadcast::Receiver<Arc<Committed>>,
    opening: Opening,
    collection: String,
    filter: Query,
) -> ChangeStream {
    let (tx, stream) = ChangeStream::channel(OBSERVER_BUFFER);
    tokio::spawn(async move {
        let (mut tracker, seen) = match opening {
            Opening::Snapshot { seq, mut matches, report } => {
                let mut tracker = Tracker::new(filter);
                let now = clock::now();
                // Handed over as read, at the reader's pace; later changes wait in `changes`.
                while let Some(doc) = matches.recv().await {
                    let doc = match doc {
                        Ok(doc) => doc,
                        Err(e) => {
                            tracing::warn!("reading the documents of '{collection}' for an observer: {e}");
                            return;
                        }
                    };
                    tracker.matching.insert(doc.id.clone());
                    let initial =
                        ChangeEvent { initial: true, ..event(ChangeKind::Added, &doc, seq, now.clone()) };
                    if report && tx.send(initial).await.is_err() {
                        return;
                    }
                }
                (tracker, seq)
            }
            Opening::Replay { seq, changed, matching } => {
                let (tracker, first) = Tracker::replay(filter, changed, matching);
                for event in first {
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
                (tracker, seq)
            }
        };
        let mut queue = Queue { tx, missed: 0, seq: seen, collection: collection.clone() };
        loop {
            let change = tokio::select! {
                change = changes.recv() => change,
                permit = queue.tx.reserve(), if queue.missed > 0 => match permit {
                    Ok(permit) => {
                        let missed = std::mem::take(&mut queue.missed);
                        permit.send(lagged(&queue.collection, queue.seq, missed));
                        continue;
                    }
                    Err(_) => return,
                },
                () = queue.tx.closed() => return,
            };
            let change = match change {
                Ok(change) => change,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // Changes this observer never saw may or may not have concerned it:
                    // the reader is told they might have.
                    tracing::warn!("observer of '{collection}' fell behind and missed {n} changes");
                    queue.missed += n;
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    // The last word to a reader that missed events: how many.
                    if queue.missed > 0 {
                        let _ = queue.tx.send(lagged(&queue.collection, queue.seq, queue.missed)).await;
                    }
                    return;
                }
            };
            if change.seq <= seen || change.document.collection != collection {
                continue;
            }
            let Some(kind) = tracker.classify(&change.document) else { continue };
            let event = event(kind, &change.document, change.seq, clock::rfc3339(change.time));
            if !queue.push(ChangeEvent { origin: Some(change.origin.clone()), ..event }) {
                return;
            }
        }
    });
    stream
}

/// The bounded queue of one observer's events, and what it had to drop.
struct Queue {
    tx: tokio::sync::mpsc::Sender<ChangeEvent>,
    /// Events dropped since the reader last had room; reported before any later event.
    missed: u64,
    /// The log position of the last event queued or dropped.
    seq: u64,
    collection: String,
}

impl Queue {
    /// Queues `event`, or counts it as missed when the reader has no room (or missed some
    /// before it: order is kept). False once the reader has gone.
    fn push(&mut self, event: ChangeEvent) -> bool {
        self.seq = self.seq.max(event.seq);
        if self.missed > 0 {
            self.missed += 1;
            return true;
        }
        match self.tx.try_send(event) {
            Ok(()) => true,
            Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                self.missed = 1;
                true
            }
            Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// The `lagged` event telling a reader of `collection` that `missed` events were dropped,
/// up to log position `seq`.
fn lagged(collection: &str, seq: u64, missed: u64) -> ChangeEvent {
    // Debug only: a client that reads slowly must not fill the node's log.
    tracing::debug!("a reader of '{collection}' fell behind: {missed} events dropped");
    ChangeEvent {
        event: ChangeKind::Lagged,
        time: clock::now(),
        origin: None,
        collection: collection.to_string(),
        id: String::new(),
        seq,
        initial: false,
        document: serde_json::Value::Null,
        missed,
    }
}

/// Which documents match the filter now, and so what a change to one of them means.
struct Tracker {
    filter: Query,
    matching: HashSet<String>,
}

impl Tracker {
    /// A tracker to which nothing matches yet.
    fn new(filter: Query) -> Self {
        Self { filter, matching: HashSet::new() }
    }

    /// The tracker after replaying `changed` against what `matching` held, and the events.
    fn replay(
        filter: Query,
        changed: Vec<(u64, Document)>,
        matching: Vec<String>,
    ) -> (Self, Vec<ChangeEvent>) {
        let now = clock::now();
        let mut tracker = Self { filter, matching: matching.into_iter().collect() };
        let events = changed
            .iter()
            .filter_map(|(at, d)| tracker.classify(d).map(|kind| event(kind, d, *at, now.clone())))
            .collect();
        (tracker, events)
    }

    /// What a change to `doc` means to this observer (`None`: nothing, it neither matches
    /// nor did), remembering whether it matches now.
    fn classify(&mut self, doc: &Document) -> Option<ChangeKind> {
        let was = self.matching.contains(&doc.id);
        let is = !doc.deleted && self.filter.matches(&doc.to_json());
        let kind = match (was, is) {
            (false, false) => return None,
            (false, true) => ChangeKind::Added,
            (true, true) => ChangeKind::Updated,
            (true, false) if doc.deleted => ChangeKind::Removed,
            (true, false) => ChangeKind::Left,
        };
        if is {
            self.matching.insert(doc.id.clone());
        } else {
            self.matching.remove(&doc.id);
        }
        Some(kind)
    }
}

/// An event for `document` at log position `seq`, its origin not known.
fn event(kind: ChangeKind, document: &Document, seq: u64, time: String) -> ChangeEvent {
    ChangeEvent {
        event: kind,
        time,
        origin: None,
        collection: document.collection.clone(),
        id: document.id.clone(),
        seq,
        initial: false,
        document: document.to_json(),
        missed: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(id: &str, speed: i64, deleted: bool) -> Document {
        let fields = json!({ "speed": speed }).as_object().cloned().unwrap_or_default();
        Document { collection: "c".into(), id: id.into(), fields, deleted, conflicts: Vec::new() }
    }

    #[test]
    fn a_document_is_added_updated_left_readded_and_removed() {
        let mut t = Tracker::new(Query::parse("speed > 150").unwrap());
        let kinds: Vec<_> = [
            doc("a", 200, false),
            doc("a", 210, false),
            doc("a", 1, false),
            doc("a", 2, false),
            doc("a", 300, false),
            doc("a", 300, true),
            doc("a", 300, true),
        ]
        .iter()
        .map(|d| t.classify(d))
        .collect();
        use ChangeKind::*;
        assert_eq!(kinds, [Some(Added), Some(Updated), Some(Left), None, Some(Added), Some(Removed), None]);
    }

    /// Defect 5: a reader that reads nothing costs a bounded queue, not the backend's whole
    /// buffer of changes, and is told how many events it missed.
    #[tokio::test]
    async fn a_reader_that_falls_behind_gets_a_bounded_queue_and_a_lagged_count() {
        let (changes, rx) = broadcast::channel(65_536);
        let opening = Opening::Snapshot { seq: 0, matches: tokio::sync::mpsc::channel(1).1, report: true };
        let mut stream = spawn_observer(rx, opening, "c".into(), Query::All);
        let total = 5 * OBSERVER_BUFFER as u64;
        for seq in 1..=total {
            let document = doc(&format!("d{seq}"), 1, false);
            let time = SystemTime::now();
            changes.send(Arc::new(Committed { seq, document, origin: "local".into(), time })).unwrap();
        }
        // The observer drains the backend's buffer without waiting for the reader: nothing
        // stays held there for it.
        let drained = async {
            while !changes.is_empty() {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), drained)
            .await
            .expect("the observer drains the backend's buffer while its reader reads nothing");
        drop(changes);
        let (mut added, mut missed, mut lagged_at) = (0, 0, 0);
        while let Some(event) = stream.next().await {
            match event.event {
                ChangeKind::Added => added += 1,
                ChangeKind::Lagged => (missed, lagged_at) = (missed + event.missed, event.seq),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(added, OBSERVER_BUFFER as u64, "the reader gets what the queue held");
        assert_eq!(added + missed, total, "and is told of every event it missed");
        assert_eq!(lagged_at, total, "up to the last position");
    }

    #[test]
    fn a_replay_classifies_against_what_matched_before() {
        let changed =
            vec![(7, doc("was", 1, false)), (8, doc("new", 200, false)), (9, doc("still", 200, false))];
        let matching = vec!["was".into(), "still".into()];
        let (_, events) = Tracker::replay(Query::parse("speed > 150").unwrap(), changed, matching);
        let got: Vec<_> = events.iter().map(|e| (e.event, e.id.as_str(), e.seq)).collect();
        use ChangeKind::*;
        assert_eq!(got, [(Left, "was", 7), (Added, "new", 8), (Updated, "still", 9)]);
    }
}
