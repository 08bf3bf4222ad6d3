//! Peer-to-peer sync over Iroh (DESIGN.md §8): the running engine of a node. It owns the
//! endpoint, accepts and dials peers (redialing with backoff), authenticates each connection
//! ([`auth`]) and runs a [`session`] per peer. Only a node daemon starts it; short-lived
//! commands use the store alone.

pub mod auth;
pub mod endpoint;
pub mod peers;
pub mod session;
pub mod wire;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use iroh::endpoint::{Connection, RecvStream, SendStream, VarInt};
use iroh::{Endpoint, EndpointAddr, EndpointId, TransportAddr};
use tokio::io::BufReader;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use self::auth::{Failure, Formation};
use self::peers::{Attempt, Peer, PeerAddr, PeerTable, Session};
use super::Store;
use crate::home::ConfigFile;
use crate::sync::{
    BackendConfig, Error, EventStream, PeerEvent, PeerEventStream, PeerInfo, Result, SyncEvent,
    SyncEventStream, SyncStatus,
};

/// How long a connection may take to connect and authenticate.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// First and longest pause between dials of an unreachable peer.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Pause between dials of a peer that refused us (a key change needs an operator anyway).
const REFUSED_BACKOFF: Duration = Duration::from_secs(30);
/// A session that lasted this long resets the backoff.
const STABLE: Duration = Duration::from_secs(10);
/// How long `peers add` waits to report whether the new peer answered.
const ADD_WAIT: Duration = Duration::from_secs(5);
/// Events buffered per subscriber.
const EVENT_BUFFER: usize = 1024;

/// Connection close codes, so the other end's log says why.
const CLOSE_DONE: u32 = 0;
const CLOSE_REFUSED: u32 = 4;
const CLOSE_DUPLICATE: u32 = 5;
const CLOSE_REMOVED: u32 = 6;
const CLOSE_ERROR: u32 = 7;

/// What the engine's tasks share.
pub struct Shared {
    pub store: Arc<Store>,
    endpoint: Endpoint,
    formation: Formation,
    /// Where added and removed peers are remembered.
    config_file: ConfigFile,
    table: Mutex<PeerTable>,
    peer_events: broadcast::Sender<PeerEvent>,
    pub sync_events: broadcast::Sender<SyncEvent>,
    /// The latest committed sequence of the local change log: wakes the feeders.
    pub last_seq: watch::Sender<u64>,
    stopping: watch::Sender<bool>,
}

impl Shared {
    /// The peer table. A task that panicked while holding it cannot leave it half-edited in
    /// a way that matters more than stopping the node would, so a poisoned lock is taken.
    fn table(&self) -> MutexGuard<'_, PeerTable> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs blocking work (redb, config.toml, name resolution) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::context("sync task", e))?
}

/// The sync engine of a running node.
pub struct Engine {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Binds the endpoint and starts accepting, dialing the configured peers and syncing.
    pub async fn start(store: Arc<Store>, config: &BackendConfig, config_file: ConfigFile) -> Result<Self> {
        let formation = Formation { app_id: config.app_id.clone(), key: config.formation_key.0 };
        let changes = store.subscribe();
        let (last_seq, configured) = {
            let (store, entries) = (store.clone(), config.peers.clone());
            let (app_id, key) = (formation.app_id.clone(), formation.key);
            blocking(move || Ok((store.last_seq()?, peers::from_config(&entries, &app_id, &key)))).await?
        };
        let secret = iroh::SecretKey::from_bytes(&config.identity.0);
        let (endpoint, mdns) = endpoint::bind(secret, &config.transport).await?;
        let shared = Arc::new(Shared {
            store,
            endpoint,
            formation,
            config_file,
            table: Mutex::default(),
            peer_events: broadcast::channel(EVENT_BUFFER).0,
            sync_events: broadcast::channel(EVENT_BUFFER).0,
            last_seq: watch::channel(last_seq).0,
            stopping: watch::channel(false).0,
        });
        tracing::info!(
            "sync endpoint {} listening on {:?} (relays {}, mDNS {})",
            shared.endpoint.id(),
            endpoint::listening(&shared.endpoint),
            if config.transport.relays { "on" } else { "off" },
            if config.transport.mdns { "on" } else { "off" },
        );
        let mut tasks =
            vec![tokio::spawn(track_seq(shared.clone(), changes)), tokio::spawn(accept_loop(shared.clone()))];
        for peer in configured {
            ensure_peer(&shared, peer.id, peer.addrs, true);
        }
        if let Some(mdns) = mdns {
            tasks.push(tokio::spawn(mdns_loop(shared.clone(), mdns)));
        }
        Ok(Self { shared, tasks })
    }

    /// Closes every connection gracefully and the endpoint.
    pub async fn stop(&self) {
        self.shared.stopping.send_replace(true);
        for t in &self.tasks {
            t.abort();
        }
        let dialers: Vec<_> = {
            let mut table = self.shared.table();
            table.peers.values_mut().filter_map(|p| p.dialer_task.take()).collect()
        };
        for d in dialers {
            d.abort();
        }
        self.shared.endpoint.close().await;
    }

    pub fn peers(&self) -> Vec<PeerInfo> {
        let table = self.shared.table();
        let mut out: Vec<PeerInfo> = table.peers.iter().map(|(id, p)| p.info(id)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Remembers a peer in config.toml, dials it and reports how the first attempt went.
    pub async fn add_peer(&self, addr: &str) -> Result<PeerInfo> {
        let shared = &self.shared;
        let (addr, app_id, key) = (addr.to_string(), shared.formation.app_id.clone(), shared.formation.key);
        let (me, file) = (shared.endpoint.id(), shared.config_file.clone());
        // Parsing may resolve a host name: off the async threads, with the file write.
        let peer = blocking(move || {
            let peer = PeerAddr::parse(&addr, &app_id, &key)?;
            if peer.id == me {
                return Err(Error::invalid("that is this node's own id"));
            }
            file.add_peers(&peer.config_entries())?;
            Ok(peer)
        })
        .await?;
        let mut attempt = ensure_peer(shared, peer.id, peer.addrs.clone(), true);
        let outcome = match tokio::time::timeout(ADD_WAIT, attempt.wait_for(|a| *a != Attempt::Pending)).await
        {
            Ok(Ok(a)) => a.clone(),
            _ => Attempt::Pending,
        };
        if let Attempt::Refused(reason) = outcome {
            let (file, id) = (shared.config_file.clone(), peer.id.to_string());
            blocking(move || file.remove_peer(&id)).await?;
            drop_peer(shared, &peer.id);
            return Err(Error::refused(format!("peer {} refused: {reason}", peer.id)));
        }
        let table = shared.table();
        Ok(table.peers.get(&peer.id).map(|p| p.info(&peer.id)).unwrap_or_default())
    }

    /// Forgets a peer: config entry, dialer and connection.
    pub async fn remove_peer(&self, id: &str) -> Result<()> {
        let (file, owned) = (self.shared.config_file.clone(), id.to_string());
        let in_config = blocking(move || file.remove_peer(&owned)).await?;
        let known = id.parse::<EndpointId>().ok().is_some_and(|id| drop_peer(&self.shared, &id));
        if in_config || known { Ok(()) } else { Err(Error::not_found(format!("no peer '{id}'"))) }
    }

    pub fn peer_events(&self) -> PeerEventStream {
        forward(self.shared.peer_events.subscribe())
    }

    pub fn sync_events(&self) -> SyncEventStream {
        forward(self.shared.sync_events.subscribe())
    }

    /// Dials every disconnected peer now instead of after its backoff. Connected peers are
    /// always caught up: their feeds are live.
    pub fn force_sync(&self) {
        let table = self.shared.table();
        for p in table.peers.values() {
            p.wake.notify_one();
        }
    }

    /// Waits until every connected peer acknowledged our change log up to its current end.
    /// While no peer is connected but some are known, waits for one to connect.
    pub async fn wait_for_sync(&self, timeout: Duration) -> Result<()> {
        let shared = &self.shared;
        let deadline = Instant::now() + timeout;
        let store = shared.store.clone();
        let target = blocking(move || store.last_seq()).await?;
        let mut events = shared.peer_events.subscribe();
        loop {
            let (sessions, known, refused, errors) = {
                let table = shared.table();
                let sessions: Vec<(EndpointId, Session)> =
                    table.peers.iter().filter_map(|(id, p)| p.live().map(|s| (*id, s.clone()))).collect();
                let mut refused = Vec::new();
                let mut errors = Vec::new();
                for (id, p) in &table.peers {
                    match &*p.attempt.borrow() {
                        Attempt::Refused(r) => refused.push(format!("{}: {r}", id.fmt_short())),
                        Attempt::Failed(e) => errors.push(format!("{}: {e}", id.fmt_short())),
                        _ => {}
                    }
                }
                (sessions, table.peers.len(), refused, errors)
            };
            if sessions.is_empty() {
                if known == 0 {
                    return Err(Error::failed(
                        "no peer is known; add one with `peat peers add ID@HOST:PORT`",
                    ));
                }
                if refused.len() == known {
                    return Err(Error::refused(format!(
                        "every peer refused this node: {}",
                        refused.join("; ")
                    )));
                }
                let connected = async {
                    loop {
                        match events.recv().await {
                            Ok(PeerEvent::Connected { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {
                                return;
                            }
                            Ok(_) => {}
                            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                        }
                    }
                };
                if tokio::time::timeout_at(deadline, connected).await.is_err() {
                    let why = refused.into_iter().chain(errors).collect::<Vec<_>>().join("; ");
                    return Err(Error::failed(format!(
                        "no peer is reachable (waited {}s){}",
                        timeout.as_secs_f64(),
                        if why.is_empty() { String::new() } else { format!(": {why}") }
                    )));
                }
                continue;
            }
            let mut acknowledged = 0;
            for (id, mut s) in sessions {
                let acked = async {
                    tokio::select! {
                        r = s.acked.wait_for(|&a| a >= target) => r.is_ok(),
                        _ = s.conn.closed() => false,
                    }
                };
                match tokio::time::timeout_at(deadline, acked).await {
                    Ok(true) => acknowledged += 1,
                    Ok(false) => {}
                    Err(_) => {
                        return Err(Error::timeout(format!(
                            "peer {} did not acknowledge this node's changes within {}s",
                            id.fmt_short(),
                            timeout.as_secs_f64()
                        )));
                    }
                }
            }
            if acknowledged > 0 {
                return Ok(());
            }
        }
    }

    pub fn status(&self) -> SyncStatus {
        let table = self.shared.table();
        SyncStatus {
            running: true,
            listen: endpoint::listening(&self.shared.endpoint).iter().map(ToString::to_string).collect(),
            peers_connected: table.peers.values().filter(|p| p.live().is_some()).count(),
        }
    }
}

fn forward<T: Clone + Send + 'static>(mut rx: broadcast::Receiver<T>) -> EventStream<T> {
    let (tx, stream) = EventStream::channel(EVENT_BUFFER);
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if tx.send(e).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    stream
}

/// Keeps [`Shared::last_seq`] at the end of the local change log.
async fn track_seq(shared: Arc<Shared>, mut changes: broadcast::Receiver<Arc<crate::backend::Committed>>) {
    loop {
        match changes.recv().await {
            Ok(c) => {
                shared.last_seq.send_if_modified(|s| {
                    let moved = c.seq > *s;
                    *s = (*s).max(c.seq);
                    moved
                });
            }
            Err(broadcast::error::RecvError::Lagged(_)) => {
                let store = shared.store.clone();
                if let Ok(seq) = blocking(move || store.last_seq()).await {
                    shared.last_seq.send_replace(seq);
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Registers a peer (or more addresses of it) and, with `dial`, makes sure a dialer runs.
/// Returns the peer's attempt outcomes, reset to pending when a dial is due.
fn ensure_peer(
    shared: &Arc<Shared>,
    id: EndpointId,
    addrs: Vec<std::net::SocketAddr>,
    dial: bool,
) -> watch::Receiver<Attempt> {
    let mut table = shared.table();
    let peer = table.peers.entry(id).or_insert_with(|| Peer::new(Vec::new()));
    for a in addrs {
        if !peer.addrs.contains(&a) {
            peer.addrs.push(a);
        }
    }
    if dial {
        peer.dialed = true;
        if peer.live().is_none() {
            peer.attempt.send_replace(Attempt::Pending);
        }
        if peer.dialer_task.as_ref().is_none_or(JoinHandle::is_finished) {
            peer.dialer_task = Some(tokio::spawn(dial_loop(shared.clone(), id)));
        } else {
            peer.wake.notify_one();
        }
    }
    peer.attempt.subscribe()
}

/// Forgets a peer: stops its dialer and closes its connection. Returns whether it was known.
fn drop_peer(shared: &Shared, id: &EndpointId) -> bool {
    let removed = shared.table().peers.remove(id);
    let Some(mut peer) = removed else { return false };
    if let Some(d) = peer.dialer_task.take() {
        d.abort();
    }
    if let Some(s) = peer.session.take() {
        s.conn.close(VarInt::from_u32(CLOSE_REMOVED), b"peer removed");
    }
    true
}

/// What a connection came to, for the dialer's backoff.
enum Outcome {
    /// A session ran (and ended) after this long.
    Ran(Duration),
    Refused,
    Failed,
    /// Another connection to the peer is preferred.
    Duplicate,
}

async fn accept_loop(shared: Arc<Shared>) {
    while let Some(incoming) = shared.endpoint.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let conn = match tokio::time::timeout(HANDSHAKE, incoming.into_future()).await {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => return tracing::debug!("incoming connection failed: {e}"),
                Err(_) => return tracing::debug!("incoming connection timed out"),
            };
            let peer = conn.remote_id();
            match tokio::time::timeout(HANDSHAKE, conn.accept_bi()).await {
                Ok(Ok((send, recv))) => {
                    connected(&shared, conn, peer, false, send, recv).await;
                }
                _ => {
                    tracing::debug!("peer {} opened no stream", peer.fmt_short());
                    conn.close(VarInt::from_u32(CLOSE_ERROR), b"no stream");
                }
            }
        });
    }
}

/// Dials a peer whenever it is not connected, backing off while it cannot be reached.
async fn dial_loop(shared: Arc<Shared>, id: EndpointId) {
    let mut backoff = MIN_BACKOFF;
    let mut stopping = shared.stopping.subscribe();
    loop {
        if *stopping.borrow() {
            return;
        }
        let (live, addrs, wake) = {
            let table = shared.table();
            let Some(peer) = table.peers.get(&id) else { return };
            (peer.live().map(|s| s.conn.clone()), peer.addrs.clone(), peer.wake.clone())
        };
        if let Some(conn) = live {
            conn.closed().await;
            continue;
        }
        let addr = EndpointAddr::from_parts(id, addrs.into_iter().map(TransportAddr::Ip));
        let outcome = match tokio::time::timeout(HANDSHAKE, shared.endpoint.connect(addr, wire::ALPN)).await {
            Ok(Ok(conn)) => match conn.open_bi().await {
                Ok((send, recv)) => connected(&shared, conn, id, true, send, recv).await,
                Err(e) => failed(&shared, &id, format!("cannot open a stream: {e}")),
            },
            Ok(Err(e)) => failed(&shared, &id, format!("cannot connect: {e}")),
            Err(_) => failed(&shared, &id, "cannot connect: timed out".into()),
        };
        let pause = match outcome {
            Outcome::Duplicate => continue,
            Outcome::Ran(d) if d > STABLE => {
                backoff = MIN_BACKOFF;
                backoff
            }
            Outcome::Ran(_) | Outcome::Failed => {
                let b = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                b
            }
            Outcome::Refused => REFUSED_BACKOFF,
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = wake.notified() => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

fn failed(shared: &Shared, id: &EndpointId, why: String) -> Outcome {
    tracing::debug!("peer {}: {why}", id.fmt_short());
    if let Some(p) = shared.table().peers.get(id) {
        p.attempt.send_replace(Attempt::Failed(why));
    }
    Outcome::Failed
}

/// Authenticates a new connection, then runs its session until it ends.
async fn connected(
    shared: &Arc<Shared>,
    conn: Connection,
    peer: EndpointId,
    dialed: bool,
    mut send: SendStream,
    recv: RecvStream,
) -> Outcome {
    let me = shared.endpoint.id();
    let store_id = shared.store.store_id();
    let mut recv = BufReader::with_capacity(256 * 1024, recv);
    let handshake = async {
        if dialed {
            auth::dial(&shared.formation, &me, &peer, store_id, &mut recv, &mut send).await
        } else {
            auth::accept(&shared.formation, &me, &peer, &mut recv, &mut send).await
        }
    };
    let peer_store = match tokio::time::timeout(HANDSHAKE, handshake).await {
        Ok(Ok(s)) => s,
        Ok(Err(Failure::Refused(reason))) => {
            tracing::warn!("peer {peer}: refused: {reason}");
            {
                // A stranger that dialed us is not added to the peers; a peer we know is marked.
                let table = shared.table();
                if let Some(p) = table.peers.get(&peer) {
                    p.attempt.send_replace(Attempt::Refused(reason.clone()));
                }
            }
            let _ =
                shared.peer_events.send(PeerEvent::Refused { id: peer.to_string(), reason: reason.clone() });
            // Let the Refuse frame reach the peer before the connection goes.
            let _ = send.finish();
            let _ = tokio::time::timeout(Duration::from_secs(2), conn.closed()).await;
            conn.close(VarInt::from_u32(CLOSE_REFUSED), reason.as_bytes());
            return Outcome::Refused;
        }
        Ok(Err(Failure::Broken(e))) => {
            conn.close(VarInt::from_u32(CLOSE_ERROR), b"handshake failed");
            return failed(shared, &peer, format!("handshake failed: {e}"));
        }
        Err(_) => {
            conn.close(VarInt::from_u32(CLOSE_ERROR), b"handshake timed out");
            return failed(shared, &peer, "handshake timed out".into());
        }
    };

    let (acked_tx, acked_rx) = watch::channel(0u64);
    let (serial, counters) = {
        let mut table = shared.table();
        let serial = table.serial();
        let session =
            Session { serial, conn: conn.clone(), dialer: if dialed { me } else { peer }, acked: acked_rx };
        match table.install(peer, session) {
            Some((loser, true)) => loser.close(VarInt::from_u32(CLOSE_DUPLICATE), b"duplicate connection"),
            Some((loser, false)) => {
                loser.close(VarInt::from_u32(CLOSE_DUPLICATE), b"duplicate connection");
                return Outcome::Duplicate;
            }
            None => {}
        }
        (serial, table.peers[&peer].counters.clone())
    };
    if !dialed && let Err(e) = auth::ready(store_id, &mut send).await {
        shared.table().uninstall(&peer, serial);
        return failed(shared, &peer, format!("handshake failed: {e}"));
    }
    tracing::info!("peer {peer}: connected ({})", if dialed { "dialed" } else { "accepted" });
    let _ = shared.peer_events.send(PeerEvent::Connected { id: peer.to_string() });
    let started = Instant::now();
    let result = session::run(shared.clone(), peer, peer_store, counters, send, recv, acked_tx).await;
    let reason = match (&result, conn.close_reason()) {
        (_, Some(closed)) => closed.to_string(),
        (Err(e), None) => e.to_string(),
        (Ok(()), None) => "the peer ended the session".into(),
    };
    match &result {
        Err(e) => conn.close(VarInt::from_u32(CLOSE_ERROR), e.to_string().as_bytes()),
        Ok(()) => conn.close(VarInt::from_u32(CLOSE_DONE), b"done"),
    }
    let current = shared.table().uninstall(&peer, serial);
    if current {
        tracing::info!("peer {peer}: disconnected: {reason}");
        let _ = shared.peer_events.send(PeerEvent::Disconnected { id: peer.to_string(), reason });
    }
    Outcome::Ran(started.elapsed())
}

/// Dials peers that mDNS finds on the local network (not remembered in config.toml).
async fn mdns_loop(shared: Arc<Shared>, mdns: iroh_mdns_address_lookup::MdnsAddressLookup) {
    use tokio_stream::StreamExt;
    let mut events = mdns.subscribe().await;
    while let Some(event) = events.next().await {
        if let iroh_mdns_address_lookup::DiscoveryEvent::Discovered { endpoint_info, .. } = event {
            let id = endpoint_info.endpoint_id;
            if id == shared.endpoint.id() {
                continue;
            }
            let addrs: Vec<_> = endpoint_info.data.ip_addrs().copied().collect();
            let known = shared.table().peers.get(&id).is_some_and(|p| p.dialed);
            if !known {
                tracing::info!("mDNS found peer {id} at {addrs:?}");
                ensure_peer(&shared, id, addrs, true);
            }
        }
    }
}
