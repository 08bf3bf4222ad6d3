//! Query execution shared by the backends: filter, order, limit over JSON documents.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde_json::{Map, Value};

use crate::sync::query::compare_values;
use crate::sync::{DELETED_FIELD, Document, ID_FIELD, Path, QueryRequest};

/// Filters, orders and limits the documents a backend offers while it scans a collection,
/// passing each selected one on as soon as it can go: at once when unordered, at the end when
/// ordered (keeping only the best `limit` when there is one, a bounded top-k).
pub struct Selector<'a> {
    request: &'a QueryRequest,
    order: Option<Order<Value>>,
    sent: usize,
}

impl<'a> Selector<'a> {
    pub fn new(request: &'a QueryRequest) -> Self {
        let order = request.order_by.clone().map(|path| Order::new(path, request.descending, request.limit));
        Self { request, order, sent: 0 }
    }

    /// Whether a document in this removal state can be selected at all (check before parsing).
    pub fn wants(&self, deleted: bool) -> bool {
        self.request.deleted.admits(deleted)
    }

    /// Offers a document's JSON form; `emit` gets what can go out now and answers whether
    /// it wants more. Returns false once no more documents are needed.
    pub fn offer(&mut self, json: Value, emit: &mut impl FnMut(Value) -> bool) -> bool {
        if !self.request.filter.matches(&json) {
            return true;
        }
        if let Some(order) = &mut self.order {
            order.push(&json, json.clone());
            return true;
        }
        self.sent += 1;
        emit(json) && self.request.limit.is_none_or(|n| self.sent < n)
    }

    /// Passes on the ordered documents held back, best first, until `emit` wants no more.
    pub fn finish(self, emit: &mut impl FnMut(Value) -> bool) {
        if let Some(order) = self.order {
            for json in order.into_sorted() {
                if !emit(json) {
                    return;
                }
            }
        }
    }

    /// The selected documents, collected (for callers that expect few).
    pub fn collect(mut self, collection: &str, docs: impl IntoIterator<Item = Value>) -> Vec<Document> {
        let mut out = Vec::new();
        let mut keep = |json: Value| {
            out.push(from_json(collection, json));
            true
        };
        for json in docs {
            if !self.offer(json, &mut keep) {
                break;
            }
        }
        self.finish(&mut keep);
        out
    }
}

/// Items ranked by the value at a path, as `--order-by` ranks documents. With a limit only
/// the best `limit` are kept (a heap whose top is the worst kept), so memory is bounded by
/// the limit, not by how many are offered. Ties keep the order in which they were offered.
pub struct Order<T> {
    path: Path,
    descending: bool,
    limit: Option<usize>,
    offered: u64,
    heap: BinaryHeap<Ranked<T>>,
}

impl<T> Order<T> {
    pub fn new(path: Path, descending: bool, limit: Option<usize>) -> Self {
        Self { path, descending, limit, offered: 0, heap: BinaryHeap::new() }
    }

    /// Ranks `item` by the value at the path in `doc`.
    pub fn push(&mut self, doc: &Value, item: T) {
        let key = self.path.get(doc).cloned();
        self.offered += 1;
        let ranked = Ranked { key, offered: self.offered, descending: self.descending, item };
        match self.limit {
            Some(0) => {}
            Some(n) if self.heap.len() >= n => {
                if self.heap.peek().is_some_and(|worst| ranked < *worst) {
                    self.heap.pop();
                    self.heap.push(ranked);
                }
            }
            _ => self.heap.push(ranked),
        }
    }

    /// The kept items, best first.
    pub fn into_sorted(self) -> impl Iterator<Item = T> {
        self.heap.into_sorted_vec().into_iter().map(|r| r.item)
    }
}

/// An item with its sort key; the smaller comes first.
struct Ranked<T> {
    key: Option<Value>,
    offered: u64,
    descending: bool,
    item: T,
}

impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_key = compare_values(self.key.as_ref(), other.key.as_ref());
        let by_key = if self.descending { by_key.reverse() } else { by_key };
        by_key.then(self.offered.cmp(&other.offered))
    }
}

impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Ranked<T> {}

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
        let s = Selector::new(request);
        let visible = docs.iter().filter(|d| s.wants(d.get(DELETED_FIELD).is_some())).cloned();
        let visible: Vec<Value> = visible.collect();
        s.collect("c", visible).into_iter().map(|d| d.id).collect()
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
    fn a_limited_order_keeps_only_the_best_and_matches_a_full_sort() {
        // Pseudo-random values with many ties, some missing: the top-k must equal the
        // first k of a stable full sort, ascending and descending.
        let docs: Vec<Value> = (0..500u64)
            .map(|i| {
                let v = (i * 7919) % 37;
                if v == 5 {
                    json!({"id": format!("d{i:03}")})
                } else {
                    json!({"id": format!("d{i:03}"), "v": v})
                }
            })
            .collect();
        for descending in [false, true] {
            let full =
                QueryRequest { order_by: Some("v".parse().unwrap()), descending, ..QueryRequest::default() };
            let all = run(&full, &docs);
            assert_eq!(all.len(), 500);
            for k in [0, 1, 7, 100, 499, 600] {
                let limited = QueryRequest { limit: Some(k), ..full.clone() };
                assert_eq!(run(&limited, &docs), all[..k.min(500)], "k={k} descending={descending}");
            }
        }
        let mut order = Order::new("v".parse().unwrap(), false, Some(3));
        for d in &docs {
            order.push(d, ());
        }
        assert_eq!(order.heap.len(), 3, "a limited order holds no more than its limit");
    }

    #[test]
    fn json_form_round_trips() {
        let v = json!({"id": "x", "a": [1, {"b": 2.5}], "_deleted": true});
        assert_eq!(from_json("c", v.clone()).to_json(), v);
    }
}
