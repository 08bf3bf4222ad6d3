//! Export and import records: how documents leave a store and come back (`peat export`,
//! `peat import`). One record is one document; a file is one record per line (NDJSON), so
//! neither side ever holds a whole collection.
//!
//! ```text
//! {"collection":"units","id":"u1","doc":{"id":"u1","speed":4}}            --format ndjson
//! {"collection":"units","id":"u1","deleted":true,"automerge":"hW9Kg..."}  --format automerge
//! ```
//!
//! `doc` is the document's JSON; `automerge` is its whole saved Automerge document (every
//! change, so an import merges history) in standard base64 with padding.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Error, EventStream};

/// What an export carries per document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// The JSON of each document: readable, and importable as upserts.
    #[default]
    Ndjson,
    /// The saved Automerge document with its history: imports merge, tombstones included.
    Automerge,
}

/// Which documents to export, and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportRequest {
    /// Collections to export; all when empty.
    pub collections: Vec<String>,
    pub format: ExportFormat,
    /// Removed documents too (always so for the Automerge format: tombstones sync).
    pub include_deleted: bool,
}

/// One document in an export file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRecord {
    pub collection: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The document's JSON (`--format ndjson`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<Value>,
    /// The saved Automerge document, base64 (`--format automerge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automerge: Option<String>,
}

/// What an export stream carries: documents, then how it ended. A stream that stops without
/// [`ExportEvent::End`] was cut short (the node went away) and must not pass for complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportEvent {
    Doc(ExportRecord),
    /// Every document was sent; how many.
    End {
        documents: u64,
    },
    /// Reading the store failed midway.
    Failed(Error),
}

/// An export, from [`crate::sync::DocumentStore::export`].
pub type ExportStream = EventStream<ExportEvent>;

/// Records to merge, from [`crate::sync::DocumentStore::import`]; what changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Records read.
    pub documents: u64,
    /// Documents whose content or history changed.
    pub changed: u64,
}
