//! Per-collection settings: how much history a collection keeps, how urgently it syncs, and
//! when its documents expire. They live as documents of one system collection,
//! [`SETTINGS_COLLECTION`] (document id = the collection's name), which syncs like any other,
//! so every node of a formation ends up with the same settings.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde_json::{Map, Value};

use super::Document;

/// The system collection holding every collection's settings.
pub const SETTINGS_COLLECTION: &str = "_peat.collections";
/// Collections whose names start with this are the node's own; users cannot write them directly.
pub const SYSTEM_PREFIX: &str = "_peat.";

/// What a collection keeps of its documents' past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryPolicy {
    /// Every change, merged as Automerge merges (the default).
    #[default]
    Full,
    /// Only the current state: catching up costs the state, not the changes.
    Latest,
}

/// How urgently a collection's changes cross a constrained link: higher classes go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Priority {
    Bulk,
    #[default]
    Normal,
    High,
    Critical,
}

/// A collection's settings; absent fields take their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CollectionSettings {
    pub history: HistoryPolicy,
    pub priority: Priority,
    /// Documents expire this long after their last update; `None` keeps them.
    pub ttl: Option<Duration>,
}

const HISTORY: &str = "history";
const PRIORITY: &str = "priority";
const TTL_SECS: &str = "ttl_secs";

impl CollectionSettings {
    /// The settings a collection's settings document holds: the defaults when it has none,
    /// or a removed one.
    pub fn of(document: Option<&Document>) -> Self {
        match document {
            Some(doc) if !doc.deleted => Self::from_fields(&doc.fields),
            _ => Self::default(),
        }
    }

    /// Reads settings from their document's fields. Unknown or malformed values (a newer
    /// node's, say) fall back to the defaults rather than failing the reader.
    pub fn from_fields(fields: &Map<String, Value>) -> Self {
        let text = |key| fields.get(key).and_then(Value::as_str);
        Self {
            history: text(HISTORY).and_then(|s| s.parse().ok()).unwrap_or_default(),
            priority: text(PRIORITY).and_then(|s| s.parse().ok()).unwrap_or_default(),
            ttl: fields.get(TTL_SECS).and_then(Value::as_u64).filter(|&s| s > 0).map(Duration::from_secs),
        }
    }

    /// The fields of the settings document.
    pub fn to_fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert(HISTORY.into(), self.history.to_string().into());
        fields.insert(PRIORITY.into(), self.priority.to_string().into());
        fields.insert(TTL_SECS.into(), self.ttl.map_or(Value::Null, |d| d.as_secs().into()));
        fields
    }
}

impl fmt::Display for HistoryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "full",
            Self::Latest => "latest",
        })
    }
}

impl FromStr for HistoryPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "full" => Ok(Self::Full),
            "latest" => Ok(Self::Latest),
            _ => Err(format!("history policy {s:?} is not one of: full, latest")),
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Bulk => "bulk",
        })
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "critical" => Ok(Self::Critical),
            "high" => Ok(Self::High),
            "normal" => Ok(Self::Normal),
            "bulk" => Ok(Self::Bulk),
            _ => Err(format!("priority {s:?} is not one of: critical, high, normal, bulk")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_their_fields() {
        let s = CollectionSettings {
            history: HistoryPolicy::Latest,
            priority: Priority::Critical,
            ttl: Some(Duration::from_secs(90)),
        };
        assert_eq!(CollectionSettings::from_fields(&s.to_fields()), s);
    }

    #[test]
    fn unknown_values_fall_back_to_defaults() {
        let fields = serde_json::json!({"history": "someday", "priority": 7, "ttl_secs": -1});
        let s = CollectionSettings::from_fields(fields.as_object().unwrap());
        assert_eq!(s, CollectionSettings::default());
    }

    #[test]
    fn priorities_order_from_bulk_to_critical() {
        assert!(Priority::Bulk < Priority::Normal && Priority::High < Priority::Critical);
    }
}
