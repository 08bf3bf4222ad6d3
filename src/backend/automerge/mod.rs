//! The real backend: documents as Automerge CRDTs in a redb store on disk, synced with
//! peers over Iroh.

mod cache;
pub(crate) mod chunk;
pub(crate) mod convert;
mod cores;
pub(crate) mod doctor;
mod expiry;
mod flat;
pub(crate) mod history;
mod index;
pub(crate) mod latest;
pub mod net;
pub(crate) mod store;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;

use crate::backend::{Opening, spawn_observer};
use crate::home::{ConfigFile, DirLock};
use crate::sync::{
    BackendConfig, ChangeStream, CollectionInfo, DataSyncBackend, DocInput, Document, DocumentStore, Error,
    EventStream, ExportEvent, ExportRecord, ExportRequest, ExportStream, ImportSummary, PeerDiscovery,
    PeerEventStream, PeerInfo, PeerSource, Query, QueryEvent, QueryRequest, QueryStream, Rekeyed, Result,
    Start, SyncDirection, SyncEngine, SyncEventStream, SyncStatus,
};
pub(crate) use store::Store;

/// Puts a copy of the store file `from` (a backup) at `to` with a new store id, so that
/// peers read the restored change log afresh. The copy is renamed into place when complete.
pub fn restore_store(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    let partial = to.with_extension("partial");
    std::fs::copy(from, &partial).map_err(|e| Error::context(&format!("copying {}", from.display()), e))?;
    Store::renew_id(&partial)?;
    std::fs::rename(&partial, to).map_err(|e| Error::context(&format!("writing {}", to.display()), e))
}

/// The Automerge + redb backend, opened in this process. Sync runs only once
/// [`SyncEngine::start_sync`] is called (by the node daemon); until then the peer calls
/// work on config.toml alone.
pub struct AutomergeBackend {
    store: OnceLock<Arc<Store>>,
    config: OnceLock<BackendConfig>,
    engine: tokio::sync::Mutex<Option<Arc<net::Engine>>>,
    /// The expiry sweeper, while sync runs (see [`expiry::sweep`]).
    sweeper: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Where added and removed peers are remembered.
    config_file: ConfigFile,
    _lock: DirLock,
}

impl AutomergeBackend {
    /// A backend that [`DataSyncBackend::initialize`] opens. Only the holder of the directory
    /// lock may open its store; peers added or removed are remembered in `config_file`.
    pub fn new(lock: DirLock, config_file: ConfigFile) -> Self {
        Self {
            store: OnceLock::new(),
            config: OnceLock::new(),
            engine: tokio::sync::Mutex::new(None),
            sweeper: std::sync::Mutex::new(None),
            config_file,
            _lock: lock,
        }
    }

    /// The open store.
    fn store(&self) -> Result<&Arc<Store>> {
        self.store.get().ok_or_else(|| Error::failed("backend is not initialized"))
    }

    /// Runs a store operation off the async threads: redb calls block on disk I/O.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = Arc::clone(self.store()?);
        tokio::task::spawn_blocking(move || store.guarded(f))
            .await
            .map_err(|e| Error::context("store task", e))?
    }

    fn not_syncing() -> Error {
        Error::failed("sync is not running on this directory; start the node with `peat sync start`")
    }

    fn config(&self) -> Result<&BackendConfig> {
        self.config.get().ok_or_else(|| Error::failed("backend is not initialized"))
    }

    /// Runs a config.toml edit off the async threads.
    async fn edit_config<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ConfigFile) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let file = self.config_file.clone();
        tokio::task::spawn_blocking(move || f(&file)).await.map_err(|e| Error::context("config task", e))?
    }

    /// Applies config.toml's peers and blocked list to the running engine (SIGHUP);
    /// `None` when sync does not run.
    pub async fn reload_peers(&self, config: &crate::home::Config) -> Option<net::Reloaded> {
        let engine = self.engine().await?;
        Some(engine.reload(config).await)
    }

    /// The running sync engine, if any.
    async fn engine(&self) -> Option<Arc<net::Engine>> {
        self.engine.lock().await.clone()
    }
}

#[async_trait]
impl DataSyncBackend for AutomergeBackend {
    async fn initialize(&self, config: BackendConfig) -> Result<()> {
        let node_id = iroh::SecretKey::from_bytes(&config.identity.0).public();
        let actor = automerge::ActorId::from(node_id.as_bytes().as_slice());
        let path = config.store.clone();
        let _ = self.config.set(config);
        let store = tokio::task::spawn_blocking(move || {
            let store = Store::open_guarded(&path, actor)?;
            // What expired while no node ran is gone before anyone reads it.
            store.guarded(|s| s.expire_due(expiry::SWEEP_AT_OPEN))?;
            Ok::<_, Error>(store)
        })
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
        let (collection, id) = (collection.to_string(), id.to_string());
        self.blocking(move |s| s.get(&collection, &id)).await
    }

    /// Read on a thread of its own, like [`DocumentStore::export`].
    async fn query(&self, collection: &str, request: &QueryRequest) -> Result<QueryStream> {
        let store = Arc::clone(self.store()?);
        let (collection, request) = (collection.to_string(), request.clone());
        let (tx, stream) = EventStream::channel(QUERY_BUFFER);
        tokio::task::spawn_blocking(move || {
            let sent = store.guarded(|s| {
                s.query(&collection, &request, |doc| tx.blocking_send(QueryEvent::Doc(doc)).is_ok())
            });
            let end = match sent {
                Ok(documents) => QueryEvent::End { documents },
                Err(e) => QueryEvent::Failed(e),
            };
            let _ = tx.blocking_send(end);
        });
        Ok(stream)
    }

    async fn count(&self, collection: &str, request: &QueryRequest) -> Result<u64> {
        let (collection, request) = (collection.to_string(), request.clone());
        self.blocking(move |s| s.count(&collection, &request)).await
    }

    async fn remove(&self, collection: &str, id: &str) -> Result<()> {
        let (collection, id) = (collection.to_string(), id.to_string());
        self.blocking(move |s| s.remove(&collection, &id)).await
    }

    async fn observe(&self, collection: &str, filter: Query, start: Start) -> Result<ChangeStream> {
        // Subscribe before reading the opening, so no change falls in between.
        let changes = self.store()?.subscribe();
        let (owned, request) = (collection.to_string(), QueryRequest::matching(filter.clone()));
        let opening = match start {
            Start::Now { initial } => {
                // Read on a thread of its own, at the observer's pace: the position first,
                // then the documents of that same read transaction.
                let store = Arc::clone(self.store()?);
                let (at, seq) = tokio::sync::oneshot::channel();
                let (tx, matches) = tokio::sync::mpsc::channel(crate::backend::INITIAL_BUFFER);
                tokio::task::spawn_blocking(move || {
                    let mut at = Some(at);
                    let read = store.guarded(|s| {
                        let sent = |seq| {
                            if let Some(at) = at.take() {
                                let _ = at.send(Ok(seq));
                            }
                        };
                        s.snapshot(&owned, &request, sent, |doc| tx.blocking_send(Ok(doc)).is_ok())
                    });
                    if let Err(e) = read {
                        match at.take() {
                            Some(at) => drop(at.send(Err(e))),
                            None => drop(tx.blocking_send(Err(e))),
                        }
                    }
                });
                let seq = seq.await.map_err(|e| Error::context("store task", e))??;
                Opening::Snapshot { seq, matches, report: initial }
            }
            Start::After { seq: since, matching } => {
                let (seq, changed) = self.blocking(move |s| s.changed_since(&owned, since)).await?;
                Opening::Replay { seq, changed, matching }
            }
        };
        Ok(spawn_observer(changes, opening, collection.to_string(), filter))
    }

    async fn collections(&self) -> Result<Vec<CollectionInfo>> {
        self.blocking(|s| s.collections()).await
    }

    /// Read on a thread of its own; the channel's bound keeps a slow reader from making it
    /// buffer the store.
    async fn export(&self, request: ExportRequest) -> Result<ExportStream> {
        let store = Arc::clone(self.store()?);
        let (tx, stream) = EventStream::channel(EXPORT_BUFFER);
        tokio::task::spawn_blocking(move || {
            let exported =
                store.guarded(|store| store.export(&request, |event| tx.blocking_send(event).is_ok()));
            let end = match exported {
                Ok(documents) => ExportEvent::End { documents },
                Err(e) => ExportEvent::Failed(e),
            };
            let _ = tx.blocking_send(end);
        });
        Ok(stream)
    }

    async fn import(&self, records: Vec<ExportRecord>) -> Result<ImportSummary> {
        self.blocking(move |s| s.import(records)).await
    }

    async fn backup(&self, path: &std::path::Path) -> Result<()> {
        let path = path.to_path_buf();
        self.blocking(move |s| s.backup(&path)).await
    }

    async fn history(&self, collection: &str, id: &str) -> Result<Option<Vec<crate::sync::HistoryEntry>>> {
        let (collection, id) = (collection.to_string(), id.to_string());
        self.blocking(move |s| s.history(&collection, &id)).await
    }

    async fn conflicts(&self, collection: &str, id: &str) -> Result<Option<Vec<crate::sync::Conflict>>> {
        let (collection, id) = (collection.to_string(), id.to_string());
        self.blocking(move |s| s.conflicts(&collection, &id)).await
    }

    async fn add_index(&self, collection: &str, path: &crate::sync::Path) -> Result<crate::sync::IndexInfo> {
        let (collection, path) = (collection.to_string(), path.clone());
        self.blocking(move |s| s.add_index(&collection, &path)).await
    }

    async fn indexes(&self, collection: Option<&str>) -> Result<Vec<crate::sync::IndexInfo>> {
        let collection = collection.map(str::to_string);
        self.blocking(move |s| s.indexes(collection.as_deref())).await
    }

    async fn remove_index(&self, collection: &str, path: &crate::sync::Path) -> Result<()> {
        let (collection, path) = (collection.to_string(), path.clone());
        self.blocking(move |s| s.remove_index(&collection, &path)).await
    }
}

/// Query results buffered between the store's reader and the consumer.
const QUERY_BUFFER: usize = 256;
/// Exported documents buffered between the store's reader and the consumer.
const EXPORT_BUFFER: usize = 256;

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
        let (app_id, key) = (config.app_id.clone(), config.formation_key.0);
        // Parsing may resolve host names: off the async threads, with the file read.
        let configured =
            self.edit_config(move |file| Ok(net::peers::from_config(&file.load()?.peers, &app_id, &key)));
        let configured = configured.await?;
        let mut book = self.blocking(net::book::load).await?;
        let info = |id: String, addrs: &[std::net::SocketAddr], source| PeerInfo {
            id,
            addrs: addrs.iter().map(ToString::to_string).collect(),
            source,
            ..PeerInfo::default()
        };
        let mut out: Vec<PeerInfo> = configured
            .into_iter()
            .map(|p| {
                let id = p.id.to_string();
                let ticket = book.remove(&id).is_some_and(|e| e.source == PeerSource::Ticket);
                info(id, &p.addrs, if ticket { PeerSource::Ticket } else { PeerSource::Config })
            })
            .collect();
        out.extend(book.into_iter().map(|(id, e)| info(id, &e.addrs, e.source)));
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
    /// Without a running engine: remembered in config.toml, dialed when the node starts.
    async fn add_peer(&self, addr: &str) -> Result<PeerInfo> {
        if let Some(engine) = self.engine().await {
            return engine.add_peer(addr).await;
        }
        let config = self.config()?;
        let (app_id, key, addr) = (config.app_id.clone(), config.formation_key.0, addr.to_string());
        let me = iroh::SecretKey::from_bytes(&config.identity.0).public();
        let (peer, source) =
            self.edit_config(move |file| net::peers::add_to_config(file, &addr, (&app_id, &key), me)).await?;
        let entry = net::book::Entry { addrs: peer.addrs.clone(), source };
        let id = peer.id.to_string();
        self.blocking(move |store| net::book::remember(store, &id, entry)).await?;
        Ok(PeerInfo {
            id: peer.id.to_string(),
            addrs: peer.addrs.iter().map(ToString::to_string).collect(),
            source,
            ..PeerInfo::default()
        })
    }
    /// Without a running engine: forgets the peer (config.toml and the peer book) and
    /// blocks it for when the node runs.
    async fn remove_peer(&self, id: &str) -> Result<()> {
        if let Some(engine) = self.engine().await {
            return engine.remove_peer(id).await;
        }
        let owned = id.to_string();
        let in_book = self.blocking(move |store| net::book::forget(store, &owned)).await?;
        let owned = id.to_string();
        let in_config = self.edit_config(move |file| file.remove_peer(&owned)).await?;
        if !(in_book || in_config) {
            return Err(Error::not_found(format!("no peer '{id}'")));
        }
        let owned = id.to_string();
        self.edit_config(move |file| file.set_blocked(&owned, true)).await?;
        Ok(())
    }
    async fn peer_events(&self) -> Result<PeerEventStream> {
        Ok(self.engine().await.ok_or_else(Self::not_syncing)?.peer_events())
    }
    /// Only a running engine can: the new key goes to the members connected to it.
    async fn rekey(&self) -> Result<Rekeyed> {
        self.engine().await.ok_or_else(Self::not_syncing)?.rekey().await
    }
}

#[async_trait]
impl SyncEngine for AutomergeBackend {
    /// Binds the endpoint and starts syncing; a no-op when already running.
    async fn start_sync(&self) -> Result<()> {
        let mut engine = self.engine.lock().await;
        if engine.is_none() {
            let store = Arc::clone(self.store()?);
            let config_file = self.config_file.clone();
            let sweeper = tokio::spawn(expiry::sweep(Arc::downgrade(&store)));
            *engine = Some(Arc::new(net::Engine::start(store, self.config()?, config_file).await?));
            // A running node removes expired documents as their time comes; a command run
            // without one removes them when it opens the store.
            *self.sweeper.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sweeper);
        }
        Ok(())
    }
    async fn stop_sync(&self) -> Result<()> {
        if let Some(sweeper) = self.sweeper.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            sweeper.abort();
        }
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
    async fn wait_for_sync(&self, direction: SyncDirection, timeout: Duration) -> Result<()> {
        self.engine().await.ok_or_else(Self::not_syncing)?.wait_for_sync(direction, timeout).await
    }
    async fn status(&self) -> Result<SyncStatus> {
        Ok(match self.engine().await {
            Some(engine) => engine.status(),
            None => SyncStatus::default(),
        })
    }
}
