//! The sync abstraction layer: the traits every backend implements and their types.

mod archive;
pub mod clock;
pub mod error;
pub mod query;
mod traits;
mod types;
pub mod validate;

pub use archive::{ExportEvent, ExportFormat, ExportRecord, ExportRequest, ExportStream, ImportSummary};
pub use error::{Error, ErrorKind, Result};
pub use query::{Path, Query};
pub use traits::{DataSyncBackend, DocumentStore, PeerDiscovery, SyncEngine};
pub use types::*;
