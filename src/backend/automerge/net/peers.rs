//! Who the peers are: addresses as users write them (`ID@HOST:PORT` or a join ticket), and
//! the table of known peers with their connection state and counters.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use iroh::EndpointId;
use iroh::endpoint::Connection;
use tokio::sync::watch;

use crate::home::Ticket;
use crate::sync::{Error, PeerInfo, PeerSource, Result};

/// A peer address a user gave: the node id and where to reach it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PeerAddr {
    pub(crate) id: EndpointId,
    pub(crate) addrs: Vec<SocketAddr>,
}

impl PeerAddr {
    /// Parses `ID@HOST:PORT` (the host may be a name) or a join ticket. A ticket must be of
    /// this node's formation (`formation`) and app id: joining is `peat init --join`.
    pub(crate) fn parse(s: &str, app_id: &str, formation: &[u8; 32]) -> Result<Self> {
        let s = s.trim();
        if Ticket::looks_like(s) {
            let ticket = Ticket::decode(s)?;
            if ticket.app_id != app_id || &ticket.formation_key()? != formation {
                return Err(Error::refused(format!(
                    "the ticket is for another formation (app id '{}'); a node joins a formation with `peat init --join`",
                    ticket.app_id
                )));
            }
            let id = parse_id(&ticket.node)?;
            return Ok(Self { id, addrs: ticket.addrs });
        }
        let (id, host) = s
            .split_once('@')
            .ok_or_else(|| Error::invalid(format!("peer '{s}': expected ID@HOST:PORT or a join ticket")))?;
        let id = parse_id(id)?;
        let addrs: Vec<SocketAddr> = match host.parse::<SocketAddr>() {
            Ok(a) => vec![a],
            Err(_) => host
                .to_socket_addrs()
                .map_err(|e| Error::invalid(format!("peer '{s}': cannot resolve '{host}': {e}")))?
                .collect(),
        };
        if addrs.iter().any(|a| a.port() == 0) {
            return Err(Error::invalid(format!("peer '{s}': port 0 cannot be dialed")));
        }
        Ok(Self { id, addrs })
    }

    /// The config form: one `ID@HOST:PORT` per address.
    pub(crate) fn config_entries(&self) -> Vec<String> {
        self.addrs.iter().map(|a| format!("{}@{a}", self.id)).collect()
    }
}

/// Parses a peer a user adds (`ID@HOST:PORT` or a ticket) and remembers it in config.toml,
/// unblocking it. Blocks on name resolution and the file: call it off the async threads.
pub(crate) fn add_to_config(
    file: &crate::home::ConfigFile,
    addr: &str,
    formation: (&str, &[u8; 32]),
    me: EndpointId,
) -> Result<(PeerAddr, PeerSource)> {
    let peer = PeerAddr::parse(addr, formation.0, formation.1)?;
    if peer.id == me {
        return Err(Error::invalid("that is this node's own id"));
    }
    file.set_blocked(&peer.id.to_string(), false)?;
    file.add_peers(&peer.config_entries())?;
    let source = if Ticket::looks_like(addr.trim()) { PeerSource::Ticket } else { PeerSource::Config };
    Ok((peer, source))
}

fn parse_id(s: &str) -> Result<EndpointId> {
    s.parse().map_err(|_| Error::invalid(format!("'{s}' is not a node id (64 hex characters)")))
}

/// Groups config entries by peer id, skipping (and reporting) malformed ones.
pub(crate) fn from_config(entries: &[String], app_id: &str, formation: &[u8; 32]) -> Vec<PeerAddr> {
    let mut out: Vec<PeerAddr> = Vec::new();
    for entry in entries {
        match PeerAddr::parse(entry, app_id, formation) {
            Ok(p) => match out.iter_mut().find(|q| q.id == p.id) {
                Some(q) => {
                    for a in p.addrs {
                        if !q.addrs.contains(&a) {
                            q.addrs.push(a);
                        }
                    }
                }
                None => out.push(p),
            },
            Err(e) => tracing::warn!("config.toml: ignoring peer '{entry}': {e}"),
        }
    }
    out
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Counters of one peer, kept across its connections.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) docs_sent: AtomicU64,
    pub(super) docs_received: AtomicU64,
    /// Bytes of Automerge changes sent and merged, for the log's sync summaries.
    pub(super) change_bytes_sent: AtomicU64,
    pub(super) change_bytes_received: AtomicU64,
    pub(super) last_sync_ms: AtomicU64,
    /// UDP bytes of connections that have ended.
    pub(super) bytes_sent: AtomicU64,
    pub(super) bytes_received: AtomicU64,
    /// Why the latest document this peer sent was refused (too deep, too large, a bad
    /// name): shown as the peer's `last_error`, since sync goes on past it.
    pub(super) refused: std::sync::Mutex<Option<String>>,
}

impl Counters {
    pub(super) fn add(n: &AtomicU64, by: u64) {
        n.fetch_add(by, Ordering::Relaxed);
    }

    pub(super) fn refuse(&self, why: String) {
        *self.refused.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
    }

    fn refused(&self) -> Option<String> {
        self.refused.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The outcome of the latest connection attempt, for `peers add` to wait on.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Attempt {
    Pending,
    Connected,
    Failed(String),
    Refused(String),
}

/// How far two change logs have moved between a session's two ends: what `wait_for_sync`
/// waits on and `peers` shows. The session's tasks write it; waiters subscribe.
#[derive(Debug)]
pub(super) struct Progress {
    /// The highest of our change-log positions the peer acknowledged holding.
    pub(super) acked: watch::Sender<u64>,
    /// How far we merged the peer's change log (the puller's cursor).
    pub(super) merged: watch::Sender<u64>,
    /// Entries of the peer's log past `merged` that the puller has handled already (merged,
    /// or found held here): the cursor moves only over whole batches. For display only.
    pub(super) ahead: watch::Sender<u64>,
    /// Where the peer's change log ends, as it last told us.
    pub(super) peer_head: watch::Sender<u64>,
    /// The latest head query we asked (numbered from 1); the session sends it.
    pub(super) asked: watch::Sender<u64>,
    /// The latest head query the peer answered, with the head it answered.
    pub(super) answered: watch::Sender<(u64, u64)>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            acked: watch::channel(0).0,
            merged: watch::channel(0).0,
            ahead: watch::channel(0).0,
            peer_head: watch::channel(0).0,
            asked: watch::channel(0).0,
            answered: watch::channel((0, 0)).0,
        }
    }
}

impl Progress {
    /// Raises a position kept in a watch; never lowers it.
    pub(super) fn raise(position: &watch::Sender<u64>, to: u64) {
        position.send_if_modified(|p| {
            let moved = to > *p;
            *p = (*p).max(to);
            moved
        });
    }

    /// Our log entries (positions) the peer has not acknowledged, with our log ending at
    /// `last_seq`; and the peer's log positions we have not merged (nor handled already).
    pub(super) fn behind(&self, last_seq: u64) -> (u64, u64) {
        let peer_behind = last_seq.saturating_sub(*self.acked.borrow());
        let unmerged = self.peer_head.borrow().saturating_sub(*self.merged.borrow());
        (peer_behind, unmerged.saturating_sub(*self.ahead.borrow()))
    }
}

/// An authenticated connection to a peer.
#[derive(Debug, Clone)]
pub(super) struct Session {
    /// Unique per session, to tell a replaced session from the current one.
    pub(super) serial: u64,
    pub(super) conn: Connection,
    /// Who dialed: decides which of two simultaneous connections survives.
    pub(super) dialer: EndpointId,
    /// Where the two logs stand.
    pub(super) progress: Arc<Progress>,
}

/// One known peer.
#[derive(Debug)]
pub(super) struct Peer {
    /// Where to dial it, best first (the address it last connected from leads).
    pub(super) addrs: Vec<SocketAddr>,
    /// How this node came to know it.
    pub(super) source: PeerSource,
    /// Dialed and redialed by this node (from config, `peers add` or mDNS).
    pub(super) dialed: bool,
    pub(super) session: Option<Session>,
    pub(super) counters: Arc<Counters>,
    pub(super) attempt: watch::Sender<Attempt>,
    /// Wakes the dialer early (force_sync, a new address).
    pub(super) wake: Arc<tokio::sync::Notify>,
    /// Held for the peer's dialer: dropping it (with the peer) ends the dialer, and it
    /// reports closed once the dialer has ended.
    pub(super) dialing: Option<watch::Sender<()>>,
}

impl Peer {
    pub(super) fn new(addrs: Vec<SocketAddr>, source: PeerSource) -> Self {
        Self {
            addrs,
            source,
            dialed: false,
            session: None,
            counters: Arc::default(),
            attempt: watch::channel(Attempt::Pending).0,
            wake: Arc::default(),
            dialing: None,
        }
    }

    /// The live session, if its connection is still open.
    pub(super) fn live(&self) -> Option<&Session> {
        self.session.as_ref().filter(|s| s.conn.close_reason().is_none())
    }

    /// What `peers list` shows; `last_seq` is where our change log ends.
    pub(super) fn info(&self, id: &EndpointId, last_seq: u64) -> PeerInfo {
        let c = &self.counters;
        let mut info = PeerInfo {
            id: id.to_string(),
            addrs: self.addrs.iter().map(ToString::to_string).collect(),
            docs_sent: c.docs_sent.load(Ordering::Relaxed),
            docs_received: c.docs_received.load(Ordering::Relaxed),
            last_sync_ms: Some(c.last_sync_ms.load(Ordering::Relaxed)).filter(|&t| t > 0),
            last_error: match &*self.attempt.borrow() {
                Attempt::Failed(e) | Attempt::Refused(e) => Some(e.clone()),
                _ => c.refused(),
            },
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            bytes_received: c.bytes_received.load(Ordering::Relaxed),
            source: self.source,
            ..PeerInfo::default()
        };
        if let Some(s) = self.live() {
            info.connected = true;
            info.last_error = c.refused();
            let (peer_behind, we_behind) = s.progress.behind(last_seq);
            info.peer_behind = Some(peer_behind);
            info.we_behind = Some(we_behind);
            let stats = s.conn.stats();
            info.bytes_sent += stats.udp_tx.bytes;
            info.bytes_received += stats.udp_rx.bytes;
            let paths = s.conn.paths();
            if let Some(path) = paths.iter().find(|p| p.is_selected()).or_else(|| paths.iter().next()) {
                info.relayed = path.is_relay();
                info.rtt_ms = Some(path.rtt().as_secs_f64() * 1000.0);
                if let iroh::TransportAddr::Ip(addr) = path.remote_addr() {
                    let addr = addr.to_string();
                    if !info.addrs.contains(&addr) {
                        info.addrs.push(addr);
                    }
                }
            }
        }
        info
    }
}

/// Every peer this node knows, by id.
#[derive(Debug, Default)]
pub(super) struct PeerTable {
    pub(super) peers: HashMap<EndpointId, Peer>,
    /// Refused when they dial in, never dialed, not learned again (`peers remove`).
    pub(super) blocked: HashSet<EndpointId>,
    next_serial: u64,
}

impl PeerTable {
    pub(super) fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }

    /// Installs an authenticated session unless a better one to the same peer is live.
    /// Of two live connections, the one dialed by the smaller node id wins, so both ends
    /// keep the same one; a newer connection from the same dialer replaces an older one (the
    /// peer restarted). Returns the connection to close, if any.
    pub(super) fn install(&mut self, id: EndpointId, session: Session) -> Option<(Connection, bool)> {
        let peer = self.peers.entry(id).or_insert_with(|| Peer::new(Vec::new(), PeerSource::Incoming));
        if let Some(old) = peer.live() {
            let new_wins = session.dialer == old.dialer || session.dialer.as_bytes() < old.dialer.as_bytes();
            if !new_wins {
                return Some((session.conn, false));
            }
            let old = old.conn.clone();
            peer.session = Some(session);
            peer.attempt.send_replace(Attempt::Connected);
            return Some((old, true));
        }
        peer.session = Some(session);
        peer.attempt.send_replace(Attempt::Connected);
        None
    }

    /// Removes a session when it ends, unless another has replaced it. Returns whether it
    /// was the current one.
    pub(super) fn uninstall(&mut self, id: &EndpointId, serial: u64) -> bool {
        let Some(peer) = self.peers.get_mut(id) else { return false };
        if peer.session.as_ref().is_some_and(|s| s.serial == serial) {
            if let Some(s) = peer.session.take() {
                let stats = s.conn.stats();
                Counters::add(&peer.counters.bytes_sent, stats.udp_tx.bytes);
                Counters::add(&peer.counters.bytes_received, stats.udp_rx.bytes);
            }
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_positions_only_rise_and_say_how_far_each_side_is_behind() {
        let p = Progress::default();
        Progress::raise(&p.acked, 40);
        Progress::raise(&p.acked, 30); // a late, older ack
        Progress::raise(&p.peer_head, 15_000);
        Progress::raise(&p.merged, 14_000);
        assert_eq!(p.behind(52), (12, 1000));
        p.ahead.send_replace(400); // handled in batches the cursor has not passed yet
        assert_eq!(p.behind(52), (12, 600));
        p.ahead.send_replace(0);
        Progress::raise(&p.merged, 15_000);
        assert_eq!(p.behind(40), (0, 0));
        assert_eq!(p.behind(10), (0, 0), "a tracker that trails the acks is not behind");
    }

    #[test]
    fn parses_addresses_and_tickets() {
        let key = [3u8; 32];
        let id = iroh::SecretKey::generate().public();
        let p = PeerAddr::parse(&format!("{id}@127.0.0.1:7890"), "app", &key).unwrap();
        assert_eq!(p.addrs, vec!["127.0.0.1:7890".parse::<SocketAddr>().unwrap()]);
        assert_eq!(p.config_entries(), vec![format!("{id}@127.0.0.1:7890")]);
        let t =
            Ticket::new("app", &key, &id.to_string(), vec!["10.0.0.1:1".parse().unwrap()]).encode().unwrap();
        assert_eq!(PeerAddr::parse(&t, "app", &key).unwrap().id, id);
        assert_eq!(PeerAddr::parse(&t, "app", &[4; 32]).unwrap_err().kind, crate::sync::ErrorKind::Refused);
        for bad in ["nonsense", "abc@127.0.0.1:1", &format!("{id}@127.0.0.1:0"), &format!("{id}@")] {
            assert!(PeerAddr::parse(bad, "app", &key).is_err(), "{bad}");
        }
    }
}
