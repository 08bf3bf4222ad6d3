//! The data types that cross the abstraction layer (and the control socket, hence serde).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::query::{Path, Query};

/// The field that marks a removed document in its JSON form. Reserved: users cannot set it.
pub const DELETED_FIELD: &str = "_deleted";
/// A document's own time to live in seconds: it expires that long after its last update
/// (overriding its collection's `ttl` setting). `upsert --ttl` sets it.
pub const TTL_FIELD: &str = "_ttl";
/// The field holding the clock of a document of a `latest` collection. Reserved and hidden.
pub const HLC_FIELD: &str = "_hlc";
/// The field that carries the document id in its JSON form.
pub const ID_FIELD: &str = "id";

/// A document as stored: a JSON object with a string id, in a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub collection: String,
    pub id: String,
    /// The fields, without `id` and without the tombstone marker.
    pub fields: Map<String, Value>,
    /// True once removed: a tombstone that syncs like any change.
    pub deleted: bool,
    /// Fields with concurrent values, filled only when asked for (`conflicts` in a query).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<super::Conflict>,
}

impl Document {
    /// The JSON form users see and feed back to `upsert`: the fields plus `id`, plus
    /// `"_deleted": true` on a tombstone.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::with_capacity(self.fields.len() + 2);
        obj.insert(ID_FIELD.into(), Value::String(self.id.clone()));
        for (k, v) in &self.fields {
            obj.insert(k.clone(), v.clone());
        }
        if self.deleted {
            obj.insert(DELETED_FIELD.into(), Value::Bool(true));
        }
        Value::Object(obj)
    }
}

/// One document to write: the fields to set and how to set them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocInput {
    /// The id; `None` generates a UUID v7.
    pub id: Option<String>,
    /// Top-level fields to set; each named field is made equal to its value.
    pub fields: Map<String, Value>,
    /// Make the document equal to `fields` (drop the fields it does not name).
    pub replace: bool,
    /// Single paths to set after `fields`, leaving everything else alone.
    pub sets: Vec<(Path, Value)>,
}

impl DocInput {
    /// Builds an input from a JSON object, taking its `id` field as the id.
    pub fn from_object(mut fields: Map<String, Value>, replace: bool) -> Result<Self, String> {
        let id = match fields.remove(ID_FIELD) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => return Err(format!("'id' must be a string, found {other}")),
        };
        Ok(Self { id, fields, replace, sets: Vec::new() })
    }
}

/// Which documents a query sees with respect to removal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deleted {
    /// Live documents only (the default).
    #[default]
    Hide,
    /// Live and removed documents.
    Include,
    /// Removed documents only.
    Only,
}

impl Deleted {
    /// Whether a document with this removal state is visible.
    pub fn admits(self, deleted: bool) -> bool {
        match self {
            Deleted::Hide => !deleted,
            Deleted::Include => true,
            Deleted::Only => deleted,
        }
    }
}

/// A query over one collection: a filter plus ordering and a limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    pub filter: Query,
    pub order_by: Option<Path>,
    pub descending: bool,
    pub limit: Option<usize>,
    pub deleted: Deleted,
    /// Fill each document's `conflicts` (costs loading its Automerge document).
    #[serde(default)]
    pub conflicts: bool,
}

/// A secondary index: documents of a collection ordered by their value at a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexInfo {
    pub collection: String,
    pub path: String,
}

impl Default for QueryRequest {
    fn default() -> Self {
        Self {
            filter: Query::All,
            order_by: None,
            descending: false,
            limit: None,
            deleted: Deleted::Hide,
            conflicts: false,
        }
    }
}

impl QueryRequest {
    /// A request for every live document that matches `filter`.
    pub fn matching(filter: Query) -> Self {
        Self { filter, ..Self::default() }
    }
}

/// One message of a query's results: a document, then `End` (or `Failed`). A stream that
/// stops without `End` was cut short and must not pass for complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryEvent {
    Doc(Document),
    /// Every matching document was sent; how many.
    End {
        documents: u64,
    },
    /// Reading the store failed midway.
    Failed(super::Error),
}

/// A query's results as they are read, from [`crate::sync::DocumentStore::query`]. Bounded:
/// the reader of the store waits while the consumer is behind.
pub type QueryStream = EventStream<QueryEvent>;

impl QueryStream {
    /// Documents of a stream, each passed to `f` as it arrives; how many there were.
    pub async fn for_each(mut self, mut f: impl FnMut(Document) -> super::Result<()>) -> super::Result<u64> {
        loop {
            match self.next().await {
                Some(QueryEvent::Doc(doc)) => f(doc)?,
                Some(QueryEvent::End { documents }) => return Ok(documents),
                Some(QueryEvent::Failed(e)) => return Err(e),
                None => return Err(super::Error::failed("the query's results were cut short")),
            }
        }
    }

    /// All documents of a stream, for callers that expect few.
    pub async fn collect(self) -> super::Result<Vec<Document>> {
        let mut docs = Vec::new();
        self.for_each(|d| {
            docs.push(d);
            Ok(())
        })
        .await?;
        Ok(docs)
    }
}

/// What happened to a document, as seen by an observer of a filter (like `kubectl get -w`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A document matches that did not before: new, revived, or changed into the filter.
    /// The current matches when observation begins are `added` with `initial` set.
    Added,
    /// A matching document changed and still matches.
    Updated,
    /// A matching document was removed.
    Removed,
    /// A matching document changed and no longer matches the filter.
    Left,
    /// The reader fell behind: `missed` events for this observer were dropped here, since
    /// a node holds only a bounded queue per observer. Carries no document.
    Lagged,
}

/// Where a change came from: this node, or the peer that sent it.
pub const ORIGIN_LOCAL: &str = "local";

/// One event of an observation: the kind, where, when, from whom, and the document as it now is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub event: ChangeKind,
    /// When the change was committed here (RFC 3339, UTC). For initial events and for
    /// changes replayed after a reconnect: when the observer read them.
    pub time: String,
    /// `local`, or the node id of the peer the change came from; `null` when not known
    /// (initial events, changes replayed after a reconnect).
    pub origin: Option<String>,
    pub collection: String,
    pub id: String,
    /// The change-log position of this change: an observer resumes after it
    /// ([`Start::After`]).
    pub seq: u64,
    /// Set on the events for the current matches when observation began.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initial: bool,
    /// The document's JSON form after the change.
    pub document: Value,
    /// For a `lagged` event: how many events were dropped before it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub missed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Where an observation starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// From now; with `initial`, the current matches come first as `added` events marked
    /// `initial`.
    Now { initial: bool },
    /// After change-log position `seq`, for an observer to which the documents `matching`
    /// matched then: each document of the collection changed since is reported once, as it
    /// now is, then changes as they happen. How a watch resumes after a node restart.
    After { seq: u64, matching: Vec<String> },
}

/// A live stream of events from a backend. Ends when the backend shuts down or the
/// producer goes away.
#[derive(Debug)]
pub struct EventStream<T> {
    rx: mpsc::Receiver<T>,
}

impl<T> EventStream<T> {
    /// A stream with a sender for the producer side.
    pub fn channel(capacity: usize) -> (mpsc::Sender<T>, Self) {
        let (tx, rx) = mpsc::channel(capacity);
        (tx, Self { rx })
    }
    /// The next event, or `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<T> {
        self.rx.recv().await
    }
    /// The next event if one is ready now.
    pub fn try_next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Document changes, from [`crate::sync::DocumentStore::observe`].
pub type ChangeStream = EventStream<ChangeEvent>;
/// Peer changes, from [`crate::sync::PeerDiscovery::peer_events`].
pub type PeerEventStream = EventStream<PeerEvent>;
/// Sync progress, from [`crate::sync::SyncEngine::subscribe`].
pub type SyncEventStream = EventStream<SyncEvent>;

/// How a node came to know a peer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerSource {
    /// Listed in config.toml (or added with `peers add ID@HOST:PORT`).
    #[default]
    Config,
    /// Added from a join ticket (`init --join`, `peers add TICKET`).
    Ticket,
    /// It dialed this node and proved it is of the formation.
    Incoming,
    /// Another member of the formation told this node about it.
    Exchange,
    /// Found on the local network by mDNS.
    Mdns,
}

/// What is known about a peer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The peer's node id (its Iroh public key).
    pub id: String,
    /// Known direct addresses.
    pub addrs: Vec<String>,
    pub connected: bool,
    /// Whether the connection runs over a relay rather than directly.
    pub relayed: bool,
    /// Round-trip time in milliseconds, when connected.
    pub rtt_ms: Option<f64>,
    /// When a sync round with the peer last completed (Unix milliseconds).
    pub last_sync_ms: Option<u64>,
    pub docs_sent: u64,
    pub docs_received: u64,
    /// Why the last connection attempt failed, if it did.
    pub last_error: Option<String>,
    /// UDP bytes sent to and received from the peer, over all connections since start.
    #[serde(default)]
    pub bytes_sent: u64,
    #[serde(default)]
    pub bytes_received: u64,
    /// How this node came to know the peer.
    #[serde(default)]
    pub source: PeerSource,
    /// While connected: positions of this node's change log the peer has not acknowledged
    /// holding (a position per change; 0 when the peer holds everything of this node).
    #[serde(default)]
    pub peer_behind: Option<u64>,
    /// While connected: positions of the peer's change log this node has not merged yet
    /// (0 when this node holds everything the peer has).
    #[serde(default)]
    pub we_behind: Option<u64>,
}

/// A change in the set of peers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PeerEvent {
    Connected { id: String },
    Disconnected { id: String, reason: String },
    Refused { id: String, reason: String },
}

/// What `peat formation rekey` did: the members connected at the time that took the new key,
/// and those that did not answer (they, like every node not connected, lose access).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rekeyed {
    pub members: Vec<String>,
    pub missed: Vec<String>,
}

/// Progress of synchronisation with peers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// A peer sent changes to a document, now merged locally.
    Received { peer: String, collection: String, id: String },
    /// A catch-up round with a peer completed: both sides hold each other's changes.
    Synced { peer: String },
}

/// How a node reaches peers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransportConfig {
    /// The UDP address the Iroh endpoint binds.
    pub listen: SocketAddr,
    /// Use the public Iroh relays (off by default: nothing phones home).
    pub relays: bool,
    /// Find peers on the local network by mDNS (off by default).
    pub mdns: bool,
    /// The operator's own Iroh relay servers, for peers with no direct path.
    pub relay_urls: Vec<String>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 0)),
            relays: false,
            mdns: false,
            relay_urls: Vec::new(),
        }
    }
}

/// A 32-byte secret (a key). Its `Debug` form hides the bytes, so logs never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub [u8; 32]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Everything a backend needs to open: where its store lives, who it is, which formation it
/// belongs to and how it reaches peers. Built by the caller (the node reads it from the
/// persistence directory), so a backend never looks for files of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendConfig {
    /// The store file.
    pub store: PathBuf,
    /// The node's secret key (its public key is the node id, and the Automerge actor).
    pub identity: Secret,
    /// The formation key peers must prove they hold.
    pub formation_key: Secret,
    /// Peers only sync within one app id and formation.
    pub app_id: String,
    pub transport: TransportConfig,
    /// Peers to dial at start, as `ID@HOST:PORT`.
    pub peers: Vec<String>,
    /// Most peers this node dials; more are not learned from peer exchange or mDNS.
    pub max_peers: usize,
    /// Node ids refused and never dialed (`peers remove`).
    pub blocked: Vec<String>,
}

/// A collection and how many live documents it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionInfo {
    pub name: String,
    pub documents: u64,
}

/// The state of the sync engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub running: bool,
    /// Addresses the endpoint listens on.
    pub listen: Vec<String>,
    pub peers_connected: usize,
}

/// Which way [`crate::sync::SyncEngine::wait_for_sync`] waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncDirection {
    /// Connected peers hold this node's changes (acknowledged its change log to its end).
    Push,
    /// This node holds every change connected peers had when the wait began.
    Pull,
    /// Both: what `peat sync wait` does.
    #[default]
    Both,
}

impl SyncDirection {
    /// Whether the wait covers this node's changes reaching its peers.
    pub fn pushes(self) -> bool {
        matches!(self, SyncDirection::Push | SyncDirection::Both)
    }
    /// Whether the wait covers the peers' changes reaching this node.
    pub fn pulls(self) -> bool {
        matches!(self, SyncDirection::Pull | SyncDirection::Both)
    }
}
