//! What a directory's node is and holds: one report for `peat status` and `peat sync status`,
//! from the running node when there is one, else from the store opened here.

use std::net::SocketAddr;

use serde::Serialize;

use super::client::ClientBackend;
use super::open;
use crate::home::{NodeDir, Ticket};
use crate::sync::{CollectionInfo, PeerInfo, Result};

/// The state of a node directory.
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    pub running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_secs: Option<u64>,
    pub node_id: String,
    pub app_id: String,
    pub dir: String,
    /// Addresses the running node's sync endpoint is bound to.
    pub listen: Vec<String>,
    /// A join ticket with the addresses the running node is bound to (only when asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    pub peers_connected: usize,
    pub collections: Vec<CollectionInfo>,
    /// The running node's peers and how far each side is behind the other.
    pub peers: Vec<PeerSync>,
}

/// A peer of a running node, as `sync status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PeerSync {
    pub id: String,
    pub connected: bool,
    /// While connected: this node's log entries the peer has not acknowledged.
    pub peer_behind: Option<u64>,
    /// While connected: the peer's log entries this node has not merged.
    pub we_behind: Option<u64>,
}

impl From<PeerInfo> for PeerSync {
    fn from(p: PeerInfo) -> Self {
        Self { id: p.id, connected: p.connected, peer_behind: p.peer_behind, we_behind: p.we_behind }
    }
}

/// The status of `dir`, with a join ticket when `ticket` is set and a node runs.
pub async fn status(dir: &NodeDir, ticket: bool, notice: open::Notice<'_>) -> Result<NodeStatus> {
    dir.require()?;
    let backend = match ClientBackend::connect(dir).await? {
        Some(client) => return running(dir, client, ticket).await,
        None => open::open(dir, notice).await?.boxed(),
    };
    let collections = backend.document_store().collections().await;
    backend.shutdown().await?;
    // Release the store before the caller prints: a full pipe must not hold the directory.
    drop(backend);
    Ok(NodeStatus {
        running: false,
        pid: None,
        uptime_secs: None,
        node_id: dir.identity()?.public().to_string(),
        app_id: dir.config()?.app_id,
        dir: dir.path().display().to_string(),
        listen: Vec::new(),
        ticket: None,
        peers_connected: 0,
        collections: collections?,
        peers: Vec::new(),
    })
}

async fn running(dir: &NodeDir, client: ClientBackend, ticket: bool) -> Result<NodeStatus> {
    use crate::sync::{DocumentStore, PeerDiscovery, SyncEngine};
    let info = client.node_info().await?;
    let sync = SyncEngine::status(&client).await?;
    let ticket = if ticket {
        let bound: Vec<SocketAddr> = sync.listen.iter().filter_map(|a| a.parse().ok()).collect();
        Some(Ticket::for_node(dir, &bound)?.encode()?)
    } else {
        None
    };
    Ok(NodeStatus {
        running: true,
        pid: Some(info.pid),
        uptime_secs: Some(info.uptime_secs),
        node_id: info.node_id,
        app_id: dir.config()?.app_id,
        dir: dir.path().display().to_string(),
        listen: sync.listen,
        ticket,
        peers_connected: sync.peers_connected,
        collections: DocumentStore::collections(&client).await?,
        peers: PeerDiscovery::peers(&client).await?.into_iter().map(PeerSync::from).collect(),
    })
}
