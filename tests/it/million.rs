//! Large results: a query streams from the node's store through the control socket to
//! stdout with memory bounded; key lookups, `in`, top-k and `--explain` on the command line.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::harness::Node;

/// The resident memory of a process, in bytes.
pub fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
fn a_query_of_more_than_the_bound_streams_through_the_node_in_bounded_memory() {
    const DOCS: usize = 25_000;
    let node = Node::loopback();
    node.start();
    // 25,000 documents of 2.4 KB: 60 MB of JSON, more than the growth the node may show.
    let pad = "x".repeat(2_400);
    let mut upsert = node.spawn(&["upsert", "big", "--file", "-", "-o", "ndjson"]);
    let mut child = upsert.stdin(Stdio::piped()).stdout(Stdio::null()).spawn().expect("upsert");
    let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
    for i in 0..DOCS {
        writeln!(stdin, "{}", json!({"id": format!("d{i:06}"), "v": i, "pad": pad})).unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let pid = node.json(&["sync", "status", "-o", "json"])["pid"].as_u64().unwrap() as u32;
    let before = rss(pid);

    // Read the results line by line, sampling the node's memory as they come.
    let mut query = node.spawn(&["query", "big", "-o", "ndjson"]);
    let mut child = query.stdout(Stdio::piped()).spawn().expect("query");
    let client = child.id();
    let (mut peak_node, mut peak_client, mut n) = (0, 0, 0);
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let doc: Value = serde_json::from_str(&line.unwrap()).expect("a JSON line");
        assert_eq!(doc["id"], format!("d{n:06}"), "in id order, none lost");
        if n % 1000 == 0 {
            peak_node = peak_node.max(rss(pid));
            peak_client = peak_client.max(rss(client));
        }
        n += 1;
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(n, DOCS);
    let grew = peak_node.saturating_sub(before);
    assert!(grew < 40 << 20, "the node grew by {} MB while streaming 60 MB", grew >> 20);
    assert!(peak_client < 60 << 20, "the client held {} MB", peak_client >> 20);
}

#[test]
fn ids_are_key_lookups_order_with_limit_is_a_top_k_and_explain_says_so() {
    let node = Node::new();
    let input: String =
        (0..50).map(|i| format!("{}\n", json!({"id": format!("u{i:02}"), "s": (i * 7) % 10}))).collect();
    node.ok_with_stdin(&["upsert", "units", "-o", "ndjson"], &input);
    assert_eq!(
        node.json(&["query", "units", "--where", "id in (u07, u03, nope) and s >= 1"]),
        json!([{"id": "u03", "s": 1}, {"id": "u07", "s": 9}])
    );
    let explain = node.json(&["query", "units", "--where", "id == u03", "--explain"]);
    assert_eq!(explain["access"], json!({"keys": ["u03"]}));
    let explain = node.json(&["query", "units", "--order-by", "s", "--desc", "--limit", "3", "--explain"]);
    assert_eq!(
        (explain["access"].clone(), explain["ordering"].clone()),
        (json!("scan"), json!({"top_k": {"limit": 3}}))
    );
    // Ties keep id order: s = 9 for u07, u17, u27, ...
    let top = node.json(&["query", "units", "--order-by", "s", "--desc", "--limit", "3"]);
    let ids: Vec<&str> = top.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["u07", "u17", "u27"]);

    node.ok(&["remove", "units", "u05"]);
    node.peat(&["get", "units", "u05"]).assert().code(3);
    assert_eq!(
        // A tombstone keeps no fields.
        node.json(&["get", "units", "u05", "u06", "--include-deleted"]),
        json!([{"id": "u05", "_deleted": true}, {"id": "u06", "s": 2}])
    );
    node.peat(&["get", "units", "u06", "nope", "--include-deleted"]).assert().code(3);
}

#[test]
fn a_bad_line_refuses_its_chunk_and_the_error_counts_what_was_stored() {
    let node = Node::new();
    let mut input: String =
        (0..12_000).map(|i| format!("{}\n", json!({"id": format!("d{i}"), "v": i}))).collect();
    input.push_str("{not json\n");
    let out = node.peat(&["upsert", "c", "-o", "ndjson"]).write_stdin(input).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("malformed JSON at line 12001"), "{stderr}");
    let stored: u64 = stderr
        .split(" documents before it were stored")
        .next()
        .and_then(|head| head.rsplit(['(', ' ']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the error counts what was stored: {stderr}"));
    assert!(stored <= 12_000, "only chunks before the bad line: {stored}");
    let count = node.ok(&["query", "c", "--count"]);
    assert_eq!(count.trim().parse::<u64>().unwrap(), stored, "exactly what the error says is stored");
}
