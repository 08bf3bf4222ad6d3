//! Document expiry. A document with a time to live (its own `_ttl` field, else its
//! collection's `ttl` setting) expires that long after its last update, where "last update" is
//! the time recorded in its newest Automerge change. Every node holding the same changes
//! computes the same expiry time, so expiry converges whatever the nodes' clocks say; a clock
//! a few seconds off only removes the document a few seconds earlier or later.
//!
//! Expired documents are deleted from the store outright (no tombstone): each node removes
//! them on its own, and a node that receives an already expired document drops it, so
//! expired documents stop syncing.

use redb::{
    ReadTransaction, ReadableTable, ReadableTableMetadata, TableDefinition, TableError, WriteTransaction,
};
use std::sync::Weak;
use std::time::Duration;

use serde_json::{Map, Value};

use super::store::Store;

use super::store::db_err;
use crate::sync::{CollectionSettings, Result, TTL_FIELD};

type Key<'a> = (&'a str, &'a str);
/// When each document with a time to live expires (Unix seconds).
const EXPIRES: TableDefinition<Key, u64> = TableDefinition::new("expires");
/// The same, ordered by time, so the sweeper finds what is due without a scan.
const DUE: TableDefinition<(u64, &str, &str), ()> = TableDefinition::new("expiry_due");
/// Collections whose `ttl` setting changed, with the id their re-check has reached.
const RECHECK: TableDefinition<&str, &str> = TableDefinition::new("expiry_recheck");

/// A document's time to live in seconds: its own `_ttl` when that is a positive integer,
/// else its collection's.
pub fn ttl_secs(fields: &Map<String, Value>, collection: &CollectionSettings) -> Option<u64> {
    match fields.get(TTL_FIELD).and_then(Value::as_u64) {
        Some(secs) if secs > 0 => Some(secs),
        _ => collection.ttl.map(|d| d.as_secs().max(1)),
    }
}

/// The expiry tables of one write transaction.
pub struct Expiry<'txn> {
    expires: redb::Table<'txn, Key<'static>, u64>,
    due: redb::Table<'txn, (u64, &'static str, &'static str), ()>,
    recheck: redb::Table<'txn, &'static str, &'static str>,
}

impl<'txn> Expiry<'txn> {
    pub fn open(txn: &'txn WriteTransaction) -> Result<Self> {
        Ok(Self {
            expires: txn.open_table(EXPIRES).map_err(db_err)?,
            due: txn.open_table(DUE).map_err(db_err)?,
            recheck: txn.open_table(RECHECK).map_err(db_err)?,
        })
    }

    /// Records when a document expires (`None`: never), replacing what was recorded.
    pub fn set(&mut self, key: Key<'_>, expires_at: Option<u64>) -> Result<()> {
        if let Some(old) = self.expires.remove(key).map_err(db_err)?.map(|v| v.value()) {
            self.due.remove((old, key.0, key.1)).map_err(db_err)?;
        }
        if let Some(at) = expires_at {
            self.expires.insert(key, at).map_err(db_err)?;
            self.due.insert((at, key.0, key.1), ()).map_err(db_err)?;
        }
        Ok(())
    }

    /// Up to `limit` documents due at `now`, soonest first.
    pub fn due(&self, now: u64, limit: usize) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for entry in
            self.due.range((0, "", "")..=(now, "\u{10ffff}", "\u{10ffff}")).map_err(db_err)?.take(limit)
        {
            let (key, _) = entry.map_err(db_err)?;
            let (_, c, i) = key.value();
            out.push((c.to_string(), i.to_string()));
        }
        Ok(out)
    }

    /// Asks for every document of `collection` to be checked again (its `ttl` changed).
    pub fn recheck_from_start(&mut self, collection: &str) -> Result<()> {
        self.recheck.insert(collection, "").map_err(db_err)?;
        Ok(())
    }

    /// A collection waiting to be checked again, with the id its check has reached.
    pub fn next_recheck(&self) -> Result<Option<(String, String)>> {
        let first = self.recheck.first().map_err(db_err)?;
        Ok(first.map(|(c, id)| (c.value().to_string(), id.value().to_string())))
    }

    /// Notes how far a collection's re-check got; `None` when it is done.
    pub fn recheck_reached(&mut self, collection: &str, id: Option<&str>) -> Result<()> {
        match id {
            Some(id) => self.recheck.insert(collection, id).map(drop),
            None => self.recheck.remove(collection).map(drop),
        }
        .map_err(db_err)
    }
}

/// Whether a sweep at `now` has anything to do: a document due, or a collection to re-check.
pub fn pending(txn: &ReadTransaction, now: u64) -> Result<bool> {
    let due = match txn.open_table(DUE) {
        Ok(table) => table.first().map_err(db_err)?.is_some_and(|(key, _)| key.value().0 <= now),
        Err(TableError::TableDoesNotExist(_)) => false,
        Err(e) => return Err(db_err(e)),
    };
    let recheck = match txn.open_table(RECHECK) {
        Ok(table) => !table.is_empty().map_err(db_err)?,
        Err(TableError::TableDoesNotExist(_)) => false,
        Err(e) => return Err(db_err(e)),
    };
    Ok(due || recheck)
}

/// Copies the expiry tables into a backup.
pub fn copy(from: &ReadTransaction, to: &redb::Database) -> Result<()> {
    super::store::copy_table(from, to, EXPIRES)?;
    super::store::copy_table(from, to, DUE)?;
    super::store::copy_table(from, to, RECHECK)
}

/// Documents removed when a store opens; the sweeper takes the rest.
pub const SWEEP_AT_OPEN: usize = 10_000;
/// Documents the sweeper removes at most per tick, so one transaction stays short.
const SWEEP_BATCH: usize = 1_000;
/// How often the sweeper looks: expiry is precise to about this.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Removes expired documents every [`SWEEP_EVERY`] while the store is open (the task ends
/// when the store is dropped).
pub async fn sweep(store: Weak<Store>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(store) = store.upgrade() else { return };
        let swept = tokio::task::spawn_blocking(move || store.guarded(|s| s.expire_due(SWEEP_BATCH))).await;
        match swept {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(documents = n, "expired"),
            Ok(Err(e)) => tracing::warn!("expiry: {e}"),
            Err(e) => tracing::warn!("expiry task: {e}"),
        }
    }
}

/// The current Unix time in seconds.
pub fn now() -> u64 {
    super::history::now_seconds().max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_s_own_ttl_wins_over_its_collection_s() {
        let collection = CollectionSettings { ttl: Some(Duration::from_secs(60)), ..Default::default() };
        let own = serde_json::json!({"_ttl": 5});
        assert_eq!(ttl_secs(own.as_object().unwrap(), &collection), Some(5));
        let none = serde_json::json!({"v": 1});
        assert_eq!(ttl_secs(none.as_object().unwrap(), &collection), Some(60));
        assert_eq!(ttl_secs(none.as_object().unwrap(), &CollectionSettings::default()), None);
    }

    #[test]
    fn a_malformed_own_ttl_falls_back_to_the_collection_s() {
        let bad = serde_json::json!({"_ttl": "soon"});
        assert_eq!(ttl_secs(bad.as_object().unwrap(), &CollectionSettings::default()), None);
    }
}
