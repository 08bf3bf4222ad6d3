//! Field benchmark: two nodes whose only path to each other is the link simulator
//! (`tests/it/linksim.rs`, hosts in network namespaces as `tests/it/field.rs` builds them),
//! on the links of the field. Needs root (network namespaces); prints each figure with its
//! goal. Delays are round trips, as the issue measured its link ("1 Mbit/s, 100 ms RTT"): the
//! simulator delays each direction by half.
//!
//!     cargo bench --bench field
//!
//! - 1 Mbit/s, 100 ms, 5% loss: the initial sync of 10,000 documents (time against the
//!   floor: `gzip -c` of their NDJSON at the link's rate); beacons catch-up after a partition
//!   (100 documents written 60 times each; bytes against the NDJSON of their current state,
//!   the goal, and against its `gzip -c`, for information);
//!   the time a write takes to cross once the partition heals
//! - 1 Mbit/s, 200 ms, 5% loss: the same initial sync, for information
//! - 1 Mbit/s, 100 ms, 30% loss: 1,000 documents converge
//! - 64 kbit/s, 200 ms: a 1,000-document catch-up (time against the floor)

// Its tests are not compiled here, so what only they use is unused.
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/field.rs"]
mod field;
#[allow(dead_code)]
#[path = "../tests/it/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/it/hosts.rs"]
mod hosts;
#[allow(dead_code)]
#[path = "../tests/it/linksim.rs"]
mod linksim;

use std::time::{Duration, Instant};

use field::{beacon_round, bench_documents, gzipped};
use harness::{Node, Watch};
use hosts::Field;
use linksim::LinkConfig;

/// 1 Mbit/s in bytes per second.
const MBIT: u64 = 125_000;

fn main() {
    let link = |rate: u64, rtt_ms: u64, loss: f64| LinkConfig {
        loss,
        delay: Duration::from_millis(rtt_ms / 2),
        jitter: Duration::ZERO,
        rate: Some(rate),
        queue: 64 * 1024,
    };
    let Some(field) = Field::new(2, link(MBIT, 100, 0.05), 20) else { return };
    println!("field benchmark (link simulator, two nodes)");
    println!("1 Mbit/s, 100 ms round trip, 5% loss:");
    let (a, b) = catch_up(&field, 10_000, MBIT);
    beacons(&field, &a, &b);
    write_after_heal(&field, &a, &b);
    drop((a, b, field));

    let Some(field) = Field::new(2, link(MBIT, 200, 0.05), 23) else { return };
    println!("1 Mbit/s, 200 ms round trip, 5% loss:");
    let nodes = catch_up(&field, 10_000, MBIT);
    drop((nodes, field));

    let Some(field) = Field::new(2, link(MBIT, 100, 0.3), 21) else { return };
    println!("1 Mbit/s, 100 ms round trip, 30% loss:");
    let a = field.start_node(0, None);
    let b = field.start_node(1, Some(&Field::ticket(&a)));
    let start = Instant::now();
    a.ok_with_stdin(&["upsert", "units"], &bench_documents(0..1000));
    b.ok(&["sync", "wait", "--timeout", "600s"]);
    let count = b.json(&["query", "units", "--count", "-o", "json"]);
    println!("  1,000 documents converged in {:.1} s ({count} on B)", start.elapsed().as_secs_f64());
    drop((a, b, field));

    let Some(field) = Field::new(2, link(8_000, 200, 0.0), 22) else { return };
    println!("64 kbit/s, 200 ms round trip:");
    let _nodes = catch_up(&field, 1000, 8_000);
}

/// A node A on host 0 holding `n` bench documents, then B joining it: prints how long B
/// took to hold them all against the floor of their compressed bytes at `rate`.
fn catch_up(field: &Field, n: usize, rate: u64) -> (Node, Node) {
    let docs = bench_documents(0..n);
    let a = field.start_node(0, None);
    a.ok_with_stdin(&["upsert", "units"], &docs);
    let start = Instant::now();
    let b = field.start_node(1, Some(&Field::ticket(&a)));
    b.ok(&["sync", "wait", "--timeout", "900s"]);
    let took = start.elapsed().as_secs_f64();
    assert_eq!(b.json(&["query", "units", "--count", "-o", "json"]), n, "B holds every document");
    let floor = gzipped(&docs) as f64 / rate as f64;
    let bytes = field.sim.total().passed_bytes;
    let ratio = took / floor;
    println!(
        "  initial sync of {n} documents: {took:.1} s, {ratio:.1} x the floor of {floor:.1} s (goal <= 2 x: {}); \
         {bytes} B on the link",
        if ratio <= 2.0 { "met" } else { "missed" }
    );
    (a, b)
}

/// Beacons: 100 documents updated 60 times on A while the link is cut, then the catch-up
/// once it heals. The collection asks for the `latest` history policy.
fn beacons(field: &Field, a: &Node, b: &Node) {
    a.ok(&["collection", "beacons", "--history", "latest"]);
    a.ok_with_stdin(&["upsert", "beacons"], &beacon_round(0));
    b.ok(&["sync", "wait", "--timeout", "120s"]);
    field.sim.partition(&[vec![0], vec![1]]);
    for round in 1..=60 {
        a.ok_with_stdin(&["upsert", "beacons"], &beacon_round(round));
    }
    let before = (field.sim.counters(0, 1).passed_bytes, field.sim.counters(1, 0).passed_bytes);
    let start = Instant::now();
    field.sim.heal();
    b.ok(&["sync", "wait", "--timeout", "600s"]);
    let took = start.elapsed().as_secs_f64();
    let ab = field.sim.counters(0, 1).passed_bytes - before.0;
    let ba = field.sim.counters(1, 0).passed_bytes - before.1;
    let bytes = ab + ba;
    let state = beacon_round(60);
    let (ndjson, gzip) = (state.len(), gzipped(&state));
    assert_eq!(b.all("beacons"), a.all("beacons"), "B holds the beacons' current state");
    let ratio = bytes as f64 / ndjson as f64;
    println!(
        "  beacons catch-up (100 x 60 updates): {bytes} B ({ab} A->B, {ba} B->A) in {took:.1} s: \
         {ratio:.2} x the NDJSON of their current state ({ndjson} B; goal <= 2 x: {}), {:.1} x its \
         gzip -c ({gzip} B)",
        if ratio <= 2.0 { "met" } else { "missed" },
        bytes as f64 / gzip as f64
    );
}

/// How long a write on A takes to reach B once a partition between them heals.
fn write_after_heal(field: &Field, a: &Node, b: &Node) {
    field.sim.partition(&[vec![0], vec![1]]);
    let watch =
        Watch::start(b, &["units", "--where", "id == after-heal", "--count", "1", "--timeout", "120s"]);
    a.ok(&["upsert", "units", "after-heal", "--set", "n=1"]);
    let start = Instant::now();
    field.sim.heal();
    let (code, _) = watch.finish();
    assert_eq!(code, Some(0), "the write crossed after the heal");
    println!("  a write crossed {:.2} s after the heal (goal <= 2 s)", start.elapsed().as_secs_f64());
}
