//! Peer-to-peer sync over Iroh (DESIGN.md §8): the running engine of a node. Only a node
//! daemon starts it; short-lived commands use the store alone. This module is the engine's
//! API and the state its tasks share; each job it does lives in a module of its own.

mod accept;
mod auth;
pub(crate) mod book;
mod chunks;
mod connection;
mod cursor;
mod dial;
mod echo;
mod endpoint;
mod exchange;
mod mdns;
pub(crate) mod peers;
mod push;
mod refusals;
mod rekey;
mod session;
mod tasks;
pub mod wire;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use iroh::protocol::Router;
use iroh::{Endpoint, EndpointId, RelayUrl};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use self::auth::Formation;
use self::connection::{CLOSE_REMOVED, close};
use self::peers::{Attempt, Peer, PeerTable, Session};
use self::tasks::Tasks;
use super::Store;
use crate::home::ConfigFile;
use crate::sync::{
    BackendConfig, Error, ErrorKind, EventStream, PeerEvent, PeerEventStream, PeerInfo, PeerSource, Result,
    SyncDirection, SyncEvent, SyncEventStream, SyncStatus, validate,
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
    /// Replaced when the formation is rekeyed.
    formation: std::sync::RwLock<Formation>,
    /// Where added and removed peers are remembered; `formation.key` lies beside it.
    config_file: ConfigFile,
    table: Mutex<PeerTable>,
    peer_events: broadcast::Sender<PeerEvent>,
    sync_events: broadcast::Sender<SyncEvent>,
    /// The latest committed sequence of the local change log: wakes the feeders.
    last_seq: watch::Sender<u64>,
    stopping: watch::Sender<bool>,
    tasks: Tasks,
    /// The operator's relays: every peer is also tried through them.
    relay_urls: Vec<RelayUrl>,
    /// Most peers dialed; beyond it, peers learned by exchange, mDNS or dialing in are not.
    max_peers: usize,
    /// Moves whenever the members this node knows change: peer exchange tells them again.
    members: watch::Sender<u64>,
    /// Moves when the peer book needs writing; one task writes it, in order.
    book_dirty: watch::Sender<u64>,
    /// Refused handshakes, logged at a bounded rate.
    refusals: refusals::RefusalLog,
}

impl Shared {
    /// The peer table. A task that panicked while holding it cannot leave it half-edited in
    /// a way that matters more than stopping the node would, so a poisoned lock is taken.
    fn table(&self) -> MutexGuard<'_, PeerTable> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `formation.key`, beside config.toml.
    fn key_file(&self) -> std::path::PathBuf {
        self.config_file.path().with_file_name(crate::home::FORMATION_FILE)
    }

    /// The formation as it is now (its key changes with a rekey).
    fn formation(&self) -> Formation {
        self.formation.read().unwrap_or_else(PoisonError::into_inner).clone()
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
    /// Returns the peer's attempt outcomes, reset to pending when a dial is due; `None` when
    /// the peer is blocked, or learned (not configured) while `max_peers` are dialed already.
    fn ensure_peer(
        self: &Arc<Self>,
        id: EndpointId,
        addrs: Vec<std::net::SocketAddr>,
        source: PeerSource,
    ) -> Option<watch::Receiver<Attempt>> {
        let mut table = self.table();
        if table.blocked.contains(&id) || id == self.endpoint.id() {
            return None;
        }
        let configured = matches!(source, PeerSource::Config | PeerSource::Ticket);
        let dialed = table.peers.values().filter(|p| p.dialed).count();
        let known = table.peers.get(&id).is_some_and(|p| p.dialed);
        if !configured && !known && dialed >= self.max_peers {
            tracing::debug!("not dialing peer {}: {dialed} peers already (max_peers)", id.fmt_short());
            return None;
        }
        let peer = table.peers.entry(id).or_insert_with(|| Peer::new(Vec::new(), source));
        if !peer.dialed {
            peer.source = source;
        }
        let mut moved = false;
        for a in addrs.into_iter().rev() {
            if !peer.addrs.contains(&a) {
                // Newer addresses go first: the latest a peer was seen at is the likeliest.
                peer.addrs.insert(0, a);
                moved = true;
            }
        }
        peer.addrs.truncate(exchange::MAX_ADDRS);
        let new = !peer.dialed;
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
        let attempt = peer.attempt.subscribe();
        drop(table);
        if new || moved {
            self.members.send_modify(|v| *v += 1);
            self.save_book();
        }
        Some(attempt)
    }

    /// The members this node knows, as peer exchange tells them to `peer`.
    fn members_except(&self, peer: &EndpointId) -> Vec<wire::Member> {
        let table = self.table();
        let known = table.peers.iter().filter(|(id, p)| *id != peer && p.dialed && !p.addrs.is_empty());
        known.take(exchange::MAX_MEMBERS).map(|(id, p)| exchange::member(id, &p.addrs)).collect()
    }

    /// Learns the members a peer told: new ones are dialed (up to `max_peers`), new addresses
    /// of known ones are tried.
    fn learn_members(self: &Arc<Self>, from: &EndpointId, members: Vec<wire::Member>) {
        for member in members.into_iter().take(exchange::MAX_MEMBERS) {
            let Ok(id) = EndpointId::from_bytes(&member.id) else { continue };
            if id == *from {
                continue;
            }
            let addrs: Vec<_> = member.addrs.into_iter().take(exchange::MAX_ADDRS).collect();
            let _ = self.ensure_peer(id, addrs, PeerSource::Exchange);
        }
    }

    /// Remembers a peer's address it was just seen at (it dialed us from there): dialed
    /// first from now on, and persisted. A peer not known yet is dialed too (up to
    /// `max_peers`), so that either side can restore the link after a partition.
    fn seen_at(self: &Arc<Self>, id: EndpointId, addr: std::net::SocketAddr) {
        if self.ensure_peer(id, vec![addr], PeerSource::Incoming).is_some() {
            tracing::debug!("peer {}: seen at {addr}", id.fmt_short());
        }
    }

    /// Asks [`save_book`] to write the peer book.
    fn save_book(&self) {
        self.book_dirty.send_modify(|v| *v += 1);
    }

    /// The peer book as the table has it: every dialed peer but those mDNS finds anew.
    fn book(&self) -> book::Book {
        let table = self.table();
        let kept = table.peers.iter().filter(|(_, p)| p.dialed && p.source != PeerSource::Mdns);
        kept.map(|(id, p)| (id.to_string(), book::Entry { addrs: p.addrs.clone(), source: p.source }))
            .collect()
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

/// What a reload of config.toml changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Reloaded {
    /// Peers newly listed, now dialed.
    pub added: u64,
    /// Peers no longer listed, or now blocked, whose connections were closed.
    pub dropped: u64,
}

/// Runs blocking work (redb, config.toml, name resolution) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let guarded = || crate::sync::error::catch_panics(f).map_err(|m| Error::failed(format!("store: {m}")))?;
    tokio::task::spawn_blocking(guarded).await.map_err(|e| Error::context("sync task", e))?
}

/// Documents a peer sent, merged: the ones that changed, and why any were refused.
type Merged = (Vec<(String, String)>, Vec<String>);

/// Merges documents from `peer` in one transaction, as every way they arrive (pulled or
/// pushed) must be: a peer holds the formation key, not the right to store bad documents, so
/// a refused one is skipped and its reason returned, never retried in a loop that would hold
/// up everything behind it. A merged document whose heads are all changes the peer sent is
/// one the peer holds whole: it goes in `holds`, so the feed does not offer it back.
async fn merge_from_peer(
    store: Arc<Store>,
    peer: String,
    docs: Vec<wire::DocChanges>,
    holds: Option<Arc<echo::PeerHolds>>,
) -> Result<Merged> {
    blocking(move || {
        let (mut changed, mut refused) = (Vec::new(), Vec::new());
        // Checked and restored first; the store merges the good ones in one go.
        let restored: Vec<Result<chunks::Restored>> = docs
            .iter()
            .map(|d| {
                validate::collection(&d.collection)
                    .and_then(|()| validate::id(&d.id))
                    .map_err(Error::invalid)?;
                chunks::restore(&d.bytes)
                    .ok_or_else(|| Error::invalid(format!("malformed changes for {}/{}", d.collection, d.id)))
            })
            .collect();
        store.write_from(&peer, |w| {
            let good: Vec<(&str, &str, &[u8])> = docs
                .iter()
                .zip(&restored)
                .filter_map(|(d, r)| {
                    Some((d.collection.as_str(), d.id.as_str(), r.as_ref().ok()?.bytes.as_slice()))
                })
                .collect();
            let mut outcomes = w.merge_many(&good)?.into_iter();
            for (d, r) in docs.iter().zip(&restored) {
                let merged = match r {
                    Ok(r) => outcomes.next().expect("an outcome per good document").map(|m| (m, &r.held)),
                    Err(e) => Err(e.clone()),
                };
                match merged {
                    Ok((true, held)) => {
                        if let (Some(holds), Some(heads)) = (&holds, w.heads(&d.collection, &d.id)?)
                            && heads.iter().all(|h| held.contains(&h.0))
                        {
                            let heads: Vec<wire::Hash> = heads.iter().map(|h| h.0).collect();
                            holds.record(&d.collection, &d.id, &heads);
                        }
                        changed.push((d.collection.clone(), d.id.clone()));
                    }
                    Ok((false, _)) => {}
                    Err(e) if e.kind == ErrorKind::Invalid => refused.push(e.message),
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })?;
        Ok((changed, refused))
    })
    .await
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
        // The key file, not the key the backend was opened with: a rekey may have replaced it
        // since (sync stopped and started again in one node).
        let key_file = config_file.path().with_file_name(crate::home::FORMATION_FILE);
        let key = blocking(move || crate::home::read_key(&key_file)).await.unwrap_or(config.formation_key.0);
        let formation = Formation { app_id: config.app_id.clone(), key };
        let changes = store.subscribe();
        let (last_seq, configured, known) = {
            let (store, entries) = (store.clone(), config.peers.clone());
            let (app_id, key) = (formation.app_id.clone(), formation.key);
            blocking(move || {
                Ok((store.last_seq()?, peers::from_config(&entries, &app_id, &key), book::load(&store)?))
            })
            .await?
        };
        let blocked = config.blocked.iter().filter_map(|b| b.parse::<EndpointId>().ok()).collect();
        let secret = iroh::SecretKey::from_bytes(&config.identity.0);
        let (endpoint, mdns) = endpoint::bind(secret, &config.transport).await?;
        let shared = Arc::new(Shared {
            store,
            endpoint,
            formation: std::sync::RwLock::new(formation),
            config_file,
            table: Mutex::default(),
            peer_events: broadcast::channel(EVENT_BUFFER).0,
            sync_events: broadcast::channel(EVENT_BUFFER).0,
            last_seq: watch::channel(last_seq).0,
            stopping: watch::channel(false).0,
            tasks: Tasks::default(),
            relay_urls: endpoint::relay_urls(&config.transport.relay_urls)?,
            max_peers: config.max_peers,
            members: watch::channel(0).0,
            book_dirty: watch::channel(0).0,
            refusals: refusals::RefusalLog::default(),
        });
        shared.table().blocked = blocked;
        tracing::info!(
            "sync endpoint {} listening on {:?} (relays {}, mDNS {})",
            shared.endpoint.id(),
            endpoint::listening(&shared.endpoint),
            match (config.transport.relays, config.transport.relay_urls.is_empty()) {
                (_, false) => config.transport.relay_urls.join(", "),
                (true, true) => "public".into(),
                (false, true) => "off".into(),
            },
            if config.transport.mdns { "on" } else { "off" },
        );
        shared.tasks.spawn(track_seq(shared.clone(), changes));
        let router = accept::router(shared.clone());
        for peer in configured {
            let source = known.get(&peer.id.to_string()).map_or(PeerSource::Config, |e| e.source);
            let source = if source == PeerSource::Ticket { source } else { PeerSource::Config };
            shared.ensure_peer(peer.id, peer.addrs, source);
        }
        for (id, entry) in known {
            if let Ok(id) = id.parse::<EndpointId>() {
                shared.ensure_peer(id, entry.addrs, entry.source);
            }
        }
        shared.tasks.spawn(save_book(shared.clone()));
        shared.tasks.spawn(refusals::run(shared.clone()));
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

    /// Remembers a peer in config.toml (unblocking it), dials it and reports how the first
    /// attempt went.
    pub(crate) async fn add_peer(&self, addr: &str) -> Result<PeerInfo> {
        let shared = &self.shared;
        let Formation { app_id, key } = shared.formation();
        let addr = addr.to_string();
        let (me, file) = (shared.endpoint.id(), shared.config_file.clone());
        let (peer, source) =
            blocking(move || peers::add_to_config(&file, &addr, (&app_id, &key), me)).await?;
        shared.table().blocked.remove(&peer.id);
        let Some(mut attempt) = shared.ensure_peer(peer.id, peer.addrs.clone(), source) else {
            return Err(Error::failed(format!("peer {} cannot be added", peer.id)));
        };
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

    /// A new formation key for this node and the members connected now
    /// ([`rekey`](self::rekey)).
    pub(crate) async fn rekey(&self) -> Result<crate::sync::Rekeyed> {
        rekey::rekey(&self.shared).await
    }

    /// Forgets and blocks a peer: its config entries go, its dialer ends, its connection
    /// closes, and it is refused, not redialed and not learned again until `peers add`.
    pub(crate) async fn remove_peer(&self, id: &str) -> Result<()> {
        let parsed = id.parse::<EndpointId>().ok();
        let known = parsed.is_some_and(|id| self.shared.drop_peer(&id));
        let (file, owned) = (self.shared.config_file.clone(), id.to_string());
        let in_config = blocking(move || file.remove_peer(&owned)).await?;
        if !(in_config || known) {
            return Err(Error::not_found(format!("no peer '{id}'")));
        }
        if let Some(parsed) = parsed {
            self.shared.table().blocked.insert(parsed);
            let (file, owned) = (self.shared.config_file.clone(), id.to_string());
            blocking(move || file.set_blocked(&owned, true)).await?;
        }
        self.shared.save_book();
        self.shared.members.send_modify(|v| *v += 1);
        Ok(())
    }

    /// Applies config.toml's `peers` and `blocked` as they are now (SIGHUP): peers newly
    /// listed are dialed, configured peers no longer listed and peers newly blocked are
    /// dropped; connections to the rest stay up.
    pub(crate) async fn reload(&self, config: &crate::home::Config) -> Reloaded {
        let shared = &self.shared;
        let entries = config.peers.clone();
        let Formation { app_id, key } = shared.formation();
        // Parsing may resolve host names: off the async threads.
        let listed =
            blocking(move || Ok(peers::from_config(&entries, &app_id, &key))).await.unwrap_or_default();
        let blocked: std::collections::HashSet<EndpointId> =
            config.blocked.iter().filter_map(|b| b.parse().ok()).collect();
        let mut reloaded = Reloaded::default();
        let gone: Vec<EndpointId> = {
            let mut table = shared.table();
            table.blocked = blocked.clone();
            let configured =
                |p: &Peer| p.dialed && matches!(p.source, PeerSource::Config | PeerSource::Ticket);
            table
                .peers
                .iter()
                .filter(|(id, p)| {
                    blocked.contains(*id) || (configured(p) && !listed.iter().any(|l| l.id == **id))
                })
                .map(|(id, _)| *id)
                .collect()
        };
        for id in gone {
            reloaded.dropped += u64::from(shared.drop_peer(&id));
        }
        for peer in listed {
            let known = shared.table().peers.get(&peer.id).is_some_and(|p| p.dialed);
            if !known && shared.ensure_peer(peer.id, peer.addrs, PeerSource::Config).is_some() {
                reloaded.added += 1;
            }
        }
        shared.save_book();
        shared.members.send_modify(|v| *v += 1);
        reloaded
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

/// Writes the peer book whenever it changed, until the node stops (then once more).
async fn save_book(shared: Arc<Shared>) {
    let mut dirty = shared.book_dirty.subscribe();
    loop {
        let stopping = tokio::select! {
            changed = dirty.changed() => changed.is_err(),
            () = shared.stopped() => true,
        };
        let (store, book) = (shared.store.clone(), shared.book());
        if let Err(e) = blocking(move || book::save(&store, &book)).await {
            tracing::warn!("saving the peer book: {e}");
        }
        if stopping {
            return;
        }
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
