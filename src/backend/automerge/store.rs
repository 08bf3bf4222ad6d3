//! The on-disk document store: redb tables holding, per document, the Automerge document,
//! its JSON projection (so queries never load Automerge) and its place in this node's change
//! log (so peers can ask "what changed since N"). A write batch commits all of them in one
//! transaction. An update appends its change to the document's stored bytes rather than
//! saving the whole document again; the only state kept between calls is a bounded cache
//! of recently changed documents (see cache.rs).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::SystemTime;

use automerge::{ActorId, AutoCommit, ChangeHash};
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde_json::Value;
use tokio::sync::broadcast;

use super::cache::DocCache;
use super::expiry::{self, Expiry};
use super::index::{self, Maintainer};
use super::{chunk, convert, history, latest};
use crate::backend::select::from_json;
use crate::backend::{Committed, ExternalSort, Selector};
use crate::sync::plan::Access;
use crate::sync::{
    CollectionInfo, CollectionSettings, Conflict, DELETED_FIELD, DocInput, Document, Error, ExportEvent,
    ExportFormat, ExportRecord, ExportRequest, HistoryEntry, HistoryPolicy, ImportSummary, ORIGIN_LOCAL,
    Plan, QueryRequest, Result, plan, settings, validate,
};
use automerge::transaction::CommitOptions;

type Key<'a> = (&'a str, &'a str);
/// Automerge documents: each one's base, saved whole when it was created or last compacted.
pub(super) const DOCS: TableDefinition<Key, &[u8]> = TableDefinition::new("docs");
/// Changes made to a document since its base, so an update stores only itself: per
/// document a run of rows numbered from 0, each the total appended so far (u32, little
/// endian) then Automerge change chunks. Base and chunks concatenated load as one document.
pub(super) const DELTAS: TableDefinition<DeltaKey, &[u8]> = TableDefinition::new("deltas");
pub(super) type DeltaKey<'a> = (&'a str, &'a str, u32);
/// JSON projections: one state byte (`L` live, `D` removed) then the document's JSON form.
pub(super) const PROJECTIONS: TableDefinition<Key, &[u8]> = TableDefinition::new("projections");
/// Each document's latest position in the change log.
const DOC_SEQ: TableDefinition<Key, u64> = TableDefinition::new("doc_seq");
/// The change log: sequence number -> document. One entry per document, at its latest change.
const CHANGES: TableDefinition<u64, Key> = TableDefinition::new("changes");
/// Live documents per collection.
pub(super) const COUNTS: TableDefinition<&str, u64> = TableDefinition::new("counts");
/// The current heads (32-byte hashes, concatenated) of each document whose base does not
/// name them itself (see [`chunk::base_heads`]): one with appended changes, say. Sync
/// compares heads without loading documents.
pub(super) const HEADS: TableDefinition<Key, &[u8]> = TableDefinition::new("heads");
/// Store identity and counters.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

pub(super) const LIVE: u8 = b'L';
pub(super) const REMOVED: u8 = b'D';
/// redb's page cache. Its default (1 GiB) let a scan of a large store grow the process by
/// the store's size; reads past this come from the OS page cache instead.
const CACHE_BYTES: usize = 32 * 1024 * 1024;
/// Change notifications a subscriber may trail by before it counts as lagging. Observers take
/// them at once (a slow reader gets a bounded queue and a `lagged` count, see observe.rs), so
/// this fills only while a subscriber's task is starved; a 10,000-document batch must fit.
const EVENT_BUFFER: usize = 65_536;

/// The open database, read-locked against a reopen while in use.
pub(super) struct Db<'a>(RwLockReadGuard<'a, Option<Database>>);

impl std::ops::Deref for Db<'_> {
    type Target = Database;
    fn deref(&self) -> &Database {
        self.0.as_ref().expect("Store::db returns only an open database")
    }
}

/// The error for a store file that made redb panic.
fn damaged(path: &Path, panic: &str) -> Error {
    Error::failed(format!(
        "{} is damaged ({panic}); check it with `peat doctor`, salvage it with `peat repair`",
        path.display()
    ))
}

pub(super) fn db_err(err: impl Into<redb::Error>) -> Error {
    Error::context("store", err.into())
}

/// The persistent document store of one node.
pub struct Store {
    path: std::path::PathBuf,
    /// `None` only after a reopen failed (see [`Store::reopen`]).
    db: RwLock<Option<Database>>,
    /// Set by a failed write: the next write reopens the database first.
    write_failed: AtomicBool,
    actor: ActorId,
    store_id: [u8; 16],
    events: broadcast::Sender<Arc<Committed>>,
    /// Documents recently changed here, kept loaded for the next change.
    cache: Mutex<DocCache>,
}

impl Store {
    /// Opens (or creates) the store file. `actor` identifies this node's Automerge changes.
    pub fn open(path: &Path, actor: ActorId) -> Result<Self> {
        // redb would take an empty file for a new store: that hides a lost one.
        if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return Err(Error::failed(format!(
                "{} is empty (0 bytes), not a store; restore it from a backup, or remove it to \
                 start with an empty store",
                path.display()
            )));
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| Error::context(&format!("cannot open {}", path.display()), e))?;
        // For this user only, whoever created it and with whatever umask.
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(|e| Error::context(&format!("{}", path.display()), e))?;
        let store_id = init_meta(&db)?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Self {
            path: path.to_path_buf(),
            db: RwLock::new(Some(db)),
            write_failed: AtomicBool::new(false),
            actor,
            store_id,
            events,
            cache: Mutex::default(),
        })
    }

    /// Opens the store like [`Store::open`], turning a panic of redb on a damaged file into
    /// an error naming the file and the way out.
    pub fn open_guarded(path: &Path, actor: ActorId) -> Result<Self> {
        crate::sync::error::catch_panics(|| Self::open(path, actor)).map_err(|m| damaged(path, &m))?
    }

    /// Runs `f` on the store, turning a panic of redb on a damaged file into an error.
    pub fn guarded<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        crate::sync::error::catch_panics(|| f(self)).map_err(|m| damaged(&self.path, &m))?
    }

    /// A random id fixed when the store was created: peers reset their cursors when it changes.
    pub fn store_id(&self) -> [u8; 16] {
        self.store_id
    }

    /// Notifications of every committed change, in commit order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.events.subscribe()
    }

    /// Writes a batch of upserts in one transaction and returns the ids.
    pub fn upsert(&self, collection: &str, inputs: Vec<DocInput>) -> Result<Vec<String>> {
        let ids: Vec<String> =
            inputs.iter().map(|i| i.id.clone().unwrap_or_else(|| uuid::Uuid::now_v7().to_string())).collect();
        self.write(|w| w.upsert(collection, &ids, inputs))?;
        Ok(ids)
    }

    /// Marks a live document removed.
    pub fn remove(&self, collection: &str, id: &str) -> Result<()> {
        match self.get(collection, id)? {
            Some(doc) if !doc.deleted => {
                self.write(|w| w.edit(collection, id, convert::mark_removed).map(drop))
            }
            _ => Err(Error::not_found(format!("no document '{id}' in collection '{collection}'"))),
        }
    }

    /// Runs local `edits` in one write transaction, then notifies observers of what changed.
    pub fn write(&self, edits: impl FnOnce(&mut Writer<'_>) -> Result<()>) -> Result<()> {
        self.write_from(ORIGIN_LOCAL, edits)
    }

    /// Like [`Store::write`], for changes that came from `origin` (a peer's node id), which
    /// observers report with each change.
    pub fn write_from(&self, origin: &str, edits: impl FnOnce(&mut Writer<'_>) -> Result<()>) -> Result<()> {
        let mut committed = Vec::new();
        self.writing(|| {
            let txn = self.db()?.begin_write().map_err(db_err)?;
            committed = {
                let mut writer = Writer::new(&txn, &self.actor, &self.cache)?;
                edits(&mut writer)?;
                writer.finish()?
            };
            txn.commit().map_err(db_err)
        })?;
        if self.events.receiver_count() == 0 {
            // Nobody observes (a command writing to its own store): the documents are only
            // freed, which for a bulk batch costs as much as some of its table writes. Another
            // thread does it while this one goes on to the next batch (this one, if none starts).
            if committed.len() >= PARALLEL_MIN {
                let _ = std::thread::Builder::new().spawn(move || drop(committed));
            }
            return Ok(());
        }
        let time = SystemTime::now();
        for (seq, document) in committed {
            // No receivers is fine: nobody is observing.
            let _ = self.events.send(Arc::new(Committed { seq, document, origin: origin.to_string(), time }));
        }
        Ok(())
    }

    /// One document by id, removed or not.
    pub fn get(&self, collection: &str, id: &str) -> Result<Option<Document>> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let table = txn.open_table(PROJECTIONS).map_err(db_err)?;
        let Some(bytes) = table.get((collection, id)).map_err(db_err)? else { return Ok(None) };
        Ok(Some(from_json(collection, parse_projection(bytes.value())?)))
    }

    /// A collection's settings, as its document in the settings collection says (the
    /// defaults when it has none).
    pub fn settings(&self, collection: &str) -> Result<CollectionSettings> {
        Ok(CollectionSettings::of(self.get(settings::SETTINGS_COLLECTION, collection)?.as_ref()))
    }

    /// Deletes up to `limit` documents whose time to live is up (see [`expiry`]); returns how
    /// many. Cheap when none is due: one range read.
    pub fn expire_due(&self, limit: usize) -> Result<usize> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        if !expiry::pending(&txn, expiry::now())? {
            return Ok(0);
        }
        drop(txn);
        let mut expired = 0;
        self.write(|w| {
            expired = w.expire(limit)?;
            Ok(())
        })?;
        Ok(expired)
    }

    /// The Automerge document itself, for sync.
    pub fn load(&self, collection: &str, id: &str) -> Result<Option<AutoCommit>> {
        let Some(bytes) = self.raw(collection, id)? else { return Ok(None) };
        AutoCommit::load(&bytes).map(Some).map_err(|e| Error::context("corrupt document", e))
    }

    /// Passes the documents matching a request, ordered and limited, to `emit` as one read
    /// transaction sees them, until `emit` wants no more; returns how many it got.
    pub fn query(
        &self,
        collection: &str,
        request: &QueryRequest,
        mut emit: impl FnMut(Document) -> bool,
    ) -> Result<u64> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        if !request.conflicts {
            return select(&txn, collection, request, emit);
        }
        let mut failed = None;
        let sent = select(&txn, collection, request, |mut doc| match self.conflicts(collection, &doc.id) {
            Ok(conflicts) => {
                doc.conflicts = conflicts.unwrap_or_default();
                emit(doc)
            }
            Err(e) => {
                failed = Some(e);
                false
            }
        })?;
        failed.map_or(Ok(sent), Err)
    }

    /// A document's changes, oldest first; `None` when there is no such document.
    pub fn history(&self, collection: &str, id: &str) -> Result<Option<Vec<HistoryEntry>>> {
        Ok(self.load(collection, id)?.map(|mut doc| history::history(&mut doc)))
    }

    /// A document's fields with concurrent values; `None` when there is no such document.
    pub fn conflicts(&self, collection: &str, id: &str) -> Result<Option<Vec<Conflict>>> {
        Ok(self.load(collection, id)?.map(|doc| history::conflicts(&doc)))
    }

    /// The change-log position, passed to `at`, then the documents matching `request` as
    /// they are at it, passed to `emit` until it wants no more; read in one transaction:
    /// where an observer starts.
    pub fn snapshot(
        &self,
        collection: &str,
        request: &QueryRequest,
        at: impl FnOnce(u64),
        emit: impl FnMut(Document) -> bool,
    ) -> Result<()> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        at(last_seq(&txn)?);
        select(&txn, collection, request, emit).map(drop)
    }

    /// The documents of a collection changed after log position `since`, each at its latest
    /// position, and the position of the log's end: what a resuming observer replays.
    pub fn changed_since(&self, collection: &str, since: u64) -> Result<(u64, Vec<(u64, Document)>)> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let changes = txn.open_table(CHANGES).map_err(db_err)?;
        let projections = txn.open_table(PROJECTIONS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in changes.range(since + 1..).map_err(db_err)? {
            let (seq, key) = entry.map_err(db_err)?;
            let (c, id) = key.value();
            if c != collection {
                continue;
            }
            if let Some(bytes) = projections.get((c, id)).map_err(db_err)? {
                out.push((seq.value(), from_json(collection, parse_projection(bytes.value())?)));
            }
        }
        Ok((last_seq(&txn)?, out))
    }

    /// How many documents match a request's filter.
    pub fn count(&self, collection: &str, request: &QueryRequest) -> Result<u64> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let mut n = 0;
        let plan = Plan::with_indexes(request, &index::ready_paths(&txn, collection)?);
        read(&txn, collection, &plan.access, false, |_, bytes| {
            if request.deleted.admits(is_removed(bytes)) && request.filter.matches(&parse_projection(bytes)?)
            {
                n += 1;
            }
            Ok(true)
        })?;
        Ok(n)
    }

    /// Collections with their live document counts.
    pub fn collections(&self) -> Result<Vec<CollectionInfo>> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let table = txn.open_table(COUNTS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (name, n) = entry.map_err(db_err)?;
            out.push(CollectionInfo { name: name.value().to_string(), documents: n.value() });
        }
        Ok(out)
    }

    /// The change log after `since` with each document's current heads: what a peer pulls.
    pub fn log_since(&self, since: u64, limit: usize) -> Result<Vec<LogEntry>> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let changes = txn.open_table(CHANGES).map_err(db_err)?;
        let heads = txn.open_table(HEADS).map_err(db_err)?;
        let docs = txn.open_table(DOCS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in changes.range(since + 1..).map_err(db_err)?.take(limit) {
            let (seq, key) = entry.map_err(db_err)?;
            let (c, i) = key.value();
            let heads = read_heads(&heads, &docs, (c, i))?.unwrap_or_default();
            out.push(LogEntry { seq: seq.value(), collection: c.to_string(), id: i.to_string(), heads });
        }
        Ok(out)
    }

    /// The current heads of documents (`None` for a document this store does not hold).
    pub fn heads_of<'k>(
        &self,
        keys: impl IntoIterator<Item = (&'k str, &'k str)>,
    ) -> Result<Vec<Option<Vec<ChangeHash>>>> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let heads = txn.open_table(HEADS).map_err(db_err)?;
        let docs = txn.open_table(DOCS).map_err(db_err)?;
        keys.into_iter().map(|key| read_heads(&heads, &docs, key)).collect()
    }

    /// The Automerge bytes of a document as stored (its base and the changes since), which
    /// `AutoCommit::load` takes as they are.
    pub fn raw(&self, collection: &str, id: &str) -> Result<Option<Vec<u8>>> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let docs = txn.open_table(DOCS).map_err(db_err)?;
        let deltas = txn.open_table(DELTAS).map_err(db_err)?;
        stored_bytes(&docs, Some(&deltas), (collection, id))
    }

    /// The heads and stored bytes of documents, read in one transaction (`None` for a
    /// document this store does not hold): what serving a peer's request needs.
    pub fn heads_and_raw<'k>(
        &self,
        keys: impl IntoIterator<Item = (&'k str, &'k str)>,
    ) -> Result<Vec<Option<HeadsAndRaw>>> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let heads = txn.open_table(HEADS).map_err(db_err)?;
        let docs = txn.open_table(DOCS).map_err(db_err)?;
        let deltas = txn.open_table(DELTAS).map_err(db_err)?;
        keys.into_iter()
            .map(|key| {
                let Some(raw) = stored_bytes(&docs, Some(&deltas), key)? else { return Ok(None) };
                Ok(read_heads(&heads, &docs, key)?.map(|h| (h, raw)))
            })
            .collect()
    }

    /// The latest sequence number in the change log (0 when empty).
    pub fn last_seq(&self) -> Result<u64> {
        last_seq(&self.db()?.begin_read().map_err(db_err)?)
    }

    /// Reads a small value kept beside the documents (sync cursors and the like).
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let table = txn.open_table(META).map_err(db_err)?;
        Ok(table.get(key).map_err(db_err)?.map(|v| v.value().to_vec()))
    }

    /// Writes a small value kept beside the documents.
    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<()> {
        self.writing(|| {
            let txn = self.db()?.begin_write().map_err(db_err)?;
            txn.open_table(META).map_err(db_err)?.insert(key, value).map_err(db_err)?;
            txn.commit().map_err(db_err)
        })
    }

    /// The open database. After a failed reopen it is opened again here, so a store whose
    /// disk filled up serves again once space is freed.
    pub(super) fn db(&self) -> Result<Db<'_>> {
        if self.db.read().unwrap_or_else(PoisonError::into_inner).is_none() {
            self.reopen()?;
        }
        let db = self.db.read().unwrap_or_else(PoisonError::into_inner);
        if db.is_none() {
            return Err(Error::failed(format!("{} is closed after an I/O error", self.path.display())));
        }
        Ok(Db(db))
    }

    /// Closes and opens the database again: after an I/O error (a full disk) redb refuses
    /// every later write ("Previous I/O error occurred") until it is reopened.
    fn reopen(&self) -> Result<()> {
        let mut db = self.db.write().unwrap_or_else(PoisonError::into_inner);
        // redb allows one open database per file: close the failed one first.
        *db = None;
        let reopened = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&self.path)
            .map_err(|e| Error::context(&format!("cannot reopen {}", self.path.display()), e))?;
        *db = Some(reopened);
        tracing::info!("reopened {} after a failed write", self.path.display());
        Ok(())
    }

    /// Runs `f` in one write transaction (committed when it succeeds), as [`Store::writing`].
    pub(super) fn write_tables<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T>) -> Result<T> {
        let mut out = None;
        self.writing(|| {
            let txn = self.db()?.begin_write().map_err(db_err)?;
            out = Some(f(&txn)?);
            txn.commit().map_err(db_err)
        })?;
        Ok(out.expect("a committed write has its result"))
    }

    /// Runs a write; after one that failed (not for bad input), the next reopens the
    /// database first.
    fn writing(&self, write: impl FnOnce() -> Result<()>) -> Result<()> {
        if self.write_failed.swap(false, Ordering::SeqCst)
            && let Err(e) = self.reopen()
        {
            self.write_failed.store(true, Ordering::SeqCst);
            return Err(e);
        }
        let result = write();
        if result.as_ref().is_err_and(|e| e.kind == crate::sync::ErrorKind::Failed) {
            self.write_failed.store(true, Ordering::SeqCst);
        }
        result
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(db) = self.db.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            // A damaged file may make redb panic: closing must not.
            let _ = crate::sync::error::catch_panics(|| close(db, &self.path));
        }
    }
}

/// Free space past this fraction of the file is given back when the store closes.
const SPARSE_FRACTION: f64 = 0.2;
/// ... and past this many bytes, so a small store is never rewritten for little gain.
const SPARSE_MIN: u64 = 1024 * 1024;

/// Closes the database and gives back the free pages of its file when they are a large part
/// of it. redb's own close trims the free pages at the end of the file, which is where an
/// ingest leaves them (the file grows by doubling), so that costs nothing; free pages among
/// used ones (left by updates all over the tables) need a compaction, which moves pages
/// one by one and is worth its time only when the file would shrink by much.
fn close(db: Database, path: &Path) {
    let used = match db.begin_write().map_err(db_err).and_then(|txn| txn.stats().map_err(db_err)) {
        Ok(stats) => stats.allocated_pages() * stats.page_size() as u64,
        Err(_) => return,
    };
    drop(db);
    let Ok(len) = std::fs::metadata(path).map(|m| m.len()) else { return };
    let free = len.saturating_sub(used);
    if free < SPARSE_MIN || (free as f64) < len as f64 * SPARSE_FRACTION {
        return;
    }
    let started = std::time::Instant::now();
    let compacted = Database::builder()
        .set_cache_size(CACHE_BYTES)
        .open(path)
        .map_err(redb::Error::from)
        .and_then(|mut db| db.compact().map(drop).map_err(redb::Error::from));
    match compacted {
        Ok(()) => tracing::info!(
            "compacted {}: {len} -> {} bytes in {:.1} s",
            path.display(),
            std::fs::metadata(path).map_or(0, |m| m.len()),
            started.elapsed().as_secs_f64()
        ),
        Err(e) => tracing::warn!("could not compact {}: {e}", path.display()),
    }
}

impl Store {
    /// Sends every document `request` asks for to `send`, as one read transaction sees them,
    /// and returns how many; stops early (`Ok`) when `send` says the receiver is gone.
    pub fn export(&self, request: &ExportRequest, mut send: impl FnMut(ExportEvent) -> bool) -> Result<u64> {
        let txn = self.db()?.begin_read().map_err(db_err)?;
        let projections = txn.open_table(PROJECTIONS).map_err(db_err)?;
        let docs = txn.open_table(DOCS).map_err(db_err)?;
        let deltas = txn.open_table(DELTAS).map_err(db_err)?;
        let mut collections = request.collections.clone();
        collections.sort();
        collections.dedup();
        let ranges: Vec<Option<&str>> = if collections.is_empty() {
            vec![None]
        } else {
            collections.iter().map(|c| Some(c.as_str())).collect()
        };
        let mut sent = 0;
        for only in ranges {
            for entry in projections.range((only.unwrap_or(""), "")..).map_err(db_err)? {
                let (key, value) = entry.map_err(db_err)?;
                let (collection, id) = key.value();
                if only.is_some_and(|c| c != collection) {
                    break;
                }
                let deleted = value.value().first() == Some(&REMOVED);
                let record = match request.format {
                    ExportFormat::Ndjson if deleted && !request.include_deleted => continue,
                    ExportFormat::Ndjson => ExportRecord {
                        doc: Some(parse_projection(value.value())?),
                        ..record(collection, id, deleted)
                    },
                    ExportFormat::Automerge => {
                        let saved =
                            stored_bytes(&docs, Some(&deltas), (collection, id))?.ok_or_else(|| {
                                Error::failed(format!(
                                    "store: {collection}/{id} has a projection but no document"
                                ))
                            })?;
                        ExportRecord { automerge: Some(base64(&saved)), ..record(collection, id, deleted) }
                    }
                };
                if !send(ExportEvent::Doc(record)) {
                    return Ok(sent);
                }
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Merges a batch of exported records in one transaction.
    pub fn import(&self, records: Vec<ExportRecord>) -> Result<ImportSummary> {
        let mut summary = ImportSummary { documents: records.len() as u64, changed: 0 };
        self.write(|w| {
            for record in &records {
                summary.changed += u64::from(w.import(record)?);
            }
            Ok(())
        })?;
        Ok(summary)
    }

    /// Copies every table, as one read transaction sees it, into a new store file at
    /// `path`: a consistent backup while writes go on. Written beside `path` and renamed
    /// into place once complete, so a failed backup leaves no half a store under its name.
    pub fn backup(&self, path: &Path) -> Result<()> {
        let partial = path.with_extension("partial");
        let result = self.copy_to(&partial).and_then(|()| {
            std::fs::rename(&partial, path).map_err(|e| Error::context(&format!("{}", path.display()), e))
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result
    }

    fn copy_to(&self, path: &Path) -> Result<()> {
        let from = self.db()?.begin_read().map_err(db_err)?;
        let to = Database::create(path)
            .map_err(|e| Error::context(&format!("cannot create {}", path.display()), e))?;
        copy_table(&from, &to, DOCS)?;
        copy_table(&from, &to, DELTAS)?;
        copy_table(&from, &to, PROJECTIONS)?;
        copy_table(&from, &to, DOC_SEQ)?;
        copy_table(&from, &to, CHANGES)?;
        copy_table(&from, &to, COUNTS)?;
        copy_table(&from, &to, HEADS)?;
        expiry::copy(&from, &to)?;
        copy_table(&from, &to, index::INDEXES)?;
        copy_table(&from, &to, index::ENTRIES)?;
        copy_table(&from, &to, META)
    }

    /// Gives the store file at `path` a new store id, so peers read its change log afresh: a
    /// restored store's log ends before positions its peers already read from the original.
    pub fn renew_id(path: &Path) -> Result<()> {
        let db = Database::open(path)
            .map_err(|e| Error::context(&format!("cannot open {}", path.display()), e))?;
        let txn = db.begin_write().map_err(db_err)?;
        let id = *uuid::Uuid::now_v7().as_bytes();
        txn.open_table(META).map_err(db_err)?.insert("store_id", id.as_slice()).map_err(db_err)?;
        txn.commit().map_err(db_err)
    }
}

/// Entries copied per write transaction of a backup, so a large store never sits in memory.
const COPY_BATCH: usize = 10_000;

/// Copies one table from a read transaction into `to`, committing every [`COPY_BATCH`].
pub(super) fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    from: &ReadTransaction,
    to: &Database,
    table: TableDefinition<K, V>,
) -> Result<()> {
    let source = match from.open_table(table) {
        Ok(source) => source,
        // A table never written (expiry on a store without expiring documents) is empty.
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(db_err(e)),
    };
    let mut entries = source.iter().map_err(db_err)?.peekable();
    loop {
        let txn = to.begin_write().map_err(db_err)?;
        {
            let mut target = txn.open_table(table).map_err(db_err)?;
            for entry in entries.by_ref().take(COPY_BATCH) {
                let (key, value) = entry.map_err(db_err)?;
                target.insert(key.value(), value.value()).map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)?;
        if entries.peek().is_none() {
            return Ok(());
        }
    }
}

fn record(collection: &str, id: &str, deleted: bool) -> ExportRecord {
    ExportRecord { collection: collection.into(), id: id.into(), deleted, doc: None, automerge: None }
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A document's current heads and its stored bytes.
pub type HeadsAndRaw = (Vec<ChangeHash>, Vec<u8>);

/// A change-log entry with the document's current heads.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub seq: u64,
    pub collection: String,
    pub id: String,
    pub heads: Vec<ChangeHash>,
}

/// A document's heads from the heads table, or from the document itself when a store
/// written before that table existed lacks them.
pub(super) fn read_heads(
    heads: &impl ReadableTable<Key<'static>, &'static [u8]>,
    docs: &impl ReadableTable<Key<'static>, &'static [u8]>,
    key: Key<'_>,
) -> Result<Option<Vec<ChangeHash>>> {
    if let Some(bytes) = heads.get(key).map_err(db_err)? {
        return Ok(Some(
            bytes.value().chunks_exact(32).map(|h| ChangeHash(h.try_into().expect("32 bytes"))).collect(),
        ));
    }
    let Some(bytes) = docs.get(key).map_err(db_err)? else { return Ok(None) };
    if let Some(heads) = chunk::base_heads(bytes.value()) {
        return Ok(Some(heads.into_iter().map(ChangeHash).collect()));
    }
    // A store written before the heads table.
    let mut doc = AutoCommit::load(bytes.value()).map_err(|e| Error::context("corrupt document", e))?;
    Ok(Some(doc.get_heads()))
}

/// A document's Automerge bytes: its base, then the change chunks appended since (`deltas`
/// is `None` for a store file older than that table).
pub(super) fn stored_bytes(
    docs: &impl ReadableTable<Key<'static>, &'static [u8]>,
    deltas: Option<&impl ReadableTable<DeltaKey<'static>, &'static [u8]>>,
    key: Key<'_>,
) -> Result<Option<Vec<u8>>> {
    let Some(base) = docs.get(key).map_err(db_err)? else { return Ok(None) };
    let mut bytes = base.value().to_vec();
    if let Some(deltas) = deltas {
        for entry in deltas.range(delta_range(key)).map_err(db_err)? {
            bytes.extend_from_slice(entry.map_err(db_err)?.1.value().get(DELTA_TOTAL..).unwrap_or_default());
        }
    }
    Ok(Some(bytes))
}

/// Where a delta row's running total ends and its chunks begin.
const DELTA_TOTAL: usize = 4;

/// The delta rows of one document.
fn delta_range<'a>(key: Key<'a>) -> std::ops::RangeInclusive<DeltaKey<'a>> {
    (key.0, key.1, 0)..=(key.0, key.1, u32::MAX)
}

/// How a document is laid out in the tables: what a write needs to append to it.
#[derive(Clone, Copy, Default)]
struct Layout {
    /// Bytes of its base.
    base: usize,
    /// Bytes appended as deltas since.
    appended: usize,
    /// The number of the next delta row.
    next: u32,
}

impl Layout {
    fn read(
        docs: &impl ReadableTable<Key<'static>, &'static [u8]>,
        deltas: &impl ReadableTable<DeltaKey<'static>, &'static [u8]>,
        key: Key<'_>,
    ) -> Result<Option<Self>> {
        let Some(base) = docs.get(key).map_err(db_err)? else { return Ok(None) };
        let mut layout = Layout { base: base.value().len(), ..Layout::default() };
        let last = deltas.range(delta_range(key)).map_err(db_err)?.next_back().transpose().map_err(db_err)?;
        if let Some((k, v)) = last {
            let total =
                v.value().get(..DELTA_TOTAL).and_then(|t| t.try_into().ok()).map_or(0, u32::from_le_bytes);
            layout.appended = total as usize;
            layout.next = k.value().2 + 1;
        }
        Ok(Some(layout))
    }

    /// The stored size of the document.
    fn size(&self) -> usize {
        self.base + self.appended
    }
}

/// The latest sequence number in the change log as `txn` sees it (0 when empty).
fn last_seq(txn: &ReadTransaction) -> Result<u64> {
    let table = txn.open_table(CHANGES).map_err(db_err)?;
    Ok(table.last().map_err(db_err)?.map_or(0, |(seq, _)| seq.value()))
}

/// Runs a query in `txn` as its [`Plan`] says, passing the documents to `emit`.
fn select(
    txn: &ReadTransaction,
    collection: &str,
    request: &QueryRequest,
    mut emit: impl FnMut(Document) -> bool,
) -> Result<u64> {
    let plan = Plan::with_indexes(request, &index::ready_paths(txn, collection)?);
    let mut sent = 0;
    let mut send = |json: Value| {
        sent += 1;
        emit(from_json(collection, json))
    };
    if plan.ordering == plan::Ordering::SortKeys {
        // Sort the keys and ids (spilled in bounded runs), not the documents; read each
        // again in order.
        let path = request.order_by.clone().expect("a sorted plan has an order");
        let mut order = ExternalSort::new(path, request.descending);
        read(txn, collection, &plan.access, false, |id, bytes| {
            if request.deleted.admits(is_removed(bytes)) {
                let json = parse_projection(bytes)?;
                if request.filter.matches(&json) {
                    order.push(&json, id.to_string())?;
                }
            }
            Ok(true)
        })?;
        let projections = txn.open_table(PROJECTIONS).map_err(db_err)?;
        for id in order.into_sorted()? {
            let id = id?;
            let Some(bytes) = projections.get((collection, id.as_str())).map_err(db_err)? else { continue };
            if !send(parse_projection(bytes.value())?) {
                break;
            }
        }
        return Ok(sent);
    }
    // Read in index order, documents go out as they match: the order needs no sorting.
    let unordered = QueryRequest { order_by: None, ..request.clone() };
    let by_index = plan.ordering == plan::Ordering::ByIndex;
    let mut selector = Selector::new(if by_index { &unordered } else { request });
    let mut wanted = true;
    read(txn, collection, &plan.access, by_index && request.descending, |_, bytes| {
        if !selector.wants(is_removed(bytes)) {
            return Ok(true);
        }
        wanted = selector.offer(parse_projection(bytes)?, &mut send);
        Ok(wanted)
    })?;
    if wanted {
        selector.finish(&mut send);
    }
    Ok(sent)
}

/// Passes the id and projection of each document `access` names to `f` until it returns
/// false: in id order, or in index order (`descending` walks an index backwards).
fn read(
    txn: &ReadTransaction,
    collection: &str,
    access: &Access,
    descending: bool,
    mut f: impl FnMut(&str, &[u8]) -> Result<bool>,
) -> Result<()> {
    let table = txn.open_table(PROJECTIONS).map_err(db_err)?;
    match access {
        Access::Index { path, range } => index::read(txn, collection, path, range, descending, |id| {
            match table.get((collection, id)).map_err(db_err)? {
                Some(bytes) => f(id, bytes.value()),
                None => Err(Error::failed(format!(
                    "store: index on '{path}' names {collection}/{id}, which is not stored; rebuild it \
                     with `peat index remove` and `peat index add`"
                ))),
            }
        })?,
        Access::Keys(ids) => {
            for id in ids {
                if let Some(bytes) = table.get((collection, id.as_str())).map_err(db_err)?
                    && !f(id, bytes.value())?
                {
                    break;
                }
            }
        }
        Access::Scan => {
            for entry in table.range((collection, "")..).map_err(db_err)? {
                let (key, value) = entry.map_err(db_err)?;
                let (c, id) = key.value();
                if c != collection || !f(id, value.value())? {
                    break;
                }
            }
        }
    }
    Ok(())
}

fn is_removed(projection: &[u8]) -> bool {
    projection.first() == Some(&REMOVED)
}

/// Creates the tables and the store id on first open; returns the store id.
fn init_meta(db: &Database) -> Result<[u8; 16]> {
    let txn = db.begin_write().map_err(db_err)?;
    let id = {
        txn.open_table(DOCS).map_err(db_err)?;
        txn.open_table(DELTAS).map_err(db_err)?;
        txn.open_table(PROJECTIONS).map_err(db_err)?;
        txn.open_table(DOC_SEQ).map_err(db_err)?;
        txn.open_table(CHANGES).map_err(db_err)?;
        txn.open_table(COUNTS).map_err(db_err)?;
        txn.open_table(HEADS).map_err(db_err)?;
        txn.open_table(index::INDEXES).map_err(db_err)?;
        txn.open_table(index::ENTRIES).map_err(db_err)?;
        let mut meta = txn.open_table(META).map_err(db_err)?;
        let existing = meta.get("store_id").map_err(db_err)?.map(|v| v.value().to_vec());
        match existing {
            Some(bytes) => bytes.try_into().map_err(|_| Error::failed("store: corrupt store id"))?,
            None => {
                let id = *uuid::Uuid::now_v7().as_bytes();
                meta.insert("store_id", id.as_slice()).map_err(db_err)?;
                id
            }
        }
    };
    txn.commit().map_err(db_err)?;
    Ok(id)
}

/// The JSON form of a projection (its state byte is also in the JSON, as `_deleted`).
pub(super) fn parse_projection(bytes: &[u8]) -> Result<Value> {
    const FIX: &str = "check the store with `peat doctor`, rebuild it with `peat repair`";
    let json = bytes.get(1..).ok_or_else(|| Error::failed(format!("store: empty projection; {FIX}")))?;
    serde_json::from_slice(json).map_err(|e| Error::failed(format!("store: corrupt projection ({e}); {FIX}")))
}

/// The tables of one write transaction. [`Writer::edit`] is the only way documents change,
/// so the projection, the change log and the counts can never disagree with the documents.
pub struct Writer<'txn> {
    docs: redb::Table<'txn, Key<'static>, &'static [u8]>,
    deltas: redb::Table<'txn, DeltaKey<'static>, &'static [u8]>,
    projections: redb::Table<'txn, Key<'static>, &'static [u8]>,
    doc_seq: redb::Table<'txn, Key<'static>, u64>,
    changes: redb::Table<'txn, u64, Key<'static>>,
    counts: redb::Table<'txn, &'static str, u64>,
    heads: redb::Table<'txn, Key<'static>, &'static [u8]>,
    expiry: Expiry<'txn>,
    /// Collection settings read in this transaction (a batch reads its collection's once).
    settings: std::collections::HashMap<String, CollectionSettings>,
    index: Maintainer<'txn>,
    actor: &'txn ActorId,
    cache: &'txn Mutex<DocCache>,
    next_seq: u64,
    /// The changed documents with their new log positions.
    committed: Vec<(u64, Document)>,
    /// Live documents gained (or lost) per collection by this write so far.
    live_changes: std::collections::HashMap<String, i64>,
}

impl<'txn> Writer<'txn> {
    fn new(txn: &'txn WriteTransaction, actor: &'txn ActorId, cache: &'txn Mutex<DocCache>) -> Result<Self> {
        let changes = txn.open_table(CHANGES).map_err(db_err)?;
        let next_seq = changes.last().map_err(db_err)?.map_or(0, |(seq, _)| seq.value()) + 1;
        Ok(Self {
            docs: txn.open_table(DOCS).map_err(db_err)?,
            deltas: txn.open_table(DELTAS).map_err(db_err)?,
            projections: txn.open_table(PROJECTIONS).map_err(db_err)?,
            doc_seq: txn.open_table(DOC_SEQ).map_err(db_err)?,
            changes,
            counts: txn.open_table(COUNTS).map_err(db_err)?,
            heads: txn.open_table(HEADS).map_err(db_err)?,
            expiry: Expiry::open(txn)?,
            settings: std::collections::HashMap::new(),
            index: Maintainer::new(txn)?,
            actor,
            cache,
            next_seq,
            committed: Vec::new(),
            live_changes: std::collections::HashMap::new(),
        })
    }

    /// Loads (or creates) a document, lets `f` change it and, if its heads moved, stores the
    /// document, its projection, its change-log entry and the collection count. Returns
    /// whether the document changed.
    pub fn edit(
        &mut self,
        collection: &str,
        id: &str,
        f: impl FnOnce(&mut AutoCommit) -> Result<()>,
    ) -> Result<bool> {
        let existing = self.existing(collection, id)?;
        match change(collection, id, existing, self.actor, f)? {
            Some(prepared) => self.put_local(prepared).map(|()| true),
            None => Ok(false),
        }
    }

    /// Applies a batch of upserts. The Automerge work (the bulk of a write) runs on the other
    /// cores while this thread updates the tables in input order. A batch naming one id twice runs in
    /// order throughout, since each upsert must see the one before.
    fn upsert(&mut self, collection: &str, ids: &[String], inputs: Vec<DocInput>) -> Result<()> {
        let distinct = ids.iter().collect::<std::collections::HashSet<_>>().len() == ids.len();
        if !distinct || ids.len() < PARALLEL_MIN {
            for (id, input) in ids.iter().zip(inputs) {
                let existing = self.existing(collection, id)?;
                if let Some(prepared) = upsert_one(collection, id, input, existing, self.actor)? {
                    self.put_local(prepared)?;
                }
            }
            return Ok(());
        }
        // The inputs go to the workers, which move their fields into the documents and free
        // what is left: neither is this thread's work.
        let mut jobs = Vec::with_capacity(ids.len());
        for (id, input) in ids.iter().zip(inputs) {
            jobs.push((id, input, self.existing(collection, id)?));
        }
        let actor = self.actor;
        super::cores::pipeline(
            jobs,
            |(id, input, existing)| upsert_one(collection, id, input, existing, actor),
            |prepared| match prepared? {
                Some(p) => self.put_local(p),
                None => Ok(()),
            },
        )
    }

    /// A stored document (loaded, when the cache holds it at the stored heads; else its
    /// bytes), its layout and whether it is live.
    fn existing(&self, collection: &str, id: &str) -> Result<Option<Existing>> {
        let key = (collection, id);
        let Some(layout) = Layout::read(&self.docs, &self.deltas, key)? else { return Ok(None) };
        let state = self.projections.get(key).map_err(db_err)?.and_then(|p| p.value().first().copied());
        let cached = self.cache.lock().unwrap_or_else(PoisonError::into_inner).take(collection, id);
        let current = match cached {
            Some(mut doc) => {
                (Some(doc.get_heads()) == read_heads(&self.heads, &self.docs, key)?).then_some(doc)
            }
            None => None,
        };
        let source = match current {
            Some(doc) => Source::Loaded(Box::new(doc)),
            None => Source::Saved(stored_bytes(&self.docs, Some(&self.deltas), key)?.unwrap_or_default()),
        };
        Ok(Some(Existing { source, layout, live: state == Some(LIVE) }))
    }

    /// Merges Automerge bytes from a peer (a saved document or changes) into a document,
    /// creating it if new. Stores it like [`Writer::edit`] when its heads moved, and returns
    /// whether they did. A new document keeps the peer's bytes as its saved form.
    pub fn merge(&mut self, collection: &str, id: &str, bytes: &[u8]) -> Result<bool> {
        let bad = malformed(collection, id);
        let Some(existing) = self.existing(collection, id)? else {
            return match prepare_new(collection, id, bytes)? {
                Some(p) => self.put(p).map(|()| true),
                None => Ok(false),
            };
        };
        let (live, layout) = (existing.live, existing.layout);
        let mut doc = existing.source.load()?;
        // A document stamped under the `latest` policy is replaced, not merged; one stored
        // before the policy applied merges as usual until its next local write.
        if latest::Hlc::of(&doc).is_some() && self.latest(collection)? {
            return self.replace_if_later(collection, id, doc, (live, layout), bytes);
        }
        let before = doc.get_heads();
        doc.load_incremental(bytes).map_err(bad)?;
        if doc.get_heads() == before {
            self.cache.lock().unwrap_or_else(PoisonError::into_inner).put(collection, id, layout.size(), doc);
            return Ok(false);
        }
        self.put(prepare(collection, id, doc, Some((live, layout)), Some(&before), None)?)?;
        Ok(true)
    }

    /// Merges many documents from a peer as [`Writer::merge`] would one by one, each with its
    /// own outcome, in order; the work of reading the documents new here (all of them, in an
    /// initial sync) runs on the other cores meanwhile. A batch naming a document twice runs one
    /// by one, as each merge must see the one before.
    pub fn merge_many<'d>(&mut self, docs: &[(&'d str, &'d str, &'d [u8])]) -> Result<Vec<Result<bool>>> {
        let distinct = docs.iter().map(|(c, i, _)| (c, i)).collect::<std::collections::HashSet<_>>();
        if distinct.len() < docs.len() {
            return Ok(docs.iter().map(|(c, i, b)| self.merge(c, i, b)).collect());
        }
        let mut new = Vec::with_capacity(docs.len());
        for &(c, i, b) in docs {
            new.push((c, i, b, self.docs.get((c, i)).map_err(db_err)?.is_none()));
        }
        let mut outcomes = Vec::with_capacity(docs.len());
        let prepare = |(c, i, b, new): (&'d str, &'d str, &'d [u8], bool)| {
            ((c, i, b), new.then(|| prepare_new(c, i, b)))
        };
        let merged = super::cores::pipeline(new, prepare, |((c, i, b), prepared)| {
            outcomes.push(match prepared {
                Some(Ok(Some(p))) => self.put(p).map(|()| true),
                Some(Ok(None)) => Ok(false),
                Some(Err(e)) => Err(e),
                None => self.merge(c, i, b),
            });
            Ok::<(), std::convert::Infallible>(())
        });
        let Ok(()) = merged;
        Ok(outcomes)
    }

    /// A document's heads as this write sees them (`None` if it is not stored).
    pub fn heads(&self, collection: &str, id: &str) -> Result<Option<Vec<ChangeHash>>> {
        read_heads(&self.heads, &self.docs, (collection, id))
    }

    /// A collection's settings as this write reads them (once per write; a write to the
    /// settings forgets what was read).
    fn settings_of(&mut self, collection: &str) -> Result<CollectionSettings> {
        if let Some(&found) = self.settings.get(collection) {
            return Ok(found);
        }
        let key = (settings::SETTINGS_COLLECTION, collection);
        let document = match self.projections.get(key).map_err(db_err)? {
            Some(bytes) => Some(from_json(settings::SETTINGS_COLLECTION, parse_projection(bytes.value())?)),
            None => None,
        };
        let found = CollectionSettings::of(document.as_ref());
        self.settings.insert(collection.to_string(), found);
        Ok(found)
    }

    /// Whether `collection` keeps only the latest state.
    fn latest(&mut self, collection: &str) -> Result<bool> {
        Ok(self.settings_of(collection)?.history == HistoryPolicy::Latest)
    }

    /// Stores a local write. In a `latest` collection the document is first rebuilt as a
    /// fresh one-change document of its new state, stamped with the next clock reading.
    fn put_local(&mut self, mut p: Prepared) -> Result<()> {
        let (collection, id) = (p.document.collection.clone(), p.document.id.clone());
        if !self.latest(&collection)? {
            return self.put(p);
        }
        let last = match self.existing(&collection, &id)? {
            Some(e) => latest::Hlc::of(&e.source.load()?),
            None => None,
        };
        let hlc = latest::Hlc::next(last.as_ref(), latest::wall_ms(), self.actor);
        let fresh = latest::fresh(&p.document.fields, p.document.deleted, &hlc, self.actor)?;
        p.size = fresh.bytes.len();
        p.stored = Stored::Whole(fresh.bytes);
        p.heads = fresh.heads;
        p.heads_row = needs_heads_row(&p.stored, &p.heads);
        p.doc = None;
        self.put(p)
    }

    /// A peer's version of a document of a `latest` collection: it replaces ours when it
    /// carries the later clock (last writer wins), and is dropped otherwise. `bytes` are a
    /// whole document or, for a document stored before the policy applied, changes to ours.
    fn replace_if_later(
        &mut self,
        collection: &str,
        id: &str,
        ours: AutoCommit,
        (live, layout): (bool, Layout),
        bytes: &[u8],
    ) -> Result<bool> {
        let bad = malformed(collection, id);
        let whole = AutoCommit::load(bytes).ok().filter(|d| latest::Hlc::of(d).is_some());
        let incoming = match whole {
            Some(doc) => doc,
            None => {
                let mut merged = ours.clone();
                merged.load_incremental(bytes).map_err(bad)?;
                merged
            }
        };
        if !latest::wins(&incoming, &ours) {
            return Ok(false);
        }
        // Stored whole, in place of our base and changes.
        let mut prepared = prepare(collection, id, incoming, None, None, None)?;
        (prepared.was_live, prepared.layout) = (live, layout);
        self.put(prepared)?;
        Ok(true)
    }

    /// Merges one exported record: an Automerge record merges history; a JSON record is an
    /// upsert of its fields. Returns whether the document changed.
    fn import(&mut self, record: &ExportRecord) -> Result<bool> {
        let (collection, id) = (record.collection.as_str(), record.id.as_str());
        let bad = |why: String| Error::invalid(format!("import of {collection}/{id}: {why}"));
        validate::collection(collection).map_err(bad)?;
        validate::id(id).map_err(bad)?;
        if let Some(encoded) = &record.automerge {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| bad(format!("automerge is not base64: {e}")))?;
            return self.merge(collection, id, &bytes);
        }
        let Some(Value::Object(fields)) = &record.doc else {
            return Err(bad("a record needs \"doc\" (an object) or \"automerge\"".into()));
        };
        let mut fields = fields.clone();
        fields.remove(DELETED_FIELD);
        let mut input = DocInput::from_object(fields, false).map_err(bad)?;
        input.id = Some(id.to_string());
        let existing = self.existing(collection, id)?;
        if record.deleted {
            // A tombstone: removes a live document, creates a removed one, and leaves a
            // removed one as it is (an upsert would revive it).
            return match existing {
                Some(e) if !e.live => Ok(false),
                Some(_) => self.edit(collection, id, convert::mark_removed),
                None => {
                    let created = upsert_one(collection, id, input, None, self.actor)?;
                    created.map(|p| self.put_local(p)).transpose()?;
                    self.edit(collection, id, convert::mark_removed)
                }
            };
        }
        match upsert_one(collection, id, input, existing, self.actor)? {
            Some(prepared) => self.put_local(prepared).map(|()| true),
            None => Ok(false),
        }
    }

    /// Writes a prepared document: its bytes, heads, projection, change-log entry and count.
    /// Every document written, local or a peer's, has passed the checks of [`validate`]: its
    /// names and fields as it was prepared (`document`), its size here.
    fn put(&mut self, p: Prepared) -> Result<()> {
        let (collection, id) = (p.document.collection.as_str(), p.document.id.as_str());
        validate::history(p.size).map_err(|e| Error::invalid(format!("{collection}/{id}: {e}")))?;
        let key = (collection, id);
        if collection == settings::SETTINGS_COLLECTION {
            // Collection `id`'s settings change: forget what this write read of them, and
            // check its documents' expiry again.
            self.settings.remove(id);
            self.expiry.recheck_from_start(id)?;
        }
        let deleted = p.document.deleted;
        let expires_at = match deleted {
            false => self.ttl_secs(&p.document)?.map(|ttl| p.updated.saturating_add(ttl)),
            true => None,
        };
        if expires_at.is_some_and(|at| at <= expiry::now()) {
            // Expired already (a peer's old copy): it no longer exists here.
            return self.purge(collection, id);
        }
        self.expiry.set(key, expires_at)?;
        match &p.stored {
            Stored::Whole(saved) => {
                let existed = self.docs.insert(key, saved.as_slice()).map_err(db_err)?.is_some();
                if p.layout.next > 0 {
                    self.deltas.retain_in(delta_range(key), |_, _| false).map_err(db_err)?;
                }
                if !p.heads_row && existed {
                    self.heads.remove(key).map_err(db_err)?;
                }
            }
            Stored::Append(chunks) => {
                let total = u32::try_from(p.layout.appended + chunks.len())
                    .map_err(|_| Error::invalid(format!("{collection}/{id}: history too large")))?;
                let mut row = total.to_le_bytes().to_vec();
                row.extend_from_slice(chunks);
                self.deltas.insert((collection, id, p.layout.next), row.as_slice()).map_err(db_err)?;
            }
        }
        if p.heads_row {
            self.heads.insert(key, p.heads.as_slice()).map_err(db_err)?;
        }
        let old = self.projections.insert(key, p.projection.as_slice()).map_err(db_err)?;
        self.index.update(old.as_ref().map(|o| o.value()), &p.document)?;
        drop(old);
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(old) = self.doc_seq.insert(key, seq).map_err(db_err)? {
            self.changes.remove(old.value()).map_err(db_err)?;
        }
        self.changes.insert(seq, key).map_err(db_err)?;
        match (p.was_live, deleted) {
            (false, false) => self.count(collection, 1),
            (true, true) => self.count(collection, -1),
            // A collection of tombstones only still has a count.
            (false, true) => self.count(collection, 0),
            (true, false) => {}
        }
        if let Some(doc) = p.doc {
            self.cache.lock().unwrap_or_else(PoisonError::into_inner).put(collection, id, p.size, doc);
        }
        self.committed.push((seq, p.document));
        Ok(())
    }

    /// A document's time to live in seconds, by its own `_ttl` or its collection's setting.
    fn ttl_secs(&mut self, document: &Document) -> Result<Option<u64>> {
        let collection = self.settings_of(&document.collection)?;
        Ok(expiry::ttl_secs(&document.fields, &collection))
    }

    /// Deletes a document outright, with its log entry and expiry (expiry leaves no
    /// tombstone); observers see it removed.
    fn purge(&mut self, collection: &str, id: &str) -> Result<()> {
        let key = (collection, id);
        self.expiry.set(key, None)?;
        let was_live = match self.projections.remove(key).map_err(db_err)? {
            Some(p) => {
                self.index.remove(collection, id, p.value())?;
                p.value().first() == Some(&LIVE)
            }
            None => return Ok(()),
        };
        self.docs.remove(key).map_err(db_err)?;
        self.deltas.retain_in(delta_range(key), |_, _| false).map_err(db_err)?;
        self.heads.remove(key).map_err(db_err)?;
        if let Some(old) = self.doc_seq.remove(key).map_err(db_err)? {
            self.changes.remove(old.value()).map_err(db_err)?;
        }
        if was_live {
            self.count(collection, -1);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let gone = Document {
            collection: collection.into(),
            id: id.into(),
            fields: serde_json::Map::new(),
            deleted: true,
            conflicts: Vec::new(),
        };
        self.committed.push((seq, gone));
        Ok(())
    }

    /// Deletes up to `limit` documents whose time is up, after re-checking up to `limit`
    /// documents of a collection whose `ttl` setting changed. Returns how many it deleted.
    fn expire(&mut self, limit: usize) -> Result<usize> {
        self.recheck(limit)?;
        let due = self.expiry.due(expiry::now(), limit)?;
        for (collection, id) in &due {
            self.purge(collection, id)?;
        }
        Ok(due.len())
    }

    /// Works out the expiry of the next `limit` documents of a collection whose `ttl`
    /// setting changed.
    fn recheck(&mut self, limit: usize) -> Result<()> {
        let Some((collection, from)) = self.expiry.next_recheck()? else { return Ok(()) };
        let mut batch = Vec::new();
        let range = (collection.as_str(), from.as_str())..;
        for entry in self.projections.range(range).map_err(db_err)? {
            let (key, bytes) = entry.map_err(db_err)?;
            let (c, id) = key.value();
            if c != collection || batch.len() == limit {
                break;
            }
            batch.push((id.to_string(), from_json(c, parse_projection(bytes.value())?)));
        }
        for (id, document) in &batch {
            let ttl = if document.deleted { None } else { self.ttl_secs(document)? };
            let expires_at = match ttl {
                Some(ttl) => {
                    let key = (collection.as_str(), id.as_str());
                    let saved = stored_bytes(&self.docs, Some(&self.deltas), key)?
                        .ok_or_else(|| Error::failed("store: a projection without its document"))?;
                    let mut doc =
                        AutoCommit::load(&saved).map_err(|e| Error::context("corrupt document", e))?;
                    Some(newest_change_time(&mut doc).saturating_add(ttl))
                }
                None => None,
            };
            self.expiry.set((collection.as_str(), id.as_str()), expires_at)?;
        }
        // The next check starts after the last id done (a NUL makes the next key strictly greater).
        let reached = (batch.len() == limit).then(|| format!("{}\0", batch.last().map_or("", |(id, _)| id)));
        self.expiry.recheck_reached(&collection, reached.as_deref())
    }

    fn finish(mut self) -> Result<Vec<(u64, Document)>> {
        for (collection, change) in std::mem::take(&mut self.live_changes) {
            let n = self.counts.get(collection.as_str()).map_err(db_err)?.map_or(0, |v| v.value());
            self.counts.insert(collection.as_str(), n.saturating_add_signed(change)).map_err(db_err)?;
        }
        Ok(self.committed)
    }

    /// Notes a change in a collection's live documents, counted once when the write ends.
    fn count(&mut self, collection: &str, change: i64) {
        match self.live_changes.get_mut(collection) {
            Some(total) => *total += change,
            None => drop(self.live_changes.insert(collection.to_string(), change)),
        }
    }
}

/// Batches smaller than this are not worth spreading over threads.
const PARALLEL_MIN: usize = 64;

/// Appended changes past this many bytes (or past the base's size, if larger) are
/// compacted into a new base, so loading stays proportional to the document, not its edits.
const COMPACT_MIN: usize = 1024;

/// A stored document as a write finds it.
struct Existing {
    source: Source,
    layout: Layout,
    live: bool,
}

/// Where a write gets a stored document from.
enum Source {
    /// The cache held it at the stored heads.
    Loaded(Box<AutoCommit>),
    /// Its stored bytes, to load.
    Saved(Vec<u8>),
}

impl Source {
    fn load(self) -> Result<AutoCommit> {
        match self {
            Source::Loaded(doc) => Ok(*doc),
            Source::Saved(bytes) => {
                AutoCommit::load(&bytes).map_err(|e| Error::context("corrupt document", e))
            }
        }
    }
}

/// What a write stores of a document's Automerge form.
enum Stored {
    /// A new base (a new document, or a compaction), replacing any appended changes.
    Whole(Vec<u8>),
    /// Change chunks appended after the base.
    Append(Vec<u8>),
}

/// A changed document encoded for the tables: the CPU-heavy half of a write, which needs no
/// table and so can run on any thread.
struct Prepared {
    document: Document,
    stored: Stored,
    /// The layout the document had before this write.
    layout: Layout,
    /// The stored size after it.
    size: usize,
    heads: Vec<u8>,
    /// Whether the heads table needs a row: `stored` does not name the heads itself. Found
    /// where the document is prepared (hashing its change), off the writer's thread.
    heads_row: bool,
    projection: Vec<u8>,
    was_live: bool,
    /// When the document last changed (Unix seconds, as its newest change records it), for
    /// expiry.
    updated: u64,
    /// The changed document, for the cache.
    doc: Option<AutoCommit>,
}

/// Whether a document stored as `stored` with `heads` needs a row in the heads table: only
/// a whole base that is one change or a saved document names its heads (see
/// [`chunk::base_heads`]).
fn needs_heads_row(stored: &Stored, heads: &[u8]) -> bool {
    match stored {
        Stored::Whole(base) => chunk::base_heads(base).is_none_or(|h| h.concat() != heads),
        Stored::Append(_) => true,
    }
}

/// A document's heads as the heads table holds them: 32-byte hashes concatenated.
fn heads_bytes(doc: &mut AutoCommit) -> Vec<u8> {
    doc.get_heads().iter().flat_map(|h| h.0).collect()
}

/// One upsert: a new document with plain fields is built in one batch (the bulk-ingest
/// case); anything else is an edit of the loaded document.
fn upsert_one(
    collection: &str,
    id: &str,
    input: DocInput,
    existing: Option<Existing>,
    actor: &ActorId,
) -> Result<Option<Prepared>> {
    if existing.is_some() || !input.sets.is_empty() || input.fields.is_empty() {
        return change(collection, id, existing, actor, |doc| convert::apply(doc, &input));
    }
    let updated = expiry::now();
    let created = convert::create(&input.fields, actor)?;
    // The projection is the input itself.
    prepare_created(collection, id, input.fields, created, updated).map(Some)
}

/// A new document prepared from its `fields` as written (`convert::visible` reads them) and
/// its stored form, without loading it.
fn prepare_created(
    collection: &str,
    id: &str,
    fields: serde_json::Map<String, serde_json::Value>,
    created: convert::Created,
    updated: u64,
) -> Result<Prepared> {
    let (fields, deleted) = convert::visible(fields);
    let document = document(collection, id, fields, deleted)?;
    let size = created.bytes.len();
    let stored = Stored::Whole(created.bytes);
    Ok(Prepared {
        projection: projection(&document)?,
        document,
        layout: Layout::default(),
        size,
        heads_row: needs_heads_row(&stored, &created.heads),
        stored,
        heads: created.heads,
        was_live: false,
        doc: None,
        updated,
    })
}

/// Loads (or creates) a document, lets `f` change it as `actor`, and prepares it for the
/// tables if its heads moved; `None` when nothing changed.
fn change(
    collection: &str,
    id: &str,
    existing: Option<Existing>,
    actor: &ActorId,
    f: impl FnOnce(&mut AutoCommit) -> Result<()>,
) -> Result<Option<Prepared>> {
    let (mut doc, was) = match existing {
        Some(e) => (e.source.load()?, Some((e.live, e.layout))),
        None => (AutoCommit::new(), None),
    };
    doc.set_actor(actor.clone());
    let before: Vec<ChangeHash> = doc.get_heads();
    f(&mut doc)?;
    // History shows the time and expiry counts from it; Automerge orders by causality alone.
    let now = expiry::now();
    let options = || CommitOptions::default().with_time(now as i64);
    doc.commit_with(options());
    if was.is_none() && doc.get_heads().is_empty() {
        // A new document with no fields still exists: an empty change gives it a history.
        doc.empty_change(options());
    }
    if doc.get_heads() == before {
        return Ok(None);
    }
    prepare(collection, id, doc, was, None, None).map(Some)
}

/// Encodes a document for the tables. A stored one (`was`: whether it was live, and its
/// layout) gets its new changes appended (those past `before`, or with `None` the one local
/// change just made, found without walking the history), or a new base once they outgrow
/// it; a new one is saved whole, as `saved` when that is at hand.
fn prepare(
    collection: &str,
    id: &str,
    mut doc: AutoCommit,
    was: Option<(bool, Layout)>,
    before: Option<&[ChangeHash]>,
    saved: Option<&[u8]>,
) -> Result<Prepared> {
    let (fields, deleted) = convert::read(&doc)?;
    let document = document(collection, id, fields, deleted)?;
    let (was_live, layout) = was.unwrap_or_default();
    let stored = match (was, saved) {
        (Some(_), None) => {
            let changes = match before {
                Some(before) => doc.get_changes(before),
                None => doc.get_last_local_change().into_iter().collect(),
            };
            let chunks: Vec<u8> = changes.into_iter().flat_map(|mut c| c.bytes().into_owned()).collect();
            if layout.appended + chunks.len() <= layout.base.max(COMPACT_MIN) {
                Stored::Append(chunks)
            } else {
                Stored::Whole(doc.save())
            }
        }
        (_, saved) => Stored::Whole(saved.map_or_else(|| doc.save(), <[u8]>::to_vec)),
    };
    let size = match &stored {
        Stored::Whole(saved) => saved.len(),
        Stored::Append(chunks) => layout.size() + chunks.len(),
    };
    let heads = heads_bytes(&mut doc);
    let heads_row = needs_heads_row(&stored, &heads);
    let updated = newest_change_time(&mut doc);
    let doc = was.is_some().then_some(doc);
    Ok(Prepared {
        projection: projection(&document)?,
        document,
        stored,
        layout,
        size,
        heads,
        heads_row,
        was_live,
        doc,
        updated,
    })
}

/// A document to store, once its names and fields are found valid (a peer's are checked
/// only here).
fn document(
    collection: &str,
    id: &str,
    fields: serde_json::Map<String, serde_json::Value>,
    deleted: bool,
) -> Result<Document> {
    validate::collection(collection)
        .and_then(|()| validate::id(id))
        .and_then(|()| validate::fields(&fields))
        .map_err(|e| Error::invalid(format!("{collection}/{id}: {e}")))?;
    Ok(Document { collection: collection.into(), id: id.into(), fields, deleted, conflicts: Vec::new() })
}

/// The error for a peer's bytes of `collection/id` that Automerge refuses.
fn malformed<'a>(collection: &'a str, id: &'a str) -> impl Fn(automerge::AutomergeError) -> Error + 'a {
    move |e| Error::invalid(format!("malformed changes for {collection}/{id}: {e}"))
}

/// A document new to this store from a peer's bytes, prepared with those bytes as its saved
/// form; `None` if they hold no change.
fn prepare_new(collection: &str, id: &str, bytes: &[u8]) -> Result<Option<Prepared>> {
    if let Some(flat) = super::flat::decode(bytes) {
        // A flat document of one change, checked by decoding: no need to load it.
        let created = convert::Created { bytes: bytes.to_vec(), heads: flat.hash.to_vec() };
        let updated = flat.time.max(0) as u64;
        return prepare_created(collection, id, flat.fields, created, updated).map(Some);
    }
    let mut doc = AutoCommit::load(bytes).map_err(malformed(collection, id))?;
    if doc.get_heads().is_empty() {
        return Ok(None);
    }
    prepare(collection, id, doc, None, None, Some(bytes)).map(Some)
}

/// When a document last changed: the newest time its heads record (Unix seconds).
fn newest_change_time(doc: &mut AutoCommit) -> u64 {
    let heads = doc.get_heads();
    // The changes' metadata only: building a whole change re-encodes its operations.
    let times = heads.iter().filter_map(|h| doc.get_change_meta_by_hash(h).map(|c| c.timestamp));
    times.max().unwrap_or(0).max(0) as u64
}

/// A projection: the state byte, then the document's JSON form.
fn projection(document: &Document) -> Result<Vec<u8>> {
    let mut projection = vec![if document.deleted { REMOVED } else { LIVE }];
    serde_json::to_writer(&mut projection, &document.to_json()).map_err(|e| Error::context("store", e))?;
    Ok(projection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &tempfile::TempDir, name: &str, actor: u8) -> Store {
        Store::open(&dir.path().join(name), ActorId::from(vec![actor; 16])).unwrap()
    }

    fn set(s: &Store, field: &str, value: i64) {
        let mut fields = serde_json::Map::new();
        fields.insert(field.into(), value.into());
        s.upsert("c", vec![DocInput { id: Some("x".into()), fields, ..DocInput::default() }]).unwrap();
    }

    fn doc(id: &str, v: i64) -> DocInput {
        let fields = serde_json::json!({"v": v, "name": format!("n{v}")}).as_object().unwrap().clone();
        DocInput { id: Some(id.into()), fields, ..DocInput::default() }
    }

    #[test]
    fn large_batches_write_in_parallel_like_small_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(&tmp, "s", 1);
        let first: Vec<DocInput> = (0..300).map(|i| doc(&format!("d{i:03}"), i)).collect();
        s.upsert("c", first).unwrap();
        // Half of the next batch changes documents, half leaves them as they are.
        let second: Vec<DocInput> =
            (0..300).map(|i| doc(&format!("d{i:03}"), if i % 2 == 0 { i + 1000 } else { i })).collect();
        s.upsert("c", second).unwrap();
        assert_eq!(s.collections().unwrap()[0].documents, 300);
        assert_eq!(
            s.last_seq().unwrap(),
            450,
            "300 creations, then 150 changes; unchanged documents log nothing"
        );
        assert_eq!(s.get("c", "d002").unwrap().unwrap().fields["v"], 1002);
        assert_eq!(s.get("c", "d003").unwrap().unwrap().fields["v"], 3);
        let log = s.log_since(300, 1000).unwrap();
        assert_eq!(log.len(), 150);
        assert!(log.iter().all(|e| e.id[1..].parse::<i64>().unwrap() % 2 == 0));
        assert_eq!(Some(log[0].heads.clone()), s.heads_of([("c", log[0].id.as_str())]).unwrap()[0]);
    }

    /// The base bytes and the number of delta rows of a document.
    fn layout(s: &Store, id: &str) -> (Vec<u8>, usize) {
        let txn = s.db().unwrap().begin_read().unwrap();
        let base = txn.open_table(DOCS).unwrap().get(("c", id)).unwrap().unwrap().value().to_vec();
        let rows = txn.open_table(DELTAS).unwrap().range(delta_range(("c", id))).unwrap().count();
        (base, rows)
    }

    #[test]
    fn heads_take_a_row_only_when_the_base_does_not_name_them() {
        let tmp = tempfile::tempdir().unwrap();
        let a = store(&tmp, "a", 1);
        let rows = || {
            redb::ReadableTableMetadata::len(
                &a.db().unwrap().begin_read().unwrap().open_table(HEADS).unwrap(),
            )
            .unwrap()
        };
        let loaded_heads = || Some(a.load("c", "x").unwrap().unwrap().get_heads());
        set(&a, "v", 0);
        assert_eq!(rows(), 0, "a new flat document is one change, whose hash is its head");
        assert_eq!(a.heads_of([("c", "x")]).unwrap(), vec![loaded_heads()]);
        set(&a, "v", 1);
        assert_eq!(rows(), 1, "appended changes");
        assert_eq!(a.heads_of([("c", "x")]).unwrap(), vec![loaded_heads()]);
        let mut v = 2;
        while layout(&a, "x").1 > 0 {
            set(&a, "v", v);
            v += 1;
        }
        assert_eq!(rows(), 0, "a compacted base is a saved document, which lists its heads");
        assert_eq!(a.heads_of([("c", "x")]).unwrap(), vec![loaded_heads()]);
    }

    #[test]
    fn updates_append_their_changes_and_compact_into_a_new_base() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (store(&tmp, "a", 1), store(&tmp, "b", 2));
        set(&a, "v", 0);
        let (base, rows) = layout(&a, "x");
        assert_eq!(rows, 0);
        set(&a, "v", 1);
        assert_eq!(layout(&a, "x"), (base.clone(), 1), "an update appends, the base stays");

        let mut compactions = 0;
        for v in 2..600 {
            set(&a, "v", v);
            compactions += usize::from(layout(&a, "x").1 == 0);
        }
        assert!(compactions > 0, "appended changes outgrew the base");
        assert!(layout(&a, "x").0 != base);
        assert_eq!(a.get("c", "x").unwrap().unwrap().fields["v"], 599);
        assert_eq!(a.history("c", "x").unwrap().unwrap().len(), 600);

        // A peer's change merges into the cached document, and the next local edit keeps it.
        b.write(|w| w.merge("c", "x", &a.raw("c", "x").unwrap().unwrap()).map(drop)).unwrap();
        set(&b, "w", 7);
        a.write(|w| w.merge("c", "x", &b.raw("c", "x").unwrap().unwrap()).map(drop)).unwrap();
        set(&a, "v", 600);
        let doc = a.get("c", "x").unwrap().unwrap();
        assert_eq!((doc.fields["v"].as_i64(), doc.fields["w"].as_i64()), (Some(600), Some(7)));
        let loaded = a.load("c", "x").unwrap().unwrap();
        assert_eq!(convert::read(&loaded).unwrap().0, doc.fields);
        b.write(|w| w.merge("c", "x", &a.raw("c", "x").unwrap().unwrap()).map(drop)).unwrap();
        assert_eq!(b.get("c", "x").unwrap(), a.get("c", "x").unwrap());
        assert_eq!(a.heads_of([("c", "x")]).unwrap(), b.heads_of([("c", "x")]).unwrap());

        // The same after a reopen, with an empty cache.
        let heads = a.heads_of([("c", "x")]).unwrap();
        drop(a);
        let a = store(&tmp, "a", 1);
        assert_eq!(a.get("c", "x").unwrap(), Some(doc));
        assert_eq!(a.heads_of([("c", "x")]).unwrap(), heads);
        assert_eq!(a.history("c", "x").unwrap().unwrap().len(), 602);
        set(&a, "v", 601);
        assert_eq!(a.get("c", "x").unwrap().unwrap().fields["v"], 601);
    }

    #[test]
    fn closing_gives_back_the_free_pages_writes_left() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(&tmp, "s", 1);
        // Batches of updates all over the tables free the pages they replace.
        for round in 0..2 {
            for batch in 0..20 {
                let docs = (0..500).map(|i| doc(&format!("d{i:03}{batch:02}"), i + round)).collect();
                s.upsert("c", docs).unwrap();
            }
        }
        let path = tmp.path().join("s");
        let before = std::fs::metadata(&path).unwrap().len();
        drop(s);
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after < before * 4 / 5, "{before} -> {after} bytes");
        let s = store(&tmp, "s", 1);
        assert_eq!(s.collections().unwrap()[0].documents, 10_000);
        assert_eq!(s.get("c", "d49919").unwrap().unwrap().fields["v"], 500);
    }

    #[test]
    fn a_store_written_before_the_deltas_table_opens_and_updates() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("old");
        {
            let s = store(&tmp, "old", 1);
            set(&s, "v", 1);
            // The previous layout: no deltas table, documents saved whole.
            let mut whole = s.load("c", "x").unwrap().unwrap();
            let txn = s.db().unwrap().begin_write().unwrap();
            txn.open_table(DOCS).unwrap().insert(("c", "x"), whole.save().as_slice()).unwrap();
            txn.delete_table(DELTAS).unwrap();
            txn.commit().unwrap();
        }
        let report = super::super::doctor::verify(&path);
        assert_eq!((report.documents, report.problems), (1, 0), "{:?}", report.found);
        let s = store(&tmp, "old", 1);
        assert_eq!(s.get("c", "x").unwrap().unwrap().fields["v"], 1);
        set(&s, "v", 2);
        assert_eq!(layout(&s, "x").1, 1, "the update appended");
        assert_eq!(s.history("c", "x").unwrap().unwrap().len(), 2);
        drop(s);
        let report = super::super::doctor::verify(&path);
        assert_eq!((report.documents, report.problems), (1, 0), "{:?}", report.found);
    }

    #[test]
    fn a_batch_naming_an_id_twice_applies_both_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(&tmp, "s", 1);
        let mut batch: Vec<DocInput> = (0..100).map(|i| doc(&format!("d{i}"), i)).collect();
        batch.push(doc("d7", 77));
        s.upsert("c", batch).unwrap();
        assert_eq!(s.get("c", "d7").unwrap().unwrap().fields["v"], 77);
        assert_eq!(s.collections().unwrap()[0].documents, 100);
    }

    #[test]
    fn merge_carries_changes_and_the_log_carries_heads() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (store(&tmp, "a", 1), store(&tmp, "b", 2));
        set(&a, "speed", 1);
        let log = a.log_since(0, 10).unwrap();
        assert_eq!((log.len(), log[0].id.as_str()), (1, "x"));
        assert_eq!(Some(log[0].heads.clone()), a.heads_of([("c", "x")]).unwrap()[0]);
        assert_eq!(b.heads_of([("c", "x")]).unwrap(), vec![None]);

        // A new document takes the peer's bytes as they are.
        let raw = a.raw("c", "x").unwrap().unwrap();
        b.write(|w| w.merge("c", "x", &raw).map(drop)).unwrap();
        assert_eq!(b.raw("c", "x").unwrap().unwrap(), raw);
        assert_eq!(b.get("c", "x").unwrap(), a.get("c", "x").unwrap());
        assert_eq!(b.log_since(0, 10).unwrap()[0].heads, log[0].heads);

        // Concurrent edits of different fields merge both ways; a repeated merge is a no-op.
        set(&a, "speed", 2);
        set(&b, "name", 7);
        let (from_a, from_b) = (a.raw("c", "x").unwrap().unwrap(), b.raw("c", "x").unwrap().unwrap());
        let mut changed = false;
        b.write(|w| w.merge("c", "x", &from_a).map(|c| changed = c)).unwrap();
        assert!(changed);
        a.write(|w| w.merge("c", "x", &from_b).map(drop)).unwrap();
        b.write(|w| w.merge("c", "x", &from_a).map(|c| changed = c)).unwrap();
        assert!(!changed, "nothing new");
        let doc = a.get("c", "x").unwrap().unwrap();
        assert_eq!((doc.fields["speed"].as_i64(), doc.fields["name"].as_i64()), (Some(2), Some(7)));
        assert_eq!(a.get("c", "x").unwrap(), b.get("c", "x").unwrap());
        assert_eq!(a.heads_of([("c", "x")]).unwrap(), b.heads_of([("c", "x")]).unwrap());

        // Garbage is refused, not stored.
        assert!(b.write(|w| w.merge("c", "y", b"garbage").map(drop)).is_err());
        assert!(b.get("c", "y").unwrap().is_none());
    }

    #[test]
    fn merge_many_merges_a_batch_as_merges_one_by_one_would() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (store(&tmp, "a", 1), store(&tmp, "b", 2));
        a.upsert("c", (0..200).map(|i| doc(&format!("d{i:03}"), i)).collect()).unwrap();
        b.upsert("c", vec![doc("d000", 1000)]).unwrap();
        let raws: Vec<(String, Vec<u8>)> = (0..200)
            .map(|i| format!("d{i:03}"))
            .map(|id| {
                let raw = a.raw("c", &id).unwrap().unwrap();
                (id, raw)
            })
            .collect();
        // Enough new documents to be prepared on every core, one B holds (merged as usual), and
        // a malformed one refused on its own.
        let mut batch: Vec<(&str, &str, &[u8])> =
            raws.iter().map(|(id, r)| ("c", id.as_str(), r.as_slice())).collect();
        batch.push(("c", "bad", b"garbage"));
        let mut outcomes = Vec::new();
        b.write(|w| w.merge_many(&batch).map(|o| outcomes = o)).unwrap();
        assert_eq!(outcomes.len(), 201);
        assert!(outcomes[..200].iter().all(|o| matches!(o, Ok(true))));
        assert_eq!(outcomes[200].as_ref().unwrap_err().kind, crate::sync::ErrorKind::Invalid);
        for i in [1, 99, 199] {
            let id = format!("d{i:03}");
            assert_eq!(b.get("c", &id).unwrap(), a.get("c", &id).unwrap());
            assert_eq!(
                b.raw("c", &id).unwrap(),
                a.raw("c", &id).unwrap(),
                "a new document keeps the bytes sent"
            );
        }
        let mut merged = b.load("c", "d000").unwrap().unwrap();
        assert_eq!(merged.get_heads().len(), 2, "B's own write and A's, merged");
        // A batch naming a document twice merges in order: the second time, nothing is new.
        let twice = [batch[5], batch[5]];
        b.write(|w| w.merge_many(&twice).map(|o| outcomes = o)).unwrap();
        assert!(matches!(outcomes[..], [Ok(false), Ok(false)]));
    }
}
