//! The one harness of the integration tests: node directories in temp dirs, and `peat`
//! processes run on them as a user would, with a clean environment. A node can be bound to a
//! network namespace (a host of [`crate::hosts`]): then every `peat` process of it runs there.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// A node directory in a temp dir, removed at the end of the test. A node started with
/// [`Node::start`] is stopped when this is dropped, even if the test panics.
pub struct Node {
    _tmp: TempDir,
    pub dir: PathBuf,
    running: std::cell::Cell<bool>,
    /// The network namespace every `peat` process of this node runs in (`ip netns exec`).
    netns: Option<String>,
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.running.get() {
            let _ = self.peat(&["sync", "stop"]).output();
        }
    }
}

impl Node {
    /// A directory that does not exist yet: the first command creates it.
    pub fn new() -> Self {
        Self::with_netns(None)
    }

    /// A directory that does not exist yet, for a node whose every `peat` process runs in the
    /// network namespace `netns`: `ip netns exec NETNS peat --dir DIR ...`. A node it starts
    /// detaches but stays in the namespace.
    pub fn in_netns(netns: &str) -> Self {
        Self::with_netns(Some(netns.to_string()))
    }

    fn with_netns(netns: Option<String>) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("node");
        Self { _tmp: tmp, dir, running: std::cell::Cell::new(false), netns }
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
        let node = Self::loopback();
        std::fs::copy(first.dir.join("formation.key"), node.dir.join("formation.key"))
            .expect("formation key");
        node
    }

    /// Starts the node daemon in the background.
    pub fn start(&self) {
        self.start_with(&[]);
    }

    /// `peat sync start ARGS...`: starts the node daemon in the background.
    pub fn start_with(&self, args: &[&str]) {
        self.ok(&[&["sync", "start"], args].concat());
        self.running.set(true);
    }

    /// `peat sync start` for a node whose clock runs `secs` seconds ahead of the others
    /// (its commit times and its expiry), as on hosts whose clocks disagree.
    pub fn start_with_clock_offset(&self, secs: i64) {
        let out = self.peat(&["sync", "start"]).env("PEAT_TEST_CLOCK_OFFSET", secs.to_string()).output();
        self.ok_output(out.expect("runs"), &["sync", "start"]);
        self.running.set(true);
    }

    /// Stops the node daemon gracefully.
    pub fn stop(&self) {
        self.ok(&["sync", "stop"]);
        self.running.set(false);
    }

    /// The node's id (from `peat status`, so with or without a running node).
    pub fn id(&self) -> String {
        self.json(&["status", "-o", "json"])["node_id"].as_str().expect("status names the node").to_string()
    }

    /// `ID@HOST:PORT` of the running node, as peers dial it.
    pub fn addr(&self) -> String {
        let status = self.json(&["sync", "status", "--output", "json"]);
        format!("{}@{}", status["node_id"].as_str().unwrap(), status["listen"][0].as_str().unwrap())
    }

    /// `peat --dir DIR ARGS...`, to run to completion and assert on.
    pub fn peat(&self, args: &[&str]) -> Command {
        Command::from_std(self.spawn(args))
    }

    /// `peat --dir DIR ARGS...` as a plain `std::process::Command`, for processes that run
    /// alongside the test (a node in the foreground, a `watch`). The environment is cleared
    /// except for `PATH`, and `HOME` is the temp dir. For a node bound to a network namespace
    /// the command is `ip netns exec NETNS peat ...`, which becomes `peat` (same pid).
    pub fn spawn(&self, args: &[&str]) -> std::process::Command {
        let peat = env!("CARGO_BIN_EXE_peat");
        let mut cmd = match &self.netns {
            None => std::process::Command::new(peat),
            Some(netns) => {
                let mut cmd = std::process::Command::new("ip");
                cmd.args(["netns", "exec", netns, peat]);
                cmd
            }
        };
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.parent().unwrap_or(&self.dir))
            .arg("--dir")
            .arg(&self.dir)
            .args(args);
        cmd
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_output(self.peat(args).output().expect("runs"), args)
    }

    /// Runs a command that must succeed with stdin and returns its stdout.
    pub fn ok_with_stdin(&self, args: &[&str], stdin: &str) -> String {
        self.ok_output(self.peat(args).write_stdin(stdin).output().expect("runs"), args)
    }

    /// The stdout of a finished command, or a failure that reads like the terminal would.
    fn ok_output(&self, out: std::process::Output, args: &[&str]) -> String {
        assert!(
            out.status.success(),
            "$ peat {}\n{}exit status {:?}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr),
            out.status.code(),
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// The JSON a command prints.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("peat {args:?} printed non-JSON ({e}): {out}"))
    }

    /// The last `lines` lines of the node's log (`node.log`), for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.dir.join("node.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Every document of a collection, removed ones included, as JSON.
    pub fn all(&self, collection: &str) -> Value {
        self.json(&["query", collection, "--include-deleted", "--output", "json"])
    }
}

/// How a finished command exited and what it printed, as a terminal would show it.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn of(out: std::process::Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Node {
    /// Runs `peat ARGS...` to its end, whatever its exit code.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.peat(args).output().expect("runs"))
    }

    /// Runs a bash command line in which `peat` is this node's peat (with `--dir`), under
    /// `set -o pipefail`: for pipelines as a user types them.
    pub fn sh(&self, line: &str) -> Run {
        let script = format!(
            "set -o pipefail; peat() {{ '{}' --dir '{}' \"$@\"; }}; {line}",
            env!("CARGO_BIN_EXE_peat"),
            self.dir.display()
        );
        let mut cmd = std::process::Command::new("bash");
        cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).args(["-c", &script]);
        Run::of(cmd.output().expect("bash runs"))
    }

    /// `peat ARGS...` at a terminal `cols` wide (0: a terminal that does not say its width),
    /// run under script(1) with `input` typed: the exit code and what the person sees,
    /// stdout and stderr together, with plain newlines.
    pub fn at_terminal(&self, cols: u16, args: &[&str], input: &str) -> (Option<i32>, String) {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
        let command = [env!("CARGO_BIN_EXE_peat"), "--dir", &self.dir.to_string_lossy()]
            .into_iter()
            .chain(args.iter().copied())
            .map(quote)
            .collect::<Vec<_>>()
            .join(" ");
        let line = format!("stty cols {cols} rows 50; {command}");
        let mut child = std::process::Command::new("script")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.parent().unwrap_or(&self.dir))
            .args(["-qfec", &line, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("script(1) from util-linux runs");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"))
    }
}

/// A `peat watch ARGS...` running beside the test, which prints NDJSON events.
pub struct Watch {
    child: Child,
    events: BufReader<ChildStdout>,
    /// Everything the watch writes to stderr after it reported that it is watching.
    stderr: Option<JoinHandle<String>>,
}

impl Watch {
    /// Starts `peat watch ARGS...` and returns once it reports that it is watching, so that
    /// every change made after this returns reaches it.
    pub fn start(node: &Node, args: &[&str]) -> Self {
        let mut child = node
            .spawn(&[&["watch"], args].concat())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("watch starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("watching") {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "watch exited before watching");
        }
        // Keep reading stderr, so that the watch never writes into a closed pipe.
        let stderr = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            rest
        });
        let events = BufReader::new(child.stdout.take().unwrap());
        Self { child, events, stderr: Some(stderr) }
    }

    /// The next event; fails the test if the watch ends first.
    pub fn next_event(&mut self) -> Value {
        let mut line = String::new();
        self.events.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("watch ended without the event: {line:?}"))
    }

    /// Waits for the watch to exit by itself; returns its exit code and remaining events.
    pub fn finish(mut self) -> (Option<i32>, Vec<Value>) {
        let mut out = String::new();
        self.events.read_to_string(&mut out).unwrap();
        let status = self.child.wait().unwrap();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        let events = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not an NDJSON event: {l}\n{stderr}")))
            .collect();
        (status.code(), events)
    }
}

impl Drop for Watch {
    /// A watch the test did not finish (it failed) is killed, never left behind.
    fn drop(&mut self) {
        if self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `done` until it holds, failing the test after `deadline`. For states that no
/// event announces (a killed process disappearing); never a substitute for an event. Polls
/// every 20 ms at first, backing off to 250 ms, so a check that runs a `peat` process does not
/// crowd out the processes it waits for.
pub fn wait_until(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    while !done() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// Whether a process runs. A zombie waiting for its parent to reap it does not, but a killed
/// process's main thread is a zombie while its other threads still exit, holding its files
/// (its listening socket) open: it runs until it is its only thread.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let zombie = stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z'));
    !zombie || std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| tasks.count() > 1)
}
