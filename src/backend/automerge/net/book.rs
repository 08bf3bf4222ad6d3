//! The peer book: the peers a node knows beyond config.toml (learned from their connections,
//! from peer exchange, or added from a ticket), with their addresses and how each became
//! known. Kept in the store, so that a restarted node dials them again without the operator.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::super::Store;
use crate::sync::{Error, PeerSource, Result};

/// The store's meta key of the book.
const KEY: &str = "peer_book";

/// Known peers by node id.
pub(crate) type Book = BTreeMap<String, Entry>;

/// One peer of the book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) addrs: Vec<SocketAddr>,
    pub(crate) source: PeerSource,
}

/// The book as stored (empty when none was written yet).
pub(crate) fn load(store: &Store) -> Result<Book> {
    match store.meta(KEY)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::context("peer book", e)),
        None => Ok(Book::new()),
    }
}

pub(crate) fn save(store: &Store, book: &Book) -> Result<()> {
    let bytes = serde_json::to_vec(book).map_err(|e| Error::context("peer book", e))?;
    store.set_meta(KEY, &bytes)
}

/// Records (or replaces) one peer.
pub(crate) fn remember(store: &Store, id: &str, entry: Entry) -> Result<()> {
    let mut book = load(store)?;
    book.insert(id.to_string(), entry);
    save(store, &book)
}

/// Drops one peer; returns whether it was there.
pub(crate) fn forget(store: &Store, id: &str) -> Result<bool> {
    let mut book = load(store)?;
    let known = book.remove(id).is_some();
    if known {
        save(store, &book)?;
    }
    Ok(known)
}
