//! Collection settings (`peat collection`) and document expiry (`--ttl`): settings sync to
//! every node; an expired document is removed on every node and not sent to a node that
//! joins later; an update restarts its clock.

use serde_json::Value;

use crate::harness::{Node, Watch};

/// Two nodes of one formation on loopback, running and linked.
fn linked() -> (Node, Node) {
    let a = Node::loopback();
    let b = Node::joining(&a);
    a.start();
    b.start();
    b.ok(&["peers", "add", &a.addr()]);
    (a, b)
}

/// A watch of one document of `units` on `node` that ends after `count` events.
fn watch_doc(node: &Node, id: &str, count: u32) -> Watch {
    let filter = format!("id == {id}");
    let count = count.to_string();
    Watch::start(node, &["units", "--where", &filter, "--timeout", "30s", "-o", "ndjson", "--count", &count])
}

fn ids(node: &Node) -> Vec<String> {
    let all = node.json(&["query", "units", "-o", "json"]);
    all.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn an_expired_document_is_removed_on_every_node_and_not_sent_to_a_later_joiner() {
    let (a, b) = linked();
    a.ok(&["upsert", "units", "keep", "--set", "v=1", "--wait-for-sync"]);
    a.ok(&["index", "add", "units", "v"]);
    let (mut on_a, mut on_b) = (watch_doc(&a, "brief", 2), watch_doc(&b, "brief", 2));
    a.ok(&["upsert", "units", "brief", "--set", "v=2", "--ttl", "3s", "--wait-for-sync"]);
    for watch in [&mut on_a, &mut on_b] {
        let added = watch.next_event();
        assert_eq!(
            (added["event"].as_str(), added["document"]["_ttl"].as_u64()),
            (Some("added"), Some(3)),
            "{added}"
        );
        let removed = watch.next_event();
        assert_eq!(
            (removed["event"].as_str(), removed["id"].as_str()),
            (Some("removed"), Some("brief")),
            "{removed}"
        );
    }
    assert_eq!(on_b.finish().0, Some(0));
    // Removed outright: no tombstone is left to sync.
    for node in [&a, &b] {
        assert_eq!(ids(node), ["keep"]);
        assert_eq!(node.run(&["get", "units", "brief", "--include-deleted"]).code, Some(3));
    }
    // Its index entry went with it.
    assert_eq!(
        a.json(&["query", "units", "--where", "v >= 0", "-o", "json"]),
        serde_json::json!([{"id": "keep", "v": 1}])
    );
    let c = Node::joining(&a);
    c.start();
    c.ok(&["peers", "add", &a.addr()]);
    c.ok(&["sync", "wait", "--timeout", "20s"]);
    assert_eq!(ids(&c), ["keep"]);
    assert_eq!(c.run(&["get", "units", "brief", "--include-deleted"]).code, Some(3));
}

#[test]
fn a_collection_ttl_set_on_one_node_expires_documents_written_on_another_unless_updated() {
    let (a, b) = linked();
    b.ok(&["upsert", "units", "old", "--set", "v=0", "--wait-for-sync"]);
    let shown = a.json(&["collection", "units", "--ttl", "6s", "--priority", "high", "-o", "json"]);
    assert_eq!((shown["ttl_secs"].as_u64(), shown["priority"].as_str()), (Some(6), Some("high")), "{shown}");
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    let on_b = b.json(&["collection", "units", "-o", "json"]);
    assert_eq!(on_b, shown, "the settings synced");
    // `old` was written before the setting: it expires 6 s after its own last update.
    let mut watch_old = watch_doc(&a, "old", 2);
    assert_eq!(watch_old.next_event()["event"], "added");
    assert_eq!(watch_old.next_event()["event"], "removed");
    // `live` is updated every second for longer than its time to live: it stays.
    let (mut live_on_a, mut live_on_b) = (watch_doc(&a, "live", 100), watch_doc(&b, "live", 100));
    let started = std::time::Instant::now();
    for i in 0..8 {
        b.ok(&["upsert", "units", "live", "--set", &format!("v={i}"), "--wait-for-sync"]);
        std::thread::sleep(std::time::Duration::from_secs(1)); // time passing is the point here
    }
    assert!(started.elapsed().as_secs() >= 8);
    assert_eq!(ids(&a), ["live"], "updated within its time to live, it stays");
    // Left alone, it goes on both nodes (after the updates the watches report).
    for watch in [&mut live_on_a, &mut live_on_b] {
        let mut event = watch.next_event();
        while matches!(event["event"].as_str(), Some("added" | "updated")) {
            event = watch.next_event();
        }
        assert_eq!(event["event"], "removed", "{event}");
    }
    assert_eq!((ids(&a), ids(&b)), (vec![], vec![]));
}

#[test]
fn settings_show_their_defaults_and_bad_settings_or_system_writes_are_refused() {
    let node = Node::loopback();
    let shown = node.json(&["collection", "units", "-o", "json"]);
    assert_eq!(
        shown,
        serde_json::json!({"collection": "units", "history": "full", "priority": "normal", "ttl_secs": null})
    );
    node.ok(&["collection", "units", "--history", "latest"]);
    let kept: Value = node.json(&["query", "_peat.collections", "-o", "json"]);
    assert_eq!(
        (kept[0]["id"].as_str(), kept[0]["history"].as_str()),
        (Some("units"), Some("latest")),
        "{kept}"
    );
    let cases: [(&[&str], &str); 6] = [
        (&["collection", "units", "--history", "sometimes"], "history policy"),
        (&["collection", "units", "--ttl", "soon"], "soon"),
        (&["upsert", "units", "x", "--set", "v=1", "--ttl", "0s"], "longer than 0"),
        (&["upsert", "units", "--json", r#"{"id":"x","_ttl":-5}"#], "_ttl"),
        (&["upsert", "_peat.collections", "units", "--set", "history=full"], "belongs to the node"),
        (&["remove", "_peat.collections", "units"], "belongs to the node"),
    ];
    for (args, says) in cases {
        let run = node.run(args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stderr.lines().next().is_some_and(|l| l.contains(says)), "{args:?}: {}", run.stderr);
    }
    assert_eq!(node.json(&["collection", "units", "-o", "json"])["history"], "latest", "nothing changed");
}

#[test]
fn nodes_whose_clocks_differ_by_seconds_expire_documents_alike_and_end_identical() {
    let a = Node::loopback();
    let b = Node::joining(&a);
    a.start();
    b.start_with_clock_offset(5);
    b.ok(&["peers", "add", &a.addr()]);
    let mut on_a = watch_doc(&a, "from_b", 2);
    let mut on_b = watch_doc(&b, "from_b", 2);
    // B's clock is 5 s ahead: by it, A's document is expired when it arrives, so B drops it.
    a.ok(&["upsert", "units", "plain", "--set", "v=1"]);
    a.ok(&["upsert", "units", "from_a", "--set", "v=1", "--ttl", "4s", "--wait-for-sync"]);
    assert_eq!(b.run(&["get", "units", "from_a", "--include-deleted"]).code, Some(3));
    // B's document carries B's time: A, behind, removes it about 5 s after B does.
    b.ok(&["upsert", "units", "from_b", "--set", "v=1", "--ttl", "4s", "--wait-for-sync"]);
    for watch in [&mut on_a, &mut on_b] {
        assert_eq!(watch.next_event()["event"], "added");
        assert_eq!(watch.next_event()["event"], "removed");
    }
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    assert_eq!((ids(&a), ids(&b)), (vec!["plain".to_string()], vec!["plain".to_string()]));
}
