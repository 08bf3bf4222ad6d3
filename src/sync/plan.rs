//! How a query runs: which documents a backend reads (a key lookup of the ids the filter
//! names, or a scan of the collection) and how it orders them. Decided from the request
//! alone, so every backend plans alike and `query --explain` can say what will happen.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::query::{Op, Query};
use super::{ID_FIELD, QueryRequest};

/// Which documents a query reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Only these ids (sorted, distinct): the filter holds only for them (`id == X`,
    /// `id in (...)`, alone or and-ed with other conditions).
    Keys(Vec<String>),
    /// Every document of the collection.
    Scan,
}

/// How the matching documents are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// In id order, as read: each goes out as soon as it matches.
    ById,
    /// The best `limit` kept while reading (memory bounded by the limit).
    TopK { limit: usize },
    /// Each match's sort key and id kept, sorted, then the documents read again in order
    /// (memory bounded by the keys, not the documents).
    SortKeys,
}

/// A query's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub access: Access,
    pub ordering: Ordering,
}

impl Plan {
    /// The plan for a request.
    pub fn of(request: &QueryRequest) -> Plan {
        let access = key_ids(&request.filter).map_or(Access::Scan, |mut ids| {
            ids.sort();
            ids.dedup();
            Access::Keys(ids)
        });
        let ordering = match (&request.order_by, request.limit) {
            (None, _) => Ordering::ById,
            (Some(_), Some(limit)) => Ordering::TopK { limit },
            (Some(_), None) => Ordering::SortKeys,
        };
        Plan { access, ordering }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.access {
            Access::Keys(ids) => write!(f, "key lookup of {} id(s)", ids.len())?,
            Access::Scan => write!(f, "scan of the collection")?,
        }
        match self.ordering {
            Ordering::ById => write!(f, ", in id order, streamed"),
            Ordering::TopK { limit } => write!(f, ", then top {limit} by the sort key (bounded heap)"),
            Ordering::SortKeys => {
                write!(f, ", then sorted by key (sort keys and ids held, documents re-read)")
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

    #[test]
    fn ordering_with_a_limit_is_a_top_k() {
        let mut request = QueryRequest { order_by: Some("v".parse().unwrap()), ..QueryRequest::default() };
        assert_eq!(Plan::of(&request).ordering, Ordering::SortKeys);
        request.limit = Some(5);
        assert_eq!(Plan::of(&request).ordering, Ordering::TopK { limit: 5 });
        assert_eq!(Plan::of(&QueryRequest::default()).ordering, Ordering::ById);
    }
}
