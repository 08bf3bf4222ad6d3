//! `peat watch` like `kubectl get -w`: `added`, `updated`, `removed` and `left` events with a
//! time and an origin, timeouts that end well, and a watch that outlives a node restart.

use crate::harness::{Node, Watch};
use serde_json::Value;

/// (event, id, speed) of each event, as a person scans them.
fn summary(events: &[Value]) -> Vec<(String, String, i64)> {
    events
        .iter()
        .map(|e| {
            let speed = e["document"]["speed"].as_i64().unwrap_or(-1);
            (e["event"].as_str().unwrap().into(), e["id"].as_str().unwrap().into(), speed)
        })
        .collect()
}

fn row(event: &str, id: &str, speed: i64) -> (String, String, i64) {
    (event.into(), id.into(), speed)
}

#[test]
fn a_filtered_watch_reports_added_updated_left_and_removed_with_time_origin_and_position() {
    let node = Node::loopback();
    node.ok(&["upsert", "units", "fast", "--set", "speed=200"]);
    node.start();
    // $ peat watch units --where 'speed > 150' --count 5 -o ndjson
    let watch = Watch::start(
        &node,
        &["units", "--where", "speed > 150", "--count", "5", "--timeout", "30s", "-o", "ndjson"],
    );
    node.ok(&["upsert", "units", "fast", "--set", "speed=210"]); // updated
    node.ok(&["upsert", "units", "fast", "--set", "speed=1"]); // left: no longer matches
    node.ok(&["upsert", "units", "fast", "--set", "speed=2"]); // nothing: did not match, does not
    node.ok(&["upsert", "units", "new", "--set", "speed=300"]); // added: first seen
    node.ok(&["upsert", "units", "slow", "--set", "speed=3"]); // nothing
    node.ok(&["remove", "units", "slow"]); // nothing: it never matched
    node.ok(&["remove", "units", "new"]); // removed
    let (code, events) = watch.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        summary(&events),
        [
            row("added", "fast", 200),
            row("updated", "fast", 210),
            row("left", "fast", 1),
            row("added", "new", 300),
            // A removed document keeps no fields.
            row("removed", "new", -1)
        ]
    );
    assert_eq!(events[0]["initial"], true, "the current match, marked initial");
    assert!(events[1..].iter().all(|e| e.get("initial").is_none()));
    assert!(events[1..].iter().all(|e| e["origin"] == "local"), "{events:?}");
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "positions grow: {seqs:?}");
    let time = events[1]["time"].as_str().unwrap();
    assert!(time.len() == 24 && time.ends_with('Z') && &time[10..11] == "T", "RFC 3339 UTC: {time}");
    node.stop();
}

#[test]
fn a_watch_resumes_after_a_node_restart_missing_nothing_unless_told_not_to() {
    let node = Node::loopback();
    node.ok(&["upsert", "units", "a", "--set", "speed=200"]);
    node.start();
    let watch = Watch::start(
        &node,
        &[
            "units",
            "--where",
            "speed > 150",
            "--no-initial",
            "--count",
            "4",
            "--timeout",
            "60s",
            "-o",
            "ndjson",
        ],
    );
    let mut strict = Watch::start(&node, &["units", "--no-reconnect", "--timeout", "60s", "-o", "ndjson"]);
    assert_eq!(strict.next_event()["id"], "a");
    node.ok(&["upsert", "units", "b", "--set", "speed=300"]);
    // $ peat sync stop     (and, while no node runs, writes straight to the store)
    node.stop();
    node.ok(&["upsert", "units", "a", "--set", "speed=1"]);
    node.ok(&["upsert", "units", "c", "--set", "speed=400"]);
    // $ peat sync start
    node.start();
    node.ok(&["upsert", "units", "b", "--set", "speed=301"]);
    let (code, events) = watch.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        summary(&events),
        [row("added", "b", 300), row("left", "a", 1), row("added", "c", 400), row("updated", "b", 301)]
    );
    let (code, _) = strict.finish();
    assert_eq!(code, Some(1), "--no-reconnect ends with the node");
    node.stop();
}

#[test]
fn removing_a_document_a_watch_never_saw_match_is_not_an_event() {
    let node = Node::loopback();
    node.ok(&["upsert", "c", "low", "--set", "v=1"]);
    let watch =
        Watch::start(&node, &["c", "--where", "v > 5", "--count", "1", "--timeout", "30s", "-o", "ndjson"]);
    node.ok(&["remove", "c", "low"]);
    node.ok(&["upsert", "c", "high", "--set", "v=9"]);
    let (code, events) = watch.finish();
    assert_eq!(code, Some(0));
    assert_eq!(
        summary(&events).iter().map(|r| (r.0.as_str(), r.1.as_str())).collect::<Vec<_>>(),
        [("added", "high")]
    );
}

/// The initial events stream at the reader's pace (the node never holds the collection), and
/// a write made while they stream comes after them, once, as a change.
#[test]
fn initial_events_stream_in_bounded_memory_and_a_write_during_them_follows_them_once() {
    const DOCS: usize = 20_000;
    let node = Node::loopback();
    let pad = "x".repeat(2_400);
    let input: String = (0..DOCS)
        .map(|i| format!("{}\n", serde_json::json!({"id": format!("d{i:05}"), "speed": i, "pad": pad})))
        .collect();
    node.ok_with_stdin(&["upsert", "units"], &input);
    node.start();
    let pid = node.json(&["sync", "status", "-o", "json"])["pid"].as_u64().unwrap() as u32;
    // A count reads every document: the store's page cache (32 MB) is full before measuring.
    assert_eq!(node.ok(&["query", "units", "--count"]).trim(), DOCS.to_string());
    let before = crate::million::rss(pid);
    let count = (DOCS + 2).to_string();
    let mut watch = Watch::start(&node, &["units", "-o", "ndjson", "--count", &count, "--timeout", "120s"]);
    // 48 MB of initial events: nearly all are unread (pipes hold far less) when these writes
    // commit, after the snapshot was read.
    let first = watch.next_event();
    assert_eq!((first["id"].as_str(), first["initial"].as_bool()), (Some("d00000"), Some(true)));
    node.ok(&["upsert", "units", "d19999", "--set", "speed=-1"]);
    node.ok(&["upsert", "units", "new", "--set", "speed=7"]);
    let mut peak = 0;
    for i in 1..DOCS {
        let event = watch.next_event();
        assert_eq!(event["id"], format!("d{i:05}"), "every document once, in order");
        assert_eq!((event["event"].as_str(), event["initial"].as_bool()), (Some("added"), Some(true)));
        if i % 1000 == 0 {
            peak = crate::million::rss(pid).max(peak);
        }
        if i == DOCS - 1 {
            assert_eq!(event["document"]["speed"], i, "as the snapshot saw it");
        }
    }
    let grew = peak.saturating_sub(before);
    // Collected first (as before), the documents and their events would hold twice the 48 MB;
    // streamed, what remains is allocator and thread slack, larger on a busy machine.
    assert!(grew < 64 << 20, "the node grew by {} MB while streaming 48 MB", grew >> 20);
    let (code, rest) = watch.finish();
    assert_eq!(code, Some(0));
    assert_eq!(summary(&rest), [row("updated", "d19999", -1), row("added", "new", 7)]);
}
