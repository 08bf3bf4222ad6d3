//! Urgent documents: a commit to a collection of priority `high` or `critical` (its settings
//! in `_peat.collections`) is pushed to each peer at once, whole, on a QUIC stream of its own
//! whose priority is the class. QUIC sends a stream of higher priority first, so the push
//! goes ahead of whatever bulk catch-up the session's stream has queued, instead of waiting
//! for its turn in the change log. The log still carries the document as usual; the peer
//! then finds it holds those heads and asks for nothing.
//!
//! Best effort by design: a push that cannot be made (the task lagged behind a burst of
//! commits, the document is too large) is left to the log.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use iroh::EndpointId;
use iroh::endpoint::{Connection, SendStream};
use tokio::sync::broadcast::error::RecvError;

use super::wire::{self, DocChanges, Msg};
use super::{Shared, blocking, merge_from_peer};
use crate::sync::settings::SETTINGS_COLLECTION;
use crate::sync::{Error, Priority, Result, SyncEvent};

/// Documents larger than this go by the log only: a push must stay small to be quick.
const MAX_PUSH: usize = 64 * 1024;

/// Pushes the urgent commits not made by `peer` itself until the connection ends.
pub(super) async fn run(shared: Arc<Shared>, conn: Connection, peer: EndpointId) {
    let name = peer.to_string();
    let outcome = tokio::select! {
        r = push(&shared, &conn, &name) => r,
        () = shared.stopped() => Ok(()),
    };
    if let Err(e) = outcome {
        tracing::debug!("peer {}: pushing urgent documents ended: {e}", peer.fmt_short());
    }
}

async fn push(shared: &Arc<Shared>, conn: &Connection, peer: &str) -> Result<()> {
    let mut commits = shared.store.subscribe();
    let mut classes = Classes::default();
    let mut streams: BTreeMap<Priority, SendStream> = BTreeMap::new();
    loop {
        let committed = match commits.recv().await {
            Ok(c) => c,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return Ok(()),
        };
        let doc = &committed.document;
        if doc.collection == SETTINGS_COLLECTION {
            classes.forget(&doc.id);
        }
        if committed.origin == peer {
            continue;
        }
        let class = classes.of(shared, &doc.collection).await?;
        if class < Priority::High {
            continue;
        }
        let (store, collection, id) = (shared.store.clone(), doc.collection.clone(), doc.id.clone());
        let Some(bytes) = blocking(move || store.raw(&collection, &id)).await? else { continue };
        if bytes.len() > MAX_PUSH {
            continue;
        }
        let send = match streams.entry(class) {
            std::collections::btree_map::Entry::Occupied(s) => s.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let s = conn.open_uni().await.map_err(|e| Error::context("push stream", e))?;
                // Above the session's stream (priority 0): critical above high.
                let _ = s.set_priority(class as i32);
                v.insert(s)
            }
        };
        let bytes = super::chunks::strip(&bytes);
        let docs = vec![DocChanges { collection: doc.collection.clone(), id: doc.id.clone(), bytes }];
        wire::write(send, &Msg::Push { docs }).await?;
    }
}

/// The priority class of each collection, read from its settings once and forgotten when
/// they change.
#[derive(Default)]
struct Classes(HashMap<String, Priority>);

impl Classes {
    async fn of(&mut self, shared: &Arc<Shared>, collection: &str) -> Result<Priority> {
        if let Some(&p) = self.0.get(collection) {
            return Ok(p);
        }
        let (store, name) = (shared.store.clone(), collection.to_string());
        let p = blocking(move || store.settings(&name)).await?.priority;
        self.0.insert(collection.to_string(), p);
        Ok(p)
    }

    fn forget(&mut self, collection: &str) {
        self.0.remove(collection);
    }
}

/// Merges documents a peer pushed, as the session merges what it pulls: a bad one is
/// refused with a warning, never stored.
pub(super) async fn merge(shared: &Arc<Shared>, peer: &EndpointId, docs: Vec<DocChanges>) -> Result<()> {
    let (merged, refused) = merge_from_peer(shared.store.clone(), peer.to_string(), docs, None).await?;
    for why in refused {
        tracing::warn!("peer {peer}: refused a document it pushed: {why}");
    }
    for (collection, id) in merged {
        let _ = shared.sync_events.send(SyncEvent::Received { peer: peer.to_string(), collection, id });
    }
    Ok(())
}
