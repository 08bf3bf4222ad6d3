//! How a query runs: which documents a backend reads (a key lookup of the ids the filter
//! names, a range of a secondary index, or a scan of the collection) and how it orders them.
//! Decided from the request and the collection's indexed paths alone, so every backend plans
//! alike and `query --explain` can say what will happen.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::query::{Op, Query, compare_values};
use super::{ID_FIELD, Path, QueryRequest};

/// Which documents a query reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Only these ids (sorted, distinct): the filter holds only for them (`id == X`,
    /// `id in (...)`, alone or and-ed with other conditions).
    Keys(Vec<String>),
    /// The documents whose value at an indexed path lies in a range, in the index's order
    /// (by value, then id); the filter is still checked on each.
    Index { path: Path, range: Range },
    /// Every document of the collection.
    Scan,
}

/// The values an index read covers: bounds from the filter's comparisons on the indexed path.
/// Without bounds, the whole index (every document, ordered by the value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Range {
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
}

/// One end of a [`Range`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    pub value: Value,
    pub inclusive: bool,
}

impl Eq for Range {}

/// How the matching documents are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// In id order, as read: each goes out as soon as it matches.
    ById,
    /// In the order of the index read (by value, then id; `--order-by` on the indexed path or
    /// none): each goes out as soon as it matches, so a limit stops the read early and
    /// nothing is sorted.
    ByIndex,
    /// The best `limit` kept while reading (memory bounded by the limit).
    TopK { limit: usize },
    /// Each match's sort key and id sorted in bounded runs spilled to temporary files and
    /// merged, then the documents read again in order (memory bounded by the run size).
    SortKeys,
}

/// A query's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub access: Access,
    pub ordering: Ordering,
}

impl Plan {
    /// The plan for a request over a collection without indexes.
    pub fn of(request: &QueryRequest) -> Plan {
        Plan::with_indexes(request, &[])
    }

    /// The plan for a request over a collection with indexes on `indexed` paths: ids named
    /// by the filter are looked up; else a comparison on an indexed path reads that index's
    /// range; else an order on an indexed path walks that index; else a scan.
    pub fn with_indexes(request: &QueryRequest, indexed: &[Path]) -> Plan {
        if let Some(mut ids) = key_ids(&request.filter) {
            ids.sort();
            ids.dedup();
            return Plan { access: Access::Keys(ids), ordering: sorted(request) };
        }
        if let Some((path, range)) = index_range(&request.filter, indexed) {
            let ordering = match &request.order_by {
                Some(order) if *order != path => sorted(request),
                _ => Ordering::ByIndex,
            };
            return Plan { access: Access::Index { path, range }, ordering };
        }
        if let Some(path) = request.order_by.as_ref().filter(|p| indexed.contains(p)) {
            let access = Access::Index { path: path.clone(), range: Range::default() };
            return Plan { access, ordering: Ordering::ByIndex };
        }
        Plan { access: Access::Scan, ordering: sorted(request) }
    }
}

/// How documents read in id order are ordered as the request asks.
fn sorted(request: &QueryRequest) -> Ordering {
    match (&request.order_by, request.limit) {
        (None, _) => Ordering::ById,
        (Some(_), Some(limit)) => Ordering::TopK { limit },
        (Some(_), None) => Ordering::SortKeys,
    }
}

/// The comparisons a filter requires (the filter itself, or the terms of an `and`).
fn required(filter: &Query) -> Vec<&Query> {
    match filter {
        Query::And(parts) => parts.iter().flat_map(required).collect(),
        q => vec![q],
    }
}

/// The first indexed path the filter requires a comparison on (`==`, `<`, `<=`, `>`, `>=`
/// with a scalar), and the range that all required comparisons on it bound.
fn index_range(filter: &Query, indexed: &[Path]) -> Option<(Path, Range)> {
    let terms = required(filter);
    let bounded = |q: &Query| match q {
        Query::Compare { path, op, value } => {
            indexed.contains(path) && op != &Op::Ne && op != &Op::Contains && is_scalar(value)
        }
        _ => false,
    };
    let Query::Compare { path, .. } = terms.iter().copied().find(|q| bounded(q))? else { return None };
    let mut range = Range::default();
    for term in terms.iter().copied().filter(|q| bounded(q)) {
        let Query::Compare { path: p, op, value } = term else { continue };
        if p != path {
            continue;
        }
        let bound = |inclusive| Some(Bound { value: value.clone(), inclusive });
        match op {
            Op::Eq => {
                tighten(&mut range.lower, bound(true), std::cmp::Ordering::Greater);
                tighten(&mut range.upper, bound(true), std::cmp::Ordering::Less);
            }
            Op::Gt | Op::Ge => tighten(&mut range.lower, bound(*op == Op::Ge), std::cmp::Ordering::Greater),
            _ => tighten(&mut range.upper, bound(*op == Op::Le), std::cmp::Ordering::Less),
        }
    }
    Some((path.clone(), range))
}

/// Replaces `current` with `new` when `new` is tighter (`tighter` is how a tighter value
/// compares). Bounds of another type than the current one are left to the filter.
fn tighten(current: &mut Option<Bound>, new: Option<Bound>, tighter: std::cmp::Ordering) {
    let (Some(old), Some(new)) = (current.as_ref(), new.as_ref()) else {
        *current = current.take().or(new);
        return;
    };
    if std::mem::discriminant(&old.value) != std::mem::discriminant(&new.value) {
        return;
    }
    match compare_values(Some(&new.value), Some(&old.value)) {
        o if o == tighter => *current = Some(new.clone()),
        std::cmp::Ordering::Equal if !new.inclusive => *current = Some(new.clone()),
        _ => {}
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.lower, &self.upper) {
            (None, None) => write!(f, "all, in order"),
            (Some(l), Some(u)) if l == u && l.inclusive => write!(f, "== {}", l.value),
            (lower, upper) => {
                let mut sides = Vec::new();
                if let Some(l) = lower {
                    sides.push(format!("{} {}", if l.inclusive { ">=" } else { ">" }, l.value));
                }
                if let Some(u) = upper {
                    sides.push(format!("{} {}", if u.inclusive { "<=" } else { "<" }, u.value));
                }
                write!(f, "range {}", sides.join(" and "))
            }
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.access {
            Access::Keys(ids) => write!(f, "key lookup of {} id(s)", ids.len())?,
            Access::Index { path, range } => write!(f, "index {path} ({range})")?,
            Access::Scan => write!(f, "scan of the collection")?,
        }
        match self.ordering {
            Ordering::ById => write!(f, ", in id order, streamed"),
            Ordering::ByIndex => write!(f, ", in index order, streamed"),
            Ordering::TopK { limit } => write!(f, ", then top {limit} by the sort key (bounded heap)"),
            Ordering::SortKeys => {
                write!(f, ", then sorted by key (external sort of keys and ids, documents re-read)")
            }
        }
    }
}

/// The ids a filter can only match, when it names them: `id == X`, `id in (X, Y)`, or such a
/// condition and-ed with others.
fn key_ids(filter: &Query) -> Option<Vec<String>> {
    match filter {
        Query::Compare { path, op: Op::Eq, value: Value::String(id) } if is_id(path) => {
            Some(vec![id.clone()])
        }
        Query::Compare { path, op: Op::Eq, .. } if is_id(path) => Some(Vec::new()),
        Query::Or(parts) => {
            parts.iter().map(key_ids).collect::<Option<Vec<Vec<String>>>>().map(|v| v.concat())
        }
        Query::And(parts) => parts.iter().find_map(key_ids),
        _ => None,
    }
}

fn is_id(path: &super::Path) -> bool {
    path.to_string() == ID_FIELD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(src: &str) -> Access {
        Plan::of(&QueryRequest::matching(Query::parse(src).unwrap())).access
    }

    #[test]
    fn ids_the_filter_names_are_key_lookups_anything_else_scans() {
        let keys = |ids: &[&str]| Access::Keys(ids.iter().map(|s| s.to_string()).collect());
        assert_eq!(access("id == u7"), keys(&["u7"]));
        assert_eq!(access("id in (b, a, b)"), keys(&["a", "b"]));
        assert_eq!(access("speed > 3 and id == u7"), keys(&["u7"]));
        assert_eq!(access("id == u1 or id in (u2)"), keys(&["u1", "u2"]));
        assert_eq!(access("id == 7"), keys(&[]), "an id is a string: a number names none");
        assert_eq!(access("id == u1 or speed > 3"), Access::Scan);
        assert_eq!(access("id != u1"), Access::Scan);
        assert_eq!(access("not id == u1"), Access::Scan);
        assert_eq!(access("name == u1"), Access::Scan);
    }

    fn indexed(src: &str, order_by: Option<&str>, limit: Option<usize>) -> Plan {
        let request = QueryRequest {
            order_by: order_by.map(|p| p.parse().unwrap()),
            limit,
            ..QueryRequest::matching(Query::parse(src).unwrap())
        };
        Plan::with_indexes(&request, &["speed".parse().unwrap(), "pos.lat".parse().unwrap()])
    }

    #[test]
    fn comparisons_on_an_indexed_path_read_its_range() {
        let plan = indexed("speed > 3 and name == x and speed <= 9 and speed < 20", None, None);
        assert_eq!(plan.to_string(), "index speed (range > 3 and <= 9), in index order, streamed");
        assert_eq!(
            indexed("pos.lat == 1.5", None, None).to_string(),
            "index pos.lat (== 1.5), in index order, streamed"
        );
        assert_eq!(indexed("speed == 2", Some("speed"), None).ordering, Ordering::ByIndex);
        assert_eq!(indexed("speed == 2", Some("name"), Some(3)).ordering, Ordering::TopK { limit: 3 });
        let walk = indexed("name == x", Some("speed"), Some(5));
        assert_eq!(walk.to_string(), "index speed (all, in order), in index order, streamed");
        assert_eq!(indexed("id == u1 and speed > 3", None, None).access, Access::Keys(vec!["u1".into()]));
        assert_eq!(indexed("speed > 3 or name == x", None, None).access, Access::Scan);
        assert_eq!(indexed("speed != 3", None, None).access, Access::Scan);
        assert_eq!(indexed("name > 3", Some("name"), None).ordering, Ordering::SortKeys);
    }

    #[test]
    fn ordering_with_a_limit_is_a_top_k() {
        let mut request = QueryRequest { order_by: Some("v".parse().unwrap()), ..QueryRequest::default() };
        assert_eq!(Plan::of(&request).ordering, Ordering::SortKeys);
        request.limit = Some(5);
        assert_eq!(Plan::of(&request).ordering, Ordering::TopK { limit: 5 });
        assert_eq!(Plan::of(&QueryRequest::default()).ordering, Ordering::ById);
    }
}
