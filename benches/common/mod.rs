//! What the benchmarks share: nodes on temp directories run by real `peat` processes of the
//! build under test, small documents, timings and percentiles. Every wait here is bounded:
//! commands run to completion, and a watch's events arrive on a channel read with a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `peat` binary that `cargo bench` built (release profile).
const PEAT: &str = env!("CARGO_BIN_EXE_peat");

/// A count from the environment, such as `PEAT_BENCH_DOCS=20000` for a quicker run.
pub fn env_count(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(s) => s.replace(['_', ','], "").parse().unwrap_or_else(|_| panic!("{name}={s}: not a count")),
        Err(_) => default,
    }
}

/// A node directory. A node started with [`Node::start`] is stopped when this is dropped,
/// even when the benchmark fails, so no node outlives it.
pub struct Node {
    pub dir: PathBuf,
    running: bool,
}

impl Node {
    /// `peat init` in `dir`, listening on a random port of 127.0.0.1 once started.
    pub fn init(dir: PathBuf) -> Self {
        let node = Self { dir, running: false };
        node.run(&["init", "--listen", "127.0.0.1:0"]);
        node
    }

    /// `peat --dir DIR ARGS...`.
    pub fn peat(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(PEAT);
        cmd.arg("--dir").arg(&self.dir).args(args);
        cmd
    }

    /// Runs a command to success; returns its stdout and how long it took.
    pub fn run(&self, args: &[&str]) -> (Vec<u8>, Duration) {
        timed(self.peat(args))
    }

    /// The JSON a command prints with `--output json`.
    pub fn json(&self, args: &[&str]) -> Value {
        let (out, _) = self.run(&[args, &["--output", "json"]].concat());
        serde_json::from_slice(&out).unwrap_or_else(|e| panic!("peat {args:?} printed non-JSON: {e}"))
    }

    /// `peat sync start`: returns once the node serves.
    pub fn start(&mut self) {
        self.run(&["sync", "start"]);
        self.running = true;
    }

    /// `peat sync stop`: returns once the node has exited.
    pub fn stop(&mut self) {
        self.run(&["sync", "stop"]);
        self.running = false;
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.running {
            let _ = self.peat(&["sync", "stop"]).output();
        }
    }
}

/// Runs a command to success; returns its stdout and how long it took.
pub fn timed(mut cmd: Command) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    let out = cmd.stderr(Stdio::piped()).output().expect("runs");
    let took = start.elapsed();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    (out.stdout, took)
}

/// A `peat watch ... -o ndjson` beside the benchmark. Give it `--count` and `--timeout`, so
/// that it ends by itself; it is killed when dropped.
pub struct Watch {
    child: Child,
    /// Each event as it is read, with the instant it was read.
    pub events: Receiver<(Value, Instant)>,
}

impl Watch {
    /// Starts `peat watch ARGS...` and returns once it reports that it is watching.
    pub fn start(node: &Node, args: &[&str]) -> Self {
        let mut child = node
            .peat(&[&["watch"], args, &["--output", "ndjson"]].concat())
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
        // Whatever else the watch says goes to our stderr; it never writes into a closed pipe.
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            let _ = std::io::stderr().write_all(rest.as_bytes());
        });
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                let event = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not NDJSON: {line}"));
                if tx.send((event, Instant::now())).is_err() {
                    break;
                }
            }
        });
        Self { child, events }
    }

    /// When the first event that `matches` was read, skipping others; `None` if none comes
    /// within `wait` or the watch ends.
    pub fn seen(&self, wait: Duration, matches: impl Fn(&Value) -> bool) -> Option<Instant> {
        let deadline = Instant::now() + wait;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok((event, at)) if matches(&event) => return Some(at),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` small documents (about five fields each) as NDJSON, written to `path` as they are
/// made. Ids are `u0000000` to `u{n-1}`, zero-padded to seven digits.
pub fn write_documents(path: &Path, n: usize) {
    let file = std::fs::File::create(path).expect("documents file");
    let mut out = std::io::BufWriter::new(file);
    for i in 0..n {
        writeln!(
            out,
            "{{\"id\":\"u{i:07}\",\"name\":\"unit {i}\",\"speed\":{},\"lat\":{:.5},\"lon\":{:.5},\"active\":{}}}",
            i % 1000,
            59.0 + (i % 997) as f64 * 1e-3,
            18.0 + (i % 991) as f64 * 1e-3,
            i % 3 == 0
        )
        .expect("documents written");
    }
    out.flush().expect("documents written");
}

/// `peat sync wait`: returns once every connected peer acknowledged this node's change log.
/// A node that has not yet registered the peer that just dialed it answers at once that it
/// knows no peer; that alone is retried, a bounded number of times.
pub fn sync_wait(node: &Node, timeout: &str) {
    let attempts = 100;
    for attempt in 1..=attempts {
        let out = node.peat(&["sync", "wait", "--timeout", timeout]).stderr(Stdio::piped()).output();
        let out = out.expect("runs");
        if out.status.success() {
            return;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no peer is known") && attempt < attempts,
            "peat sync wait failed (attempt {attempt}): {stderr}"
        );
    }
}

/// A figure of /proc/PID/status in KiB (`VmRSS`, or `VmHWM`: the peak since start or since
/// [`reset_peak`]).
pub fn proc_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    line.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()).expect("a figure in kB")
}

/// Starts a new peak for `VmHWM` of a process (Linux: writing 5 to clear_refs).
pub fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs (needs the process's owner)");
}

/// The pid of a node's running process.
pub fn node_pid(node: &Node) -> u32 {
    node.json(&["sync", "status"])["pid"].as_u64().expect("a running node") as u32
}

/// The value at fraction `p` (0.5 for the median) of sorted values.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The header line of a benchmark's report.
pub fn header(what: &str) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("peat {what}: release build, {cores} cores");
}
