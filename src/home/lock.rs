//! The directory lock: one process at a time opens a node's store. The lock is an advisory
//! file lock (flock), so the kernel releases it when its holder dies: a lock left by a killed
//! node is never stale, only its pid file and socket are.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;

use super::{LOCK_FILE, NodeDir, PID_FILE, SOCKET_FILE};
use crate::sync::{Error, Result};

/// Holds the directory lock until dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock if it is free; `None` when another process holds it.
    pub fn try_acquire(dir: &NodeDir) -> Result<Option<Self>> {
        let (file, path) = open(dir)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self::holding(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::failed(format!("{}: {e}", path.display()))),
        }
    }

    /// The lock on `file`, which now names this process, so that a command waiting for the
    /// directory can say who holds it.
    fn holding(mut file: File) -> Self {
        use std::io::{Seek, Write};
        let _ = file.set_len(0).and_then(|()| file.rewind());
        let _ = writeln!(file, "{}", std::process::id());
        Self { _file: file }
    }

    /// The pid of the process that holds (or last held) the lock, if it wrote one.
    pub fn holder(dir: &NodeDir) -> Option<u32> {
        std::fs::read_to_string(dir.file(LOCK_FILE)).ok()?.trim().parse().ok()
    }
}

/// What a node that died without shutting down left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leftovers {
    /// The dead node's pid, from its pid file.
    pub pid: Option<u32>,
}

impl DirLock {
    /// Removes the socket and pid file of a node that did not shut down cleanly: whoever
    /// holds the lock knows that node is gone. Returns what was found, if anything.
    pub fn clean_leftovers(&self, dir: &NodeDir) -> Option<Leftovers> {
        let (socket, pid_file) = (dir.file(SOCKET_FILE), dir.file(PID_FILE));
        if !socket.exists() && !pid_file.exists() {
            return None;
        }
        let pid = std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse().ok());
        let _ = std::fs::remove_file(socket);
        let _ = std::fs::remove_file(pid_file);
        Some(Leftovers { pid })
    }
}

impl std::fmt::Display for Leftovers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "cleaned up after node pid {pid}, which did not shut down cleanly"),
            None => write!(f, "cleaned up after a node that did not shut down cleanly"),
        }
    }
}

/// Opens (creating) the lock file.
fn open(dir: &NodeDir) -> Result<(File, std::path::PathBuf)> {
    let path = dir.file(LOCK_FILE);
    let file =
        OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(&path).map_err(|e| {
            match e.kind() {
                std::io::ErrorKind::PermissionDenied => Error::refused(format!(
                    "{}: permission denied (is the node run by another user?)",
                    path.display()
                )),
                _ => Error::failed(format!("{}: {e}", path.display())),
            }
        })?;
    Ok((file, path))
}
