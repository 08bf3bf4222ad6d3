//! Sync benchmark (DESIGN.md §9): two `peat` node processes (release build) on 127.0.0.1.
//!
//!     cargo bench --bench sync                          # 10,000 and 100,000 documents
//!     PEAT_BENCH_DOCS=10000 cargo bench --bench sync    # 1,000 and 10,000, for a quick run
//!
//! - initial sync of N/10 and N small documents (N = PEAT_BENCH_DOCS, default 100,000): time
//!   from `peers add` until the first node's `sync wait` returns, and UDP bytes on the wire
//! - re-sync of N after PEAT_BENCH_CHANGED (default 10) documents changed while the second
//!   node was down: time from its `sync start` until the first node's `sync wait` returns
//! - resident memory of both nodes holding N documents
//! - write on A to watch on B, PEAT_BENCH_SAMPLES (default 300) times: p50/p99 from A's
//!   watch to B's watch (the sync path), and from invoking `peat upsert` on A
//!
//! Every wait is on an event with a deadline (`sync wait --timeout`, a watch's events read
//! with a deadline, `watch --count --timeout`), never a sleep.

#[allow(dead_code)] // each benchmark uses a part of it
mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    Node, Watch, env_count, header, ms, node_pid, percentile, proc_kb, sync_wait, thousands, write_documents,
};

/// How long any `sync wait` may take.
const TIMEOUT: &str = "300s";

fn main() {
    let n = env_count("PEAT_BENCH_DOCS", 100_000);
    let changed = env_count("PEAT_BENCH_CHANGED", 10);
    let samples = env_count("PEAT_BENCH_SAMPLES", 300);
    assert!(n >= 10 && (1..=n).contains(&changed) && samples > 0, "nothing to measure");
    let tmp = tempfile::tempdir().expect("temp dir");
    header("sync benchmark, two node processes on 127.0.0.1");

    for size in [n / 10, n] {
        let (a, mut b, ingest) = pair(tmp.path(), size);
        let (took, wire) = initial_sync(&a, &b, size);
        println!(
            "initial sync of {:>7} docs: {:6.2} s, {:6.1} MB on the wire ({:.0} B/doc); ingest on A {} docs/s",
            thousands(size),
            took.as_secs_f64(),
            wire as f64 / 1e6,
            wire as f64 / size as f64,
            thousands((size as f64 / ingest.as_secs_f64()) as usize)
        );
        if size < n {
            continue; // both nodes stop as they drop
        }
        let (took, wire) = resync(&a, &mut b, size, changed);
        println!(
            "re-sync after {changed} of {} changed: {:6.1} ms (connect + catch-up, from B's start), \
             {:.1} KB on the wire",
            thousands(size),
            ms(took),
            wire as f64 / 1e3
        );
        println!(
            "resident memory with {} docs: A {:.0} MB, B {:.0} MB",
            thousands(size),
            rss_kb(&a) as f64 / 1024.0,
            rss_kb(&b) as f64 / 1024.0
        );
        let (path, user, lost) = latency(&a, &b, samples);
        println!(
            "write on A -> watch on B, sync path (A's watch to B's watch): p50 {:.1} ms, p99 {:.1} ms \
             ({} samples)",
            percentile(&path, 0.5),
            percentile(&path, 0.99),
            path.len()
        );
        println!(
            "write on A -> watch on B, from invoking `peat upsert`: p50 {:.1} ms, p99 {:.1} ms, lost {lost}",
            percentile(&user, 0.5),
            percentile(&user, 0.99)
        );
    }
}

/// Two started nodes of one formation; A holds `n` documents, B none, and they are not yet
/// linked. Also returns how long A took to ingest them (with the store opened in-process).
fn pair(root: &Path, n: usize) -> (Node, Node, Duration) {
    let mut a = Node::init(root.join(format!("a{n}")));
    let mut b = Node::init(root.join(format!("b{n}")));
    std::fs::copy(a.dir.join("formation.key"), b.dir.join("formation.key")).expect("formation key");
    let input = root.join(format!("docs{n}.ndjson"));
    write_documents(&input, n);
    let (_, ingest) = a.run(&["upsert", "units", "--file", input.to_str().unwrap(), "-o", "ndjson"]);
    a.start();
    b.start();
    (a, b, ingest)
}

/// B adds A as a peer; timed until A's `sync wait` says B holds A's whole change log.
/// Returns the time and the bytes A sent and received.
fn initial_sync(a: &Node, b: &Node, n: usize) -> (Duration, u64) {
    let status = a.json(&["sync", "status"]);
    let addr = format!("{}@{}", status["node_id"].as_str().unwrap(), status["listen"][0].as_str().unwrap());
    let start = Instant::now();
    b.run(&["peers", "add", &addr]);
    // B's wait returns once its session with A is up (B has nothing to send); then A's
    // returns once B acknowledged every document.
    sync_wait(b, TIMEOUT);
    sync_wait(a, TIMEOUT);
    let took = start.elapsed();
    assert_eq!(b.json(&["query", "units", "--count"]), n, "B holds every document");
    (took, wire_bytes(a))
}

/// With B stopped, `changed` documents change on A; timed from B's restart until A's
/// `sync wait` returns. Returns the time and the bytes A sent and received meanwhile.
fn resync(a: &Node, b: &mut Node, n: usize, changed: usize) -> (Duration, u64) {
    b.stop();
    let ids: BTreeSet<usize> = (0..changed).map(|i| (i * 997) % n).collect();
    let edits: String = ids.iter().map(|i| format!("{{\"id\":\"u{i:07}\",\"tag\":\"changed\"}}\n")).collect();
    let input = a.dir.with_extension("edits.ndjson");
    std::fs::write(&input, edits).expect("edits written");
    a.run(&["upsert", "units", "--file", input.to_str().unwrap(), "-o", "ndjson"]);
    let before = wire_bytes(a);
    b.start();
    let start = Instant::now();
    sync_wait(a, TIMEOUT);
    let took = start.elapsed();
    let got = b.json(&["query", "units", "--where", "tag == changed", "--count"]);
    assert_eq!(got, ids.len(), "B holds every change");
    (took, wire_bytes(a) - before)
}

/// UDP bytes this node sent to and received from its peers so far.
fn wire_bytes(node: &Node) -> u64 {
    let peers = node.json(&["peers"]);
    let peers = peers.as_array().expect("a list of peers");
    peers.iter().map(|p| p["bytes_sent"].as_u64().unwrap() + p["bytes_received"].as_u64().unwrap()).sum()
}

/// Resident memory of the running node process, in KiB.
fn rss_kb(node: &Node) -> u64 {
    proc_kb(node_pid(node), "VmRSS:")
}

/// `samples` writes on A, each timed to its event on a watch on B. Returns, sorted in ms, the
/// times from A's watch seeing a write to B's watch seeing it (the sync path) and from
/// invoking `peat upsert` on A to B's watch (what a user sees), and how many B never saw.
fn latency(a: &Node, b: &Node, samples: usize) -> (Vec<f64>, Vec<f64>, usize) {
    let count = (samples + 1).to_string();
    let args = ["lat", "--no-initial", "--count", &count, "--timeout", "600s"];
    let (on_a, on_b) = (Watch::start(a, &args), Watch::start(b, &args));
    let wait = Duration::from_secs(10);
    // Both watches are subscribed to their own node; one write shows that A's reach B.
    a.run(&["upsert", "lat", "probe", "--set", "t=0"]);
    assert!(on_a.seen(wait, |e| e["id"] == "probe").is_some(), "A's watch sees A's write");
    assert!(on_b.seen(wait, |e| e["id"] == "probe").is_some(), "B's watch sees A's write");
    let (mut path, mut user) = (Vec::new(), Vec::new());
    for i in 0..samples {
        let key = format!("w{i}");
        let sent = Instant::now();
        a.run(&["upsert", "lat", &key, "--set", &format!("i={i}")]);
        let Some(seen_b) = on_b.seen(wait, |e| e["id"] == key.as_str()) else { continue };
        user.push(ms(seen_b - sent));
        if let Some(seen_a) = on_a.seen(wait, |e| e["id"] == key.as_str()) {
            // Negative if B's watch happened to read the event first.
            path.push(
                ms(seen_b.saturating_duration_since(seen_a)) - ms(seen_a.saturating_duration_since(seen_b)),
            );
        }
    }
    assert!(!user.is_empty() && !path.is_empty(), "B's watch saw none of A's writes");
    path.sort_by(f64::total_cmp);
    user.sort_by(f64::total_cmp);
    let lost = samples - user.len();
    (path, user, lost)
}
