//! Typed errors of the abstraction layer. Callers branch on [`ErrorKind`] (the CLI maps it
//! to an exit code, the control socket sends it over the wire), so every backend reports
//! the same kinds for the same failures.

use serde::{Deserialize, Serialize};

/// What went wrong, in the terms a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Malformed input: bad JSON, a bad id, a bad expression. Exit code 2.
    Invalid,
    /// The named thing does not exist. Exit code 3.
    NotFound,
    /// Refused: authentication, formation mismatch, a lock held by another user. Exit code 4.
    Refused,
    /// A deadline passed before the operation completed. Exit code 1.
    Timeout,
    /// Anything else: storage, I/O, network. Exit code 1.
    Failed,
    /// The user interrupted (Ctrl-C). Exit code 130.
    Interrupted,
}

/// An error of a backend operation: a kind to branch on and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

/// Result of a backend operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused, message)
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
    pub fn interrupted() -> Self {
        Self::new(ErrorKind::Interrupted, "interrupted")
    }
    /// Wraps a lower-level error as a failure, naming what was being done.
    pub fn context(what: &str, err: impl std::fmt::Display) -> Self {
        Self::failed(format!("{what}: {err}"))
    }
}

thread_local! {
    /// Set while [`catch_panics`] runs on this thread.
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, returning the message of a panic inside it as `Err`: how a store turns a panic
/// of its database library on a damaged file into an error that names the file. The panic
/// hook stays quiet meanwhile ([`panic_is_caught`]).
pub fn catch_panics<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let was = CATCHING.replace(true);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.set(was);
    out.map_err(|payload| panic_message(payload.as_ref()))
}

/// Whether a panic on this thread now will be caught by [`catch_panics`].
pub fn panic_is_caught() -> bool {
    CATCHING.get()
}

/// The text a panic was raised with.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_caught_panic_becomes_its_message() {
        assert_eq!(super::catch_panics(|| 7), Ok(7));
        let caught = super::catch_panics(|| -> u8 { panic!("index out of bounds") });
        assert_eq!(caught, Err("index out of bounds".to_string()));
        assert!(!super::panic_is_caught());
    }
}
