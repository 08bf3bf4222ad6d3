//! JSON <-> Automerge. JSON objects map to Automerge maps, arrays to lists, strings to
//! string scalars, integers to `Int`/`Uint` and floats to `F64`, so a document reads back
//! exactly as it went in. Writes are minimal deltas: a value equal to what is stored makes
//! no operation, so concurrent edits of other fields on other nodes survive the merge.

use automerge::transaction::{CommitOptions, Transactable};
use std::collections::HashMap;

use automerge::{
    AutoCommit, Automerge, ObjId, ObjType, Prop, ROOT, ReadDoc, ScalarValue, Value as AmValue, hydrate,
};
use serde_json::{Map, Number, Value};

use crate::sync::query::{Path, Segment};
use crate::sync::{DELETED_FIELD, DocInput, Error, Result, validate};

type AmResult<T> = std::result::Result<T, automerge::AutomergeError>;

fn am_err(err: automerge::AutomergeError) -> Error {
    Error::context("automerge", err)
}

/// Reads a document's fields (without the tombstone marker and the `latest` clock) and whether it is removed.
/// Refuses a document nested deeper than [`validate::MAX_DEPTH`] (a peer's, say) before the
/// recursion here could get near the stack's end.
pub fn read(doc: &AutoCommit) -> Result<(Map<String, Value>, bool)> {
    Ok(visible(read_map(doc, &ROOT, 1)?))
}

/// A document's root fields as users see them: without the tombstone marker and the `latest`
/// clock; and whether it is removed.
pub fn visible(mut fields: Map<String, Value>) -> (Map<String, Value>, bool) {
    let deleted = matches!(fields.remove(DELETED_FIELD), Some(Value::Bool(true)));
    fields.remove(crate::sync::HLC_FIELD);
    (fields, deleted)
}

fn too_deep() -> Error {
    Error::invalid(format!("the document is nested more than {} levels deep", validate::MAX_DEPTH))
}

fn read_map(doc: &AutoCommit, obj: &ObjId, depth: usize) -> Result<Map<String, Value>> {
    if depth > validate::MAX_DEPTH {
        return Err(too_deep());
    }
    let mut out = Map::new();
    for key in doc.keys(obj) {
        if let Ok(Some((value, id))) = doc.get(obj, key.as_str()) {
            out.insert(key, read_value(doc, value, &id, depth)?);
        }
    }
    Ok(out)
}

/// A value inside a container at `depth`.
pub(crate) fn read_value(doc: &AutoCommit, value: AmValue<'_>, id: &ObjId, depth: usize) -> Result<Value> {
    Ok(match value {
        AmValue::Object(ObjType::Map | ObjType::Table) => Value::Object(read_map(doc, id, depth + 1)?),
        AmValue::Object(ObjType::List) => {
            if depth + 1 > validate::MAX_DEPTH {
                return Err(too_deep());
            }
            let len = doc.length(id);
            let items = (0..len).filter_map(|i| doc.get(id, i).ok().flatten());
            Value::Array(
                items.map(|(v, child)| read_value(doc, v, &child, depth + 1)).collect::<Result<_>>()?,
            )
        }
        AmValue::Object(ObjType::Text) => Value::String(doc.text(id).unwrap_or_default()),
        AmValue::Scalar(s) => scalar_to_json(&s),
    })
}

pub(crate) fn scalar_to_json(s: &ScalarValue) -> Value {
    match s {
        ScalarValue::Str(s) => Value::String(s.to_string()),
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Value::from(*i),
        ScalarValue::Uint(u) => Value::from(*u),
        ScalarValue::F64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        ScalarValue::Counter(c) => Value::from(i64::from(c)),
        ScalarValue::Boolean(b) => Value::Bool(*b),
        ScalarValue::Bytes(b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        ScalarValue::Null | ScalarValue::Unknown { .. } => Value::Null,
    }
}

/// The Automerge scalar for a JSON scalar; `None` for objects and arrays.
fn json_to_scalar(v: &Value) -> Option<ScalarValue> {
    Some(match v {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::String(s) => ScalarValue::Str(s.as_str().into()),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => ScalarValue::Int(i),
            (None, Some(u)) => ScalarValue::Uint(u),
            _ => ScalarValue::F64(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// Applies an upsert to a document: merge or replace the top-level fields, then the single
/// path sets. Also clears a tombstone, since writing a removed document revives it.
pub fn apply(doc: &mut AutoCommit, input: &DocInput) -> Result<()> {
    if input.replace {
        sync_map(doc, &ROOT, &input.fields).map_err(am_err)?;
    } else {
        for (key, value) in &input.fields {
            put(doc, &ROOT, key.as_str().into(), value).map_err(am_err)?;
        }
        if doc.get(&ROOT, DELETED_FIELD).map_err(am_err)?.is_some() {
            doc.delete(&ROOT, DELETED_FIELD).map_err(am_err)?;
        }
    }
    for (path, value) in &input.sets {
        set_path(doc, path, value)?;
    }
    Ok(())
}

/// A new document as the store keeps it: its bytes and its heads (32-byte hashes).
pub struct Created {
    pub bytes: Vec<u8>,
    pub heads: Vec<u8>,
}

/// A new document holding `fields`, made now by `actor` in one change. Bulk ingest of new
/// documents spends most of its time here: a flat one is written directly as its change
/// chunk (see [`super::flat`]); any other is built by Automerge in one batch, twice as fast
/// as setting its fields one by one, and saved.
pub fn create(fields: &Map<String, Value>, actor: &automerge::ActorId) -> Result<Created> {
    let time = super::history::now_seconds();
    if let Some(chunk) = super::flat::encode(fields, actor, time) {
        return Ok(Created { bytes: chunk.bytes, heads: chunk.hash.to_vec() });
    }
    let mut doc = Automerge::new().with_actor(actor.clone());
    let mut tx = doc.transaction();
    tx.init_root_from_hydrate(&hydrate_map(fields)).map_err(am_err)?;
    tx.commit_with(CommitOptions::default().with_time(time));
    Ok(Created { bytes: doc.save(), heads: doc.get_heads().iter().flat_map(|h| h.0).collect() })
}

pub(crate) fn hydrate_map(map: &Map<String, Value>) -> hydrate::Map {
    let entries: HashMap<&str, hydrate::Value> = map.iter().map(|(k, v)| (k.as_str(), hydrate(v))).collect();
    match hydrate::Value::from(entries) {
        hydrate::Value::Map(map) => map,
        _ => unreachable!("a map hydrates to a map"),
    }
}

fn hydrate(v: &Value) -> hydrate::Value {
    match v {
        Value::Object(map) => hydrate::Value::Map(hydrate_map(map)),
        Value::Array(items) => hydrate::Value::from(items.iter().map(hydrate).collect::<Vec<_>>()),
        scalar => hydrate::Value::Scalar(json_to_scalar(scalar).unwrap_or(ScalarValue::Null)),
    }
}

/// Marks a document removed and deletes every field, in the caller's one change, so that the
/// current state (what peers that join later receive as values) holds only the marker. Older
/// values stay in the Automerge history until it is compacted.
pub fn mark_removed(doc: &mut AutoCommit) -> Result<()> {
    for key in doc.keys(&ROOT).filter(|k| k != DELETED_FIELD).collect::<Vec<_>>() {
        doc.delete(&ROOT, key.as_str()).map_err(am_err)?;
    }
    doc.put(&ROOT, DELETED_FIELD, true).map_err(am_err)
}

/// Sets one path, creating missing intermediate objects. Indexes must exist (or be the
/// next one, which appends).
fn set_path(doc: &mut AutoCommit, path: &Path, value: &Value) -> Result<()> {
    let segments = path.segments();
    let (last, parents) = segments.split_last().ok_or_else(|| Error::invalid("empty path"))?;
    let mut obj = ROOT;
    for (depth, seg) in parents.iter().enumerate() {
        let prop = prop_of(seg);
        obj = match doc.get(&obj, prop.clone()).map_err(am_err)? {
            Some((AmValue::Object(ObjType::Map | ObjType::List | ObjType::Table), id)) => id,
            Some(_) if matches!(seg, Segment::Index(_)) => {
                return Err(Error::invalid(format!(
                    "cannot set {path}: {} is not a container",
                    prefix(path, depth)
                )));
            }
            _ => match seg {
                Segment::Key(k) => doc.put_object(&obj, k.as_str(), ObjType::Map).map_err(am_err)?,
                Segment::Index(i) => {
                    return Err(Error::invalid(format!(
                        "cannot set {path}: no element [{i}] at {}",
                        prefix(path, depth)
                    )));
                }
            },
        };
        if doc.object_type(&obj).map_err(am_err)? == ObjType::List
            && !matches!(segments[depth + 1], Segment::Index(_))
        {
            return Err(Error::invalid(format!("cannot set {path}: {} is a list", prefix(path, depth + 1))));
        }
    }
    let is_list = doc.object_type(&obj).map_err(am_err)? == ObjType::List;
    match (last, is_list) {
        (Segment::Key(k), false) => put(doc, &obj, Prop::Map(k.clone()), value).map_err(am_err),
        (Segment::Index(i), true) => {
            let len = doc.length(&obj);
            if *i < len {
                put(doc, &obj, Prop::Seq(*i), value).map_err(am_err)
            } else if *i == len {
                insert(doc, &obj, len, value).map_err(am_err)
            } else {
                Err(Error::invalid(format!("cannot set {path}: the list has {len} elements")))
            }
        }
        (Segment::Key(_), true) => Err(Error::invalid(format!("cannot set {path}: the parent is a list"))),
        (Segment::Index(_), false) => {
            Err(Error::invalid(format!("cannot set {path}: the parent is not a list")))
        }
    }
}

fn prefix(path: &Path, len: usize) -> Path {
    Path::from_segments(path.segments()[..len].to_vec())
}

fn prop_of(seg: &Segment) -> Prop {
    match seg {
        Segment::Key(k) => Prop::Map(k.clone()),
        Segment::Index(i) => Prop::Seq(*i),
    }
}

/// Makes the value at `prop` of `obj` equal to `value` with as few operations as possible.
fn put(doc: &mut AutoCommit, obj: &ObjId, prop: Prop, value: &Value) -> AmResult<()> {
    let existing = doc.get(obj, prop.clone())?;
    match (value, existing) {
        (Value::Object(map), Some((AmValue::Object(ObjType::Map | ObjType::Table), id))) => {
            sync_map(doc, &id, map)
        }
        (Value::Array(items), Some((AmValue::Object(ObjType::List), id))) => sync_list(doc, &id, items),
        (_, Some((AmValue::Scalar(old), _))) if json_to_scalar(value).as_ref() == Some(old.as_ref()) => {
            Ok(())
        }
        (Value::Object(map), _) => {
            let id = doc.put_object(obj, prop, ObjType::Map)?;
            sync_map(doc, &id, map)
        }
        (Value::Array(items), _) => {
            let id = doc.put_object(obj, prop, ObjType::List)?;
            sync_list(doc, &id, items)
        }
        (scalar, _) => doc.put(obj, prop, json_to_scalar(scalar).unwrap_or(ScalarValue::Null)),
    }
}

/// Inserts a new element at `index` of a list.
fn insert(doc: &mut AutoCommit, list: &ObjId, index: usize, value: &Value) -> AmResult<()> {
    match value {
        Value::Object(map) => {
            let id = doc.insert_object(list, index, ObjType::Map)?;
            sync_map(doc, &id, map)
        }
        Value::Array(items) => {
            let id = doc.insert_object(list, index, ObjType::List)?;
            sync_list(doc, &id, items)
        }
        scalar => doc.insert(list, index, json_to_scalar(scalar).unwrap_or(ScalarValue::Null)),
    }
}

/// Makes a map equal to `map`: update what differs, delete keys it does not name.
fn sync_map(doc: &mut AutoCommit, obj: &ObjId, map: &Map<String, Value>) -> AmResult<()> {
    let stale: Vec<String> = doc.keys(obj).filter(|k| !map.contains_key(k)).collect();
    for key in stale {
        doc.delete(obj, key.as_str())?;
    }
    for (key, value) in map {
        put(doc, obj, key.as_str().into(), value)?;
    }
    Ok(())
}

/// Makes a list equal to `items`: update elements in place, then append or trim the tail.
fn sync_list(doc: &mut AutoCommit, list: &ObjId, items: &[Value]) -> AmResult<()> {
    let len = doc.length(list);
    for (i, item) in items.iter().enumerate().take(len) {
        put(doc, list, Prop::Seq(i), item)?;
    }
    for (i, item) in items.iter().enumerate().skip(len) {
        insert(doc, list, i, item)?;
    }
    for i in (items.len()..len).rev() {
        doc.delete(list, i)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn roundtrip(v: &Value) -> Value {
        let mut doc = AutoCommit::new();
        let input = DocInput { fields: object(v.clone()), ..DocInput::default() };
        apply(&mut doc, &input).unwrap();
        let bytes = doc.save();
        Value::Object(read(&AutoCommit::load(&bytes).unwrap()).unwrap().0)
    }

    #[test]
    fn scalars_keep_their_json_type() {
        let v = json!({"i": 3, "f": 3.0, "neg": -7, "big": u64::MAX, "g": 9.80665, "s": "ü✓ 日本",
            "t": true, "n": null, "e": {}, "l": [], "nested": {"a": [1, [2.5, {"b": null}]]}});
        let back = roundtrip(&v);
        assert_eq!(back, v);
        assert_eq!(serde_json::to_string(&back).unwrap(), serde_json::to_string(&v).unwrap());
        assert!(back["f"].is_f64() && back["i"].is_i64() && back["big"].is_u64());
    }

    #[test]
    fn unchanged_values_make_no_change() {
        let mut doc = AutoCommit::new();
        let input = DocInput { fields: object(json!({"a": 1, "b": {"c": [1, 2]}})), ..DocInput::default() };
        apply(&mut doc, &input).unwrap();
        doc.commit();
        apply(&mut doc, &input).unwrap();
        assert!(doc.commit().is_none(), "a repeated upsert must not create a change");
    }

    #[test]
    fn merge_keeps_unnamed_fields_and_replace_drops_them() {
        let mut doc = AutoCommit::new();
        apply(&mut doc, &DocInput { fields: object(json!({"a": 1, "b": 2})), ..DocInput::default() })
            .unwrap();
        apply(&mut doc, &DocInput { fields: object(json!({"b": 3})), ..DocInput::default() }).unwrap();
        assert_eq!(Value::Object(read(&doc).unwrap().0), json!({"a": 1, "b": 3}));
        apply(&mut doc, &DocInput { fields: object(json!({"c": 4})), replace: true, ..DocInput::default() })
            .unwrap();
        assert_eq!(Value::Object(read(&doc).unwrap().0), json!({"c": 4}));
    }

    #[test]
    fn set_paths_create_objects_and_index_lists() {
        let mut doc = AutoCommit::new();
        apply(&mut doc, &DocInput { fields: object(json!({"l": [1, 2]})), ..DocInput::default() }).unwrap();
        let sets = vec![
            (Path::parse("a.b.c").unwrap(), json!(1)),
            (Path::parse("l[1]").unwrap(), json!("x")),
            (Path::parse("l[2]").unwrap(), json!({"k": true})),
        ];
        apply(&mut doc, &DocInput { sets, ..DocInput::default() }).unwrap();
        assert_eq!(
            Value::Object(read(&doc).unwrap().0),
            json!({"a": {"b": {"c": 1}}, "l": [1, "x", {"k": true}]})
        );
        let bad = DocInput { sets: vec![(Path::parse("l[9]").unwrap(), json!(0))], ..DocInput::default() };
        assert!(apply(&mut doc, &bad).is_err());
        let bad = DocInput { sets: vec![(Path::parse("l.x").unwrap(), json!(0))], ..DocInput::default() };
        assert!(apply(&mut doc, &bad).is_err());
    }

    #[test]
    fn concurrent_edits_of_different_fields_both_survive() {
        let mut a = AutoCommit::new();
        apply(&mut a, &DocInput { fields: object(json!({"x": 0, "y": 0})), ..DocInput::default() }).unwrap();
        let mut b = AutoCommit::load(&a.save()).unwrap();
        apply(&mut a, &DocInput { fields: object(json!({"x": 1, "y": 0})), ..DocInput::default() }).unwrap();
        apply(&mut b, &DocInput { fields: object(json!({"x": 0, "y": 2})), ..DocInput::default() }).unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(Value::Object(read(&a).unwrap().0), json!({"x": 1, "y": 2}));
    }

    #[test]
    fn removal_drops_every_field_and_an_upsert_revives() {
        let mut doc = AutoCommit::new();
        let nested = object(json!({"a": 1, "m": {"x": "C"}, "l": [1]}));
        apply(&mut doc, &DocInput { fields: nested, ..DocInput::default() }).unwrap();
        doc.commit();
        let before = doc.get_changes(&[]).len();
        mark_removed(&mut doc).unwrap();
        doc.commit();
        assert_eq!(read(&doc).unwrap(), (Map::new(), true));
        assert_eq!(doc.get_changes(&[]).len(), before + 1, "the removal is one change");
        apply(&mut doc, &DocInput { fields: object(json!({"b": 2})), ..DocInput::default() }).unwrap();
        assert_eq!(read(&doc).unwrap(), (object(json!({"b": 2})), false));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn json_to_automerge_to_json_is_identity(
            fields in prop::collection::btree_map("[a-z_]{1,8}".prop_filter("reserved", |k| k != DELETED_FIELD), arb_json(), 0..8)
        ) {
            let v = Value::Object(fields.into_iter().collect());
            let back = roundtrip(&v);
            prop_assert_eq!(serde_json::to_string(&back).unwrap(), serde_json::to_string(&v).unwrap());
            // The batch path for new documents builds the same document.
            let created = create(v.as_object().unwrap(), &automerge::ActorId::random()).unwrap();
            let loaded = AutoCommit::load(&created.bytes).unwrap();
            prop_assert_eq!(Value::Object(read(&loaded).unwrap().0), v);
        }
    }
}
