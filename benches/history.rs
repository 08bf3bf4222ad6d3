//! The cost of an update as a document's history grows, on a real `peat` process (release
//! build):
//!
//!     cargo bench --bench history           # 10,000 revisions of one document
//!     PEAT_BENCH_REVISIONS=2000 cargo bench --bench history
//!
//! One document is updated in batches (`peat upsert --file` of NDJSON lines naming it); at
//! revision 100, 1,000 and 10,000 a batch of `SAMPLE` updates is timed. The time per update
//! stays flat when an update costs its change, not the document's history.

#[allow(dead_code)] // shared by every benchmark; this one needs a part
mod common;

use common::{Node, env_count, header, thousands};

/// Updates timed at each measuring point.
const SAMPLE: usize = 200;

/// NDJSON updating document `one` to revisions `from..to` (each a new `v`).
fn updates(path: &std::path::Path, from: usize, to: usize) {
    let lines: String =
        (from..to).map(|v| format!("{{\"id\":\"one\",\"v\":{v},\"name\":\"r{v}\"}}\n")).collect();
    std::fs::write(path, lines).expect("updates written");
}

fn main() {
    let revisions = env_count("PEAT_BENCH_REVISIONS", 10_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("updates.ndjson");
    let node = Node::init(tmp.path().join("node"));
    header(&format!("update cost over {} revisions of one document", thousands(revisions)));
    let mut at = 0;
    for point in [100, 1_000, 10_000].into_iter().filter(|p| *p <= revisions) {
        // Grow the history to `point`, then time the next SAMPLE updates.
        if point > at {
            updates(&file, at, point);
            node.run(&["upsert", "h", "--file", file.to_str().unwrap(), "-o", "ndjson"]);
        }
        updates(&file, point, point + SAMPLE);
        let (_, took) = node.run(&["upsert", "h", "--file", file.to_str().unwrap(), "-o", "ndjson"]);
        at = point + SAMPLE;
        let history = node.json(&["history", "h", "one"]);
        let revisions_now = history.as_array().map_or(0, Vec::len);
        assert_eq!(revisions_now, at, "every update is a revision");
        println!(
            "update at revision {:>6}   {:.3} ms per update ({SAMPLE} updates in one `peat upsert`, {:.0} ms)",
            thousands(point),
            took.as_secs_f64() * 1e3 / SAMPLE as f64,
            took.as_secs_f64() * 1e3
        );
    }
}
