//! Hostile input (issue 14): what enters through the CLI or the control socket is checked by
//! one validation layer, and what is refused leaves the store as it was.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use serde_json::Value;

use crate::harness::Node;

/// `a.a.a…` with `levels` segments.
fn deep_path(levels: usize) -> String {
    vec!["a"; levels].join(".")
}

#[test]
fn a_deep_path_is_refused_and_the_collection_stays_readable() {
    let node = Node::new();
    node.ok(&["upsert", "units", "u1", "--set", "name=Alpha"]);
    for levels in [65, 130, 1000] {
        let set = format!("{}=1", deep_path(levels));
        let run = node.run(&["upsert", "units", "deep", "--set", &set]);
        assert_eq!(run.code, Some(2), "{levels} levels: {}", run.stderr);
        assert!(run.stderr.contains("the limit is 64"), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    }
    // Deep JSON on stdin: refused too, whether serde's own limit or ours catches it.
    for levels in [70, 5000] {
        let json = format!("{{\"id\":\"d\",\"x\":{}1{}}}", "[".repeat(levels), "]".repeat(levels));
        let out = node.peat(&["upsert", "units"]).write_stdin(json).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    }
    node.ok(&["upsert", "units", "ok", "--set", &format!("{}=1", deep_path(64))]);
    let all = node.all("units");
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    node.ok(&["remove", "units", "ok"]);
}

#[test]
fn a_document_too_large_to_sync_is_refused_when_written() {
    let node = Node::new();
    node.ok(&["upsert", "units", "u1", "--set", "name=Alpha"]);
    let big = format!("{{\"id\":\"big\",\"blob\":\"{}\"}}", "x".repeat(5 * 1024 * 1024));
    let out = node.peat(&["upsert", "units"]).write_stdin(big).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bytes as JSON; the limit is 4194304"), "{stderr}");
    assert_eq!(node.run(&["get", "units", "big"]).code, Some(3), "nothing was stored");
}

#[test]
fn the_id_is_not_a_field_and_is_never_emptied() {
    let node = Node::new();
    let run = node.run(&["upsert", "c", "m4", "--set", "id.x=1"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("'id' is the document id"), "{}", run.stderr);
    assert!(!node.dir.exists(), "refused before a node was made");
}

/// Sends one raw request line to the node's control socket and reads the answer.
fn raw_request(node: &Node, line: &str) -> Value {
    let mut socket = UnixStream::connect(node.dir.join("node.sock")).expect("node.sock");
    socket.write_all(line.as_bytes()).unwrap();
    socket.write_all(b"\n").unwrap();
    let mut answer = String::new();
    BufReader::new(socket).read_line(&mut answer).unwrap();
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

#[test]
fn the_node_validates_every_control_socket_request() {
    let node = Node::loopback();
    node.start();
    let upsert = |collection: &str, id: &str| {
        let request = serde_json::json!({"v": 1, "request": {"op": "upsert", "collection": collection,
            "docs": [{"id": id, "fields": {"x": 1}, "replace": false, "sets": []}]}});
        raw_request(&node, &request.to_string())
    };
    let long = "i".repeat(1000);
    for (collection, id) in
        [("c", "a/b"), ("c", ""), ("c", long.as_str()), ("c", "bell\u{7}"), ("../../etc", "x")]
    {
        let answer = upsert(collection, id);
        assert_eq!(answer["error"]["kind"], "invalid", "{collection}/{id:?}: {answer}");
    }
    assert_eq!(upsert("c", "good")["ok"], serde_json::json!(["good"]));
    assert_eq!(node.ok(&["query", "c", "--count"]), "1\n", "only the good one was stored");
}
