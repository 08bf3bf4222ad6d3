//! The control socket server: answers each request with one trait call on the node's
//! backend, and streams events for the observe-like requests. Whatever a client sends, the
//! worst outcome is an error line and a closed connection, never a harmed node.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tokio::io::BufReader;
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::protocol::{
    HEARTBEAT, MAX_REQUEST, NodeInfo, Request, Response, decode_request, read_line, write_line,
};
use crate::home::{NodeDir, SOCKET_FILE};
use crate::sync::{DataSyncBackend, Error, EventStream, Result};

/// A serving control socket. Dropping it stops accepting and removes the socket file.
pub struct ControlServer {
    path: PathBuf,
    accept: tokio::task::JoinHandle<()>,
    ctx: Arc<Context>,
}

/// Longest a closing server waits for requests in flight to be answered.
const DRAIN: Duration = Duration::from_secs(5);
/// Most control connections served at once (each may buffer a line of [`MAX_REQUEST`]); one
/// more is answered with an error and closed.
pub const MAX_CONNECTIONS: usize = 64;

/// What connection handlers share.
struct Context {
    backend: Arc<dyn DataSyncBackend>,
    started: Instant,
    node_id: String,
    shutdown: watch::Sender<bool>,
    /// Held (shared) while a request is answered, so closing can wait for answers in flight.
    in_flight: tokio::sync::RwLock<()>,
}

impl ControlServer {
    /// Binds `node.sock` (0600) in `dir` and serves `backend` on it. The caller holds the
    /// directory lock and has cleaned a dead node's leftovers (`DirLock::clean_leftovers`).
    /// A `Shutdown` request flips `shutdown` to true.
    pub fn bind(
        dir: &NodeDir,
        backend: Arc<dyn DataSyncBackend>,
        shutdown: watch::Sender<bool>,
    ) -> Result<Self> {
        let path = dir.file(SOCKET_FILE);
        let listener = UnixListener::bind(&path)
            .map_err(|e| Error::context(&format!("binding {}", path.display()), e))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::context("socket permissions", e))?;
        let ctx = Arc::new(Context {
            node_id: dir.identity()?.public().to_string(),
            backend,
            started: Instant::now(),
            shutdown,
            in_flight: tokio::sync::RwLock::new(()),
        });
        let accept_ctx = Arc::clone(&ctx);
        let accept = tokio::spawn(async move {
            let ctx = accept_ctx;
            let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => match Arc::clone(&slots).try_acquire_owned() {
                        Ok(slot) => {
                            tokio::spawn(handle(stream, Arc::clone(&ctx), slot));
                        }
                        Err(_) => {
                            tokio::spawn(refuse(stream));
                        }
                    },
                    Err(e) => {
                        tracing::warn!("control socket accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        Ok(Self { path, accept, ctx })
    }

    /// Stops accepting, removes the socket, and waits (briefly) until every request in
    /// flight has its answer, so a client never loses the reply to a committed write.
    pub async fn close(self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.path);
        if tokio::time::timeout(DRAIN, self.ctx.in_flight.write()).await.is_err() {
            tracing::warn!("closing the control socket with requests still in flight");
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Tells a connection over [`MAX_CONNECTIONS`] why it is closed (if it reads within a moment).
async fn refuse(stream: UnixStream) {
    tracing::debug!("control socket: refused a connection over the limit of {MAX_CONNECTIONS}");
    let (_, mut writer) = stream.into_split();
    let full = Error::refused(format!(
        "the node serves at most {MAX_CONNECTIONS} control connections at once; try again later"
    ));
    let _ = tokio::time::timeout(HEARTBEAT, write_line(&mut writer, &Response::Error(full))).await;
}

/// How long a connection refused for a bad line is read to its end, at most.
const DISCARD: Duration = Duration::from_secs(5);

/// Serves one connection, holding one of the [`MAX_CONNECTIONS`] slots until its end.
async fn handle(stream: UnixStream, ctx: Arc<Context>, slot: tokio::sync::OwnedSemaphorePermit) {
    let (reader, mut writer) = stream.into_split();
    // Declared after the halves, so dropped before them: the slot is free by the time the
    // client sees the connection close.
    let _slot = slot;
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        match read_line(&mut reader, &mut line, MAX_REQUEST).await {
            Ok(Some(())) => {}
            Ok(None) => return,
            Err(e) => {
                let _ = write_line(&mut writer, &Response::Error(e)).await;
                // Discard what the client still sends: closing with unread input would reset
                // the connection, and the client might lose the error before reading it. The
                // write half stays open meanwhile, so the client sees the end only once the
                // slot is free.
                let mut sink = tokio::io::sink();
                let _ = tokio::time::timeout(DISCARD, tokio::io::copy(&mut reader, &mut sink)).await;
                return;
            }
        }
        let request = match decode_request(&line) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("control socket: {e}");
                if write_line(&mut writer, &Response::Error(e)).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let store = ctx.backend.document_store();
        match request {
            Request::Observe { collection, filter, start } => {
                return forward(store.observe(&collection, filter, start).await, reader, writer).await;
            }
            Request::PeerEvents => {
                return forward(ctx.backend.peer_discovery().peer_events().await, reader, writer).await;
            }
            Request::SubscribeSync => {
                return forward(ctx.backend.sync_engine().subscribe().await, reader, writer).await;
            }
            Request::Export { request } => {
                return forward(store.export(request).await, reader, writer).await;
            }
            Request::Query { collection, request } => {
                return forward(store.query(&collection, &request).await, reader, writer).await;
            }
            Request::Shutdown => {
                let _ = write_line(&mut writer, &Response::Ok(Value::Null)).await;
                ctx.shutdown.send_replace(true);
                // Keep the connection until the process exits: its closing tells the client
                // that shutdown finished.
                return std::future::pending().await;
            }
            other => {
                let _answering = ctx.in_flight.read().await;
                let Some(response) = answer(&ctx, other, &mut writer).await else { return };
                if write_line(&mut writer, &response).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The response to `request`, saying `working` every [`HEARTBEAT`] until it is ready; `None`
/// when the client went away meanwhile.
async fn answer(ctx: &Context, request: Request, writer: &mut OwnedWriteHalf) -> Option<Response> {
    let answer = call(ctx, request);
    tokio::pin!(answer);
    let mut beat = heartbeat();
    loop {
        tokio::select! {
            result = &mut answer => return Some(match result {
                Ok(value) => Response::Ok(value),
                Err(e) => Response::Error(e),
            }),
            _ = beat.tick() => write_line(writer, &Response::Working).await.ok()?,
        }
    }
}

/// Ticks every [`HEARTBEAT`], the first after one period.
fn heartbeat() -> tokio::time::Interval {
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    beat
}

/// Sends a stream's events as lines until it ends or the client goes away, and `working`
/// when it has been quiet for a [`HEARTBEAT`].
async fn forward<T: Serialize + Send + 'static>(
    stream: Result<EventStream<T>>,
    mut reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    mut writer: OwnedWriteHalf,
) {
    let mut stream = match stream {
        Ok(s) => s,
        Err(e) => {
            let _ = write_line(&mut writer, &Response::Error(e)).await;
            return;
        }
    };
    if write_line(&mut writer, &Response::Ok(Value::Null)).await.is_err() {
        return;
    }
    // Buffered: a burst of events (a query's results) goes out in large writes, flushed
    // whenever the stream has nothing more ready.
    let mut writer = tokio::io::BufWriter::with_capacity(FORWARD_BUFFER, writer);
    let mut ignored = Vec::new();
    let mut beat = heartbeat();
    loop {
        tokio::select! {
            event = stream.next() => match event {
                Some(event) => {
                    if write_burst(&mut writer, event, &mut stream).await.is_err() { return }
                    beat.reset();
                }
                None => return,
            },
            _ = beat.tick() => if write_heartbeat(&mut writer).await.is_err() { return },
            // Anything from the client, or its end, finishes the stream.
            _ = read_line(&mut reader, &mut ignored, MAX_REQUEST) => return,
        }
    }
}

/// Bytes of events a stream gathers before writing them to the socket.
const FORWARD_BUFFER: usize = 64 * 1024;
/// Most events written between two flushes.
const BURST: usize = 256;

/// Writes `first` and the events ready right behind it, then flushes.
async fn write_burst<T: Serialize>(
    writer: &mut tokio::io::BufWriter<OwnedWriteHalf>,
    first: T,
    stream: &mut EventStream<T>,
) -> Result<()> {
    write_line(writer, &first).await?;
    for _ in 1..BURST {
        let Some(event) = stream.try_next() else { break };
        write_line(writer, &event).await?;
    }
    tokio::io::AsyncWriteExt::flush(writer).await.map_err(|e| Error::context("control socket", e))
}

/// Tells a streaming client the node is alive while its stream is quiet (flushed at once).
async fn write_heartbeat(writer: &mut tokio::io::BufWriter<OwnedWriteHalf>) -> Result<()> {
    write_line(writer, &Response::Working).await?;
    tokio::io::AsyncWriteExt::flush(writer).await.map_err(|e| Error::context("control socket", e))
}

fn to_value(value: impl Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::context("encoding response", e))
}

/// One trait call for one request.
async fn call(ctx: &Context, request: Request) -> Result<Value> {
    let store = ctx.backend.document_store();
    let peers = ctx.backend.peer_discovery();
    let sync = ctx.backend.sync_engine();
    match request {
        Request::Upsert { collection, docs } => to_value(store.upsert(&collection, docs).await?),
        Request::Get { collection, id } => to_value(store.get(&collection, &id).await?),
        Request::Count { collection, request } => to_value(store.count(&collection, &request).await?),
        Request::Remove { collection, id } => to_value(store.remove(&collection, &id).await?),
        Request::Collections => to_value(store.collections().await?),
        Request::Import { records } => to_value(store.import(records).await?),
        Request::Backup { path } => to_value(store.backup(&path).await?),
        Request::History { collection, id } => to_value(store.history(&collection, &id).await?),
        Request::Conflicts { collection, id } => to_value(store.conflicts(&collection, &id).await?),
        Request::AddIndex { collection, path } => to_value(store.add_index(&collection, &path).await?),
        Request::Indexes { collection } => to_value(store.indexes(collection.as_deref()).await?),
        Request::RemoveIndex { collection, path } => to_value(store.remove_index(&collection, &path).await?),
        Request::Peers => to_value(peers.peers().await?),
        Request::AddPeer { addr } => to_value(peers.add_peer(&addr).await?),
        Request::RemovePeer { id } => to_value(peers.remove_peer(&id).await?),
        Request::Rekey => to_value(peers.rekey().await?),
        Request::StartSync => to_value(sync.start_sync().await?),
        Request::StopSync => to_value(sync.stop_sync().await?),
        Request::ForceSync => to_value(sync.force_sync().await?),
        Request::WaitForSync { timeout_ms, direction } => {
            to_value(sync.wait_for_sync(direction, Duration::from_millis(timeout_ms)).await?)
        }
        Request::SyncStatus => to_value(sync.status().await?),
        Request::NodeInfo => to_value(NodeInfo {
            pid: std::process::id(),
            uptime_secs: ctx.started.elapsed().as_secs(),
            node_id: ctx.node_id.clone(),
        }),
        Request::Observe { .. }
        | Request::Export { .. }
        | Request::Query { .. }
        | Request::PeerEvents
        | Request::SubscribeSync
        | Request::Shutdown => Err(Error::invalid("stream request in the wrong place")),
    }
}
