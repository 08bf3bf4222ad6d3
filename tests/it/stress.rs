//! A running node under stress and revocation (issue 14, part B): slow watchers, stuck
//! nodes, clients that go away or send huge lines, removed data, and a formation that
//! rekeys to cut a member off. Each test reproduces one defect of the issue first.

use crate::harness::{Node, Watch};
use serde_json::json;

/// Defect 16: a removed document's current state carries no fields, also on a node that
/// joins after the removal.
#[test]
fn a_removed_document_keeps_no_fields_even_for_a_node_that_joins_later() {
    let a = Node::loopback();
    a.ok(&["upsert", "units", "u1", "--set", "x=C", "--set", "pos.lat=1.5"]);
    a.ok(&["remove", "units", "u1"]);
    assert_eq!(a.all("units"), json!([{"id": "u1", "_deleted": true}]));
    let late = Node::joining(&a);
    a.start();
    late.start();
    let ticket =
        a.json(&["sync", "status", "--show-ticket", "-o", "json"])["ticket"].as_str().unwrap().to_string();
    late.ok(&["peers", "add", &ticket]);
    late.ok(&["sync", "wait", "--pull", "--timeout", "20s"]);
    assert_eq!(late.all("units"), json!([{"id": "u1", "_deleted": true}]), "no field reaches a later peer");
}

/// Defect 5: a `watch` that does not read while 20,000 documents are written is told how
/// many events it missed (`lagged`), never silently loses them.
#[test]
fn a_slow_watch_reader_is_told_how_many_events_it_missed() {
    const TOTAL: u64 = 20_000;
    let node = Node::loopback();
    node.start();
    // Its stdout is read only after the writes: the pipe, the client and the node's queue fill.
    let mut watch = Watch::start(&node, &["units", "--no-initial", "--timeout", "120s", "-o", "ndjson"]);
    let docs: String = (0..TOTAL).map(|i| format!("{{\"id\":\"u{i}\",\"pad\":\"{:0>200}\"}}\n", i)).collect();
    node.ok_with_stdin(&["upsert", "units"], &docs);
    let (mut seen, mut missed, mut lagged) = (0u64, 0u64, 0);
    while seen + missed < TOTAL {
        let event = watch.next_event();
        match event["event"].as_str() {
            Some("added") => seen += 1,
            Some("lagged") => {
                lagged += 1;
                missed += event["missed"].as_u64().expect("a lagged event says how many");
            }
            other => panic!("unexpected event {other:?}: {event}"),
        }
    }
    assert!(lagged > 0 && missed > 0, "the reader fell behind ({seen} seen) and was told so");
    assert_eq!(seen + missed, TOTAL, "every event was seen or counted as missed");
}
