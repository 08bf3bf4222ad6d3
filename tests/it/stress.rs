//! A running node under stress and revocation (issue 14, part B): slow watchers, stuck
//! nodes, clients that go away or send huge lines, removed data, and a formation that
//! rekeys to cut a member off. Each test reproduces one defect of the issue first.

use crate::harness::Node;
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
