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

/// After waiting this long for the directory, a command says that it waits.
pub const SAY_WAITING: Duration = Duration::from_secs(1);

/// Where a command's messages go while it opens the directory (its printer's stderr).
pub type Notice<'a> = &'a (dyn Fn(String) + Send + Sync);

/// Opens the backend serving `dir`, which must hold a node (`NotFound` otherwise). When
/// another command has the store open, waits up to [`LOCK_WAIT`] for it, telling `notice`
/// after [`SAY_WAITING`]; a holder that keeps it longer is refused (exit 4) with the hint to
/// run a node, through which commands share the directory.
pub async fn open(dir: &NodeDir, notice: Notice<'_>) -> Result<Opened> {
    dir.require()?;
    let started = Instant::now();
    let mut said = false;
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
        let waited = started.elapsed();
        if waited > LOCK_WAIT {
            return Err(Error::refused(format!(
                "{} is locked by another peat process{} that does not answer; start the node \
                 (`peat sync start`) so that commands share the directory",
                dir.path().display(),
                holder(dir)
            )));
        }
        if waited > SAY_WAITING && !said {
            said = true;
            notice(format!(
                "waiting for {}: another peat command{} has its store open",
                dir.path().display(),
                holder(dir)
            ));
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// " (pid N)" for the process that holds the directory lock, when known.
fn holder(dir: &NodeDir) -> String {
    DirLock::holder(dir).map(|pid| format!(" (pid {pid})")).unwrap_or_default()
}

/// Waits for a node to serve `dir` again (a watch resuming after a restart), without ever
/// opening the store here, which would keep the node from starting. Gives up at `deadline`.
pub async fn wait_for_node(dir: &NodeDir, deadline: Option<tokio::time::Instant>) -> Result<ClientBackend> {
    loop {
        if let Some(client) = ClientBackend::connect(dir).await? {
            return Ok(client);
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            return Err(Error::timeout("the node did not come back in time"));
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// Pause between attempts to reach a node that stopped.
const RECONNECT: Duration = Duration::from_millis(100);

/// Opens the store in this process; `lock` proves no other process has it open.
pub async fn open_local(dir: &NodeDir, lock: DirLock) -> Result<AutomergeBackend> {
    let backend = AutomergeBackend::new(lock, dir.config_file());
    backend.initialize(dir.backend_config()?).await?;
    Ok(backend)
}

/// Opens the backend serving `dir` for a command that runs a while (`watch`): without a
/// node, the store opened here is also served on the control socket until shutdown, so other
/// commands on the directory go through this process and their writes are seen at once.
pub async fn open_serving(dir: &NodeDir, notice: Notice<'_>) -> Result<Box<dyn DataSyncBackend>> {
    match open(dir, notice).await? {
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
