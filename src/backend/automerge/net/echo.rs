//! What a peer is known to hold, so a document it holds is not offered to it again.
//!
//! Once a document the peer sent is merged here, it lands in our log, which the feed would
//! offer straight back: the peer would ask for it with 32 incompressible bytes of heads per
//! document, for nothing. When every head of the merged document is a change the peer sent,
//! the peer holds all of it (a peer holding a change holds every change it depends on), so
//! the merge records those heads and the feed skips a log entry whose heads equal them. That
//! is safe whatever happened in between: a peer never loses a change, so heads it once held
//! it still has.
//!
//! Likewise for what we answered: a document changed again after its entry went out (the
//! peer then asks with the old entry and is sent the new state) has a newer entry the feed
//! has yet to send. Those answers are recorded once the feed is live, and forgotten once the
//! feed has read the log to its end past them: what it did not skip by then it never will.

use std::collections::HashMap;
use std::sync::Mutex;

use super::wire::Hash;

/// Documents recorded at most: a peer that keeps to the window never comes near it; beyond
/// it nothing more is recorded and documents are offered back as before.
const MAX_RECORDED: usize = 100_000;

type Key = (String, String);

/// Per session: documents (collection, id) and heads the peer holds, not yet fed back.
#[derive(Default)]
pub(super) struct PeerHolds {
    /// Merged from the peer.
    merged: Mutex<HashMap<Key, Vec<Hash>>>,
    served: Mutex<Served>,
}

/// Answers sent to the peer, each with the feed's read it came before.
#[derive(Default)]
struct Served {
    /// Whether the feed has read the log to its end: answers before that are to a catch-up
    /// whose entries went out already, not worth recording.
    live: bool,
    /// The feed's reads begun so far.
    reads: u64,
    docs: HashMap<Key, (Vec<Hash>, u64)>,
}

impl PeerHolds {
    /// The peer holds `heads` of the document: it sent them.
    pub fn record(&self, collection: &str, id: &str, heads: &[Hash]) {
        let mut held = self.merged.lock().expect("not poisoned");
        if held.len() < MAX_RECORDED || held.contains_key(&(collection.to_string(), id.to_string())) {
            held.insert((collection.to_string(), id.to_string()), heads.to_vec());
        }
    }

    /// The peer holds `heads` of the document: we answered its request with them.
    pub fn served(&self, collection: &str, id: &str, heads: &[Hash]) {
        let mut served = self.served.lock().expect("not poisoned");
        if served.live && served.docs.len() < MAX_RECORDED {
            let read = served.reads;
            served.docs.insert((collection.to_string(), id.to_string()), (heads.to_vec(), read));
        }
    }

    /// The feed begins a read of the log: what it returns is passed to [`Self::read_to_end`].
    pub fn begin_read(&self) -> u64 {
        let mut served = self.served.lock().expect("not poisoned");
        served.reads += 1;
        served.reads
    }

    /// The feed's read `read` reached the log's end: answers recorded before it began are
    /// of documents whose entries it has now seen.
    pub fn read_to_end(&self, read: u64) {
        let mut served = self.served.lock().expect("not poisoned");
        served.live = true;
        served.docs.retain(|_, (_, at)| *at >= read);
    }

    /// Whether the peer holds the document at `heads`, forgetting the record: the feed asks
    /// once per log entry, and a later entry of the document has other heads.
    pub fn take_if_held(&self, collection: &str, id: &str, heads: &[Hash]) -> bool {
        let key = (collection.to_string(), id.to_string());
        let mut merged = self.merged.lock().expect("not poisoned");
        if merged.get(&key).is_some_and(|h| h == heads) {
            merged.remove(&key);
            return true;
        }
        let mut served = self.served.lock().expect("not poisoned");
        if served.docs.get(&key).is_some_and(|(h, _)| h == heads) {
            served.docs.remove(&key);
            return true;
        }
        false
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

    #[test]
    fn answers_count_once_the_feed_is_live_until_it_reads_past_them() {
        let holds = PeerHolds::default();
        holds.served("c", "x", &[[1; 32]]);
        assert!(!holds.take_if_held("c", "x", &[[1; 32]]), "answers of a catch-up: not recorded");
        let read = holds.begin_read();
        holds.read_to_end(read);
        holds.served("c", "x", &[[1; 32]]);
        holds.served("c", "y", &[[2; 32]]);
        let read = holds.begin_read();
        holds.served("c", "z", &[[3; 32]]);
        assert!(holds.take_if_held("c", "x", &[[1; 32]]), "answered before the read");
        holds.read_to_end(read);
        assert!(!holds.take_if_held("c", "y", &[[2; 32]]), "read past: forgotten");
        assert!(holds.take_if_held("c", "z", &[[3; 32]]), "answered during the read: kept");
    }
}
