//! The real backend: documents as Automerge CRDTs in a redb store on disk, synced with
//! peers over Iroh.

pub mod convert;
pub mod net;
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

/// The Automerge + redb backend, opened in this process. Sync runs only once
/// [`SyncEngine::start_sync`] is called (by the node daemon); until then the peer calls
/// work on config.toml alone.
pub struct AutomergeBackend {
    store: OnceLock<Arc<Store>>,
    config: OnceLock<BackendConfig>,
    engine: tokio::sync::Mutex<Option<Arc<net::Engine>>>,
    _lock: DirLock,
}

impl AutomergeBackend {
    /// A backend that [`DataSyncBackend::initialize`] opens. Only the holder of the directory
    /// lock may open its store.
    pub fn new(lock: DirLock) -> Self {
        Self {
            store: OnceLock::new(),
            config: OnceLock::new(),
            engine: tokio::sync::Mutex::new(None),
            _lock: lock,
        }
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

    fn config(&self) -> Result<&BackendConfig> {
        self.config.get().ok_or_else(|| Error::failed("backend is not initialized"))
    }

    fn dir(&self) -> Result<crate::node::dir::NodeDir> {
        Ok(crate::node::dir::NodeDir::new(self.config()?.dir.clone()))
    }

    /// The running sync engine, if any.
    async fn engine(&self) -> Option<Arc<net::Engine>> {
        self.engine.lock().await.clone()
    }
}

#[async_trait]
impl DataSyncBackend for AutomergeBackend {
    async fn initialize(&self, config: BackendConfig) -> Result<()> {
        let identity = crate::node::dir::NodeDir::new(config.dir.clone()).identity()?;
        let actor = automerge::ActorId::from(identity.public().as_bytes().as_slice());
        let path = config.dir.join(crate::node::dir::STORE_FILE);
        let _ = self.config.set(config);
        let store = tokio::task::spawn_blocking(move || Store::open(&path, actor))
            .await
            .map_err(|e| Error::context("store task", e))??;
        self.store.set(Arc::new(store)).map_err(|_| Error::failed("backend is already initialized"))
    }

    async fn shutdown(&self) -> Result<()> {
        self.stop_sync().await
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
        self.start_sync().await
    }
    async fn stop(&self) -> Result<()> {
        self.stop_sync().await
    }
    /// Without a running engine: the configured peers, none connected.
    async fn peers(&self) -> Result<Vec<PeerInfo>> {
        if let Some(engine) = self.engine().await {
            return Ok(engine.peers());
        }
        let config = self.config()?;
        let key = self.dir()?.formation_key()?;
        Ok(net::peers::from_config(&config.peers, &config.app_id, &key)
            .into_iter()
            .map(|p| PeerInfo {
                id: p.id.to_string(),
                addrs: p.addrs.iter().map(ToString::to_string).collect(),
                ..PeerInfo::default()
            })
            .collect())
    }
    /// Without a running engine: remembered in config.toml, dialed when the node starts.
    async fn add_peer(&self, addr: &str) -> Result<PeerInfo> {
        if let Some(engine) = self.engine().await {
            return engine.add_peer(addr).await;
        }
        let dir = self.dir()?;
        let config = self.config()?;
        let peer = net::peers::PeerAddr::parse(addr, &config.app_id, &dir.formation_key()?)?;
        if peer.id == dir.identity()?.public() {
            return Err(Error::invalid("that is this node's own id"));
        }
        net::persist_peer(&dir, &peer)?;
        Ok(PeerInfo {
            id: peer.id.to_string(),
            addrs: peer.addrs.iter().map(ToString::to_string).collect(),
            ..PeerInfo::default()
        })
    }
    async fn remove_peer(&self, id: &str) -> Result<()> {
        if let Some(engine) = self.engine().await {
            return engine.remove_peer(id).await;
        }
        if net::forget_peer(&self.dir()?, id)? {
            Ok(())
        } else {
            Err(Error::not_found(format!("no peer '{id}'")))
        }
    }
    async fn peer_events(&self) -> Result<PeerEventStream> {
        Ok(self.engine().await.ok_or_else(Self::not_syncing)?.peer_events())
    }
}

#[async_trait]
impl SyncEngine for AutomergeBackend {
    /// Binds the endpoint and starts syncing; a no-op when already running.
    async fn start_sync(&self) -> Result<()> {
        let mut engine = self.engine.lock().await;
        if engine.is_none() {
            let store = Arc::clone(self.store()?);
            *engine = Some(Arc::new(net::Engine::start(store, self.config()?).await?));
        }
        Ok(())
    }
    async fn stop_sync(&self) -> Result<()> {
        if let Some(engine) = self.engine.lock().await.take() {
            engine.stop().await;
        }
        Ok(())
    }
    async fn subscribe(&self) -> Result<SyncEventStream> {
        Ok(self.engine().await.ok_or_else(Self::not_syncing)?.sync_events())
    }
    async fn force_sync(&self) -> Result<()> {
        self.engine().await.ok_or_else(Self::not_syncing)?.force_sync();
        Ok(())
    }
    async fn wait_for_sync(&self, timeout: Duration) -> Result<()> {
        self.engine().await.ok_or_else(Self::not_syncing)?.wait_for_sync(timeout).await
    }
    async fn status(&self) -> Result<SyncStatus> {
        Ok(match self.engine().await {
            Some(engine) => engine.status(),
            None => SyncStatus::default(),
        })
    }
}
