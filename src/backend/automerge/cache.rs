//! Recently changed documents, kept loaded so a run of updates to one document does not
//! load its whole history each time. An entry is used only while the store's heads for the
//! document equal its own (see `Writer::existing`): a merge from a peer or a rolled-back
//! write moves them apart, and the document is loaded again. Bounded in stored bytes.

use std::collections::{BTreeMap, HashMap};

use automerge::AutoCommit;

/// Stored bytes of the documents held at most (their loaded form is several times this).
const BUDGET: usize = 4 * 1024 * 1024;
/// Documents held at most, whatever their size.
const ENTRIES: usize = 256;

type Key = (String, String);

/// A least-recently-used set of loaded documents.
#[derive(Default)]
pub(super) struct DocCache {
    docs: HashMap<Key, Entry>,
    /// Use order: tick -> key, oldest first.
    order: BTreeMap<u64, Key>,
    bytes: usize,
    tick: u64,
}

struct Entry {
    tick: u64,
    size: usize,
    doc: AutoCommit,
}

impl DocCache {
    /// Takes a document out (the writer puts it back once changed).
    pub(super) fn take(&mut self, collection: &str, id: &str) -> Option<AutoCommit> {
        let entry = self.docs.remove(&(collection.to_string(), id.to_string()))?;
        self.order.remove(&entry.tick);
        self.bytes -= entry.size;
        Some(entry.doc)
    }

    /// Keeps a document whose stored form is `size` bytes, dropping the least recently used
    /// past the bounds. One larger than a quarter of the budget is not kept.
    pub(super) fn put(&mut self, collection: &str, id: &str, size: usize, doc: AutoCommit) {
        self.take(collection, id);
        if size > BUDGET / 4 {
            return;
        }
        self.tick += 1;
        let key = (collection.to_string(), id.to_string());
        self.order.insert(self.tick, key.clone());
        self.docs.insert(key, Entry { tick: self.tick, size, doc });
        self.bytes += size;
        while self.bytes > BUDGET || self.docs.len() > ENTRIES {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            if let Some(entry) = self.docs.remove(&oldest) {
                self.bytes -= entry.size;
            }
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.docs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_recent_within_bounds() {
        let mut cache = DocCache::default();
        for i in 0..ENTRIES + 10 {
            cache.put("c", &i.to_string(), 10, AutoCommit::new());
        }
        assert_eq!(cache.len(), ENTRIES);
        assert!(cache.take("c", "0").is_none(), "the oldest went first");
        assert!(cache.take("c", &(ENTRIES + 9).to_string()).is_some());
        cache.put("c", "big", BUDGET / 2, AutoCommit::new());
        assert!(cache.take("c", "big").is_none(), "too large to keep");
        for i in 0..8 {
            cache.put("d", &i.to_string(), BUDGET / 5, AutoCommit::new());
        }
        assert!(cache.bytes <= BUDGET);
    }
}
