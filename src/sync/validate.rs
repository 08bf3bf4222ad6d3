//! The one validation layer for what enters a store, whether from the CLI, the control
//! socket or a peer: collection names, document ids, nesting depth, document size and
//! numbers. Every limit here is also in the README ("Limits").

use serde_json::{Map, Value};

use super::query::Path;
use super::settings::SYSTEM_PREFIX;
use super::types::{DELETED_FIELD, DocInput, HLC_FIELD, ID_FIELD, TTL_FIELD};

/// Longest collection name, in bytes.
pub const MAX_COLLECTION_LEN: usize = 64;
/// Longest document id, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// Deepest nesting of objects and lists in a document (the top-level object is depth 1), and
/// longest `--set` path. Readers recurse; this keeps every recursion far from the stack's end.
pub const MAX_DEPTH: usize = 64;
/// Largest document, as its JSON form, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
/// Largest document with its history (the saved Automerge form), in bytes: a document must
/// fit in one sync frame's changes (the net layer asserts this), so it is refused when
/// written rather than stranded on the node that wrote it.
pub const MAX_HISTORY_BYTES: usize = 8 * 1024 * 1024;

/// Checks a collection name: ASCII letters, digits, `_`, `-`, `.`, not starting with `.` or `-`.
pub fn collection(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("collection name is empty".into());
    }
    if name.len() > MAX_COLLECTION_LEN {
        return Err(format!("collection name is longer than {MAX_COLLECTION_LEN} bytes"));
    }
    if name.starts_with(['.', '-']) {
        return Err(format!("collection name '{name}' must not start with '.' or '-'"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(format!("collection name {name:?} has {c:?}; use letters, digits, '_', '-' and '.'"));
    }
    Ok(())
}

/// Checks a collection a user writes documents to: a valid name, and not one of the
/// node's own (`_peat.*`), which change only through their own commands.
pub fn writable_collection(name: &str) -> Result<(), String> {
    collection(name)?;
    if name.starts_with(SYSTEM_PREFIX) {
        return Err(format!(
            "collection '{name}' belongs to the node; change a collection's settings with `peat collection`"
        ));
    }
    Ok(())
}

/// Checks a document id: printable, no slashes, not `.` or `..`, no surrounding spaces.
pub fn id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("document id is empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!("document id is longer than {MAX_ID_LEN} bytes"));
    }
    if id == "." || id == ".." {
        return Err(format!("document id '{id}' is not allowed"));
    }
    if id.trim() != id {
        return Err(format!("document id {id:?} has leading or trailing whitespace"));
    }
    if let Some(c) = id.chars().find(|c| c.is_control() || matches!(c, '/' | '\\')) {
        return Err(format!("document id {id:?} has the character {c:?}"));
    }
    Ok(())
}

/// Checks an app id: 1 to 64 printable characters.
pub fn app_id(app_id: &str) -> Result<(), String> {
    if app_id.is_empty() || app_id.len() > 64 || app_id.chars().any(char::is_control) {
        return Err(format!("app id {app_id:?}: use 1 to 64 printable characters"));
    }
    Ok(())
}

/// Checks one document to write, as the CLI and the control socket receive it.
pub fn input(collection_name: &str, doc: &DocInput) -> Result<(), String> {
    collection(collection_name)?;
    if let Some(i) = &doc.id {
        id(i)?;
    }
    if doc.fields.contains_key(DELETED_FIELD) {
        return Err(format!("the field '{DELETED_FIELD}' is reserved; remove documents with `peat remove`"));
    }
    if let Some(ttl) = doc.fields.get(TTL_FIELD)
        && ttl.as_u64().is_none_or(|s| s == 0)
    {
        return Err(format!("'{TTL_FIELD}' is a time to live in seconds; {ttl} is not a positive integer"));
    }
    if doc.fields.contains_key(HLC_FIELD) {
        return Err(format!(
            "the field '{HLC_FIELD}' is reserved for the clock of latest-history collections"
        ));
    }
    if doc.fields.contains_key(ID_FIELD) {
        return Err(format!("the field '{ID_FIELD}' is the document id; give it as the id"));
    }
    fields(&doc.fields)?;
    for (p, value) in &doc.sets {
        set(p, value)?;
    }
    Ok(())
}

/// Checks a `--set PATH=VALUE`: not the id or the tombstone, and the value at the end of
/// the path within [`MAX_DEPTH`].
pub fn set(p: &Path, value: &Value) -> Result<(), String> {
    let top = p.to_string();
    let top = top.split(['.', '[']).next().unwrap_or_default();
    if top == ID_FIELD {
        return Err(format!("cannot set {p}: 'id' is the document id, not a field"));
    }
    if top == DELETED_FIELD || top == HLC_FIELD {
        return Err(format!("cannot set {p}: '{top}' is reserved"));
    }
    let depth = p.segments().len() + depth(value);
    if depth > MAX_DEPTH {
        return Err(format!("cannot set {p}: nested {depth} levels deep; the limit is {MAX_DEPTH}"));
    }
    Ok(())
}

/// Checks a document's fields: nesting depth and size. Runs on every document a store
/// writes, its own or a peer's.
pub fn fields(fields: &Map<String, Value>) -> Result<(), String> {
    let deepest = 1 + fields.values().map(depth).max().unwrap_or(0);
    if deepest > MAX_DEPTH {
        return Err(format!("the document is nested {deepest} levels deep; the limit is {MAX_DEPTH}"));
    }
    let size = json_len(fields);
    if size > MAX_DOCUMENT_BYTES {
        return Err(format!("the document is {size} bytes as JSON; the limit is {MAX_DOCUMENT_BYTES}"));
    }
    Ok(())
}

/// Checks the saved size of a document with its history (see [`MAX_HISTORY_BYTES`]).
pub fn history(saved_bytes: usize) -> Result<(), String> {
    if saved_bytes > MAX_HISTORY_BYTES {
        return Err(format!(
            "the document with its history is {saved_bytes} bytes; the limit is {MAX_HISTORY_BYTES} \
             (what one sync frame carries)"
        ));
    }
    Ok(())
}

/// How deeply a value nests (a scalar is 0, `[]` and `{}` are 1). Iterative, so a hostile
/// value cannot overflow the stack here.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => {
                deepest = deepest.max(d);
                continue;
            }
        };
        deepest = deepest.max(d + 1);
        stack.extend(children.map(|c| (c, d + 1)));
    }
    deepest
}

/// The length of a value's JSON form, without building it.
pub fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections() {
        for ok in ["units", "a", "track_2", "x.y-z", "A9"] {
            assert!(collection(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "-x", "a/b", "../etc", "a b", "ü", &"c".repeat(65)] {
            assert!(collection(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids() {
        for ok in ["1", "unit-7", "Alpha 1", "ü", "019a-uuid", "a.b"] {
            assert!(id(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a\\b", " x", "x\n", "\u{7}", &"i".repeat(257)] {
            assert!(id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn depth_and_size() {
        use serde_json::json;
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({"a": [1, {"b": {}}]})), 4);
        let mut deep = json!(1);
        for _ in 0..MAX_DEPTH {
            deep = json!({ "a": deep });
        }
        let top = |v: Value| v.as_object().unwrap().clone();
        assert!(fields(&top(deep.clone())).is_ok(), "exactly the limit");
        let err = fields(&top(json!({ "a": deep }))).unwrap_err();
        assert!(err.contains("65 levels deep; the limit is 64"), "{err}");
        let big = json!({"s": "x".repeat(MAX_DOCUMENT_BYTES)});
        assert!(fields(&top(big)).unwrap_err().contains("bytes as JSON"));
        assert!(history(MAX_HISTORY_BYTES + 1).is_err() && history(MAX_HISTORY_BYTES).is_ok());
    }

    #[test]
    fn sets_cannot_touch_the_id_or_the_tombstone() {
        use serde_json::json;
        for bad in ["id", "id.x", "id[0]", "_deleted", "_hlc.x"] {
            assert!(set(&Path::parse(bad).unwrap(), &json!(1)).is_err(), "{bad}");
        }
        assert!(set(&Path::parse("idx.id").unwrap(), &json!(1)).is_ok());
        let long = vec!["a"; MAX_DEPTH + 1].join(".");
        assert!(set(&Path::parse(&long).unwrap(), &json!(1)).unwrap_err().contains("the limit is 64"));
    }
}
