//! The node: the daemon that serves a directory, its control socket, and the client backend
//! that reaches it.

pub mod backup;
pub mod client;
pub mod daemon;
pub mod logging;
pub mod open;
pub(crate) mod protocol;
pub(crate) mod server;
pub mod status;
