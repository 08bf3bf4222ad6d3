//! End-to-end benchmarks of the hot paths, measured on real `peat` processes (release build):
//!
//!     cargo bench --bench cli              # 100,000 documents
//!     PEAT_BENCH_DOCS=20000 cargo bench --bench cli
//!
//! - ingest: `peat upsert` of NDJSON, without and through a running node (docs/s)
//! - bytes on disk: the store file's size per document after the ingest
//! - query: a selective `--where` over every document, next to `jq` over the same NDJSON
//! - live latency: from a `peat upsert` process to the event on a `peat watch` (p50/p99)

#[allow(dead_code)] // each benchmark uses a part of it
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Node, Watch, env_count, header, ms, percentile, thousands, timed, write_documents};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn rate(n: usize, took: Duration) -> String {
    format!(
        "{} docs/s ({} in {:.2} s)",
        thousands((n as f64 / took.as_secs_f64()) as usize),
        thousands(n),
        took.as_secs_f64()
    )
}

fn main() {
    let n = env_count("PEAT_BENCH_DOCS", 100_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("docs.ndjson");
    write_documents(&input, n);
    let file = input.to_str().unwrap();
    header(&format!("benchmarks, {} documents", thousands(n)));

    // Ingest, with the store opened by the command itself.
    let local = Node::init(tmp.path().join("local"));
    let (_, took) = local.run(&["upsert", "bench", "--file", file, "-o", "ndjson"]);
    println!("ingest (no node)        {}", rate(n, took));
    assert_eq!(local.json(&["query", "bench", "--count"]), n, "every document is stored");
    let bytes = std::fs::metadata(local.dir.join("store.redb")).expect("store file").len();
    println!(
        "bytes on disk           {} B/doc ({} bytes of store.redb)",
        bytes / n as u64,
        thousands(bytes as usize)
    );

    // Ingest through a running node's control socket.
    let mut served = Node::init(tmp.path().join("served"));
    served.start();
    let (_, took) = served.run(&["upsert", "bench", "--file", file, "-o", "ndjson"]);
    println!("ingest (through node)   {}", rate(n, took));
    let writes = 200;
    let start = Instant::now();
    for i in 0..writes {
        served.run(&["upsert", "one", &format!("d{i}"), "--set", "v=1"]);
    }
    let each = start.elapsed() / writes;
    println!("single upserts (node)   {:.1} ms per `peat upsert` process", ms(each));

    query_vs_jq(&local, file, n);
    live_latency(&served);
    served.stop();
}

/// A selective query (0.1% of documents) over every document, next to `jq` on the NDJSON.
fn query_vs_jq(node: &Node, file: &str, n: usize) {
    let runs = 5;
    let mut peat_times = Vec::new();
    let mut matches = 0;
    for _ in 0..runs {
        let (out, took) = node.run(&["query", "bench", "--where", "speed == 500", "-o", "ndjson"]);
        matches = out.iter().filter(|b| **b == b'\n').count();
        peat_times.push(took);
    }
    assert_eq!(matches, n / 1000, "the query finds every match");
    println!("query --where (peat)    {:.0} ms median of {runs}, {matches} matches", ms(median(peat_times)));
    let jq = Command::new("jq").arg("--version").stdout(Stdio::null()).status();
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
fn live_latency(node: &Node) {
    let writes = 1000;
    let count = writes.to_string();
    let watch = Watch::start(node, &["live", "--no-initial", "--count", &count, "--timeout", "600s"]);
    let (mut from_start, mut from_exit) = (Vec::new(), Vec::new());
    for i in 0..writes {
        let start = Instant::now();
        node.run(&["upsert", "live", "x", "--set", &format!("i={i}")]);
        let exited = start.elapsed();
        let seen = watch.seen(Duration::from_secs(10), |event| event["document"]["i"] == i);
        let seen = seen.unwrap_or_else(|| panic!("no event for write {i} within 10 s")) - start;
        from_start.push(seen);
        from_exit.push(seen.saturating_sub(exited));
    }
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
}
