//! The node: its persistence directory, and (when running) the daemon that serves it.

pub mod client;
pub mod daemon;
pub mod dir;
pub mod lock;
pub mod open;
pub mod protocol;
pub mod server;
pub mod ticket;
