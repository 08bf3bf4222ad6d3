//! Secondary indexes: per (collection, path), one entry per document keyed by the
//! order-preserving key of its value at the path ([`order_key`]), then its id. Local to this
//! node (peers keep their own), kept current by [`Writer::put`](super::store::Writer) for
//! every document written: local writes, removals, imports and merges from peers alike.
//!
//! Every document has an entry, removed ones and those without the path too (under the
//! "missing" key), so an index can order a whole collection and serve `--include-deleted`.

use std::collections::HashMap;

use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::store::{COUNTS, PROJECTIONS, Store, db_err, parse_projection};
use crate::sync::plan::Range;
use crate::sync::{Document, Error, IndexInfo, Path, Result, order_key};

/// Index definitions: (collection, path) -> whether the index is complete (a build in
/// progress is kept current but not read).
pub(super) const INDEXES: TableDefinition<(&str, &str), bool> = TableDefinition::new("indexes");
/// Index entries: (collection, path, value key, document id).
pub(super) const ENTRIES: TableDefinition<(&str, &str, &[u8], &str), ()> =
    TableDefinition::new("index_entries");

/// Documents indexed per write transaction while an index is built, so a build of any size
/// holds one chunk and lets writes in between.
const BUILD_CHUNK: usize = 10_000;

/// The index tables of one write transaction, with each written collection's indexed paths.
pub(super) struct Maintainer<'txn> {
    indexes: redb::Table<'txn, (&'static str, &'static str), bool>,
    entries: redb::Table<'txn, (&'static str, &'static str, &'static [u8], &'static str), ()>,
    paths: HashMap<String, Vec<Path>>,
}

impl<'txn> Maintainer<'txn> {
    pub(super) fn new(txn: &'txn WriteTransaction) -> Result<Self> {
        Ok(Self {
            indexes: txn.open_table(INDEXES).map_err(db_err)?,
            entries: txn.open_table(ENTRIES).map_err(db_err)?,
            paths: HashMap::new(),
        })
    }

    /// Moves a document's entries from its old projection (`None`: new document) to `new`.
    pub(super) fn update(&mut self, old: Option<&[u8]>, new: &Document) -> Result<()> {
        let (collection, id) = (new.collection.as_str(), new.id.as_str());
        self.load_paths(collection)?;
        let paths = &self.paths[collection];
        if paths.is_empty() {
            return Ok(());
        }
        let old = old.map(parse_projection).transpose()?;
        let new = new.to_json();
        for path in paths {
            let key = order_key::encode(path.get(&new));
            let old_key = old.as_ref().map(|o| order_key::encode(path.get(o)));
            if old_key.as_ref() == Some(&key) {
                continue;
            }
            let p = path.to_string();
            if let Some(old_key) = old_key {
                self.entries.remove((collection, p.as_str(), old_key.as_slice(), id)).map_err(db_err)?;
            }
            self.entries.insert((collection, p.as_str(), key.as_slice(), id), ()).map_err(db_err)?;
        }
        Ok(())
    }
}

impl Maintainer<'_> {
    /// Reads which paths of `collection` are indexed, once per transaction.
    fn load_paths(&mut self, collection: &str) -> Result<()> {
        if !self.paths.contains_key(collection) {
            let paths = defined(&self.indexes, Some(collection))?.into_iter().map(|(_, p, _)| p).collect();
            self.paths.insert(collection.to_string(), paths);
        }
        Ok(())
    }

    /// Drops the entries of a document that is gone from the store (it expired), given its
    /// last projection.
    pub(super) fn remove(&mut self, collection: &str, id: &str, old: &[u8]) -> Result<()> {
        self.load_paths(collection)?;
        let old = parse_projection(old)?;
        for path in &self.paths[collection] {
            let key = order_key::encode(path.get(&old));
            let p = path.to_string();
            self.entries.remove((collection, p.as_str(), key.as_slice(), id)).map_err(db_err)?;
        }
        Ok(())
    }
}

/// The defined indexes (of one collection, or all) with whether each is complete, by
/// collection and path.
fn defined(
    table: &impl ReadableTable<(&'static str, &'static str), bool>,
    collection: Option<&str>,
) -> Result<Vec<(String, Path, bool)>> {
    let mut out = Vec::new();
    for entry in table.range((collection.unwrap_or(""), "")..).map_err(db_err)? {
        let (key, ready) = entry.map_err(db_err)?;
        let (c, p) = key.value();
        if collection.is_some_and(|want| want != c) {
            break;
        }
        let path = p.parse().map_err(|e| Error::failed(format!("store: bad index path '{p}': {e}")))?;
        out.push((c.to_string(), path, ready.value()));
    }
    Ok(out)
}

/// The complete indexes of a collection, as a read transaction sees them: what a query may use.
pub(super) fn ready_paths(txn: &ReadTransaction, collection: &str) -> Result<Vec<Path>> {
    let table = txn.open_table(INDEXES).map_err(db_err)?;
    Ok(defined(&table, Some(collection))?
        .into_iter()
        .filter(|(_, _, ready)| *ready)
        .map(|(_, p, _)| p)
        .collect())
}

/// Passes the ids in an index's `range`, in index order (descending when `descending`,
/// ties still in id order, as a sort would put them), to `f` until it returns false.
pub(super) fn read(
    txn: &ReadTransaction,
    collection: &str,
    path: &Path,
    range: &Range,
    descending: bool,
    mut f: impl FnMut(&str) -> Result<bool>,
) -> Result<()> {
    let table = txn.open_table(ENTRIES).map_err(db_err)?;
    let p = path.to_string();
    let (from, to) = key_bounds(range);
    if !descending {
        for entry in table
            .range((collection, p.as_str(), from.as_slice(), "")..(collection, p.as_str(), to.as_slice(), ""))
            .map_err(db_err)?
        {
            let (key, _) = entry.map_err(db_err)?;
            if !f(key.value().3)? {
                break;
            }
        }
        return Ok(());
    }
    // Backwards by value; each value's ids forwards.
    let mut end = to;
    loop {
        let last = table
            .range(
                (collection, p.as_str(), from.as_slice(), "")..(collection, p.as_str(), end.as_slice(), ""),
            )
            .map_err(db_err)?
            .next_back()
            .transpose()
            .map_err(db_err)?;
        let Some((key, _)) = last else { return Ok(()) };
        let value = key.value().2.to_vec();
        let next = order_key::after(value.clone());
        for entry in table
            .range(
                (collection, p.as_str(), value.as_slice(), "")..(collection, p.as_str(), next.as_slice(), ""),
            )
            .map_err(db_err)?
        {
            let (key, _) = entry.map_err(db_err)?;
            if !f(key.value().3)? {
                return Ok(());
            }
        }
        end = value;
    }
}

/// The value keys a range covers: from (inclusive) to (exclusive). One-sided ranges stay
/// within the bound's type, since comparisons across types never match.
fn key_bounds(range: &Range) -> (Vec<u8>, Vec<u8>) {
    let from = match (&range.lower, &range.upper) {
        (Some(l), _) if l.inclusive => order_key::encode(Some(&l.value)),
        (Some(l), _) => order_key::after(order_key::encode(Some(&l.value))),
        (None, Some(u)) => order_key::type_start(&u.value),
        (None, None) => Vec::new(),
    };
    let to = match (&range.lower, &range.upper) {
        (_, Some(u)) if u.inclusive => order_key::after(order_key::encode(Some(&u.value))),
        (_, Some(u)) => order_key::encode(Some(&u.value)),
        (Some(l), None) => order_key::type_end(&l.value),
        (None, None) => vec![u8::MAX],
    };
    (from, to)
}

impl Store {
    /// Defines an index and builds it over the collection's documents, a chunk per write
    /// transaction (the count so far logged at info). Writes in between keep the
    /// built part current; queries use the index once it is complete. Adding an index that
    /// exists changes nothing.
    pub fn add_index(&self, collection: &str, path: &Path) -> Result<IndexInfo> {
        let p = path.to_string();
        let exists = self.write_tables(|txn| {
            if txn.open_table(COUNTS).map_err(db_err)?.get(collection).map_err(db_err)?.is_none() {
                return Err(Error::not_found(format!("no collection '{collection}'")));
            }
            let mut indexes = txn.open_table(INDEXES).map_err(db_err)?;
            let ready = indexes.get((collection, p.as_str())).map_err(db_err)?.map(|r| r.value());
            if ready.is_none() {
                indexes.insert((collection, p.as_str()), false).map_err(db_err)?;
            }
            Ok(ready == Some(true))
        })?;
        if !exists {
            self.build(collection, path)?;
        }
        Ok(IndexInfo { collection: collection.to_string(), path: p })
    }

    /// Indexes the collection's documents from the first id on, [`BUILD_CHUNK`] per
    /// transaction, then marks the index complete.
    fn build(&self, collection: &str, path: &Path) -> Result<()> {
        let p = path.to_string();
        let mut next: Option<String> = Some(String::new());
        let mut done = 0u64;
        while let Some(start) = next.take() {
            self.write_tables(|txn| {
                let projections = txn.open_table(PROJECTIONS).map_err(db_err)?;
                let mut entries = txn.open_table(ENTRIES).map_err(db_err)?;
                let mut indexed = 0;
                for entry in projections.range((collection, start.as_str())..).map_err(db_err)? {
                    let (key, value) = entry.map_err(db_err)?;
                    let (c, id) = key.value();
                    if c != collection {
                        break;
                    }
                    if indexed == BUILD_CHUNK {
                        next = Some(id.to_string());
                        break;
                    }
                    let key = order_key::encode(path.get(&parse_projection(value.value())?));
                    entries.insert((collection, p.as_str(), key.as_slice(), id), ()).map_err(db_err)?;
                    indexed += 1;
                }
                done += indexed as u64;
                Ok(())
            })?;
            tracing::info!("index {collection}.{p}: {done} documents indexed");
        }
        self.write_tables(|txn| {
            let mut indexes = txn.open_table(INDEXES).map_err(db_err)?;
            // Removed while it was being built: leave no entries behind.
            if indexes.get((collection, p.as_str())).map_err(db_err)?.is_none() {
                return drop_entries(txn, collection, &p);
            }
            indexes.insert((collection, p.as_str()), true).map_err(db_err)?;
            Ok(())
        })
    }

    /// The indexes of one collection, or of all, by collection and path.
    pub fn indexes(&self, collection: Option<&str>) -> Result<Vec<IndexInfo>> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let table = txn.open_table(INDEXES).map_err(db_err)?;
        let all = defined(&table, collection)?;
        Ok(all
            .into_iter()
            .map(|(collection, path, _)| IndexInfo { collection, path: path.to_string() })
            .collect())
    }

    /// Drops an index and its entries. `NotFound` when there is no such index.
    pub fn remove_index(&self, collection: &str, path: &Path) -> Result<()> {
        let p = path.to_string();
        self.write_tables(|txn| {
            let mut indexes = txn.open_table(INDEXES).map_err(db_err)?;
            if indexes.remove((collection, p.as_str())).map_err(db_err)?.is_none() {
                return Err(Error::not_found(format!("no index on '{p}' in collection '{collection}'")));
            }
            drop(indexes);
            drop_entries(txn, collection, &p)
        })
    }
}

fn drop_entries(txn: &WriteTransaction, collection: &str, path: &str) -> Result<()> {
    let mut entries = txn.open_table(ENTRIES).map_err(db_err)?;
    let end: &[u8] = &[u8::MAX];
    entries
        .retain_in((collection, path, &[][..], "")..(collection, path, end, ""), |_, _| false)
        .map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{DocInput, Query, QueryRequest};
    use automerge::ActorId;
    use redb::ReadableTableMetadata;
    use serde_json::json;

    fn ids(s: &Store, src: &str, order: Option<&str>, descending: bool) -> Vec<String> {
        let request = QueryRequest {
            order_by: order.map(|o| o.parse().unwrap()),
            descending,
            ..QueryRequest::matching(Query::parse(src).unwrap())
        };
        let mut out = Vec::new();
        s.query("c", &request, |d| {
            out.push(d.id);
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn an_indexed_query_answers_as_the_scan_does() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Store::open(&tmp.path().join("s"), ActorId::from(vec![1; 16])).unwrap();
        let values = [json!(3), json!(-1.5), json!("x"), json!(null), json!(3.0), json!(true), json!(-7)];
        let docs = (0..30)
            .map(|i| {
                let mut fields = serde_json::Map::new();
                if i % 8 != 0 {
                    fields.insert("v".into(), values[i % values.len()].clone());
                }
                fields.insert("n".into(), json!(i));
                DocInput { id: Some(format!("d{i:02}")), fields, ..DocInput::default() }
            })
            .collect();
        s.upsert("c", docs).unwrap();
        s.remove("c", "d03").unwrap();
        let queries =
            ["v == 3", "v > -2", "v <= 3 and v > -7", "v < 0", "v == x", "v >= null", "n > 4 and v == 3"];
        let before: Vec<_> = queries.iter().map(|q| ids(&s, q, None, false)).collect();
        let sorted = [ids(&s, "n >= 0", Some("v"), false), ids(&s, "n >= 0", Some("v"), true)];
        s.add_index("c", &"v".parse().unwrap()).unwrap();
        for (q, want) in queries.iter().zip(&before) {
            let mut got = ids(&s, q, None, false);
            got.sort();
            assert_eq!(&got, want, "{q} (unordered: index order, not id order)");
        }
        assert_eq!([ids(&s, "n >= 0", Some("v"), false), ids(&s, "n >= 0", Some("v"), true)], sorted);
        // Kept current: a change moves the entry.
        s.upsert(
            "c",
            vec![DocInput {
                id: Some("d01".into()),
                fields: json!({"v": 100}).as_object().unwrap().clone(),
                ..DocInput::default()
            }],
        )
        .unwrap();
        assert_eq!(ids(&s, "v >= 100", None, false), ["d01"]);
        assert!(!ids(&s, "v < 0", None, false).contains(&"d01".to_string()));
        s.remove_index("c", &"v".parse().unwrap()).unwrap();
        let txn = s.db().unwrap().begin_read().unwrap();
        assert_eq!(txn.open_table(ENTRIES).unwrap().len().unwrap(), 0, "no entries left behind");
    }
}
