//! Backends implementing the sync abstraction layer, and the pieces they share.

pub mod automerge;
#[cfg(test)]
pub(crate) mod contract;
mod external_sort;
pub mod memory;
mod observe;
mod select;

pub(crate) use external_sort::ExternalSort;
pub(crate) use observe::{Committed, INITIAL_BUFFER, Opening, spawn_observer};
pub(crate) use select::Selector;
