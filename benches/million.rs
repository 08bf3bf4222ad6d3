//! The scale benchmark: a million documents (PEAT_BENCH_DOCS), each figure beside its goal.
//!
//!     PEAT_BENCH_DOCS=1000000 cargo bench --bench million
//!     cargo bench --bench million                         # 100,000 documents
//!
//! - ingest: `peat upsert` of NDJSON, without and through a running node: docs/s and the
//!   peak resident memory of the command (and of the node)
//! - bytes per document on disk
//! - in-process latency through the library (`peat` is a crate too): get by id, a selective
//!   `--where` without an index and with one (`peat index add`, skipped when absent), and
//!   `--order-by` with `--limit`
//! - a full query streamed through the node: time, peak memory of the command and the node,
//!   and the node's memory before and after
//! - initial sync of every document between two node processes on 127.0.0.1: time and peak
//!   memory of both
//!
//! Peak memory of a command is its `ru_maxrss` (wait4); of a node, `VmHWM` in /proc, whose
//! peak is reset before each measure. Every wait is on a process's exit or on `sync wait`.

#[allow(dead_code)] // each benchmark uses a part of it
mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Node, env_count, header, ms, node_pid, percentile, proc_kb, reset_peak, sync_wait, thousands};
use peat::home::NodeDir;
use peat::sync::{DataSyncBackend, Path as FieldPath, Query, QueryRequest};

/// How long initial sync may take before the benchmark fails.
const SYNC_TIMEOUT: &str = "600s";
/// Get-by-id lookups timed.
const GETS: usize = 1000;
/// Runs of the selective query timed.
const QUERY_RUNS: usize = 5;

fn main() {
    let n = env_count("PEAT_BENCH_DOCS", 100_000);
    assert!(n >= 1000, "PEAT_BENCH_DOCS: at least 1000 documents");
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("docs.ndjson");
    common::write_documents(&input, n);
    let file = input.to_str().unwrap();
    header(&format!("scale benchmark, {} documents", thousands(n)));

    let mut local = Node::init(tmp.path().join("local"));
    let (took, peak) = measured(local.peat(&["upsert", "bench", "--file", file, "-o", "ndjson"]));
    report("ingest (no node)", &rate(n, took), "≥ 50,000 docs/s", n as f64 / took.as_secs_f64() >= 50_000.0);
    report_mb("  peak memory of upsert", peak, 150);
    let bytes = dir_bytes(&local.dir);
    report("on disk", &format!("{:.0} B/doc", bytes as f64 / n as f64), "", true);

    in_process(&local, n);

    let mut served = Node::init(tmp.path().join("served"));
    served.start();
    let pid = node_pid(&served);
    reset_peak(pid);
    let (took, peak) = measured(served.peat(&["upsert", "bench", "--file", file, "-o", "ndjson"]));
    report(
        "ingest (through node)",
        &rate(n, took),
        "≥ 50,000 docs/s",
        n as f64 / took.as_secs_f64() >= 50_000.0,
    );
    report_mb("  peak memory of upsert", peak, 150);
    report_mb("  peak memory of the node", proc_kb(pid, "VmHWM:"), 150);
    full_query(&served, pid, n);
    served.stop();

    local.start();
    initial_sync(&local, &tmp.path().join("replica"), n);
    local.stop();
}

/// Latencies through the library, with the store opened in this process.
fn in_process(node: &Node, n: usize) {
    let indexed = add_index(node);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let dir = NodeDir::new(&node.dir);
        let backend = peat::node::open::open(&dir, &|_| {}).await.expect("store opens").boxed();
        let mut gets = Vec::with_capacity(GETS);
        for i in 0..GETS {
            let id = format!("u{:07}", (i * 7919) % n);
            let start = Instant::now();
            let doc = backend.document_store().get("bench", &id).await.expect("get");
            gets.push(start.elapsed());
            assert!(doc.is_some(), "{id} is stored");
        }
        gets.sort();
        let p50 = percentile(&gets, 0.5);
        report(
            "get by id",
            &format!("p50 {:.3} ms, p99 {:.3} ms", ms(p50), ms(percentile(&gets, 0.99))),
            "≤ 5 ms",
            ms(p50) <= 5.0,
        );

        let selective =
            QueryRequest { filter: Query::parse("speed == 500").unwrap(), ..QueryRequest::default() };
        // The first run reads its pages from disk (or the OS cache, as a write just left them);
        // the median of QUERY_RUNS is the figure, the first is shown beside it.
        let mut runs = Vec::with_capacity(QUERY_RUNS);
        for _ in 0..QUERY_RUNS {
            let (took, found) = timed_query(&*backend, &selective).await;
            assert_eq!(found, n / 1000, "the query finds every match");
            runs.push(took);
        }
        let first = runs[0];
        runs.sort();
        let took = percentile(&runs, 0.5);
        let name = if indexed { "selective query, indexed" } else { "selective query, no index" };
        let goal = if indexed { "≤ 20 ms" } else { "" };
        let figure = format!("{:.1} ms median, first {:.1} ms, {} matches", ms(took), ms(first), n / 1000);
        report(name, &figure, goal, !indexed || ms(took) <= 20.0);

        let top = QueryRequest {
            order_by: Some(FieldPath::parse("speed").unwrap()),
            descending: true,
            limit: Some(10),
            ..QueryRequest::default()
        };
        let (took, found) = timed_query(&*backend, &top).await;
        assert_eq!(found, 10, "the limit holds");
        report("order-by speed, limit 10", &format!("{:.1} ms", ms(took)), "", true);
        backend.shutdown().await.expect("store closes");
    });
}

/// `peat index add bench speed`, if this build has indexes; whether it does.
fn add_index(node: &Node) -> bool {
    let out =
        node.peat(&["index", "add", "bench", "speed"]).stdout(Stdio::null()).stderr(Stdio::piped()).output();
    let out = out.expect("runs");
    if out.status.success() {
        return true;
    }
    let why = String::from_utf8_lossy(&out.stderr);
    println!("indexed query: skipped, `peat index add` failed: {}", why.lines().next().unwrap_or(""));
    false
}

/// Runs a query to its end; how long it took and how many documents came.
async fn timed_query(backend: &dyn DataSyncBackend, request: &QueryRequest) -> (Duration, usize) {
    let start = Instant::now();
    let stream = backend.document_store().query("bench", request).await.expect("query");
    let found = stream.for_each(|_| Ok(())).await.expect("query runs");
    (start.elapsed(), found as usize)
}

/// `peat query bench -o ndjson` of every document through the node, read as it comes.
fn full_query(node: &Node, pid: u32, n: usize) {
    let before = proc_kb(pid, "VmRSS:");
    reset_peak(pid);
    let start = Instant::now();
    let mut child = node
        .peat(&["query", "bench", "-o", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("query starts");
    let mut stdout = child.stdout.take().unwrap();
    let (mut lines, mut buf) = (0, vec![0u8; 1 << 16]);
    loop {
        let got = stdout.read(&mut buf).expect("query output");
        if got == 0 {
            break;
        }
        lines += buf[..got].iter().filter(|b| **b == b'\n').count();
    }
    let peak = reap(child);
    let took = start.elapsed();
    let node_peak = proc_kb(pid, "VmHWM:");
    assert_eq!(lines, n, "the query streams every document");
    // The node gives memory back when the connection ends, which the command does not wait
    // for: a request that queues behind it on the node's side closes that gap.
    node.run(&["sync", "status"]);
    let after = proc_kb(pid, "VmRSS:");
    report("full query through node", &format!("{:.2} s", took.as_secs_f64()), "", true);
    report_mb("  peak memory of query", peak, 150);
    report_mb("  peak memory of the node", node_peak, 150);
    let grew = after.saturating_sub(before);
    report(
        "  node memory after vs before",
        &format!("{} MB after, {} MB before (+{} MB)", after / 1024, before / 1024, grew / 1024),
        "≤ +50 MB",
        grew <= 50 * 1024,
    );
}

/// A new node with the formation key of `a` adds `a` as a peer; timed until `a`'s `sync
/// wait` says it holds everything, with the peak memory of both.
fn initial_sync(a: &Node, dir: &Path, n: usize) {
    let mut b = Node::init(dir.to_path_buf());
    std::fs::copy(a.dir.join("formation.key"), b.dir.join("formation.key")).expect("formation key");
    b.start();
    let (pid_a, pid_b) = (node_pid(a), node_pid(&b));
    reset_peak(pid_a);
    reset_peak(pid_b);
    let status = a.json(&["sync", "status"]);
    let addr = format!("{}@{}", status["node_id"].as_str().unwrap(), status["listen"][0].as_str().unwrap());
    let start = Instant::now();
    b.run(&["peers", "add", &addr]);
    sync_wait(&b, SYNC_TIMEOUT);
    sync_wait(a, SYNC_TIMEOUT);
    let took = start.elapsed();
    let (peak_a, peak_b) = (proc_kb(pid_a, "VmHWM:"), proc_kb(pid_b, "VmHWM:"));
    assert_eq!(b.json(&["query", "bench", "--count"]), n, "B holds every document");
    b.stop();
    report(
        "initial sync",
        &format!("{:.1} s for {} docs", took.as_secs_f64(), thousands(n)),
        "≤ 40 s at 1M",
        took.as_secs_f64() * 1e6 / n as f64 <= 40.0,
    );
    report_mb("  peak memory of the sender", peak_a, 150);
    report_mb("  peak memory of the receiver", peak_b, 150);
}

/// Runs a command to success; how long it took and its peak resident memory in KiB.
fn measured(mut cmd: Command) -> (Duration, u64) {
    let start = Instant::now();
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("runs");
    let peak = reap(child);
    (start.elapsed(), peak)
}

/// Waits for a child that must succeed; its peak resident memory in KiB.
fn reap(child: std::process::Child) -> u64 {
    let pid = child.id() as libc::pid_t;
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are to locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the command failed: {status}");
    usage.ru_maxrss as u64
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("node directory")
        .map(|e| e.expect("entry"))
        .map(|e| {
            let meta = e.metadata().expect("metadata");
            if meta.is_dir() { dir_bytes(&e.path()) } else { meta.len() }
        })
        .sum()
}

fn rate(n: usize, took: Duration) -> String {
    format!("{} docs/s ({:.1} s)", thousands((n as f64 / took.as_secs_f64()) as usize), took.as_secs_f64())
}

/// One line of the report: what, the figure, the goal and whether it is met.
fn report(what: &str, figure: &str, goal: &str, met: bool) {
    let mark = match (goal.is_empty(), met) {
        (true, _) => "",
        (false, true) => "ok",
        (false, false) => "MISSED",
    };
    println!("{what:<32} {figure:<40} {goal:<16} {mark}");
}

fn report_mb(what: &str, kb: u64, goal_mb: u64) {
    report(what, &format!("{} MB", kb / 1024), &format!("≤ {goal_mb} MB"), kb <= goal_mb * 1024);
}
