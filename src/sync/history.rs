//! A document's past and its disagreements: the changes that made it (`peat history`) and
//! the fields where concurrent writes left several values (`peat get --conflicts`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change to a document, as its author committed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When the author committed it (RFC 3339), as the author's clock said; `None` for
    /// changes made without a time (other Automerge programs may leave it out).
    pub time: Option<String>,
    /// Who made it: the node id of a peat node, else the Automerge actor id (hex).
    pub node: String,
    /// The change's hash (hex), as Automerge names it.
    pub hash: String,
    /// What it did, path by path.
    pub changes: Vec<FieldChange>,
}

/// What one change did at one path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Where: `name`, `pos.lat`, `tags[2]`.
    pub path: String,
    pub op: ChangeOp,
    /// The value set, inserted or added; absent for a delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// The kinds of edit a change makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Set,
    Delete,
    Insert,
    Increment,
    Splice,
}

/// A field that concurrent writes left with several values. Every node shows the same
/// winner: Automerge keeps the value whose operation id is highest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub path: String,
    /// Every concurrent value, the winner first.
    pub values: Vec<ConflictValue>,
    /// Why the winner won, for people.
    pub why: String,
}

/// One of the values of a conflicting field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictValue {
    pub value: Value,
    /// The node that wrote it (as in [`HistoryEntry::node`]).
    pub node: String,
    /// The operation id `COUNTER@ACTOR` that orders the values.
    pub op: String,
    /// Whether the document shows this value.
    pub winner: bool,
}
