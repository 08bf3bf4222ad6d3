//! Peer exchange: after the formation check, each side tells the other the members it knows
//! (ids and addresses, only of this formation: every peer in the table proved the key), on
//! a unidirectional stream of its own, again whenever they change; each dials those it does
//! not know, up to `max_peers`. So a node that joined through one member's ticket ends up
//! connected to the whole formation. The peer's other one-way streams, its urgent pushes
//! ([`super::push`]), are read here too.

use std::sync::Arc;

use iroh::EndpointId;
use iroh::endpoint::Connection;

use super::Shared;
use super::wire::{self, Member, Msg};

/// Most members told in one message, and most addresses per member: a peer cannot make us
/// hold more than this from one message.
pub(super) const MAX_MEMBERS: usize = 64;
pub(super) const MAX_ADDRS: usize = 8;

/// Runs both directions of the exchange with `peer` until the connection ends.
pub(super) async fn run(shared: Arc<Shared>, conn: Connection, peer: EndpointId) {
    let outcome = tokio::select! {
        r = tell(&shared, &conn, peer) => r,
        r = learn(&shared, &conn, peer) => r,
        () = shared.stopped() => Ok(()),
    };
    if let Err(e) = outcome {
        tracing::debug!("peer {}: peer exchange ended: {e}", peer.fmt_short());
    }
}

/// Sends the members we know (but the peer itself) now and whenever they change.
async fn tell(shared: &Shared, conn: &Connection, peer: EndpointId) -> crate::sync::Result<()> {
    let mut send = conn.open_uni().await.map_err(|e| crate::sync::Error::context("exchange stream", e))?;
    let mut changed = shared.members.subscribe();
    loop {
        changed.mark_unchanged();
        let members = shared.members_except(&peer);
        wire::write(&mut send, &Msg::Members { members }).await?;
        if changed.changed().await.is_err() {
            return Ok(());
        }
    }
}

/// Reads the peer's unidirectional streams: its members (one stream) and its urgent pushes
/// (one stream per class, [`super::push`]). A stream may open at any time.
async fn learn(shared: &Arc<Shared>, conn: &Connection, peer: EndpointId) -> crate::sync::Result<()> {
    let mut readers = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = conn.accept_uni() => {
                let recv = accepted.map_err(|e| crate::sync::Error::context("exchange stream", e))?;
                readers.spawn(read_stream(shared.clone(), recv, peer));
            }
            Some(ended) = readers.join_next() => {
                if let Ok(Err(e)) = ended {
                    return Err(e);
                }
            }
        }
    }
}

/// Handles the messages of one of the peer's unidirectional streams.
async fn read_stream(
    shared: Arc<Shared>,
    mut recv: iroh::endpoint::RecvStream,
    peer: EndpointId,
) -> crate::sync::Result<()> {
    while let Some((msg, _)) = wire::read(&mut recv).await? {
        match msg {
            Msg::Members { members } => shared.learn_members(&peer, members),
            Msg::Push { docs } => super::push::merge(&shared, &peer, docs).await?,
            other => {
                return Err(crate::sync::Error::invalid(format!(
                    "unexpected message on a one-way stream: {other:?}"
                )));
            }
        }
    }
    Ok(())
}

/// A member as told: its id and at most [`MAX_ADDRS`] addresses.
pub(super) fn member(id: &EndpointId, addrs: &[std::net::SocketAddr]) -> Member {
    Member { id: *id.as_bytes(), addrs: addrs.iter().take(MAX_ADDRS).copied().collect() }
}
