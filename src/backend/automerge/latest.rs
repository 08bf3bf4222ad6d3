//! The `latest` history policy: a document of such a collection is only its current state.
//! Every local write replaces the stored Automerge document with a fresh one-change document
//! built from the new state, stamped with a hybrid logical clock in the reserved field
//! [`HLC_FIELD`]. Since versions share no change, a peer that lacks the current one receives
//! the whole (small) document, and the receiver keeps whichever version has the higher clock:
//! last writer wins per document, replace rather than merge.

use std::cmp::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use serde_json::{Map, Value};

use super::convert;
use crate::sync::{DELETED_FIELD, HLC_FIELD, Result};

/// A hybrid logical clock reading: wall milliseconds (never behind the last seen), a counter
/// for writes within one millisecond, and the writing node as the tie-break.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hlc {
    ms: u64,
    counter: u32,
    node: String,
}

impl Hlc {
    /// The clock of a write by `node` after the version stamped `last` (if any): the wall
    /// clock when it is ahead, else one tick after `last`.
    pub fn next(last: Option<&Hlc>, wall_ms: u64, node: &ActorId) -> Self {
        let node = node.to_hex_string();
        match last {
            Some(l) if l.ms >= wall_ms => Self { ms: l.ms, counter: l.counter.saturating_add(1), node },
            _ => Self { ms: wall_ms, counter: 0, node },
        }
    }

    /// The clock a document carries, if it carries a well-formed one.
    pub fn of(doc: &impl ReadDoc) -> Option<Self> {
        let (value, _) = doc.get(ROOT, HLC_FIELD).ok()??;
        let text = value.as_str()?;
        let mut parts = text.splitn(3, '.');
        Some(Self {
            ms: parts.next()?.parse().ok()?,
            counter: parts.next()?.parse().ok()?,
            node: parts.next()?.to_string(),
        })
    }

    fn encode(&self) -> String {
        format!("{}.{}.{}", self.ms, self.counter, self.node)
    }
}

/// Milliseconds since the Unix epoch.
pub fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A fresh one-change document holding `fields` (removed when `deleted`) stamped `hlc`.
pub fn fresh(
    fields: &Map<String, Value>,
    deleted: bool,
    hlc: &Hlc,
    actor: &ActorId,
) -> Result<convert::Created> {
    let mut state = fields.clone();
    if deleted {
        state.insert(DELETED_FIELD.into(), Value::Bool(true));
    }
    state.insert(HLC_FIELD.into(), Value::String(hlc.encode()));
    convert::create(&state, actor)
}

/// Whether `incoming` should replace `ours`: it carries the higher clock (a version without
/// one, written before the policy applied, loses to any stamped version).
pub fn wins(incoming: &AutoCommit, ours: &AutoCommit) -> bool {
    Hlc::of(incoming).cmp(&Hlc::of(ours)) == Ordering::Greater
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(b: u8) -> ActorId {
        ActorId::from(vec![b; 16])
    }

    #[test]
    fn the_clock_never_goes_back_and_ties_break_on_the_node() {
        let a = Hlc::next(None, 1000, &actor(1));
        let behind = Hlc::next(Some(&a), 900, &actor(1));
        assert!(behind > a, "a wall clock behind the last seen still moves the clock on");
        let same_ms = Hlc::next(None, 1000, &actor(2));
        assert!(same_ms > a, "equal times order by node");
        let spent = Hlc { ms: 5, counter: u32::MAX, node: "00".into() };
        assert_eq!(
            Hlc::next(Some(&spent), 0, &actor(1)).counter,
            u32::MAX,
            "a peer's clock cannot overflow ours"
        );
    }

    #[test]
    fn a_fresh_document_has_one_change_and_round_trips_its_clock() {
        let hlc = Hlc::next(None, 42, &actor(3));
        let fields = serde_json::json!({"x": 1}).as_object().unwrap().clone();
        let created = fresh(&fields, false, &hlc, &actor(3)).unwrap();
        let mut doc = AutoCommit::load(&created.bytes).unwrap();
        assert_eq!(doc.get_changes(&[]).len(), 1);
        assert_eq!(doc.get_heads().iter().flat_map(|h| h.0).collect::<Vec<_>>(), created.heads);
        assert_eq!(Hlc::of(&doc), Some(hlc));
        assert_eq!(convert::read(&doc).unwrap(), (fields, false), "the clock is hidden");
    }
}
