//! What a stored Automerge document knows beyond its current JSON: the changes that made it
//! (each one's effect is the diff between the state before it and after it) and the fields
//! where concurrent writes left several values.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use automerge::{AutoCommit, ObjId, ObjType, PatchAction, Prop, ROOT, ReadDoc, Value as AmValue};
use serde_json::Value;

use super::convert;
use crate::sync::{ChangeOp, Conflict, ConflictValue, DELETED_FIELD, FieldChange, HistoryEntry, clock};

/// Every change of `doc`, oldest first (causal order: a change comes after those it saw).
pub fn history(doc: &mut AutoCommit) -> Vec<HistoryEntry> {
    let changes = doc.get_changes(&[]);
    changes
        .iter()
        .map(|change| {
            let patches = doc.diff(change.deps(), &[change.hash()]);
            HistoryEntry {
                time: commit_time(change.timestamp()),
                node: change.actor_id().to_hex_string(),
                hash: change.hash().to_string(),
                changes: patches.into_iter().flat_map(|p| field_changes(&p.path, p.action)).collect(),
            }
        })
        .collect()
}

/// The time a change was committed (seconds since the epoch), `None` when it carries none.
fn commit_time(seconds: i64) -> Option<String> {
    let seconds = u64::try_from(seconds).ok().filter(|s| *s > 0)?;
    Some(clock::rfc3339(UNIX_EPOCH + Duration::from_secs(seconds)))
}

/// The seconds since the epoch that a commit records and expiry counts by.
pub fn now_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64) + clock_offset()
}

/// Seconds added to this node's clock, from `PEAT_TEST_CLOCK_OFFSET` (for tests of nodes
/// whose clocks disagree; 0 otherwise).
fn clock_offset() -> i64 {
    static OFFSET: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *OFFSET.get_or_init(|| {
        std::env::var("PEAT_TEST_CLOCK_OFFSET").ok().and_then(|s| s.parse().ok()).unwrap_or(0)
    })
}

/// What one patch did, path by path (an insert of several values is one change each).
fn field_changes(parent: &[(ObjId, Prop)], action: PatchAction) -> Vec<FieldChange> {
    let at = |prop: Prop| path_of(parent.iter().map(|(_, p)| p).chain(std::iter::once(&prop)));
    let change = |path, op, value| FieldChange { path, op, value };
    match action {
        PatchAction::PutMap { key, value: (v, _), .. } => {
            vec![change(at(Prop::Map(key)), ChangeOp::Set, Some(value_json(&v)))]
        }
        PatchAction::PutSeq { index, value: (v, _), .. } => {
            vec![change(at(Prop::Seq(index)), ChangeOp::Set, Some(value_json(&v)))]
        }
        PatchAction::Insert { index, values } => values
            .iter()
            .enumerate()
            .map(|(i, (v, _, _))| change(at(Prop::Seq(index + i)), ChangeOp::Insert, Some(value_json(v))))
            .collect(),
        PatchAction::SpliceText { index, value, .. } => {
            vec![change(at(Prop::Seq(index)), ChangeOp::Splice, Some(Value::String(value.make_string())))]
        }
        PatchAction::Increment { prop, value } => {
            vec![change(at(prop), ChangeOp::Increment, Some(value.into()))]
        }
        PatchAction::DeleteMap { key } => vec![change(at(Prop::Map(key)), ChangeOp::Delete, None)],
        PatchAction::DeleteSeq { index, length } => {
            (0..length).map(|_| change(at(Prop::Seq(index)), ChangeOp::Delete, None)).collect()
        }
        PatchAction::Conflict { .. } | PatchAction::Mark { .. } => Vec::new(),
    }
}

/// A value as history shows it: scalars as they are, a new object as it is empty (its
/// contents follow as changes of their own).
fn value_json(value: &AmValue<'_>) -> Value {
    match value {
        AmValue::Scalar(s) => convert::scalar_to_json(s),
        AmValue::Object(ObjType::List) => Value::Array(Vec::new()),
        AmValue::Object(ObjType::Text) => Value::String(String::new()),
        AmValue::Object(_) => Value::Object(serde_json::Map::new()),
    }
}

/// `pos.lat`, `tags[2]`: a path as `--where` writes it.
fn path_of<'a>(props: impl Iterator<Item = &'a Prop>) -> String {
    let mut out = String::new();
    for prop in props {
        match prop {
            Prop::Map(key) if out.is_empty() => out.push_str(key),
            Prop::Map(key) => {
                out.push('.');
                out.push_str(key);
            }
            Prop::Seq(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The fields of `doc` with more than one current value, in document order. Only the
/// winning value's contents are searched further, as only they show.
pub fn conflicts(doc: &AutoCommit) -> Vec<Conflict> {
    let mut out = Vec::new();
    walk(doc, &ROOT, &mut Vec::new(), &mut out);
    out
}

fn walk(doc: &AutoCommit, obj: &ObjId, path: &mut Vec<Prop>, out: &mut Vec<Conflict>) {
    let props: Vec<Prop> = match doc.object_type(obj) {
        Ok(ObjType::Map | ObjType::Table) => doc.keys(obj).map(Prop::Map).collect(),
        Ok(ObjType::List) => (0..doc.length(obj)).map(Prop::Seq).collect(),
        _ => return,
    };
    for prop in props {
        if path.is_empty() && prop == Prop::Map(DELETED_FIELD.into()) {
            continue;
        }
        path.push(prop.clone());
        let all = doc.get_all(obj, prop.clone()).unwrap_or_default();
        let winner = doc.get(obj, prop).ok().flatten().map(|(_, id)| id);
        if all.len() > 1 {
            out.push(conflict(doc, path_of(path.iter()), &all, winner.as_ref()));
        }
        if let Some((AmValue::Object(_), id)) = all.iter().find(|(_, id)| Some(id) == winner.as_ref()) {
            walk(doc, id, path, out);
        }
        path.pop();
    }
}

fn conflict(
    doc: &AutoCommit,
    path: String,
    all: &[(AmValue<'_>, ObjId)],
    winner: Option<&ObjId>,
) -> Conflict {
    let mut values: Vec<ConflictValue> = all
        .iter()
        .map(|(value, id)| ConflictValue {
            value: convert::read_value(doc, value.clone(), id, 0).unwrap_or(serde_json::Value::Null),
            node: match id {
                ObjId::Id(_, actor, _) => actor.to_hex_string(),
                ObjId::Root => String::new(),
            },
            op: id.to_string(),
            winner: Some(id) == winner,
        })
        .collect();
    values.sort_by_key(|v| !v.winner);
    let won = values.first().map(|v| v.op.clone()).unwrap_or_default();
    Conflict {
        path,
        values,
        why: format!(
            "written concurrently; Automerge keeps the value with the highest operation id \
(counter, then node id), {won}, so every node shows the same"
        ),
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ROOT};

    use super::*;

    #[test]
    fn concurrent_writes_show_every_value_and_the_same_winner_both_ways() {
        let mut a = AutoCommit::new().with_actor(ActorId::from(vec![1; 32]));
        let pos = a.put_object(&ROOT, "pos", ObjType::Map).unwrap();
        a.put(&pos, "lat", 1).unwrap();
        a.commit();
        let mut b = a.fork().with_actor(ActorId::from(vec![2; 32]));
        a.put(&pos, "lat", 10).unwrap();
        b.put(&pos, "lat", 20).unwrap();
        a.merge(&mut b.clone()).unwrap();
        b.merge(&mut a.clone()).unwrap();
        let (ca, cb) = (conflicts(&a), conflicts(&b));
        assert_eq!(ca, cb, "both sides agree");
        assert_eq!(ca.len(), 1, "{ca:?}");
        assert_eq!(ca[0].path, "pos.lat");
        let values: Vec<_> = ca[0].values.iter().map(|v| (v.value.clone(), v.winner)).collect();
        // Equal counters: the higher actor (b, 0x02...) wins.
        assert_eq!(values, [(Value::from(20), true), (Value::from(10), false)]);
        assert_eq!(ca[0].values[0].node, "02".repeat(32));
    }
}
