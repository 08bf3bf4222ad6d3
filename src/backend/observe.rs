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
    /// The current matches at log position `seq`; reported as initial `added` events when
    /// `report` is set.
    Snapshot { seq: u64, matches: Vec<Document>, report: bool },
    /// The documents of the collection changed after an earlier position, each at its latest
    /// log position (up to `seq`), for an observer to which `matching` matched then.
    Replay { seq: u64, changed: Vec<(u64, Document)>, matching: Vec<String> },
}

/// Events buffered per observer between the backend and a slow reader.
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
        let (mut tracker, first, seen) = Tracker::open(opening, filter);
        for event in first {
            if tx.send(event).await.is_err() {
                return;
            }
        }
        loop {
            let change = match changes.recv().await {
                Ok(change) => change,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("observer of '{collection}' fell behind and missed {n} changes");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if change.seq <= seen || change.document.collection != collection {
                continue;
            }
            let Some(kind) = tracker.classify(&change.document) else { continue };
            let event = event(kind, &change.document, change.seq, clock::rfc3339(change.time));
            let event = ChangeEvent { origin: Some(change.origin.clone()), ..event };
            if tx.send(event).await.is_err() {
                return;
            }
        }
    });
    stream
}

/// Which documents match the filter now, and so what a change to one of them means.
struct Tracker {
    filter: Query,
    matching: HashSet<String>,
}

impl Tracker {
    /// The tracker after `opening`, the events the opening reports, and its log position.
    fn open(opening: Opening, filter: Query) -> (Self, Vec<ChangeEvent>, u64) {
        let now = clock::now();
        match opening {
            Opening::Snapshot { seq, matches, report } => {
                let matching = matches.iter().map(|d| d.id.clone()).collect();
                let events = if report {
                    let initial = |d: &Document| ChangeEvent {
                        initial: true,
                        ..event(ChangeKind::Added, d, seq, now.clone())
                    };
                    matches.iter().map(initial).collect()
                } else {
                    Vec::new()
                };
                (Self { filter, matching }, events, seq)
            }
            Opening::Replay { seq, changed, matching } => {
                let mut tracker = Self { filter, matching: matching.into_iter().collect() };
                let events = changed
                    .iter()
                    .filter_map(|(at, d)| tracker.classify(d).map(|kind| event(kind, d, *at, now.clone())))
                    .collect();
                (tracker, events, seq)
            }
        }
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
        let opening = Opening::Snapshot { seq: 0, matches: vec![], report: true };
        let (mut t, events, _) = Tracker::open(opening, Query::parse("speed > 150").unwrap());
        assert!(events.is_empty());
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

    #[test]
    fn a_replay_classifies_against_what_matched_before() {
        let opening = Opening::Replay {
            seq: 9,
            changed: vec![
                (7, doc("was", 1, false)),
                (8, doc("new", 200, false)),
                (9, doc("still", 200, false)),
            ],
            matching: vec!["was".into(), "still".into()],
        };
        let (_, events, seq) = Tracker::open(opening, Query::parse("speed > 150").unwrap());
        let got: Vec<_> = events.iter().map(|e| (e.event, e.id.as_str(), e.seq)).collect();
        use ChangeKind::*;
        assert_eq!(got, [(Left, "was", 7), (Added, "new", 8), (Updated, "still", 9)]);
        assert_eq!(seq, 9);
    }
}
