//! Query execution shared by the backends: filter, order, limit over JSON documents.

use serde_json::{Map, Value};

use crate::sync::query::compare_values;
use crate::sync::{DELETED_FIELD, Document, ID_FIELD, QueryRequest};

/// Collects the documents a request selects while a backend scans a collection.
pub struct Selector<'a> {
    request: &'a QueryRequest,
    found: Vec<Value>,
}

impl<'a> Selector<'a> {
    pub fn new(request: &'a QueryRequest) -> Self {
        Self { request, found: Vec::new() }
    }

    /// Whether a document in this removal state can be selected at all (check before parsing).
    pub fn wants(&self, deleted: bool) -> bool {
        self.request.deleted.admits(deleted)
    }

    /// Offers a document's JSON form; returns false once no more documents are needed.
    pub fn offer(&mut self, json: Value) -> bool {
        if self.request.filter.matches(&json) {
            self.found.push(json);
        }
        let unordered = self.request.order_by.is_none();
        !(unordered && self.request.limit.is_some_and(|n| self.found.len() >= n))
    }

    /// How many documents were selected so far.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    /// The selected documents, ordered and limited.
    pub fn finish(mut self, collection: &str) -> Vec<Document> {
        if let Some(path) = &self.request.order_by {
            let descending = self.request.descending;
            self.found.sort_by(|a, b| {
                let ord = compare_values(path.get(a), path.get(b));
                if descending { ord.reverse() } else { ord }
            });
        }
        if let Some(n) = self.request.limit {
            self.found.truncate(n);
        }
        self.found.into_iter().map(|json| from_json(collection, json)).collect()
    }
}

/// A document from its JSON form (the inverse of [`Document::to_json`]).
pub fn from_json(collection: &str, json: Value) -> Document {
    let mut fields = match json {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let id = match fields.remove(ID_FIELD) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    let deleted = fields.remove(DELETED_FIELD) == Some(Value::Bool(true));
    Document { collection: collection.into(), id, fields, deleted, conflicts: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{Deleted, Query};
    use serde_json::json;

    fn run(request: &QueryRequest, docs: &[Value]) -> Vec<String> {
        let mut s = Selector::new(request);
        for d in docs {
            let deleted = d.get(DELETED_FIELD).is_some();
            if s.wants(deleted) && !s.offer(d.clone()) {
                break;
            }
        }
        s.finish("c").into_iter().map(|d| d.id).collect()
    }

    #[test]
    fn filters_orders_and_limits() {
        let docs = [
            json!({"id": "a", "n": 3}),
            json!({"id": "b", "n": 1}),
            json!({"id": "c", "n": 2}),
            json!({"id": "d", "n": 9, "_deleted": true}),
        ];
        let mut req = QueryRequest::matching(Query::parse("n >= 2").unwrap());
        assert_eq!(run(&req, &docs), ["a", "c"]);
        req.order_by = Some("n".parse().unwrap());
        assert_eq!(run(&req, &docs), ["c", "a"]);
        req.descending = true;
        req.limit = Some(1);
        req.deleted = Deleted::Include;
        assert_eq!(run(&req, &docs), ["d"]);
        req.deleted = Deleted::Only;
        req.filter = Query::All;
        assert_eq!(run(&req, &docs), ["d"]);
    }

    #[test]
    fn json_form_round_trips() {
        let v = json!({"id": "x", "a": [1, {"b": 2.5}], "_deleted": true});
        assert_eq!(from_json("c", v.clone()).to_json(), v);
    }
}
