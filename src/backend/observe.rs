//! Turning a backend's stream of committed changes into a filtered [`ChangeStream`].

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::sync::{ChangeEvent, ChangeKind, ChangeStream, Document, Query};

/// A change committed to a backend: the document as it now is, and its place in the
/// backend's change log.
#[derive(Debug, Clone)]
pub struct Committed {
    pub seq: u64,
    pub document: Document,
}

/// Events buffered per observer between the backend and a slow reader.
const OBSERVER_BUFFER: usize = 1024;

/// Streams `initial` as `Initial` events, then every committed change to `collection` that
/// matches `filter`. `changes` must be subscribed before `initial` was read, so that no change
/// falls between the two.
pub fn spawn_observer(
    mut changes: broadcast::Receiver<Arc<Committed>>,
    initial: Vec<Document>,
    collection: String,
    filter: Query,
) -> ChangeStream {
    let (tx, stream) = ChangeStream::channel(OBSERVER_BUFFER);
    tokio::spawn(async move {
        for document in initial {
            if tx.send(event(ChangeKind::Initial, &document)).await.is_err() {
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
            let document = &change.document;
            if document.collection != collection || !filter.matches(&document.to_json()) {
                continue;
            }
            let kind = if document.deleted { ChangeKind::Removed } else { ChangeKind::Updated };
            if tx.send(event(kind, document)).await.is_err() {
                return;
            }
        }
    });
    stream
}

fn event(kind: ChangeKind, document: &Document) -> ChangeEvent {
    ChangeEvent {
        event: kind,
        collection: document.collection.clone(),
        id: document.id.clone(),
        document: document.to_json(),
    }
}
