//! New flat documents (a map of scalar fields) as one Automerge change chunk, written and
//! read here without Automerge. Bulk ingest and initial sync carry mostly such documents,
//! and building each through Automerge (an op set, a commit, a save) cost about 60 µs of
//! CPU, most of an ingest; the chunk takes about 1 µs. It is also a third smaller than a
//! saved document (no heads hash), and a peer lacking the document is sent it as it is.
//!
//! [`encode`] writes the change Automerge writes for the same fields, byte for byte (the
//! tests compare). [`decode`] reads only what [`encode`] writes: it encodes what it read and
//! compares, so every chunk it accepts is one Automerge loads. Anything else (nested values,
//! several changes, another writer's encoding) returns `None`, and the caller takes the
//! Automerge path.
//!
//! A change chunk is `magic | checksum | 1 | length | contents`; the contents here are no
//! dependencies, the actor, seq 1, start op 1, the time, no message, no other actors, then
//! the operation columns: one `put` on the root map per field, in key order.

use automerge::ActorId;
use serde_json::{Map, Number, Value};

use super::chunk::{CHANGE, MAGIC, Reader, chunk_hash, uleb};

/// Operation columns as Automerge numbers them: column id << 4 | encoding.
const KEY_STRING: u8 = 0x15;
const INSERT: u8 = 0x34;
const ACTION: u8 = 0x42;
const VALUE_META: u8 = 0x56;
const VALUE_RAW: u8 = 0x57;
const PRED_GROUP: u8 = 0x70;
/// The action of a `put`.
const PUT: u64 = 1;

/// Value types in a value's metadata (its low 4 bits; the byte length is above them).
const NULL: u64 = 0;
const FALSE: u64 = 1;
const TRUE: u64 = 2;
const UINT: u64 = 3;
const INT: u64 = 4;
const FLOAT: u64 = 5;
const STRING: u64 = 6;

/// A change chunk and its hash (the change's hash, which names it in heads).
pub struct Chunk {
    pub bytes: Vec<u8>,
    pub hash: [u8; 32],
}

/// A flat document read back from its change chunk.
pub struct Flat {
    pub fields: Map<String, Value>,
    /// When the change was made (Unix seconds, as its author recorded it).
    pub time: i64,
    pub hash: [u8; 32],
}

/// The one change of a new document holding `fields`, made by `actor` at `time` (Unix
/// seconds); `None` when a field is not a scalar (or a float is not finite, or a key is
/// empty), which Automerge builds instead.
pub fn encode(fields: &Map<String, Value>, actor: &ActorId, time: i64) -> Option<Chunk> {
    if fields.is_empty() {
        return None;
    }
    let mut keys = Vec::new();
    let (mut metas, mut raw) = (Vec::with_capacity(fields.len()), Vec::new());
    for (key, value) in fields {
        if key.is_empty() {
            return None;
        }
        keys.push(key.as_bytes());
        metas.push(scalar(value, &mut raw)?);
    }
    let n = fields.len() as u64;
    let mut columns: Vec<(u8, Vec<u8>)> = vec![
        (KEY_STRING, literal_strings(&keys)),
        (INSERT, uleb_bytes(n)),
        (ACTION, rle(&vec![PUT; fields.len()])),
        (VALUE_META, rle(&metas)),
        (VALUE_RAW, raw),
        (PRED_GROUP, rle(&vec![0; fields.len()])),
    ];
    columns.retain(|(_, data)| !data.is_empty());

    let mut contents = Vec::with_capacity(64 + columns.iter().map(|(_, d)| d.len()).sum::<usize>());
    uleb(&mut contents, 0); // dependencies
    uleb(&mut contents, actor.to_bytes().len() as u64);
    contents.extend_from_slice(actor.to_bytes());
    uleb(&mut contents, 1); // seq
    uleb(&mut contents, 1); // start op
    sleb(&mut contents, time);
    uleb(&mut contents, 0); // message
    uleb(&mut contents, 0); // other actors
    uleb(&mut contents, columns.len() as u64);
    for (spec, data) in &columns {
        uleb(&mut contents, u64::from(*spec));
        uleb(&mut contents, data.len() as u64);
    }
    for (_, data) in &columns {
        contents.extend_from_slice(data);
    }

    let length = uleb_bytes(contents.len() as u64);
    let hash = chunk_hash(CHANGE, &length, &contents);
    let mut bytes = Vec::with_capacity(9 + length.len() + contents.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&hash[..4]);
    bytes.push(CHANGE);
    bytes.extend_from_slice(&length);
    bytes.extend_from_slice(&contents);
    Some(Chunk { bytes, hash })
}

/// The document in `bytes` when they are exactly what [`encode`] writes for it.
pub fn decode(bytes: &[u8]) -> Option<Flat> {
    let mut r = Reader(bytes.strip_prefix(&MAGIC)?);
    r.take(4)?; // checksum: compared with the rest below
    (r.byte()? == CHANGE).then_some(())?;
    (r.uleb()? == r.0.len() as u64).then_some(())?;
    (r.uleb()? == 0).then_some(())?; // dependencies
    let actor_len = usize::try_from(r.uleb()?).ok()?;
    let actor = ActorId::from(r.take(actor_len)?);
    (r.uleb()? == 1 && r.uleb()? == 1).then_some(())?; // seq, start op
    let time = r.sleb()?;
    (r.uleb()? == 0 && r.uleb()? == 0).then_some(())?; // message, other actors
    let count = r.uleb()?;
    let mut specs = Vec::new();
    for _ in 0..count.min(8) {
        specs.push((r.uleb()?, usize::try_from(r.uleb()?).ok()?));
    }
    let mut column = |spec: u8| match specs.iter().find(|(s, _)| *s == u64::from(spec)) {
        Some(&(_, len)) => r.take(len),
        None => Some(&[][..]),
    };
    let keys = column(KEY_STRING)?;
    let (_, _) = (column(INSERT)?, column(ACTION)?);
    let metas = column(VALUE_META)?;
    let mut raw = Reader(column(VALUE_RAW)?);
    let keys = read_literal_strings(keys)?;
    let metas = read_rle(metas, keys.len())?;
    let mut fields = Map::new();
    for (key, meta) in keys.into_iter().zip(metas) {
        let value = read_scalar(meta, &mut raw)?;
        fields.insert(String::from_utf8(key.to_vec()).ok()?, value);
    }
    let chunk = encode(&fields, &actor, time)?;
    (chunk.bytes == bytes).then_some(Flat { fields, time, hash: chunk.hash })
}

/// Appends a scalar's raw bytes to `raw`; returns its metadata (byte length << 4 | type).
fn scalar(value: &Value, raw: &mut Vec<u8>) -> Option<u64> {
    let start = raw.len();
    let kind = match value {
        Value::Null => NULL,
        Value::Bool(false) => FALSE,
        Value::Bool(true) => TRUE,
        Value::String(s) => {
            raw.extend_from_slice(s.as_bytes());
            STRING
        }
        // As convert::json_to_scalar maps numbers: i64, else u64, else f64.
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => {
                sleb(raw, i);
                INT
            }
            (None, Some(u), _) => {
                uleb(raw, u);
                UINT
            }
            (None, None, Some(f)) if f.is_finite() => {
                raw.extend_from_slice(&f.to_le_bytes());
                FLOAT
            }
            _ => return None,
        },
        Value::Array(_) | Value::Object(_) => return None,
    };
    Some(((raw.len() - start) as u64) << 4 | kind)
}

fn read_scalar(meta: u64, raw: &mut Reader<'_>) -> Option<Value> {
    let bytes = raw.take(usize::try_from(meta >> 4).ok()?)?;
    let mut value = Reader(bytes);
    Some(match meta & 0xf {
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        STRING => Value::String(std::str::from_utf8(bytes).ok()?.to_owned()),
        INT => Value::from(value.sleb()?),
        UINT => Value::from(value.uleb()?),
        FLOAT => Value::Number(Number::from_f64(f64::from_le_bytes(bytes.try_into().ok()?))?),
        _ => return None,
    })
}

/// Distinct strings as one literal run of Automerge's run-length encoding.
fn literal_strings(values: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    sleb(&mut out, -(values.len() as i64));
    for v in values {
        uleb(&mut out, v.len() as u64);
        out.extend_from_slice(v);
    }
    out
}

fn read_literal_strings(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let mut r = Reader(bytes);
    let n = usize::try_from(r.sleb()?.checked_neg()?).ok()?;
    (n <= bytes.len()).then_some(())?;
    (0..n).map(|_| r.uleb().and_then(|len| r.take(usize::try_from(len).ok()?))).collect()
}

/// Automerge's run-length encoding of unsigned numbers: a run of two or more equal values
/// is its count and the value; other values go in literal runs (minus their count, then
/// each value).
fn rle(values: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut literals: Vec<u64> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let run = values[i..].iter().take_while(|v| **v == values[i]).count();
        if run >= 2 {
            flush_literals(&mut out, &mut literals);
            sleb(&mut out, run as i64);
            uleb(&mut out, values[i]);
        } else {
            literals.push(values[i]);
        }
        i += run;
    }
    flush_literals(&mut out, &mut literals);
    out
}

fn flush_literals(out: &mut Vec<u8>, literals: &mut Vec<u64>) {
    if !literals.is_empty() {
        sleb(out, -(literals.len() as i64));
        literals.drain(..).for_each(|v| uleb(out, v));
    }
}

/// `n` numbers of a run-length encoded column (runs and literal runs only).
fn read_rle(bytes: &[u8], n: usize) -> Option<Vec<u64>> {
    let mut r = Reader(bytes);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let count = r.sleb()?;
        let len = usize::try_from(count.unsigned_abs()).ok()?;
        (len > 0 && out.len() + len <= n).then_some(())?;
        if count > 0 {
            let v = r.uleb()?;
            out.extend(std::iter::repeat_n(v, len));
        } else {
            for _ in 0..len {
                out.push(r.uleb()?);
            }
        }
    }
    Some(out)
}

fn uleb_bytes(v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(2);
    uleb(&mut out, v);
    out
}

fn sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ReadDoc;
    use proptest::prelude::*;

    fn actor() -> ActorId {
        ActorId::from(vec![7; 16])
    }

    /// What Automerge itself writes for the same fields.
    fn automerge_chunk(fields: &Map<String, Value>, time: i64) -> Vec<u8> {
        let mut doc = automerge::Automerge::new().with_actor(actor());
        let mut tx = doc.transaction();
        automerge::transaction::Transactable::init_root_from_hydrate(
            &mut tx,
            &super::super::convert::hydrate_map(fields),
        )
        .unwrap();
        tx.commit_with(automerge::transaction::CommitOptions::default().with_time(time));
        doc.get_changes(&[]).into_iter().next().unwrap().raw_bytes().to_vec()
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (i64::MAX as u64..=u64::MAX).prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            ".{0,40}".prop_map(Value::String),
            Just(Value::String("x".repeat(300))),
        ]
    }

    fn fields() -> impl Strategy<Value = Map<String, Value>> {
        prop::collection::btree_map("[a-z_]{1,12}", scalar(), 1..12).prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn encodes_the_change_automerge_writes_and_reads_it_back(fields in fields(), time in any::<i64>()) {
            let chunk = encode(&fields, &actor(), time).unwrap();
            prop_assert_eq!(&chunk.bytes, &automerge_chunk(&fields, time));
            let mut doc = automerge::AutoCommit::load(&chunk.bytes).unwrap();
            prop_assert_eq!(doc.get_heads()[0].0, chunk.hash);
            let flat = decode(&chunk.bytes).unwrap();
            prop_assert_eq!((flat.fields, flat.time, flat.hash), (fields, time, chunk.hash));
        }

        #[test]
        fn refuses_any_other_bytes(fields in fields(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut bytes = encode(&fields, &actor(), 1_800_000_000).unwrap().bytes;
            let at = at.index(bytes.len());
            prop_assume!(bytes[at] != byte);
            bytes[at] = byte;
            prop_assert!(decode(&bytes).is_none());
            prop_assert!(decode(&bytes[..at]).is_none());
        }
    }

    #[test]
    fn leaves_nested_values_and_empty_documents_to_automerge() {
        let nested = serde_json::json!({"a": {"b": 1}}).as_object().unwrap().clone();
        assert!(encode(&nested, &actor(), 0).is_none());
        assert!(encode(&Map::new(), &actor(), 0).is_none());
        // A document of two changes is not one `decode` reads.
        let mut doc = automerge::AutoCommit::new().with_actor(actor());
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "a", 1).unwrap();
        doc.commit();
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "a", 2).unwrap();
        doc.commit();
        assert!(decode(&doc.save()).is_none());
        assert_eq!(doc.get(automerge::ROOT, "a").unwrap().unwrap().0.to_string(), "2");
    }
}
