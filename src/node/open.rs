//! Choosing the backend for a command (DESIGN.md §1): the running node's, through its control
//! socket, or the store opened in this process under the directory lock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::ClientBackend;
use super::server::ControlServer;
use crate::backend::automerge::AutomergeBackend;
use crate::home::{DirLock, NodeDir};
use crate::sync::{BackendConfig, DataSyncBackend, DocumentStore, Error, PeerDiscovery, Result, SyncEngine};

/// How long a command waits for another short-lived command to release the directory.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Pause between attempts while the directory is busy.
pub const RETRY: Duration = Duration::from_millis(10);

/// The backend a command got.
pub enum Opened {
    /// A running node, through its control socket.
    Node(ClientBackend),
    /// The store, opened in this process.
    Local(AutomergeBackend),
}

impl Opened {
    /// The backend, whichever it is.
    pub fn boxed(self) -> Box<dyn DataSyncBackend> {
        match self {
            Opened::Node(b) => Box::new(b),
            Opened::Local(b) => Box::new(b),
        }
    }
}

/// Opens the backend serving `dir`, initialising the directory first if needed.
pub async fn open(dir: &NodeDir) -> Result<Opened> {
    dir.ensure()?;
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        if let Some(client) = ClientBackend::connect(dir).await? {
            return Ok(Opened::Node(client));
        }
        if let Some(lock) = DirLock::try_acquire(dir)? {
            if let Some(leftovers) = lock.clean_leftovers(dir) {
                tracing::warn!("{leftovers}");
            }
            return open_local(dir, lock).await.map(Opened::Local);
        }
        if Instant::now() > deadline {
            return Err(Error::failed(format!(
                "{} is locked by another peat process that does not answer",
                dir.path().display()
            )));
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Opens the store in this process; `lock` proves no other process has it open.
pub async fn open_local(dir: &NodeDir, lock: DirLock) -> Result<AutomergeBackend> {
    let backend = AutomergeBackend::new(lock, dir.config_file());
    backend.initialize(dir.backend_config()?).await?;
    Ok(backend)
}

/// Opens the backend serving `dir` for a command that runs a while (`watch`): without a
/// node, the store opened here is also served on the control socket until shutdown, so other
/// commands on the directory go through this process and their writes are seen at once.
pub async fn open_serving(dir: &NodeDir) -> Result<Box<dyn DataSyncBackend>> {
    match open(dir).await? {
        Opened::Node(client) => Ok(Box::new(client)),
        Opened::Local(local) => {
            let local: Arc<dyn DataSyncBackend> = Arc::new(local);
            // Nobody may stop a command's store through its socket: the flag is never read.
            let (shutdown, _) = tokio::sync::watch::channel(false);
            let server = ControlServer::bind(dir, Arc::clone(&local), shutdown)?;
            Ok(Box::new(Served { backend: local, server: tokio::sync::Mutex::new(Some(server)) }))
        }
    }
}

/// A store opened in this process and served on the control socket while it is open.
struct Served {
    backend: Arc<dyn DataSyncBackend>,
    server: tokio::sync::Mutex<Option<ControlServer>>,
}

#[async_trait::async_trait]
impl DataSyncBackend for Served {
    async fn initialize(&self, config: BackendConfig) -> Result<()> {
        self.backend.initialize(config).await
    }
    /// Stops serving (answering requests in flight first), then closes the store.
    async fn shutdown(&self) -> Result<()> {
        if let Some(server) = self.server.lock().await.take() {
            server.close().await;
        }
        self.backend.shutdown().await
    }
    fn document_store(&self) -> &dyn DocumentStore {
        self.backend.document_store()
    }
    fn peer_discovery(&self) -> &dyn PeerDiscovery {
        self.backend.peer_discovery()
    }
    fn sync_engine(&self) -> &dyn SyncEngine {
        self.backend.sync_engine()
    }
}
