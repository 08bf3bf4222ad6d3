//! What a peer is known to hold, so a document it just sent us is not offered back to it.
//!
//! Once a document the peer sent is merged here, it lands in our log, which the feed would
//! offer straight back: the peer would ask for it with 32 incompressible bytes of heads per
//! document, for nothing. When every head of the merged document is a change the peer sent,
//! the peer holds all of it (a peer holding a change holds every change it depends on), so
//! the merge records those heads and the feed skips a log entry whose heads equal them. That
//! is safe whatever happened in between: a peer never loses a change, so heads it once held
//! it still has.

use std::collections::HashMap;
use std::sync::Mutex;

use super::wire::Hash;

/// Documents recorded at most: a peer that keeps to the window never comes near it; beyond
/// it nothing more is recorded and documents are offered back as before.
const MAX_RECORDED: usize = 100_000;

/// Per session: documents (collection, id) and heads the peer holds, not yet fed back.
#[derive(Default)]
pub(super) struct PeerHolds(Mutex<HashMap<(String, String), Vec<Hash>>>);

impl PeerHolds {
    /// The peer holds `heads` of the document.
    pub fn record(&self, collection: &str, id: &str, heads: &[Hash]) {
        let mut held = self.0.lock().expect("not poisoned");
        if held.len() < MAX_RECORDED || held.contains_key(&(collection.to_string(), id.to_string())) {
            held.insert((collection.to_string(), id.to_string()), heads.to_vec());
        }
    }

    /// Whether the peer holds the document at `heads`, forgetting the record: the feed asks
    /// once per log entry, and a later entry of the document has other heads.
    pub fn take_if_held(&self, collection: &str, id: &str, heads: &[Hash]) -> bool {
        let mut held = self.0.lock().expect("not poisoned");
        let key = (collection.to_string(), id.to_string());
        match held.get(&key) {
            Some(h) if h == heads => {
                held.remove(&key);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recorded_heads_count_and_only_once() {
        let holds = PeerHolds::default();
        holds.record("c", "x", &[[1; 32]]);
        assert!(!holds.take_if_held("c", "x", &[[2; 32]]), "other heads: offered");
        assert!(!holds.take_if_held("c", "y", &[[1; 32]]), "another document: offered");
        assert!(holds.take_if_held("c", "x", &[[1; 32]]));
        assert!(!holds.take_if_held("c", "x", &[[1; 32]]), "the record is used up");
    }
}
