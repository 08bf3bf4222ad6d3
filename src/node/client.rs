//! The client backend: the four traits, each call sent to a running node over its control
//! socket (DESIGN.md §1), so the CLI uses a running node exactly as it uses a local store.

use std::io::ErrorKind as IoKind;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use tokio::io::BufReader;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Mutex;

use super::protocol::{IDLE, MAX_RESPONSE, NodeInfo, Request, Response, envelope, read_line, write_line};
use crate::home::{NodeDir, SOCKET_FILE};
use crate::sync::{
    BackendConfig, ChangeStream, CollectionInfo, Conflict, DataSyncBackend, DocInput, Document,
    DocumentStore, Error, EventStream, ExportRecord, ExportRequest, ExportStream, HistoryEntry,
    ImportSummary, PeerDiscovery, PeerEventStream, PeerInfo, Query, QueryRequest, QueryStream, Rekeyed,
    Result, Start, SyncDirection, SyncEngine, SyncEventStream, SyncStatus,
};

/// Events a client buffers between the socket and a slow reader.
const STREAM_BUFFER: usize = 1024;

/// A backend that is a running node, reached through its control socket.
pub struct ClientBackend {
    path: PathBuf,
    conn: Mutex<Connection>,
}

struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    line: Vec<u8>,
}

impl Connection {
    async fn open(path: &PathBuf) -> std::io::Result<Self> {
        let (reader, writer) = UnixStream::connect(path).await?.into_split();
        Ok(Self { reader: BufReader::new(reader), writer, line: Vec::new() })
    }

    /// Sends a request and reads its response line, giving up when the node says nothing
    /// for [`IDLE`] (it says `working` while it answers).
    async fn round_trip<T: DeserializeOwned>(&mut self, request: &Request) -> Result<T> {
        let lost =
            |e: Error| Error::failed(format!("lost the connection to the node (is it stopping?): {e}"));
        within_idle(write_line(&mut self.writer, &envelope(request))).await?.map_err(lost)?;
        loop {
            within_idle(self.next_line())
                .await?
                .map_err(lost)?
                .ok_or_else(|| Error::failed("the node closed the control connection (is it stopping?)"))?;
            match serde_json::from_slice::<Response>(&self.line) {
                Ok(Response::Working) => continue,
                Ok(Response::Ok(value)) => {
                    return serde_json::from_value(value)
                        .map_err(|e| Error::context("unexpected response from the node", e));
                }
                Ok(Response::Error(e)) => return Err(e),
                Err(e) => return Err(Error::context("malformed response from the node", e)),
            }
        }
    }

    async fn next_line(&mut self) -> Result<Option<()>> {
        read_line(&mut self.reader, &mut self.line, MAX_RESPONSE).await
    }
}

/// `step`, or a timeout error when the node does not get through it within [`IDLE`].
async fn within_idle<T>(step: impl std::future::Future<Output = T>) -> Result<T> {
    tokio::time::timeout(IDLE, step).await.map_err(|_| {
        Error::timeout(format!(
            "the node did not answer within {}s (is it stopped or hung? see `peat logs`)",
            IDLE.as_secs()
        ))
    })
}

/// Whether a stream line is the node's `working` heartbeat rather than an event.
fn is_heartbeat(line: &[u8]) -> bool {
    matches!(serde_json::from_slice(line), Ok(Response::Working))
}

impl ClientBackend {
    /// Connects to the node serving `dir`; `None` when no node answers there.
    pub async fn connect(dir: &NodeDir) -> Result<Option<Self>> {
        let path = dir.file(SOCKET_FILE);
        match Connection::open(&path).await {
            Ok(conn) => Ok(Some(Self { path, conn: Mutex::new(conn) })),
            Err(e) if matches!(e.kind(), IoKind::NotFound | IoKind::ConnectionRefused) => Ok(None),
            Err(e) if e.kind() == IoKind::PermissionDenied => Err(Error::refused(format!(
                "{}: permission denied (node run by another user?)",
                path.display()
            ))),
            Err(e) => Err(Error::context(&format!("connecting to {}", path.display()), e)),
        }
    }

    async fn call<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        self.conn.lock().await.round_trip(&request).await
    }

    /// Opens a dedicated connection for a stream request and relays its events.
    async fn stream<T: DeserializeOwned + Send + 'static>(&self, request: Request) -> Result<EventStream<T>> {
        let mut conn = Connection::open(&self.path).await.map_err(|e| Error::context("control socket", e))?;
        conn.round_trip::<()>(&request).await?;
        let (tx, stream) = EventStream::channel(STREAM_BUFFER);
        tokio::spawn(async move {
            // Own the whole connection: a dropped write half would tell the node we left.
            let mut conn = conn;
            loop {
                // The node says `working` when quiet: silence means it hangs, which ends the
                // stream as if the node had stopped.
                match within_idle(conn.next_line()).await {
                    Ok(Ok(Some(()))) => {}
                    Ok(Ok(None)) => return tracing::debug!("the node ended the stream"),
                    Ok(Err(e)) => return tracing::debug!("event stream: {e}"),
                    Err(e) => return tracing::warn!("event stream: {e}"),
                }
                if is_heartbeat(&conn.line) {
                    continue;
                }
                let Ok(event) = serde_json::from_slice::<T>(&conn.line) else {
                    tracing::warn!("malformed event from the node: {}", String::from_utf8_lossy(&conn.line));
                    return;
                };
                tokio::select! {
                    sent = tx.send(event) => if sent.is_err() { return },
                    // The reader went away: stop, which closes the connection.
                    () = tx.closed() => return,
                }
            }
        });
        Ok(stream)
    }

    /// Process facts of the node.
    pub async fn node_info(&self) -> Result<NodeInfo> {
        self.call(Request::NodeInfo).await
    }

    /// Asks the node to shut down and waits until it has exited (its end of the connection
    /// closes when the process ends), or `timeout` passes.
    pub async fn shutdown_node(self, timeout: Duration) -> Result<()> {
        let mut conn = self.conn.into_inner();
        conn.round_trip::<()>(&Request::Shutdown).await?;
        let closed = async { while let Ok(Some(())) = conn.next_line().await {} };
        tokio::time::timeout(timeout, closed)
            .await
            .map_err(|_| Error::timeout(format!("the node did not stop within {}s", timeout.as_secs_f64())))
    }
}

#[async_trait]
impl DataSyncBackend for ClientBackend {
    /// The node is already initialised; nothing to do.
    async fn initialize(&self, _config: BackendConfig) -> Result<()> {
        Ok(())
    }
    /// Closing the client leaves the node running.
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
impl DocumentStore for ClientBackend {
    async fn upsert(&self, collection: &str, docs: Vec<DocInput>) -> Result<Vec<String>> {
        self.call(Request::Upsert { collection: collection.into(), docs }).await
    }
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Document>> {
        self.call(Request::Get { collection: collection.into(), id: id.into() }).await
    }
    async fn query(&self, collection: &str, request: &QueryRequest) -> Result<QueryStream> {
        self.stream(Request::Query { collection: collection.into(), request: request.clone() }).await
    }
    async fn count(&self, collection: &str, request: &QueryRequest) -> Result<u64> {
        self.call(Request::Count { collection: collection.into(), request: request.clone() }).await
    }
    async fn remove(&self, collection: &str, id: &str) -> Result<()> {
        self.call(Request::Remove { collection: collection.into(), id: id.into() }).await
    }
    async fn observe(&self, collection: &str, filter: Query, start: Start) -> Result<ChangeStream> {
        self.stream(Request::Observe { collection: collection.into(), filter, start }).await
    }
    async fn collections(&self) -> Result<Vec<CollectionInfo>> {
        self.call(Request::Collections).await
    }
    async fn export(&self, request: ExportRequest) -> Result<ExportStream> {
        self.stream(Request::Export { request }).await
    }
    async fn import(&self, records: Vec<ExportRecord>) -> Result<ImportSummary> {
        self.call(Request::Import { records }).await
    }
    async fn backup(&self, path: &std::path::Path) -> Result<()> {
        self.call(Request::Backup { path: path.to_path_buf() }).await
    }
    async fn history(&self, collection: &str, id: &str) -> Result<Option<Vec<HistoryEntry>>> {
        self.call(Request::History { collection: collection.into(), id: id.into() }).await
    }
    async fn conflicts(&self, collection: &str, id: &str) -> Result<Option<Vec<Conflict>>> {
        self.call(Request::Conflicts { collection: collection.into(), id: id.into() }).await
    }
    async fn add_index(&self, collection: &str, path: &crate::sync::Path) -> Result<crate::sync::IndexInfo> {
        self.call(Request::AddIndex { collection: collection.into(), path: path.clone() }).await
    }
    async fn indexes(&self, collection: Option<&str>) -> Result<Vec<crate::sync::IndexInfo>> {
        self.call(Request::Indexes { collection: collection.map(Into::into) }).await
    }
    async fn remove_index(&self, collection: &str, path: &crate::sync::Path) -> Result<()> {
        self.call(Request::RemoveIndex { collection: collection.into(), path: path.clone() }).await
    }
}

#[async_trait]
impl PeerDiscovery for ClientBackend {
    async fn start(&self) -> Result<()> {
        self.call(Request::StartSync).await
    }
    async fn stop(&self) -> Result<()> {
        self.call(Request::StopSync).await
    }
    async fn peers(&self) -> Result<Vec<PeerInfo>> {
        self.call(Request::Peers).await
    }
    async fn add_peer(&self, addr: &str) -> Result<PeerInfo> {
        self.call(Request::AddPeer { addr: addr.into() }).await
    }
    async fn remove_peer(&self, id: &str) -> Result<()> {
        self.call(Request::RemovePeer { id: id.into() }).await
    }
    async fn peer_events(&self) -> Result<PeerEventStream> {
        self.stream(Request::PeerEvents).await
    }
    async fn rekey(&self) -> Result<Rekeyed> {
        self.call(Request::Rekey).await
    }
}

#[async_trait]
impl SyncEngine for ClientBackend {
    async fn start_sync(&self) -> Result<()> {
        self.call(Request::StartSync).await
    }
    async fn stop_sync(&self) -> Result<()> {
        self.call(Request::StopSync).await
    }
    async fn subscribe(&self) -> Result<SyncEventStream> {
        self.stream(Request::SubscribeSync).await
    }
    async fn force_sync(&self) -> Result<()> {
        self.call(Request::ForceSync).await
    }
    async fn wait_for_sync(&self, direction: SyncDirection, timeout: Duration) -> Result<()> {
        self.call(Request::WaitForSync { timeout_ms: timeout.as_millis() as u64, direction }).await
    }
    async fn status(&self) -> Result<SyncStatus> {
        self.call(Request::SyncStatus).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::ClientBackend;
    use crate::backend::contract::{check, test_backend};
    use crate::node::server::ControlServer;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_client_over_the_control_socket_keeps_the_contract() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (home, backend) = test_backend(&tmp).await;
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let server = ControlServer::bind(&home, Arc::new(backend), shutdown).expect("serve");
        let client = ClientBackend::connect(&home).await.expect("connect").expect("a node answers");
        check(&client).await;
        server.close().await;
    }
}
