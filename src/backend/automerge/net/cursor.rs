//! How far this node merged a peer's change log: the peer's store identity and the log
//! position, kept in the store's `meta` per peer. Positions mean something only in the log of
//! that one store, so a peer whose store was replaced is pulled from the start. The store
//! identity is kept beside the position so that a dialer can ask for the feed in its first
//! message, before the peer has said which store it runs.

use iroh::EndpointId;

use super::wire::Since;
use crate::backend::automerge::Store;
use crate::sync::Result;

/// The pull of one peer's log: merged up to `seq` of the log of store `store`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Cursor {
    pub store: [u8; 16],
    pub seq: u64,
}

impl Cursor {
    /// What was recorded for `peer` (nothing yet: position 0 of no store).
    pub fn load(store: &Store, peer: &EndpointId) -> Result<Self> {
        Ok(store.meta(&key(peer))?.and_then(|b| Self::decode(&b)).unwrap_or_default())
    }

    pub fn save(self, store: &Store, peer: &EndpointId) -> Result<()> {
        let mut bytes = self.store.to_vec();
        bytes.extend_from_slice(&self.seq.to_be_bytes());
        store.set_meta(&key(peer), &bytes)
    }

    /// Where to pull from when the peer runs store `peer_store`.
    pub fn of(self, peer_store: [u8; 16]) -> Self {
        if self.store == peer_store { self } else { Self { store: peer_store, seq: 0 } }
    }

    /// The subscription this cursor asks for.
    pub fn since(self) -> Since {
        Since { seq: self.seq, of: self.store }
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (store, seq) = bytes.split_first_chunk::<16>()?;
        Some(Self { store: *store, seq: u64::from_be_bytes(seq.try_into().ok()?) })
    }
}

fn key(peer: &EndpointId) -> String {
    format!("cursor/{peer}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_applies_only_to_the_store_it_was_kept_for() {
        let c = Cursor { store: [7; 16], seq: 42 };
        assert_eq!(Cursor::decode(&[&[7u8; 16][..], &42u64.to_be_bytes()].concat()), Some(c));
        assert_eq!(Cursor::decode(&[7u8; 20]), None, "a record of another length");
        assert_eq!(c.of([7; 16]).seq, 42);
        assert_eq!(c.of([8; 16]), Cursor { store: [8; 16], seq: 0 }, "a replaced store is pulled from 0");
    }
}
