//! Rekeying the formation (`peat formation rekey`): a new formation key, handed to the
//! members connected now over their authenticated connections, each on a stream of its own.
//! Every member stores it (`formation.key`, replaced atomically) and reconnects with it, so a
//! node that was removed (`peers remove`), or is away, keeps the old key and is refused by
//! all from then on: a leaked ticket or a removed node is revoked.

use std::sync::Arc;
use std::time::Duration;

use iroh::EndpointId;
use iroh::endpoint::Connection;

use super::auth::Formation;
use super::connection::{CLOSE_REKEYED, close};
use super::wire::{self, Msg};
use super::{Shared, blocking};
use crate::sync::{Error, Rekeyed, Result};

/// How long a member may take to store the new key and say so.
const ANSWER: Duration = Duration::from_secs(5);

const REASON: &str = "formation rekeyed";

/// Makes a new key, stores it, hands it to every connected member, then closes every
/// connection: members come back with the new key, anybody else is refused.
pub(super) async fn rekey(shared: &Arc<Shared>) -> Result<Rekeyed> {
    let key: [u8; 32] = rand::random();
    adopt(shared, key).await?;
    let connected: Vec<(EndpointId, Connection)> = {
        let table = shared.table();
        table.peers.iter().filter_map(|(id, p)| p.live().map(|s| (*id, s.conn.clone()))).collect()
    };
    let mut handing = tokio::task::JoinSet::new();
    for (id, conn) in connected.iter().cloned() {
        handing.spawn(async move { (id, tokio::time::timeout(ANSWER, hand(&conn, key)).await) });
    }
    let mut done = Rekeyed::default();
    while let Some(Ok((id, answer))) = handing.join_next().await {
        match answer {
            Ok(Ok(())) => done.members.push(id.to_string()),
            Ok(Err(e)) => {
                tracing::warn!("peer {id}: did not take the new formation key: {e}");
                done.missed.push(id.to_string());
            }
            Err(_) => {
                tracing::warn!("peer {id}: did not take the new formation key within {}s", ANSWER.as_secs());
                done.missed.push(id.to_string());
            }
        }
    }
    for (_, conn) in &connected {
        close(conn, CLOSE_REKEYED, REASON);
    }
    done.members.sort();
    done.missed.sort();
    tracing::info!(
        "formation rekeyed: {} members took the new key, {} did not",
        done.members.len(),
        done.missed.len()
    );
    Ok(done)
}

/// Sends the key on a new stream of `conn` and waits for the member to say it stored it.
async fn hand(conn: &Connection, key: [u8; 32]) -> Result<()> {
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| Error::context("rekey stream", e))?;
    wire::write(&mut send, &Msg::Rekey { key }).await?;
    let _ = send.finish();
    match wire::read(&mut recv).await? {
        Some((Msg::Rekeyed, _)) => Ok(()),
        Some((other, _)) => Err(Error::invalid(format!("unexpected answer to a rekey: {other:?}"))),
        None => Err(Error::failed("the member closed the stream without an answer")),
    }
}

/// Answers the rekeys a member sends on this connection, until it ends. On one: stores the
/// key, answers, and once the member has closed this connection (or after a moment) closes
/// every other, so that all reconnect with the new key.
pub(super) async fn serve(shared: Arc<Shared>, conn: Connection, peer: EndpointId) {
    let served = tokio::select! {
        r = serve_one(&shared, &conn) => r,
        () = shared.stopped() => return,
    };
    match served {
        Ok(false) => {}
        Ok(true) => {
            tracing::info!("peer {peer}: rekeyed the formation; reconnecting with the new key");
            let _ = tokio::time::timeout(ANSWER, conn.closed()).await;
            let others: Vec<Connection> =
                shared.table().peers.values().filter_map(|p| p.live()).map(|s| s.conn.clone()).collect();
            for other in others {
                close(&other, CLOSE_REKEYED, REASON);
            }
        }
        Err(e) => tracing::warn!("peer {peer}: rekey failed: {e}"),
    }
}

/// Waits for the peer's rekey stream: true once the key is taken, false when the connection
/// ends without one.
async fn serve_one(shared: &Arc<Shared>, conn: &Connection) -> Result<bool> {
    let Ok((mut send, mut recv)) = conn.accept_bi().await else { return Ok(false) };
    let key = match wire::read(&mut recv).await? {
        Some((Msg::Rekey { key }, _)) => key,
        Some((other, _)) => {
            return Err(Error::invalid(format!("unexpected message on a rekey stream: {other:?}")));
        }
        None => return Ok(false),
    };
    adopt(shared, key).await?;
    wire::write(&mut send, &Msg::Rekeyed).await?;
    let _ = send.finish();
    Ok(true)
}

/// Stores `key` as this node's formation key (the file first, so a restart keeps it) and
/// uses it for every handshake from now on.
async fn adopt(shared: &Shared, key: [u8; 32]) -> Result<()> {
    let path = shared.key_file();
    blocking(move || crate::home::replace_secret(&path, &key)).await?;
    let mut formation = shared.formation.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    *formation = Formation { key, ..formation.clone() };
    Ok(())
}
