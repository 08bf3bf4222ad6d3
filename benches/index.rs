//! Secondary indexes, measured on real `peat` processes (release build, no node):
//!
//!     cargo bench --bench index               # 100,000 documents
//!     PEAT_BENCH_DOCS=1000000 cargo bench --bench index
//!
//! - a selective `--where 'speed == 500'` (0.1% of documents), scanned and indexed
//! - `--order-by speed --desc --limit 5`: a top-k over a scan, then a walk of the index
//! - `--order-by lat` without a limit, counted: the external sort (no index on `lat`)
//! - `peat index add`: building the index over every document
//!
//! Times are of whole processes (start, open the store, answer), medians of 5.

// Helpers shared by the benches; this one uses the process and timing ones only.
#[allow(dead_code)]
mod common;

use std::time::Duration;

use common::{Node, env_count, header, ms, thousands, write_documents};

fn median(node: &Node, args: &[&str]) -> (Vec<u8>, Duration) {
    let mut runs: Vec<(Vec<u8>, Duration)> = (0..5).map(|_| node.run(args)).collect();
    runs.sort_by_key(|r| r.1);
    runs.swap_remove(2)
}

fn lines(out: &[u8]) -> usize {
    out.iter().filter(|b| **b == b'\n').count()
}

fn main() {
    let n = env_count("PEAT_BENCH_DOCS", 100_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("docs.ndjson");
    write_documents(&input, n);
    header(&format!("index benchmarks, {} documents", thousands(n)));
    let node = Node::init(tmp.path().join("node"));
    node.run(&["upsert", "bench", "--file", input.to_str().unwrap(), "-o", "ndjson"]);

    let selective = ["query", "bench", "--where", "speed == 500", "-o", "ndjson"];
    let top = ["query", "bench", "--order-by", "speed", "--desc", "--limit", "5", "-o", "ndjson"];
    let (out, scanned) = median(&node, &selective);
    assert_eq!(lines(&out), n / 1000, "the scan finds every match");
    let (_, top_scanned) = median(&node, &top);

    let (_, built) = node.run(&["index", "add", "bench", "speed"]);
    println!("index add speed         {:.0} ms", ms(built));
    let (out, indexed) = median(&node, &selective);
    assert_eq!(lines(&out), n / 1000, "the index finds every match");
    println!("query speed == 500      scan {:.0} ms, indexed {:.1} ms", ms(scanned), ms(indexed));
    let (out, top_indexed) = median(&node, &top);
    assert_eq!(lines(&out), 5);
    println!(
        "order-by --limit 5      scan (top-k) {:.0} ms, indexed {:.1} ms",
        ms(top_scanned),
        ms(top_indexed)
    );

    let (out, sorted) = node.run(&["query", "bench", "--order-by", "lat", "-o", "ndjson"]);
    assert_eq!(lines(&out), n, "every document, sorted");
    println!("order-by lat, no limit  {:.0} ms (external sort, {} documents out)", ms(sorted), thousands(n));
}
