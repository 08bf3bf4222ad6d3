//! The four traits of the sync abstraction layer. They are object-safe (`async_trait`) so
//! the CLI can hold a `dyn DataSyncBackend` and not know whether it talks to a store opened
//! in this process or to a running node over its control socket.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

use super::{
    BackendConfig, ChangeStream, CollectionInfo, Conflict, DocInput, Document, Error, ExportRecord,
    ExportRequest, ExportStream, HistoryEntry, ImportSummary, IndexInfo, PeerEventStream, PeerInfo, Query,
    QueryRequest, QueryStream, Rekeyed, Result, Start, SyncDirection, SyncEventStream, SyncStatus,
};

/// Documents in collections: write, read, remove, observe.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// Writes a batch of documents atomically and returns their ids in input order.
    /// Unchanged values produce no change, so a repeated upsert is free.
    async fn upsert(&self, collection: &str, docs: Vec<DocInput>) -> Result<Vec<String>>;
    /// One document by id, removed or not; `None` when it never existed.
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Document>>;
    /// The documents matching a request, ordered and limited as it says, streamed as they
    /// are read (memory stays bounded however many match).
    async fn query(&self, collection: &str, request: &QueryRequest) -> Result<QueryStream>;
    /// How many documents match a request (its order and limit are ignored).
    async fn count(&self, collection: &str, request: &QueryRequest) -> Result<u64>;
    /// Marks a document removed (a tombstone that syncs). Errors with `NotFound` when there
    /// is no live document of that id.
    async fn remove(&self, collection: &str, id: &str) -> Result<()>;
    /// Streams changes to the documents of a collection that match `filter` (or did: a
    /// document that stops matching is reported as `Left`), from where `start` says.
    async fn observe(&self, collection: &str, filter: Query, start: Start) -> Result<ChangeStream>;
    /// The collections with their live document counts, by name.
    async fn collections(&self) -> Result<Vec<CollectionInfo>>;
    /// Streams the documents of `request.collections` (all when empty) as they are at one
    /// moment (one read transaction), so an export is consistent while writes go on.
    async fn export(&self, request: ExportRequest) -> Result<ExportStream> {
        let _ = request;
        Err(Error::failed("this backend cannot export"))
    }
    /// Merges a batch of exported records in one transaction: Automerge records merge
    /// history (importing one twice changes nothing), JSON records are upserts.
    async fn import(&self, records: Vec<ExportRecord>) -> Result<ImportSummary> {
        let _ = records;
        Err(Error::failed("this backend cannot import"))
    }
    /// Writes a consistent copy of the whole store to a new file at `path` (absolute), while
    /// writes go on: what `peat backup` keeps.
    async fn backup(&self, path: &Path) -> Result<()> {
        let _ = path;
        Err(Error::failed("this backend cannot back up"))
    }
    /// A document's changes, oldest first, removed or not; `None` when it never existed.
    async fn history(&self, collection: &str, id: &str) -> Result<Option<Vec<HistoryEntry>>> {
        let _ = (collection, id);
        Err(Error::failed("this backend keeps no history"))
    }
    /// A document's fields with concurrent values (none when writes never raced); `None`
    /// when it never existed.
    async fn conflicts(&self, collection: &str, id: &str) -> Result<Option<Vec<Conflict>>> {
        let _ = (collection, id);
        Err(Error::failed("this backend keeps no concurrent values"))
    }
    /// Defines a secondary index on `path` and builds it over the existing documents; queries
    /// use it from then on. `NotFound` for an unknown collection; an existing index is kept.
    async fn add_index(&self, collection: &str, path: &super::query::Path) -> Result<IndexInfo> {
        let _ = (collection, path);
        Err(Error::failed("this backend keeps no indexes"))
    }
    /// The secondary indexes of one collection, or of all.
    async fn indexes(&self, collection: Option<&str>) -> Result<Vec<IndexInfo>> {
        let _ = collection;
        Err(Error::failed("this backend keeps no indexes"))
    }
    /// Drops a secondary index. `NotFound` when there is no such index.
    async fn remove_index(&self, collection: &str, path: &super::query::Path) -> Result<()> {
        let _ = (collection, path);
        Err(Error::failed("this backend keeps no indexes"))
    }
}

/// Who the peers are and how to reach them.
#[async_trait]
pub trait PeerDiscovery: Send + Sync {
    /// Starts finding and dialing peers.
    async fn start(&self) -> Result<()>;
    /// Stops finding peers and closes connections.
    async fn stop(&self) -> Result<()>;
    /// The known peers with their connection state.
    async fn peers(&self) -> Result<Vec<PeerInfo>>;
    /// Adds a peer (`ID@HOST:PORT` or a join ticket), remembers it and dials it when running.
    async fn add_peer(&self, addr: &str) -> Result<PeerInfo>;
    /// Forgets a peer and drops its connection. `NotFound` when unknown.
    async fn remove_peer(&self, id: &str) -> Result<()>;
    /// Streams peer connections and disconnections.
    async fn peer_events(&self) -> Result<PeerEventStream>;
    /// Replaces the formation key with a new one and hands it to the members connected now,
    /// who reconnect with it; every other node (removed, or away) loses access. Only a
    /// syncing backend can: the default refuses.
    async fn rekey(&self) -> Result<Rekeyed> {
        Err(Error::failed("this backend has no formation to rekey"))
    }
}

/// Moving changes between this node and its peers.
#[async_trait]
pub trait SyncEngine: Send + Sync {
    /// Starts syncing with connected peers (catch-up, then live).
    async fn start_sync(&self) -> Result<()>;
    /// Stops syncing; documents stay readable and writable locally.
    async fn stop_sync(&self) -> Result<()>;
    /// Streams sync progress: documents received, rounds completed.
    async fn subscribe(&self) -> Result<SyncEventStream>;
    /// Runs a catch-up round with every connected peer now.
    async fn force_sync(&self) -> Result<()>;
    /// Waits until connected peers and this node are in sync in `direction`: every connected
    /// peer acknowledges holding this node's changes (push), and this node holds every change
    /// each connected peer had when the wait began (pull). While no peer is connected but
    /// some are known, waits for one to connect first. Errors with `Timeout` after `timeout`,
    /// and `Failed` when no peer is connected or one disconnects before it is in sync.
    async fn wait_for_sync(&self, direction: SyncDirection, timeout: Duration) -> Result<()>;
    /// Whether sync runs, where it listens, how many peers are connected.
    async fn status(&self) -> Result<SyncStatus>;
}

/// A whole backend: its lifecycle and its three parts.
#[async_trait]
pub trait DataSyncBackend: Send + Sync {
    /// Opens the backend with a configuration. Must be called once before the parts are used.
    async fn initialize(&self, config: BackendConfig) -> Result<()>;
    /// Flushes and closes everything. The backend is unusable afterwards.
    async fn shutdown(&self) -> Result<()>;
    /// The document part.
    fn document_store(&self) -> &dyn DocumentStore;
    /// The peer part.
    fn peer_discovery(&self) -> &dyn PeerDiscovery;
    /// The sync part.
    fn sync_engine(&self) -> &dyn SyncEngine;
}
