//! The sync abstraction layer: the traits every backend implements and their types.

mod archive;
pub mod clock;
pub mod error;
mod history;
pub mod order_key;
pub mod plan;
pub mod query;
pub mod settings;
mod traits;
mod types;
pub mod validate;

pub use archive::{ExportEvent, ExportFormat, ExportRecord, ExportRequest, ExportStream, ImportSummary};
pub use error::{Error, ErrorKind, Result};
pub use history::{ChangeOp, Conflict, ConflictValue, FieldChange, HistoryEntry};
pub use plan::Plan;
pub use query::{Path, Query};
pub use settings::{CollectionSettings, HistoryPolicy, Priority};
pub use traits::{DataSyncBackend, DocumentStore, PeerDiscovery, SyncEngine};
pub use types::*;
