//! The node: the daemon that serves a directory, its control socket, and the client backend
//! that reaches it.

pub mod client;
pub mod daemon;
pub mod open;
pub mod protocol;
pub mod server;
pub mod status;
