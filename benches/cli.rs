//! End-to-end benchmarks of the hot paths, measured on real `peat` processes (release build):
//!
//!     cargo bench --bench cli              # 100,000 documents
//!     PEAT_BENCH_DOCS=20000 cargo bench --bench cli
//!
//! - ingest: `peat upsert` of NDJSON, without and through a running node (docs/s)
//! - query: a selective `--where` over every document, next to `jq` over the same NDJSON
//! - live latency: from a `peat upsert` process to the event on a `peat watch` (p50/p99)

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PEAT: &str = env!("CARGO_BIN_EXE_peat");

fn peat(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(PEAT);
    cmd.arg("--dir").arg(dir).args(args).stderr(Stdio::inherit());
    cmd
}

/// Runs a command to success, returning its stdout and how long it took.
fn timed(mut cmd: Command) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    let out = cmd.stderr(Stdio::piped()).output().expect("runs");
    let took = start.elapsed();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    (out.stdout, took)
}

/// `n` small documents (about five fields each) as NDJSON.
fn documents(n: usize) -> String {
    let mut s = String::with_capacity(n * 100);
    for i in 0..n {
        s += &format!(
            "{{\"id\":\"u{i:07}\",\"name\":\"unit {i}\",\"speed\":{},\"lat\":{:.5},\"lon\":{:.5},\"active\":{}}}\n",
            i % 1000,
            59.0 + (i % 997) as f64 * 1e-3,
            18.0 + (i % 991) as f64 * 1e-3,
            i % 3 == 0
        );
    }
    s
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn rate(n: usize, took: Duration) -> String {
    format!("{:.0} docs/s ({n} in {:.2} s)", n as f64 / took.as_secs_f64(), took.as_secs_f64())
}

fn main() {
    let n: usize = std::env::var("PEAT_BENCH_DOCS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("docs.ndjson");
    std::fs::write(&input, documents(n)).unwrap();
    let file = input.to_str().unwrap();
    println!("peat benchmarks: {n} documents, release build, {} cores", num_cpus());

    // Ingest, with the store opened by the command itself.
    let local = tmp.path().join("local");
    timed(peat(&local, &["init"]));
    let (_, took) = timed(peat(&local, &["upsert", "bench", "--file", file, "-o", "ndjson"]));
    println!("ingest (no node)        {}", rate(n, took));

    // Ingest through a running node's control socket.
    let served = tmp.path().join("served");
    timed(peat(&served, &["init", "--listen", "127.0.0.1:0"]));
    timed(peat(&served, &["sync", "start"]));
    let (_, took) = timed(peat(&served, &["upsert", "bench", "--file", file, "-o", "ndjson"]));
    println!("ingest (through node)   {}", rate(n, took));
    let writes = 200;
    let start = Instant::now();
    for i in 0..writes {
        timed(peat(&served, &["upsert", "one", &format!("d{i}"), "--set", "v=1"]));
    }
    let each = start.elapsed() / writes;
    println!("single upserts (node)   {:.1} ms per `peat upsert` process", each.as_secs_f64() * 1e3);

    query_vs_jq(&local, file, n);
    live_latency(&served);
    timed(peat(&served, &["sync", "stop"]));
}

/// A selective query (0.1% of documents) over every document, next to `jq` on the NDJSON.
fn query_vs_jq(dir: &Path, file: &str, n: usize) {
    let runs = 5;
    let mut peat_times = Vec::new();
    let mut matches = 0;
    for _ in 0..runs {
        let (out, took) = timed(peat(dir, &["query", "bench", "--where", "speed == 500", "-o", "ndjson"]));
        matches = out.iter().filter(|b| **b == b'\n').count();
        peat_times.push(took);
    }
    assert_eq!(matches, n / 1000, "the query finds every match");
    println!("query --where (peat)    {:.0} ms median of {runs}, {matches} matches", ms(median(peat_times)));
    let jq = Command::new("jq").arg("--version").output();
    if jq.is_err() {
        println!("query (jq)              skipped: jq is not installed");
        return;
    }
    let jq_times = (0..runs)
        .map(|_| {
            let mut cmd = Command::new("jq");
            cmd.args(["-c", "select(.speed == 500)", file]);
            timed(cmd).1
        })
        .collect();
    println!("query (jq, same NDJSON) {:.0} ms median of {runs}", ms(median(jq_times)));
}

/// From starting a `peat upsert` to its event on a `peat watch` of the same node.
fn live_latency(dir: &Path) {
    let writes = 1000;
    let mut watch = peat(dir, &["watch", "live", "--no-initial", "-o", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    let mut stderr = BufReader::new(watch.stderr.take().unwrap());
    while !ready.contains("watching") {
        ready.clear();
        assert!(stderr.read_line(&mut ready).unwrap() > 0, "watch exited");
    }
    let mut events = BufReader::new(watch.stdout.take().unwrap());
    let (mut from_start, mut from_exit) = (Vec::new(), Vec::new());
    let mut line = String::new();
    for i in 0..writes {
        let start = Instant::now();
        let out =
            peat(dir, &["upsert", "live", "x", "--set", &format!("i={i}")]).stdout(Stdio::null()).output();
        assert!(out.unwrap().status.success());
        let exited = start.elapsed();
        line.clear();
        events.read_line(&mut line).unwrap();
        assert!(line.contains(&format!("\"i\":{i}")), "event for write {i}: {line}");
        let seen = start.elapsed();
        from_start.push(seen);
        from_exit.push(seen.saturating_sub(exited));
    }
    let _ = watch.kill();
    let _ = watch.wait();
    from_start.sort();
    from_exit.sort();
    println!(
        "live: upsert start -> watch event   p50 {:.2} ms  p99 {:.2} ms ({writes} writes)",
        ms(percentile(&from_start, 0.5)),
        ms(percentile(&from_start, 0.99))
    );
    println!(
        "live: upsert exit  -> watch event   p50 {:.2} ms  p99 {:.2} ms (0 = the event came first)",
        ms(percentile(&from_exit, 0.5)),
        ms(percentile(&from_exit, 0.99))
    );
    let _ = std::io::stdout().flush();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
