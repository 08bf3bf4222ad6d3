//! The `latest` history policy: a collection that keeps only each document's current state.
//! Concurrent writes resolve by last writer (a hybrid logical clock), a catch-up costs the
//! current state rather than every update, and `history` shows one change.

use crate::harness::Node;
use serde_json::json;

/// Sets `collection` to keep only the latest state.
fn make_latest(node: &Node, collection: &str) {
    node.ok(&["collection", collection, "--history", "latest"]);
}

/// Links `b` to the running `a` by ticket and waits until both are in sync.
fn link(a: &Node, b: &Node) {
    let ticket =
        a.json(&["sync", "status", "--show-ticket", "-o", "json"])["ticket"].as_str().unwrap().to_string();
    b.ok(&["peers", "add", &ticket]);
    b.ok(&["sync", "wait", "--timeout", "60s"]);
    a.ok(&["sync", "wait", "--timeout", "60s"]);
}

#[test]
fn a_latest_document_keeps_one_change_and_hides_its_clock() {
    let node = Node::loopback();
    make_latest(&node, "beacons");
    for n in 0..5 {
        node.ok(&["upsert", "beacons", "b1", "--set", &format!("n={n}")]);
    }
    let history = node.json(&["history", "beacons", "b1", "--output", "json"]);
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    let doc = node.json(&["get", "beacons", "b1", "--output", "json"]);
    assert_eq!(doc, json!([{"id": "b1", "n": 4}]), "the state without the clock field");
    // A tombstone keeps no history either.
    node.ok(&["remove", "beacons", "b1"]);
    assert_eq!(node.json(&["history", "beacons", "b1", "--output", "json"]).as_array().unwrap().len(), 1);
    let doc = node.json(&["get", "beacons", "b1", "--include-deleted", "--output", "json"]);
    assert_eq!(doc, json!([{"id": "b1", "_deleted": true}]));
    // A collection without the policy keeps every change.
    for n in 0..3 {
        node.ok(&["upsert", "units", "u1", "--set", &format!("n={n}")]);
    }
    assert_eq!(node.json(&["history", "units", "u1", "--output", "json"]).as_array().unwrap().len(), 3);
}

#[test]
fn concurrent_writes_to_a_latest_document_end_with_the_later_one_on_both_nodes() {
    let a = Node::loopback();
    let b = Node::joining(&a);
    make_latest(&a, "beacons");
    make_latest(&b, "beacons");
    // Written apart, B after A: the later write replaces the earlier one whole, no merge.
    a.ok_with_stdin(&["upsert", "beacons"], "{\"id\":\"x\",\"pos\":1,\"from_a\":true}\n");
    b.ok_with_stdin(&["upsert", "beacons"], "{\"id\":\"x\",\"pos\":2}\n");
    a.start();
    b.start();
    link(&a, &b);
    let want = json!([{"id": "x", "pos": 2}]);
    assert_eq!(a.all("beacons"), want);
    assert_eq!(b.all("beacons"), want);
    for node in [&a, &b] {
        let history = node.json(&["history", "beacons", "x", "--output", "json"]);
        assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    }
}

/// 100 beacons of `round`, each with a 256-byte payload that does not compress.
fn beacons(round: u64) -> String {
    (0..100u64)
        .map(|i| {
            let mut x = (round << 32 | i).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let payload: String = (0..16)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    format!("{x:016x}")
                })
                .collect();
            format!("{{\"id\":\"b{i}\",\"round\":{round},\"payload\":\"{payload}\"}}\n")
        })
        .collect()
}

#[test]
fn catching_up_on_a_latest_collection_costs_about_its_current_state() {
    let a = Node::loopback();
    let b = Node::joining(&a);
    make_latest(&a, "beacons");
    for round in 0..60 {
        a.ok_with_stdin(&["upsert", "beacons"], &beacons(round));
    }
    let state = a.ok(&["export", "beacons"]).len() as u64;
    a.start();
    b.start();
    link(&a, &b);
    assert_eq!(b.all("beacons"), a.all("beacons"));
    assert_eq!(b.all("beacons")[7]["round"], 59);
    let peers = b.json(&["peers", "--output", "json"]);
    let received = peers[0]["bytes_received"].as_u64().unwrap();
    // The fixed overhead: QUIC and TLS handshakes, the formation handshake, the settings.
    let overhead = 32 * 1024;
    eprintln!("catch-up: {received} bytes received for a current state of {state} bytes");
    assert!(
        received <= 2 * state + overhead,
        "B received {received} bytes to catch up on a current state of {state} bytes"
    );
}
