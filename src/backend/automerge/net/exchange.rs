//! Peer exchange: after the formation check, each side tells the other the members it knows
//! (ids and addresses, only of this formation: every peer in the table proved the key), on
//! a unidirectional stream of its own, again whenever they change; each dials those it does
//! not know, up to `max_peers`. So a node that joined through one member's ticket ends up
//! connected to the whole formation.

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

/// Learns the members the peer tells.
async fn learn(shared: &Arc<Shared>, conn: &Connection, peer: EndpointId) -> crate::sync::Result<()> {
    let mut recv = conn.accept_uni().await.map_err(|e| crate::sync::Error::context("exchange stream", e))?;
    while let Some((msg, _)) = wire::read(&mut recv).await? {
        match msg {
            Msg::Members { members } => shared.learn_members(&peer, members),
            other => {
                return Err(crate::sync::Error::invalid(format!(
                    "unexpected message on the exchange stream: {other:?}"
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
