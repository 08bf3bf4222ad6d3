//! An in-memory backend for tests of logic. Documents are real Automerge documents (the
//! same conversion as on disk), kept in a map; "peers" are other in-memory backends linked
//! in the same process, which receive every write at once while sync runs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use automerge::AutoCommit;
use automerge::transaction::CommitOptions;
use tokio::sync::broadcast;

use super::automerge::{convert, history};
use super::{Committed, Opening, Selector, spawn_observer};
use crate::sync::{
    BackendConfig, ChangeStream, CollectionInfo, Conflict, DataSyncBackend, DocInput, Document,
    DocumentStore, Error, HistoryEntry, ORIGIN_LOCAL, PeerDiscovery, PeerEventStream, PeerInfo, Query,
    QueryEvent, QueryRequest, QueryStream, Result, Start, SyncDirection, SyncEngine, SyncEventStream,
    SyncStatus,
};

type Key = (String, String);
/// A held document's fields and removal state. Each was read once, and checked, when it
/// was written, so reading it again cannot fail.
fn read(doc: &AutoCommit) -> (serde_json::Map<String, serde_json::Value>, bool) {
    convert::read(doc).expect("documents are checked when written")
}

/// A change to one document.
type Edit<'a> = Box<dyn FnOnce(&mut AutoCommit) -> Result<()> + 'a>;

/// An in-memory backend. Cheap to create; `link` two to let them sync.
pub struct MemoryBackend {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    state: Mutex<State>,
    events: broadcast::Sender<Arc<Committed>>,
}

#[derive(Default)]
struct State {
    docs: BTreeMap<Key, AutoCommit>,
    /// Each document's latest change-log position.
    doc_seq: BTreeMap<Key, u64>,
    seq: u64,
    syncing: bool,
    peers: Vec<Weak<Inner>>,
}

impl MemoryBackend {
    /// A new empty backend; `name` is its peer id as others see it.
    pub fn new(name: &str) -> Self {
        let (events, _) = broadcast::channel(4096);
        Self { inner: Arc::new(Inner { name: name.into(), state: Mutex::default(), events }) }
    }

    /// Makes two backends peers of each other.
    pub fn link(&self, other: &MemoryBackend) {
        self.inner.lock().peers.push(Arc::downgrade(&other.inner));
        other.inner.lock().peers.push(Arc::downgrade(&self.inner));
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes documents, all or none: when one edit fails, nothing changes (like a store
    /// transaction). Publishes each document whose heads moved and returns those.
    fn edit_all(&self, origin: &str, edits: Vec<(Key, Edit<'_>)>) -> Result<Vec<(Key, AutoCommit)>> {
        let mut state = self.lock();
        let mut staged: Vec<(Key, AutoCommit)> = Vec::new();
        for (key, edit) in edits {
            // A batch may name a document twice: the later edit builds on the earlier one.
            let existing = staged.iter().rev().find(|(k, _)| *k == key).map(|(_, d)| d.clone());
            let existing = existing.or_else(|| state.docs.get(&key).cloned());
            let is_new = existing.is_none();
            let mut doc = existing.unwrap_or_default();
            let before = doc.get_heads();
            edit(&mut doc)?;
            // As on disk: commits carry their time, and a new document with no fields exists.
            let options = || CommitOptions::default().with_time(history::now_seconds());
            doc.commit_with(options());
            if is_new && doc.get_heads().is_empty() {
                doc.empty_change(options());
            }
            if doc.get_heads() != before {
                staged.push((key, doc));
            }
        }
        for (key, doc) in &staged {
            state.seq += 1;
            let (fields, deleted) = convert::read(doc)?;
            let document = Document {
                collection: key.0.clone(),
                id: key.1.clone(),
                fields,
                deleted,
                conflicts: Vec::new(),
            };
            let (seq, time) = (state.seq, std::time::SystemTime::now());
            let _ = self.events.send(Arc::new(Committed { seq, document, origin: origin.into(), time }));
            state.docs.insert(key.clone(), doc.clone());
            state.doc_seq.insert(key.clone(), seq);
        }
        Ok(staged)
    }

    /// Sends a changed document to every linked peer while syncing.
    fn push(&self, key: &Key, doc: &AutoCommit) -> Result<()> {
        let peers: Vec<_> = {
            let state = self.lock();
            if !state.syncing {
                return Ok(());
            }
            state.peers.iter().filter_map(Weak::upgrade).collect()
        };
        for peer in peers {
            let mut theirs = doc.clone();
            let merge: Edit<'_> =
                Box::new(|mine| mine.merge(&mut theirs).map(drop).map_err(|e| Error::context("merge", e)));
            peer.edit_all(&self.name, vec![(key.clone(), merge)])?;
        }
        Ok(())
    }

    /// Edits documents (all or none), then sends the changed ones to peers.
    fn write(&self, edits: Vec<(Key, Edit<'_>)>) -> Result<()> {
        for (key, doc) in self.edit_all(ORIGIN_LOCAL, edits)? {
            self.push(&key, &doc)?;
        }
        Ok(())
    }

    fn document(&self, key: &Key) -> Option<Document> {
        self.lock().docs.get(key).map(|doc| {
            let (fields, deleted) = read(doc);
            Document { collection: key.0.clone(), id: key.1.clone(), fields, deleted, conflicts: Vec::new() }
        })
    }

    /// The documents of a collection changed after `since`, and the log's end.
    fn changed_since(&self, collection: &str, since: u64) -> (u64, Vec<(u64, Document)>) {
        let state = self.lock();
        let mut changed: Vec<(u64, Document)> = state
            .doc_seq
            .iter()
            .filter(|((c, _), seq)| c == collection && **seq > since)
            .filter_map(|(key, seq)| {
                let (fields, deleted) = read(state.docs.get(key)?);
                Some((
                    *seq,
                    Document {
                        collection: key.0.clone(),
                        id: key.1.clone(),
                        fields,
                        deleted,
                        conflicts: Vec::new(),
                    },
                ))
            })
            .collect();
        changed.sort_by_key(|(seq, _)| *seq);
        (state.seq, changed)
    }

    fn select(&self, collection: &str, request: &QueryRequest) -> Vec<Document> {
        let state = self.lock();
        let selector = Selector::new(request);
        let visible = state
            .docs
            .range((collection.to_string(), String::new())..)
            .take_while(|((c, _), _)| c == collection)
            .map(|((c, id), doc)| {
                let (fields, deleted) = read(doc);
                Document { collection: c.clone(), id: id.clone(), fields, deleted, conflicts: Vec::new() }
            })
            .filter(|doc| selector.wants(doc.deleted))
            .map(|doc| doc.to_json());
        let visible: Vec<_> = visible.collect();
        selector.collect(collection, visible)
    }
}

#[async_trait]
impl DataSyncBackend for MemoryBackend {
    async fn initialize(&self, _config: BackendConfig) -> Result<()> {
        Ok(())
    }
    async fn shutdown(&self) -> Result<()> {
        self.inner.lock().syncing = false;
        Ok(())
    }
    fn document_store(&self) -> &dyn DocumentStore {
        self
    }
    fn peer_discovery(&self) -> &dyn PeerDiscovery {
        self
    }
    fn sync_engine(&self) -> &dyn SyncEngine {
        self
    }
}

#[async_trait]
impl DocumentStore for MemoryBackend {
    async fn upsert(&self, collection: &str, docs: Vec<DocInput>) -> Result<Vec<String>> {
        let ids: Vec<String> =
            docs.iter().map(|d| d.id.clone().unwrap_or_else(|| uuid::Uuid::now_v7().to_string())).collect();
        let edits = ids
            .iter()
            .zip(&docs)
            .map(|(id, input)| {
                let edit: Edit<'_> = Box::new(move |doc| convert::apply(doc, input));
                ((collection.to_string(), id.clone()), edit)
            })
            .collect();
        self.inner.write(edits)?;
        Ok(ids)
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Document>> {
        Ok(self.inner.document(&(collection.into(), id.into())))
    }

    /// The mock holds everything in memory anyway: selected at once, then streamed.
    async fn query(&self, collection: &str, request: &QueryRequest) -> Result<QueryStream> {
        let mut docs = self.inner.select(collection, request);
        if request.conflicts {
            for doc in &mut docs {
                doc.conflicts = self.conflicts(collection, &doc.id).await?.unwrap_or_default();
            }
        }
        let (tx, stream) = QueryStream::channel(docs.len() + 1);
        let documents = docs.len() as u64;
        for doc in docs {
            let _ = tx.try_send(QueryEvent::Doc(doc));
        }
        let _ = tx.try_send(QueryEvent::End { documents });
        Ok(stream)
    }

    async fn history(&self, collection: &str, id: &str) -> Result<Option<Vec<HistoryEntry>>> {
        let doc = self.inner.lock().docs.get(&(collection.into(), id.into())).cloned();
        Ok(doc.map(|mut doc| history::history(&mut doc)))
    }

    async fn conflicts(&self, collection: &str, id: &str) -> Result<Option<Vec<Conflict>>> {
        Ok(self.inner.lock().docs.get(&(collection.into(), id.into())).map(history::conflicts))
    }

    async fn count(&self, collection: &str, request: &QueryRequest) -> Result<u64> {
        let request = QueryRequest { order_by: None, limit: None, ..request.clone() };
        Ok(self.inner.select(collection, &request).len() as u64)
    }

    async fn remove(&self, collection: &str, id: &str) -> Result<()> {
        let key = (collection.to_string(), id.to_string());
        match self.inner.document(&key) {
            Some(doc) if !doc.deleted => self.inner.write(vec![(key, Box::new(convert::mark_removed))]),
            _ => Err(Error::not_found(format!("no document '{id}' in collection '{collection}'"))),
        }
    }

    async fn observe(&self, collection: &str, filter: Query, start: Start) -> Result<ChangeStream> {
        let changes = self.inner.events.subscribe();
        let opening = match start {
            Start::Now { initial } => {
                // Position first: a change between the two is reported again, never lost.
                let seq = self.inner.lock().seq;
                let found = self.inner.select(collection, &QueryRequest::matching(filter.clone()));
                let (tx, matches) = tokio::sync::mpsc::channel(found.len().max(1));
                for doc in found {
                    let _ = tx.try_send(Ok(doc));
                }
                Opening::Snapshot { seq, matches, report: initial }
            }
            Start::After { seq, matching } => {
                let (seq, changed) = self.inner.changed_since(collection, seq);
                Opening::Replay { seq, changed, matching }
            }
        };
        Ok(spawn_observer(changes, opening, collection.into(), filter))
    }

    async fn collections(&self) -> Result<Vec<CollectionInfo>> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for ((c, _), doc) in &self.inner.lock().docs {
            *counts.entry(c.clone()).or_default() += u64::from(!read(doc).1);
        }
        Ok(counts.into_iter().map(|(name, documents)| CollectionInfo { name, documents }).collect())
    }
}

#[async_trait]
impl PeerDiscovery for MemoryBackend {
    /// Linked backends are found already; starting discovery connects them (starts sync).
    async fn start(&self) -> Result<()> {
        self.start_sync().await
    }
    async fn stop(&self) -> Result<()> {
        self.stop_sync().await
    }
    async fn peers(&self) -> Result<Vec<PeerInfo>> {
        let state = self.inner.lock();
        let connected = state.syncing;
        Ok(state
            .peers
            .iter()
            .filter_map(Weak::upgrade)
            .map(|p| PeerInfo { id: p.name.clone(), connected, ..PeerInfo::default() })
            .collect())
    }
    async fn add_peer(&self, addr: &str) -> Result<PeerInfo> {
        Err(Error::invalid(format!("in-memory backends link in-process; cannot dial '{addr}'")))
    }
    async fn remove_peer(&self, id: &str) -> Result<()> {
        let mut state = self.inner.lock();
        let before = state.peers.len();
        state.peers.retain(|p| p.upgrade().is_some_and(|p| p.name != id));
        if state.peers.len() == before { Err(Error::not_found(format!("no peer '{id}'"))) } else { Ok(()) }
    }
    async fn peer_events(&self) -> Result<PeerEventStream> {
        Ok(PeerEventStream::channel(1).1)
    }
}

#[async_trait]
impl SyncEngine for MemoryBackend {
    async fn start_sync(&self) -> Result<()> {
        self.inner.lock().syncing = true;
        self.force_sync().await
    }
    async fn stop_sync(&self) -> Result<()> {
        self.inner.lock().syncing = false;
        Ok(())
    }
    async fn subscribe(&self) -> Result<SyncEventStream> {
        Ok(SyncEventStream::channel(1).1)
    }
    /// Pushes every document to every linked peer.
    async fn force_sync(&self) -> Result<()> {
        let docs: Vec<_> = self.inner.lock().docs.iter().map(|(k, d)| (k.clone(), d.clone())).collect();
        for (key, doc) in docs {
            self.inner.push(&key, &doc)?;
        }
        Ok(())
    }
    /// Writes reach linked peers before `upsert` returns, both ways, so there is nothing to
    /// wait for in either direction.
    async fn wait_for_sync(&self, _direction: SyncDirection, _timeout: Duration) -> Result<()> {
        if self.inner.lock().peers.iter().any(|p| p.upgrade().is_some()) {
            Ok(())
        } else {
            Err(Error::failed("no peer is connected"))
        }
    }
    async fn status(&self) -> Result<SyncStatus> {
        let peers = self.peers().await?;
        Ok(SyncStatus {
            running: self.inner.lock().syncing,
            listen: Vec::new(),
            peers_connected: peers.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: serde_json::Value) -> DocInput {
        DocInput::from_object(v.as_object().unwrap().clone(), false).unwrap()
    }

    #[tokio::test]
    async fn upsert_query_remove_observe() {
        let b = MemoryBackend::new("a");
        let start = Start::Now { initial: true };
        let mut stream = b.observe("units", Query::parse("speed > 1").unwrap(), start).await.unwrap();
        b.upsert(
            "units",
            vec![input(json!({"id": "u1", "speed": 5})), input(json!({"id": "u2", "speed": 0}))],
        )
        .await
        .unwrap();
        let ev = stream.next().await.unwrap();
        assert_eq!((ev.id.as_str(), ev.event), ("u1", crate::sync::ChangeKind::Added));
        assert_eq!(ev.origin.as_deref(), Some(ORIGIN_LOCAL));
        b.remove("units", "u1").await.unwrap();
        assert_eq!(stream.next().await.unwrap().event, crate::sync::ChangeKind::Removed);
        assert_eq!(b.count("units", &QueryRequest::default()).await.unwrap(), 1);
        assert_eq!(b.remove("units", "u1").await.unwrap_err().kind, crate::sync::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn linked_backends_converge_while_syncing() {
        let (a, b) = (MemoryBackend::new("a"), MemoryBackend::new("b"));
        a.link(&b);
        a.upsert("c", vec![input(json!({"id": "x", "f": 1}))]).await.unwrap();
        assert!(b.get("c", "x").await.unwrap().is_none(), "no sync before start_sync");
        a.start_sync().await.unwrap();
        b.start_sync().await.unwrap();
        assert_eq!(b.get("c", "x").await.unwrap().unwrap().fields["f"], json!(1));
        b.upsert("c", vec![input(json!({"id": "x", "g": 2}))]).await.unwrap();
        assert_eq!(a.get("c", "x").await.unwrap().unwrap().to_json(), json!({"id": "x", "f": 1, "g": 2}));
    }
}
