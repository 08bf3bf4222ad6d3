//! Helpers for tests that run the `peat` binary as a user would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// A node directory in a temp dir, removed at the end of the test. A node started with
/// [`Node::start`] is stopped when this is dropped, even if the test panics.
pub struct Node {
    _tmp: TempDir,
    pub dir: PathBuf,
    running: std::cell::Cell<bool>,
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.running.get() {
            let _ = self.peat(&["sync", "stop"]).output();
        }
    }
}

impl Node {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("node");
        Self { _tmp: tmp, dir, running: std::cell::Cell::new(false) }
    }

    /// A node initialised to listen on a random loopback port, so that nodes of parallel
    /// tests never compete for the default port.
    pub fn loopback() -> Self {
        let node = Self::new();
        node.ok(&["init", "--listen", "127.0.0.1:0"]);
        node
    }

    /// A node of the formation of `first` (same app id and formation key), listening on a
    /// random loopback port, not started.
    pub fn joining(first: &Node) -> Self {
        let node = Self::new();
        node.ok(&["init", "--listen", "127.0.0.1:0"]);
        std::fs::copy(first.dir.join("formation.key"), node.dir.join("formation.key"))
            .expect("formation key");
        node
    }

    /// Starts the node daemon in the background.
    pub fn start(&self) {
        self.ok(&["sync", "start"]);
        self.running.set(true);
    }

    /// Stops the node daemon gracefully.
    pub fn stop(&self) {
        self.ok(&["sync", "stop"]);
        self.running.set(false);
    }

    /// `ID@HOST:PORT` of the running node, as peers dial it.
    pub fn addr(&self) -> String {
        let status = self.json(&["sync", "status", "--output", "json"]);
        format!("{}@{}", status["node_id"].as_str().unwrap(), status["listen"][0].as_str().unwrap())
    }

    /// `peat --dir DIR ARGS...` with a clean environment.
    pub fn peat(&self, args: &[&str]) -> Command {
        peat_in(&self.dir, args)
    }

    /// `peat --dir DIR ARGS...` to spawn and keep running beside the test.
    pub fn spawn(&self, args: &[&str]) -> std::process::Command {
        std_peat_in(&self.dir, args)
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.peat(args).output().expect("runs");
        assert!(
            out.status.success(),
            "peat {args:?} failed with {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must succeed with stdin and returns its stdout.
    pub fn ok_with_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.peat(args).write_stdin(stdin).output().expect("runs");
        assert!(out.status.success(), "peat {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// The JSON a command prints.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("peat {args:?} printed non-JSON ({e}): {out}"))
    }

    /// Every document of a collection, removed ones included, as JSON.
    pub fn all(&self, collection: &str) -> Value {
        self.json(&["query", collection, "--include-deleted", "--output", "json"])
    }
}

pub fn peat_in(dir: &Path, args: &[&str]) -> Command {
    Command::from_std(std_peat_in(dir, args))
}

/// The same command as a plain `std::process::Command`, for processes that run alongside
/// the test (a node in the foreground, a `watch`).
pub fn std_peat_in(dir: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_peat"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.parent().unwrap_or(dir))
        .arg("--dir")
        .arg(dir)
        .args(args);
    cmd
}

/// Polls `done` until it holds, failing the test after `deadline`. For states that no
/// event announces (a killed process disappearing); never a substitute for an event.
pub fn wait_until(what: &str, deadline: std::time::Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
