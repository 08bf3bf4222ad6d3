//! The real backend: documents as Automerge CRDTs in a redb store on disk, synced with
//! peers over Iroh.

pub mod convert;
pub mod store;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;

use crate::backend::spawn_observer;
use crate::node::lock::DirLock;
use crate::sync::{
    BackendConfig, ChangeStream, CollectionInfo, DataSyncBackend, DocInput, Document, DocumentStore, Error,
    PeerDiscovery, PeerEventStream, PeerInfo, Query, QueryRequest, Result, SyncEngine, SyncEventStream,
    SyncStatus,
};
pub use store::Store;

/// The Automerge + redb backend, opened in this process.
pub struct AutomergeBackend {
    store: OnceLock<Arc<Store>>,
    _lock: DirLock,
}

impl AutomergeBackend {
    /// A backend that [`DataSyncBackend::initialize`] opens. Only the holder of the directory
    /// lock may open its store.
    pub fn new(lock: DirLock) -> Self {
        Self { store: OnceLock::new(), _lock: lock }
    }

    /// The open store.
    pub fn store(&self) -> Result<&Arc<Store>> {
        self.store.get().ok_or_else(|| Error::failed("backend is not initialized"))
    }

    /// Runs a store operation off the async threads: redb calls block on disk I/O.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(self.store()?);
        tokio::task::spawn_blocking(move || f(&store)).await.map_err(|e| Error::context("store task", e))?
    }

    fn not_syncing() -> Error {
        Error::failed("sync is not running on this directory; start the node with `peat sync start`")
    }
}

#[async_trait]
impl DataSyncBackend for AutomergeBackend {
    async fn initialize(&self, config: BackendConfig) -> Result<()> {
        let identity = crate::node::dir::NodeDir::new(config.dir.clone()).identity()?;
        let actor = automerge::ActorId::from(identity.public().as_bytes().as_slice());
        let path = config.dir.join(crate::node::dir::STORE_FILE);
        let store = tokio::task::spawn_blocking(move || Store::open(&path, actor))
            .await
            .map_err(|e| Error::context("store task", e))??;
        self.store.set(Arc::new(store)).map_err(|_| Error::failed("backend is already initialized"))
    }

    async fn shutdown(&self) -> Result<()> {
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
impl DocumentStore for AutomergeBackend {
    async fn upsert(&self, collection: &str, docs: Vec<DocInput>) -> Result<Vec<String>> {
        let collection = collection.to_string();
        self.blocking(move |s| s.upsert(&collection, docs)).await
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Document>> {
        self.store()?.get(collection, id)
    }

    async fn query(&self, collection: &str, request: &QueryRequest) -> Result<Vec<Document>> {
        let (collection, request) = (collection.to_string(), request.clone());
        self.blocking(move |s| s.query(&collection, &request)).await
    }

    async fn count(&self, collection: &str, request: &QueryRequest) -> Result<u64> {
        let (collection, request) = (collection.to_string(), request.clone());
        self.blocking(move |s| s.count(&collection, &request)).await
    }

    async fn remove(&self, collection: &str, id: &str) -> Result<()> {
        let (collection, id) = (collection.to_string(), id.to_string());
        self.blocking(move |s| s.remove(&collection, &id)).await
    }

    async fn observe(&self, collection: &str, filter: Query, initial: bool) -> Result<ChangeStream> {
        let store = self.store()?;
        let changes = store.subscribe();
        let current = if initial {
            store.query(collection, &QueryRequest::matching(filter.clone()))?
        } else {
            Vec::new()
        };
        Ok(spawn_observer(changes, current, collection.to_string(), filter))
    }

    async fn collections(&self) -> Result<Vec<CollectionInfo>> {
        self.store()?.collections()
    }
}

#[async_trait]
impl PeerDiscovery for AutomergeBackend {
    async fn start(&self) -> Result<()> {
        Err(Self::not_syncing())
    }
    async fn stop(&self) -> Result<()> {
        Ok(())
    }
    async fn peers(&self) -> Result<Vec<PeerInfo>> {
        Err(Self::not_syncing())
    }
    async fn add_peer(&self, _addr: &str) -> Result<PeerInfo> {
        Err(Self::not_syncing())
    }
    async fn remove_peer(&self, _id: &str) -> Result<()> {
        Err(Self::not_syncing())
    }
    async fn peer_events(&self) -> Result<PeerEventStream> {
        Err(Self::not_syncing())
    }
}

#[async_trait]
impl SyncEngine for AutomergeBackend {
    async fn start_sync(&self) -> Result<()> {
        Err(Self::not_syncing())
    }
    async fn stop_sync(&self) -> Result<()> {
        Ok(())
    }
    async fn subscribe(&self) -> Result<SyncEventStream> {
        Err(Self::not_syncing())
    }
    async fn force_sync(&self) -> Result<()> {
        Err(Self::not_syncing())
    }
    async fn wait_for_sync(&self, _timeout: Duration) -> Result<()> {
        Err(Self::not_syncing())
    }
    async fn status(&self) -> Result<SyncStatus> {
        Ok(SyncStatus::default())
    }
}
