//! The life of one connection, dialed or accepted alike: authenticate it, install it in the
//! peer table (one connection per peer), run its session until it ends, and say why it ended.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use iroh::EndpointId;
use iroh::endpoint::{Connection, RecvStream, SendStream, VarInt};
use tokio::io::BufReader;
use tokio::time::Instant;

use super::auth::{self, Ends, Failure, Role};
use super::cursor::Cursor;
use super::peers::{Attempt, Progress, Session};
use super::session::{self, Start};
use super::wire::{self, Msg};
use super::{Shared, blocking, exchange, push, rekey};
use crate::sync::PeerEvent;

/// How long a connection may take to connect and authenticate.
pub(super) const HANDSHAKE: Duration = Duration::from_secs(10);

/// Connection close codes, so the other end's log says why.
const CLOSE_DONE: u32 = 0;
const CLOSE_REFUSED: u32 = 4;
const CLOSE_DUPLICATE: u32 = 5;
pub(super) const CLOSE_REMOVED: u32 = 6;
pub(super) const CLOSE_ERROR: u32 = 7;
const CLOSE_STOPPING: u32 = 8;
pub(super) const CLOSE_REKEYED: u32 = 9;

pub(super) fn close(conn: &Connection, code: u32, reason: &str) {
    conn.close(VarInt::from_u32(code), reason.as_bytes());
}

/// Why this side ends a connection before its session is over.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ending {
    /// The node is stopping.
    Stopping,
    /// The peer was removed.
    Removed,
}

impl Ending {
    pub(super) fn close(self, conn: &Connection) {
        match self {
            Ending::Stopping => close(conn, CLOSE_STOPPING, "node stopping"),
            Ending::Removed => close(conn, CLOSE_REMOVED, "peer removed"),
        }
    }
}

/// What a connection came to, for the dialer's backoff.
pub(super) enum Outcome {
    /// A session ran (and ended) after this long.
    Ran(Duration),
    Refused,
    Failed,
    /// Another connection to the peer is preferred.
    Duplicate,
    /// This side ended it before a session ran.
    Ended,
}

/// Refuses a blocked peer with the reason, so its side says why (and backs off).
async fn refuse_blocked(
    shared: &Shared,
    conn: &Connection,
    peer: EndpointId,
    mut send: SendStream,
) -> Outcome {
    let reason = "this node has removed you from its peers";
    shared.refusals.refused(&peer, "blocked (peers remove)");
    let _ = wire::write(&mut send, &Msg::Refuse { reason: reason.into() }).await;
    let _ = send.finish();
    tokio::select! {
        _ = tokio::time::timeout(Duration::from_secs(2), conn.closed()) => {}
        () = shared.stopped() => {}
    }
    close(conn, CLOSE_REFUSED, reason);
    Outcome::Refused
}

/// The address a peer's direct path comes from: for an accepted connection, its endpoint's
/// own socket, so a place it can be dialed at.
fn direct_remote_addr(conn: &Connection) -> Option<std::net::SocketAddr> {
    let paths = conn.paths();
    let direct: Vec<_> = paths.iter().filter(|p| !p.is_relay()).collect();
    let path = direct.iter().find(|p| p.is_selected()).or(direct.first())?;
    match path.remote_addr() {
        iroh::TransportAddr::Ip(addr) => Some(*addr),
        _ => None,
    }
}

/// Records a failed attempt for the peer's dialer and `peers add`.
pub(super) fn failed(shared: &Shared, id: &EndpointId, why: String) -> Outcome {
    tracing::debug!("peer {}: {why}", id.fmt_short());
    if let Some(p) = shared.table().peers.get(id) {
        p.attempt.send_replace(Attempt::Failed(why));
    }
    Outcome::Failed
}

/// Authenticates a new connection, then runs its session until it ends. When `ending`
/// resolves first, closes the connection with its reason and lets the session wind down.
pub(super) async fn run(
    shared: &Arc<Shared>,
    conn: Connection,
    peer: EndpointId,
    dialed: bool,
    mut send: SendStream,
    recv: RecvStream,
    ending: impl Future<Output = Ending>,
) -> Outcome {
    tokio::pin!(ending);
    if shared.table().blocked.contains(&peer) {
        return refuse_blocked(shared, &conn, peer, send).await;
    }
    let me = shared.endpoint.id();
    let store_id = shared.store.store_id();
    let mut recv = BufReader::with_capacity(256 * 1024, recv);
    let formation = shared.formation();
    let (store, id) = (shared.store.clone(), peer);
    let prepared = async {
        let cursor = blocking(move || Cursor::load(&store, &id)).await?;
        Ok::<_, crate::sync::Error>((cursor, Ends::of(&conn, me, dialed)?))
    };
    let (cursor, ends) = match prepared.await {
        Ok(p) => p,
        Err(e) => {
            close(&conn, CLOSE_ERROR, "handshake failed");
            return failed(shared, &peer, format!("handshake failed: {e}"));
        }
    };
    // The dialer asks for the feed from where it last pulled, before it knows the peer's
    // store; the acceptor answers once it checked the dialer, knowing it.
    let handshake = async {
        if dialed {
            auth::greet(&formation, &ends, Role::Dialer, store_id, cursor.since(), &mut send).await?;
            auth::check(&formation, &ends, Role::Acceptor, store_id, &mut recv, &mut send).await
        } else {
            auth::check(&formation, &ends, Role::Dialer, store_id, &mut recv, &mut send).await
        }
    };
    let handshake = tokio::select! {
        r = tokio::time::timeout(HANDSHAKE, handshake) => r,
        e = &mut ending => {
            e.close(&conn);
            return Outcome::Ended;
        }
    };
    let greeted = match handshake {
        Ok(Ok(g)) => g,
        Ok(Err(Failure::Refused(reason))) => {
            shared.refusals.refused(&peer, &reason);
            // A stranger that dialed us is not added to the peers; a peer we know is marked.
            if let Some(p) = shared.table().peers.get(&peer) {
                p.attempt.send_replace(Attempt::Refused(reason.clone()));
            }
            let _ =
                shared.peer_events.send(PeerEvent::Refused { id: peer.to_string(), reason: reason.clone() });
            // Let the Refuse frame reach the peer before the connection goes.
            let _ = send.finish();
            tokio::select! {
                _ = tokio::time::timeout(Duration::from_secs(2), conn.closed()) => {}
                _ = &mut ending => {}
            }
            close(&conn, CLOSE_REFUSED, &reason);
            return Outcome::Refused;
        }
        Ok(Err(Failure::Broken(e))) => {
            close(&conn, CLOSE_ERROR, "handshake failed");
            return failed(shared, &peer, format!("handshake failed: {e}"));
        }
        Err(_) => {
            close(&conn, CLOSE_ERROR, "handshake timed out");
            return failed(shared, &peer, "handshake timed out".into());
        }
    };

    let progress = Arc::new(Progress::default());
    let (serial, counters) = {
        let mut table = shared.table();
        let serial = table.serial();
        let dialer = if dialed { me } else { peer };
        let session = Session { serial, conn: conn.clone(), dialer, progress: progress.clone() };
        match table.install(peer, session) {
            Some((loser, true)) => close(&loser, CLOSE_DUPLICATE, "duplicate connection"),
            Some((loser, false)) => {
                close(&loser, CLOSE_DUPLICATE, "duplicate connection");
                return Outcome::Duplicate;
            }
            None => {}
        }
        (serial, table.peers[&peer].counters.clone())
    };
    let cursor = cursor.of(greeted.store_id);
    if !dialed
        && let Err(e) =
            auth::greet(&formation, &ends, Role::Acceptor, store_id, cursor.since(), &mut send).await
    {
        shared.table().uninstall(&peer, serial);
        return failed(shared, &peer, format!("handshake failed: {e}"));
    }
    tracing::info!("peer {peer}: connected ({})", if dialed { "dialed" } else { "accepted" });
    if !dialed && let Some(addr) = direct_remote_addr(&conn) {
        shared.seen_at(peer, addr);
    }
    shared.members.send_modify(|v| *v += 1);
    shared.tasks.spawn(exchange::run(shared.clone(), conn.clone(), peer));
    shared.tasks.spawn(rekey::serve(shared.clone(), conn.clone(), peer));
    shared.tasks.spawn(push::run(shared.clone(), conn.clone(), peer));
    let _ = shared.peer_events.send(PeerEvent::Connected { id: peer.to_string() });
    let started = Instant::now();
    let session = session::run(
        shared.clone(),
        peer,
        Start { cursor, their_since: greeted.since },
        counters,
        send,
        recv,
        progress,
    );
    tokio::pin!(session);
    let result = tokio::select! {
        r = &mut session => r,
        e = &mut ending => {
            // The session sees the connection go, and persists its cursor on the way out.
            e.close(&conn);
            session.await
        }
    };
    let reason = match (&result, conn.close_reason()) {
        (_, Some(closed)) => closed.to_string(),
        (Err(e), None) => e.to_string(),
        (Ok(()), None) => "the peer ended the session".into(),
    };
    match &result {
        Err(e) => close(&conn, CLOSE_ERROR, &e.to_string()),
        Ok(()) => close(&conn, CLOSE_DONE, "done"),
    }
    let current = shared.table().uninstall(&peer, serial);
    if current {
        shared.members.send_modify(|v| *v += 1);
        tracing::info!("peer {peer}: disconnected: {reason}");
        let _ = shared.peer_events.send(PeerEvent::Disconnected { id: peer.to_string(), reason });
    }
    Outcome::Ran(started.elapsed())
}
