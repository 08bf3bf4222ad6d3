//! Peer-to-peer sync over Iroh (DESIGN.md §8): the running engine of a node. Only a node
//! daemon starts it; short-lived commands use the store alone. This module is the engine's
//! API and the state its tasks share; each job it does lives in a module of its own.

mod accept;
mod auth;
mod connection;
mod dial;
mod endpoint;
mod mdns;
pub(crate) mod peers;
mod session;
mod tasks;
pub mod wire;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use iroh::protocol::Router;
use iroh::{Endpoint, EndpointId};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use self::auth::Formation;
use self::connection::{CLOSE_REMOVED, close};
use self::peers::{Attempt, Peer, PeerAddr, PeerTable, Session};
use self::tasks::Tasks;
use super::Store;
use crate::home::ConfigFile;
use crate::sync::{
    BackendConfig, Error, EventStream, PeerEvent, PeerEventStream, PeerInfo, Result, SyncDirection,
    SyncEvent, SyncEventStream, SyncStatus,
};

/// How long `peers add` waits to report whether the new peer answered.
const ADD_WAIT: Duration = Duration::from_secs(5);
/// Events buffered per subscriber.
const EVENT_BUFFER: usize = 1024;
/// How long stopping waits for the engine's tasks to wind down before aborting them.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// What the engine's tasks share.
struct Shared {
    store: Arc<Store>,
    endpoint: Endpoint,
    formation: Formation,
    /// Where added and removed peers are remembered.
    config_file: ConfigFile,
    table: Mutex<PeerTable>,
    peer_events: broadcast::Sender<PeerEvent>,
    sync_events: broadcast::Sender<SyncEvent>,
    /// The latest committed sequence of the local change log: wakes the feeders.
    last_seq: watch::Sender<u64>,
    stopping: watch::Sender<bool>,
    tasks: Tasks,
}

impl Shared {
    /// The peer table. A task that panicked while holding it cannot leave it half-edited in
    /// a way that matters more than stopping the node would, so a poisoned lock is taken.
    fn table(&self) -> MutexGuard<'_, PeerTable> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once the engine is stopping.
    fn stopped(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut stopping = self.stopping.subscribe();
        async move {
            let _ = stopping.wait_for(|s| *s).await;
        }
    }

    /// Registers a peer (or more addresses of it) and makes sure a dialer runs for it.
    /// Returns the peer's attempt outcomes, reset to pending when a dial is due.
    fn ensure_peer(
        self: &Arc<Self>,
        id: EndpointId,
        addrs: Vec<std::net::SocketAddr>,
    ) -> watch::Receiver<Attempt> {
        let mut table = self.table();
        let peer = table.peers.entry(id).or_insert_with(|| Peer::new(Vec::new()));
        for a in addrs {
            if !peer.addrs.contains(&a) {
                peer.addrs.push(a);
            }
        }
        peer.dialed = true;
        if peer.live().is_none() {
            peer.attempt.send_replace(Attempt::Pending);
        }
        if peer.dialing.as_ref().is_some_and(|d| !d.is_closed()) {
            peer.wake.notify_one();
        } else {
            let (dialing, removed) = watch::channel(());
            peer.dialing = Some(dialing);
            self.tasks.spawn(dial::run(self.clone(), id, removed));
        }
        peer.attempt.subscribe()
    }

    /// Forgets a peer: its dialer ends and its connection closes. Returns whether it was known.
    fn drop_peer(&self, id: &EndpointId) -> bool {
        let removed = self.table().peers.remove(id);
        let Some(peer) = removed else { return false };
        if let Some(s) = &peer.session {
            close(&s.conn, CLOSE_REMOVED, "peer removed");
        }
        true
    }
}

/// Runs blocking work (redb, config.toml, name resolution) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::context("sync task", e))?
}

/// The sync engine of a running node.
pub(crate) struct Engine {
    shared: Arc<Shared>,
    router: Router,
}

impl Engine {
    /// Binds the endpoint and starts accepting, dialing the configured peers and syncing.
    pub(crate) async fn start(
        store: Arc<Store>,
        config: &BackendConfig,
        config_file: ConfigFile,
    ) -> Result<Self> {
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
            tasks: Tasks::default(),
        });
        tracing::info!(
            "sync endpoint {} listening on {:?} (relays {}, mDNS {})",
            shared.endpoint.id(),
            endpoint::listening(&shared.endpoint),
            if config.transport.relays { "on" } else { "off" },
            if config.transport.mdns { "on" } else { "off" },
        );
        shared.tasks.spawn(track_seq(shared.clone(), changes));
        let router = accept::router(shared.clone());
        for peer in configured {
            shared.ensure_peer(peer.id, peer.addrs);
        }
        if let Some(mdns) = mdns {
            shared.tasks.spawn(mdns::run(shared.clone(), mdns));
        }
        Ok(Self { shared, router })
    }

    /// Stops gracefully: every connection is closed with a reason, sessions persist their
    /// cursors, the engine's tasks end (within [`STOP_GRACE`]), then the endpoint closes.
    pub(crate) async fn stop(&self) {
        self.shared.stopping.send_replace(true);
        if !self.shared.tasks.wait(STOP_GRACE).await {
            tracing::warn!("sync tasks did not end within {}s; aborted them", STOP_GRACE.as_secs());
        }
        if let Err(e) = self.router.shutdown().await {
            tracing::warn!("closing the sync endpoint: {e}");
        }
    }

    pub(crate) fn peers(&self) -> Vec<PeerInfo> {
        let last_seq = *self.shared.last_seq.borrow();
        let table = self.shared.table();
        let mut out: Vec<PeerInfo> = table.peers.iter().map(|(id, p)| p.info(id, last_seq)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Remembers a peer in config.toml, dials it and reports how the first attempt went.
    pub(crate) async fn add_peer(&self, addr: &str) -> Result<PeerInfo> {
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
        let mut attempt = shared.ensure_peer(peer.id, peer.addrs.clone());
        let outcome = match tokio::time::timeout(ADD_WAIT, attempt.wait_for(|a| *a != Attempt::Pending)).await
        {
            Ok(Ok(a)) => a.clone(),
            _ => Attempt::Pending,
        };
        if let Attempt::Refused(reason) = outcome {
            let (file, id) = (shared.config_file.clone(), peer.id.to_string());
            blocking(move || file.remove_peer(&id)).await?;
            shared.drop_peer(&peer.id);
            return Err(Error::refused(format!("peer {} refused: {reason}", peer.id)));
        }
        let last_seq = *shared.last_seq.borrow();
        let table = shared.table();
        Ok(table.peers.get(&peer.id).map(|p| p.info(&peer.id, last_seq)).unwrap_or_default())
    }

    /// Forgets a peer: config entry, dialer and connection.
    pub(crate) async fn remove_peer(&self, id: &str) -> Result<()> {
        let (file, owned) = (self.shared.config_file.clone(), id.to_string());
        let in_config = blocking(move || file.remove_peer(&owned)).await?;
        let known = id.parse::<EndpointId>().ok().is_some_and(|id| self.shared.drop_peer(&id));
        if in_config || known { Ok(()) } else { Err(Error::not_found(format!("no peer '{id}'"))) }
    }

    pub(crate) fn peer_events(&self) -> PeerEventStream {
        self.forward(self.shared.peer_events.subscribe())
    }

    pub(crate) fn sync_events(&self) -> SyncEventStream {
        self.forward(self.shared.sync_events.subscribe())
    }

    /// Dials every disconnected peer now instead of after its backoff. Connected peers are
    /// always caught up: their feeds are live.
    pub(crate) fn force_sync(&self) {
        let table = self.shared.table();
        for p in table.peers.values() {
            p.wake.notify_one();
        }
    }

    /// Waits until every connected peer acknowledged our change log up to its current end
    /// (push), and we merged each one's log up to where it ended when the wait began (pull).
    /// While no peer is connected but some are known, waits for one to connect. A peer that
    /// disconnects before it is in sync (and is not connected again at once) is an error.
    pub(crate) async fn wait_for_sync(&self, direction: SyncDirection, timeout: Duration) -> Result<()> {
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
            // Ask every peer where its log ends first, so each answer is what it had now.
            let waits: Vec<Waiting> = sessions
                .into_iter()
                .map(|(id, session)| Waiting::new(id, session, direction.pulls()))
                .collect();
            for mut w in waits {
                let done = tokio::time::timeout_at(deadline, w.wait(shared, direction, target)).await;
                match done {
                    Ok(result) => result?,
                    Err(_) => return Err(w.timed_out(target, timeout)),
                }
            }
            return Ok(());
        }
    }

    pub(crate) fn status(&self) -> SyncStatus {
        let table = self.shared.table();
        SyncStatus {
            running: true,
            listen: endpoint::listening(&self.shared.endpoint).iter().map(ToString::to_string).collect(),
            peers_connected: table.peers.values().filter(|p| p.live().is_some()).count(),
        }
    }

    /// Hands a subscription to the caller as a stream, until it goes or the engine stops.
    fn forward<T: Clone + Send + 'static>(&self, mut rx: broadcast::Receiver<T>) -> EventStream<T> {
        let (tx, stream) = EventStream::channel(EVENT_BUFFER);
        let stopped = self.shared.stopped();
        self.shared.tasks.spawn(async move {
            let pump = async {
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
            };
            tokio::select! {
                () = pump => {}
                () = stopped => {}
            }
        });
        stream
    }
}

/// One connected peer a wait waits for.
struct Waiting {
    id: EndpointId,
    session: Session,
    /// Our head query to the peer (pull), and its answer once it came.
    query: Option<u64>,
    head: Option<u64>,
}

impl Waiting {
    fn new(id: EndpointId, session: Session, pulls: bool) -> Self {
        let query = pulls.then(|| ask_head(&session));
        Self { id, session, query, head: None }
    }

    /// Waits until the peer is in sync in `direction` (our log acknowledged up to `target`,
    /// its log merged up to the head it answered). When the connection closes, carries on
    /// with the peer's new connection if it has one already, else fails naming the peer.
    async fn wait(&mut self, shared: &Shared, direction: SyncDirection, target: u64) -> Result<()> {
        loop {
            let progress = self.session.progress.clone();
            let conn = self.session.conn.clone();
            let (query, head) = (self.query, &mut self.head);
            let in_sync = async {
                if let Some(query) = query {
                    let h = match *head {
                        Some(h) => h,
                        None => {
                            let mut answered = progress.answered.subscribe();
                            let Ok(answer) = answered.wait_for(|a| a.0 >= query).await else { return };
                            *head.insert(answer.1)
                        }
                    };
                    let _ = progress.merged.subscribe().wait_for(|&m| m >= h).await;
                }
                if direction.pushes() {
                    let _ = progress.acked.subscribe().wait_for(|&a| a >= target).await;
                }
            };
            tokio::select! {
                () = in_sync => return Ok(()),
                _ = conn.closed() => {}
            }
            let replacement = shared
                .table()
                .peers
                .get(&self.id)
                .and_then(|p| p.live())
                .filter(|s| s.serial != self.session.serial)
                .cloned();
            let Some(session) = replacement else {
                let why = conn.close_reason().map(|r| r.to_string()).unwrap_or_default();
                return Err(Error::failed(format!(
                    "peer {} disconnected before it was in sync: {why}",
                    self.id.fmt_short()
                )));
            };
            if self.query.is_some() && self.head.is_none() {
                self.query = Some(ask_head(&session));
            }
            self.session = session;
        }
    }

    /// The error of a wait that ran out of time, saying how far apart the logs still are.
    fn timed_out(&self, target: u64, timeout: Duration) -> Error {
        let p = &self.session.progress;
        let mut missing = Vec::new();
        if let Some(h) = self.head {
            let behind = h.saturating_sub(*p.merged.borrow());
            if behind > 0 {
                missing.push(format!("this node lacks {behind} of its log entries"));
            }
        } else if self.query.is_some() {
            missing.push("it did not say where its log ends".into());
        }
        let behind = target.saturating_sub(*p.acked.borrow());
        if behind > 0 {
            missing.push(format!("it has not acknowledged {behind} of this node's log entries"));
        }
        Error::timeout(format!(
            "peer {} was not in sync within {}s: {}",
            self.id.fmt_short(),
            timeout.as_secs_f64(),
            missing.join(", ")
        ))
    }
}

/// Asks a session's peer where its log ends now; returns the query number to wait for.
fn ask_head(session: &Session) -> u64 {
    let mut query = 0;
    session.progress.asked.send_modify(|a| {
        *a += 1;
        query = *a;
    });
    query
}

/// Keeps [`Shared::last_seq`] at the end of the local change log.
async fn track_seq(shared: Arc<Shared>, mut changes: broadcast::Receiver<Arc<crate::backend::Committed>>) {
    let stopped = shared.stopped();
    tokio::pin!(stopped);
    loop {
        let change = tokio::select! {
            biased;
            () = &mut stopped => return,
            change = changes.recv() => change,
        };
        match change {
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
