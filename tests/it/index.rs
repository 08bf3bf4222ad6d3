//! Secondary indexes (`peat index`): an indexed query returns exactly what a scan returns,
//! ranges and order included; indexes stay current through updates, removals and changes
//! synced from a peer; `--explain` names the index; bad input gets its exit code.

use serde_json::{Value, json};

use crate::harness::Node;

/// Values of every JSON type the query order ranks, negative and fractional numbers among
/// them; every seventh document has no `v`, and `pos.lat` is a float.
fn ndjson(range: std::ops::Range<i64>) -> String {
    let values = [
        json!(3),
        json!(-1.5),
        json!("x"),
        json!(null),
        json!(3.0),
        json!(true),
        json!(-7),
        json!(2.25),
        json!("ab"),
    ];
    range
        .map(|i| {
            let mut doc = json!({"id": format!("d{i:03}"), "n": i, "pos": {"lat": (i as f64) / 4.0 - 10.0}});
            if i % 7 != 0 {
                doc["v"] = values[(i as usize) % values.len()].clone();
            }
            format!("{doc}\n")
        })
        .collect()
}

/// The queries compared: filters with ranges (one- and two-sided, across types), equality,
/// order with and without a limit, both directions, removed documents included.
const QUERIES: &[&[&str]] = &[
    &["--where", "v == 3"],
    &["--where", "v > -2"],
    &["--where", "v <= 3 and v > -7"],
    &["--where", "v < 0 and n > 10"],
    &["--where", "v >= ab"],
    &["--where", "v == null"],
    &["--where", "pos.lat >= -3.5 and pos.lat < 1"],
    &["--order-by", "v"],
    &["--order-by", "v", "--desc"],
    &["--order-by", "v", "--limit", "7"],
    &["--order-by", "v", "--desc", "--limit", "12"],
    &["--where", "v > 0", "--order-by", "v", "--desc"],
    &["--where", "v > 0", "--order-by", "n", "--limit", "5"],
    &["--order-by", "pos.lat", "--desc", "--include-deleted"],
];

/// Each query's answer, unordered ones sorted by id (an index reads in value order).
fn answers(node: &Node) -> Vec<Value> {
    QUERIES
        .iter()
        .map(|args| {
            let mut out = node.json(&[&["query", "units", "-o", "json"], *args].concat());
            if !args.contains(&"--order-by") {
                let docs = out.as_array_mut().unwrap();
                docs.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
            }
            out
        })
        .collect()
}

fn explain(node: &Node, args: &[&str]) -> String {
    let plan = node.json(&[&["query", "units", "--explain", "-o", "json"], args].concat());
    plan["plan"].as_str().unwrap().to_string()
}

#[test]
fn indexed_queries_answer_as_the_scan_does_and_stay_current() {
    let node = Node::new();
    node.ok_with_stdin(&["upsert", "units"], &ndjson(0..120));
    node.ok(&["remove", "units", "d004", "d040"]);
    let scanned = answers(&node);
    assert!(explain(&node, &["--where", "v > 1"]).starts_with("scan"));

    node.ok(&["index", "add", "units", "v"]);
    node.ok(&["index", "add", "units", "pos.lat"]);
    node.ok(&["index", "add", "units", "v"]);
    assert_eq!(
        node.json(&["index", "list", "-o", "json"]),
        json!([{"collection": "units", "path": "pos.lat"}, {"collection": "units", "path": "v"}])
    );
    let indexed = answers(&node);
    for ((args, want), got) in QUERIES.iter().zip(&scanned).zip(&indexed) {
        assert_eq!(got, want, "query {args:?}");
    }
    assert_eq!(
        explain(&node, &["--where", "v > 1 and n < 50"]),
        "index v (range > 1), in index order, streamed"
    );
    assert_eq!(
        explain(&node, &["--order-by", "v", "--desc", "--limit", "3"]),
        "index v (all, in order), in index order, streamed"
    );

    // Updates, removals and revivals move entries; answers still equal a scan's.
    node.ok(&["upsert", "units", "d001", "--set", "v=-100"]);
    node.ok(&["upsert", "units", "d002", "--set", "pos.lat=55.5"]);
    node.ok(&["remove", "units", "d003", "d010"]);
    node.ok(&["upsert", "units", "d004", "--set", "v=4"]);
    node.ok_with_stdin(&["upsert", "units"], &ndjson(200..230));
    let indexed = answers(&node);
    assert_eq!(node.json(&["query", "units", "--where", "v < -50"])[0]["id"], "d001");
    node.ok(&["index", "remove", "units", "v"]);
    node.ok(&["index", "remove", "units", "pos.lat"]);
    assert_eq!(node.json(&["index", "list", "units", "-o", "json"]), json!([]));
    assert!(explain(&node, &["--order-by", "v"]).starts_with("scan"));
    assert_eq!(answers(&node), indexed, "after the changes, the scan agrees with the indexes");
}

#[test]
fn bad_index_requests_exit_with_their_codes() {
    let node = Node::new();
    node.ok(&["upsert", "units", "u1", "--set", "v=1"]);
    let run = node.run(&["index", "add", "nope", "v"]);
    assert_eq!(run.code, Some(3), "{run:?}");
    assert!(run.stderr.contains("no collection 'nope'"), "{}", run.stderr);
    let run = node.run(&["index", "add", "units", "a..b"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("bad index path"), "{}", run.stderr);
    let run = node.run(&["index", "remove", "units", "v"]);
    assert_eq!(run.code, Some(3));
    assert!(run.stderr.contains("no index on 'v'"), "{}", run.stderr);
    assert_eq!(node.run(&["index", "add", "Bad/Name", "v"]).code, Some(2));
    assert_eq!(node.json(&["index", "list", "-o", "json"]), json!([]), "nothing defined by the failures");
}

#[test]
fn an_index_on_a_running_node_follows_changes_from_a_peer() {
    let a = Node::loopback();
    let b = Node::joining(&a);
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..50));
    a.start();
    b.start();
    // Defined through the control socket of the running node.
    a.ok(&["index", "add", "units", "n"]);
    assert_eq!(
        a.json(&["index", "list", "units", "-o", "json"]),
        json!([{"collection": "units", "path": "n"}])
    );
    b.ok(&["peers", "add", &a.addr()]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    b.ok_with_stdin(&["upsert", "units", "--wait-for-sync", "20s"], &ndjson(50..80));
    b.ok(&["upsert", "units", "d010", "--set", "n=1000", "--wait-for-sync", "20s"]);
    b.ok(&["remove", "units", "d060", "--wait-for-sync", "20s"]);
    let ids = |out: Value| {
        out.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(explain(&a, &["--where", "n >= 58"]), "index n (range >= 58), in index order, streamed");
    let mut want: Vec<String> = (58..80).filter(|i| *i != 60).map(|i| format!("d{i:03}")).collect();
    want.push("d010".into());
    assert_eq!(ids(a.json(&["query", "units", "--where", "n >= 58"])), want);
    assert_eq!(
        ids(a.json(&["query", "units", "--order-by", "n", "--desc", "--limit", "2"])),
        ["d010", "d079"]
    );
    a.stop();
    b.stop();
}

#[test]
fn an_unlimited_order_without_an_index_sorts_in_spilled_runs() {
    let node = Node::new();
    node.ok_with_stdin(&["upsert", "units"], &ndjson(0..500));
    let want: Vec<String> = {
        // v's order (see ndjson): null, true, numbers, strings, missing last; ties by id.
        let all = node.json(&["query", "units", "-o", "json"]);
        let mut docs: Vec<(u8, f64, String, String)> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let id = d["id"].as_str().unwrap().to_string();
                match d.get("v") {
                    Some(Value::Null) => (0, 0.0, String::new(), id),
                    Some(Value::Bool(_)) => (1, 0.0, String::new(), id),
                    Some(Value::Number(n)) => (2, n.as_f64().unwrap(), String::new(), id),
                    Some(Value::String(s)) => (3, 0.0, s.clone(), id),
                    _ => (6, 0.0, String::new(), id),
                }
            })
            .collect();
        docs.sort_by(|a, b| (a.0, a.1, &a.2, &a.3).partial_cmp(&(b.0, b.1, &b.2, &b.3)).unwrap());
        docs.into_iter().map(|d| d.3).collect()
    };
    let out = node
        .peat(&["query", "units", "--order-by", "v", "-o", "ndjson", "-v"])
        .env("PEAT_SORT_RUN_DOCS", "40")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("500 ids, 12 runs spilled"), "{stderr}");
    let got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
}
