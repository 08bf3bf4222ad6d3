//! `history` and `--conflicts`: what a document remembers beyond its current JSON, read from
//! a running node (over its control socket) and from a stopped one (the store itself).

use crate::harness::Node;
use serde_json::Value;

/// The `_conflicts` of document `x` as `get --conflicts` prints them.
fn conflicts(node: &Node) -> Value {
    node.json(&["get", "units", "x", "--conflicts", "--output", "json"])[0]["_conflicts"].clone()
}

#[test]
fn concurrent_writes_of_one_field_show_both_values_and_the_same_winner_on_both_nodes() {
    let a = Node::loopback();
    let b = Node::joining(&a);
    a.start();
    b.start();
    let (id_a, id_b) = (a.id(), b.id());
    b.ok(&["peers", "add", &a.addr()]);
    a.ok(&["upsert", "units", "x", "--set", "speed=1", "--set", "name=Alpha", "--wait-for-sync"]);
    assert_eq!(conflicts(&b), Value::Null, "one writer so far: no _conflicts");

    // B is cut off while both write the same field, then they sync.
    b.stop();
    a.ok(&["upsert", "units", "x", "--set", "speed=5"]);
    b.ok(&["upsert", "units", "x", "--set", "speed=7"]);
    b.start();
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    a.ok(&["sync", "wait", "--timeout", "20s"]);

    let on_a = conflicts(&a);
    assert_eq!(on_a, conflicts(&b), "both nodes show the same conflict");
    let conflict = &on_a[0];
    assert_eq!((conflict["path"].as_str(), on_a.as_array().unwrap().len()), (Some("speed"), 1), "{on_a}");
    let values = conflict["values"].as_array().unwrap();
    let mut seen: Vec<(i64, String)> = values
        .iter()
        .map(|v| (v["value"].as_i64().unwrap(), v["node"].as_str().unwrap().to_string()))
        .collect();
    seen.sort();
    assert_eq!(seen, [(5, id_a.clone()), (7, id_b.clone())], "every value, with the node that wrote it");
    assert_eq!(values[0]["winner"], true, "the winner comes first: {conflict}");
    assert_eq!(values[1]["winner"], false);
    assert!(conflict["why"].as_str().unwrap().contains("highest operation id"), "{conflict}");
    // The document shows the winner, on both nodes; query --conflicts says the same.
    for node in [&a, &b] {
        assert_eq!(node.all("units")[0]["speed"], values[0]["value"]);
        let queried = node.json(&["query", "units", "--conflicts", "--output", "json"]);
        assert_eq!(queried[0]["_conflicts"], on_a);
    }

    // History: oldest first, with authors and edits, the same from a stopped node.
    let history = a.json(&["history", "units", "x", "--output", "json"]);
    let authors: Vec<&str> =
        history.as_array().unwrap().iter().map(|e| e["node"].as_str().unwrap()).collect();
    assert_eq!(authors.len(), 3, "{history}");
    assert_eq!(authors[0], id_a, "A created it");
    let mut later = authors[1..].to_vec();
    later.sort();
    let mut both = vec![id_a.as_str(), id_b.as_str()];
    both.sort();
    assert_eq!(later, both, "then one change from each");
    assert_eq!(history[0]["changes"][0], serde_json::json!({"path": "name", "op": "set", "value": "Alpha"}));
    assert!(history[0]["time"].as_str().unwrap().ends_with('Z'), "{history}");
    b.stop();
    let ndjson = b.ok(&["history", "units", "x", "--output", "ndjson"]);
    let lines: Vec<Value> = ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], history[0], "the same history from the store, without a node");
}

#[test]
fn history_of_a_document_that_never_existed_exits_3_and_conflicts_output_cannot_be_written_back() {
    let node = Node::new();
    node.ok(&["upsert", "units", "x", "--set", "speed=1"]);
    node.peat(&["history", "units", "nope"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("no document 'nope' in 'units'"));
    node.peat(&["upsert", "units"])
        .write_stdin(r#"{"id":"x","_conflicts":[]}"#)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("_conflicts"));
}
