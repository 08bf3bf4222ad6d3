//! peat: operate Peat sync nodes.
//!
//! The crate is organised around one seam, the sync abstraction layer in [`sync`]: four
//! traits that every backend implements. The `peat` binary turns each command into one
//! trait call on a `dyn DataSyncBackend`, without knowing which backend it holds:
//!
//! - [`backend::automerge`]: the real, persistent backend (redb + Automerge, Iroh sync).
//! - [`backend::memory`]: an in-memory backend for tests of logic.
//! - [`node`]: the persistence directory, the daemon and the client that forwards the
//!   same trait calls over the node's control socket.

pub mod backend;
pub mod cli;
pub mod home;
pub mod node;
pub mod sync;
