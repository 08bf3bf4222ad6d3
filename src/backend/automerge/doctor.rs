//! `peat doctor` and `peat repair` on a store file: verify that every table reads, every
//! Automerge document loads and its projection, heads and counts match it; salvage what reads
//! into a new store whose projections, heads, counts and change log are rebuilt from the
//! Automerge documents. redb panics on some damage: every read here runs under
//! [`catch_panics`], so damage is a finding, never a crash.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use automerge::{ActorId, AutoCommit};
use redb::{Database, ReadableDatabase, ReadableTable};
use serde::Serialize;

use super::convert;
use super::store::{
    COUNTS, DELTAS, DOCS, HEADS, LIVE, PROJECTIONS, REMOVED, Store, read_heads, stored_bytes,
};
use crate::sync::error::catch_panics;
use crate::sync::{Document, Error, Result};

/// Most problems a report lists (it counts them all).
const LISTED: usize = 20;
/// Documents merged into the new store per transaction.
const SALVAGE_BATCH: usize = 1000;

/// What `peat doctor` found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub store: PathBuf,
    pub documents: u64,
    pub problems: u64,
    /// The first problems, one line each.
    pub found: Vec<String>,
}

impl Report {
    fn problem(&mut self, what: String) {
        self.problems += 1;
        if self.found.len() < LISTED {
            self.found.push(what);
        }
    }
}

/// Checks a store file through and through.
pub fn verify(path: &Path) -> Report {
    let mut report = Report { store: path.to_path_buf(), ..Report::default() };
    let checked = catch_panics(|| check(path, &mut report));
    match checked {
        Ok(Ok(())) => {}
        Ok(Err(e)) => report.problem(e.message),
        Err(panic) => report.problem(format!("the store stopped reading: {panic}")),
    }
    report
}

fn check(path: &Path, report: &mut Report) -> Result<()> {
    let db = Database::open(path).map_err(|e| Error::context("cannot open the store", e))?;
    let txn = db.begin_read().map_err(|e| Error::context("store", e))?;
    let err = |e: redb::StorageError| Error::context("store", e);
    let docs = txn.open_table(DOCS).map_err(|e| Error::context("docs table", e))?;
    // A store written before the deltas table has none.
    let deltas = txn.open_table(DELTAS).ok();
    let projections = txn.open_table(PROJECTIONS).map_err(|e| Error::context("projections table", e))?;
    let heads = txn.open_table(HEADS).map_err(|e| Error::context("heads table", e))?;
    let counts = txn.open_table(COUNTS).map_err(|e| Error::context("counts table", e))?;
    let mut live: BTreeMap<String, u64> = BTreeMap::new();
    for entry in docs.iter().map_err(err)? {
        let (key, _) = entry.map_err(err)?;
        let (collection, id) = key.value();
        report.documents += 1;
        let saved = stored_bytes(&docs, deltas.as_ref(), (collection, id))?.unwrap_or_default();
        let Ok(mut doc) = AutoCommit::load(&saved) else {
            report.problem(format!("{collection}/{id}: the Automerge document does not load"));
            continue;
        };
        let (fields, deleted) = match convert::read(&doc) {
            Ok(read) => read,
            Err(e) => {
                report.problem(format!("{collection}/{id}: {e}"));
                continue;
            }
        };
        *live.entry(collection.to_string()).or_default() += u64::from(!deleted);
        let expected =
            Document { collection: collection.into(), id: id.into(), fields, deleted, conflicts: Vec::new() };
        let stored = projections.get((collection, id)).map_err(err)?;
        let matches = stored.is_some_and(|p| {
            let (state, json) = p.value().split_first().unwrap_or((&0, &[]));
            *state == if deleted { REMOVED } else { LIVE }
                && serde_json::from_slice::<serde_json::Value>(json).ok() == Some(expected.to_json())
        });
        if !matches {
            report.problem(format!("{collection}/{id}: the projection does not match the document"));
        }
        if read_heads(&heads, &docs, (collection, id))? != Some(doc.get_heads()) {
            report.problem(format!("{collection}/{id}: the stored heads do not match the document"));
        }
    }
    for entry in counts.iter().map_err(err)? {
        let (name, n) = entry.map_err(err)?;
        let actual = live.remove(name.value()).unwrap_or(0);
        if n.value() != actual {
            report.problem(format!("{}: counted {} live documents, holds {actual}", name.value(), n.value()));
        }
    }
    for (name, n) in live.into_iter().filter(|(_, n)| *n > 0) {
        report.problem(format!("{name}: holds {n} live documents but has no count"));
    }
    Ok(())
}

/// What `peat repair` did.
#[derive(Debug, Serialize)]
pub struct Salvage {
    pub documents: u64,
    /// Documents that did not load (or could not be read at all past a damaged page).
    pub lost: u64,
    /// Where the damaged file was kept.
    pub damaged: PathBuf,
    pub store: PathBuf,
}

/// Copies every readable document of the store at `path` into a new store, then puts the
/// new one in its place and keeps the old one as `store.redb.damaged-SECONDS`.
pub fn repair(path: &Path, actor: ActorId) -> Result<Salvage> {
    let fresh = path.with_extension("redb.repairing");
    let _ = std::fs::remove_file(&fresh);
    let new = Store::open(&fresh, actor)?;
    let (mut documents, mut lost) = (0, 0);
    let copied = catch_panics(|| copy(path, &new, &mut documents, &mut lost));
    match copied {
        Ok(result) => result?,
        Err(panic) => {
            tracing::warn!("repair: stopped reading the damaged store: {panic}");
            lost += 1;
        }
    }
    drop(new);
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let damaged = path.with_extension(format!("redb.damaged-{secs}"));
    let io = |p: &Path, e: std::io::Error| Error::context(&p.display().to_string(), e);
    std::fs::rename(path, &damaged).map_err(|e| io(path, e))?;
    std::fs::rename(&fresh, path).map_err(|e| io(path, e))?;
    Ok(Salvage { documents, lost, damaged, store: path.to_path_buf() })
}

/// Merges the readable documents of the store at `from` into `to`, a batch at a time: first
/// in the order of the documents table, then, past a damaged page of it, by the keys the
/// projections table knows.
fn copy(from: &Path, to: &Store, documents: &mut u64, lost: &mut u64) -> Result<()> {
    let db = Database::open(from).map_err(|e| Error::context("cannot open the damaged store", e))?;
    let txn = db.begin_read().map_err(|e| Error::context("store", e))?;
    let docs = txn.open_table(DOCS).map_err(|e| Error::context("docs table", e))?;
    let deltas = txn.open_table(DELTAS).ok();
    let stored = |collection: &str, id: &str| -> Result<Vec<u8>> {
        catch_panics(|| stored_bytes(&docs, deltas.as_ref(), (collection, id)))
            .map_err(Error::failed)?
            .map(Option::unwrap_or_default)
    };
    let mut out = Salvager { to, seen: Default::default(), batch: Vec::new(), documents: 0, lost: 0 };
    let walked = catch_panics(|| -> Result<()> {
        for entry in docs.iter().map_err(|e| Error::context("store", e))?.flatten() {
            let (collection, id) = entry.0.value();
            match stored(collection, id) {
                Ok(saved) => out.take(collection, id, saved)?,
                Err(_) => out.lost += 1,
            }
        }
        Ok(())
    });
    if let Ok(result) = walked {
        result?;
    }
    if let Ok(projections) = txn.open_table(PROJECTIONS) {
        let by_key = catch_panics(|| -> Result<()> {
            for entry in projections.iter().map_err(|e| Error::context("store", e))?.flatten() {
                let (collection, id) = entry.0.value();
                if out.seen.contains(&(collection.to_string(), id.to_string())) {
                    continue;
                }
                match stored(collection, id) {
                    Ok(saved) if !saved.is_empty() => out.take(collection, id, saved)?,
                    _ => out.lost += 1,
                }
            }
            Ok(())
        });
        if let Ok(result) = by_key {
            result?;
        }
    }
    out.flush()?;
    (*documents, *lost) = (out.documents, out.lost);
    Ok(())
}

/// Collects salvaged documents and merges them into the new store a batch at a time.
struct Salvager<'a> {
    to: &'a Store,
    /// The keys taken so far, so that the second pass skips them.
    seen: std::collections::HashSet<(String, String)>,
    batch: Vec<(String, String, Vec<u8>)>,
    documents: u64,
    lost: u64,
}

impl Salvager<'_> {
    fn take(&mut self, collection: &str, id: &str, saved: Vec<u8>) -> Result<()> {
        self.seen.insert((collection.to_string(), id.to_string()));
        self.batch.push((collection.to_string(), id.to_string(), saved));
        if self.batch.len() == SALVAGE_BATCH { self.flush() } else { Ok(()) }
    }

    /// Merges the batch; a document that does not load counts as lost.
    fn flush(&mut self) -> Result<()> {
        let (mut documents, mut lost) = (0, 0);
        self.to.write(|w| {
            for (collection, id, bytes) in &self.batch {
                match w.merge(collection, id, bytes) {
                    Ok(_) => documents += 1,
                    Err(_) => lost += 1,
                }
            }
            Ok(())
        })?;
        self.documents += documents;
        self.lost += lost;
        self.batch.clear();
        Ok(())
    }
}
