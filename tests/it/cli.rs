//! The document commands, run as a user would: real `peat` processes on temp directories.

use crate::harness::Node;
use predicates::prelude::*;
use serde_json::{Value, json};

#[test]
fn init_prints_id_and_ticket_and_refuses_to_clobber_without_force() {
    let node = Node::new();
    let out = node.json(&["init", "--app-id", "convoy"]);
    let id = out["node_id"].as_str().unwrap();
    assert_eq!(id.len(), 64, "node id is the hex public key: {id}");
    assert_eq!(out["app_id"], "convoy");
    assert!(out["ticket"].as_str().unwrap().starts_with("peat1"));

    node.peat(&["init"]).assert().code(2).stderr(predicate::str::contains("already initialised"));
    assert_eq!(node.json(&["status"])["node_id"], id, "identity is stable");

    let again = node.json(&["init", "--force", "--app-id", "other"]);
    assert_ne!(again["node_id"], id, "--force makes new keys");
    assert_eq!(again["app_id"], "other");
}

#[test]
fn init_join_adopts_app_id_key_and_peer_and_a_bad_ticket_creates_nothing() {
    let first = Node::new();
    let ticket = first.json(&["init", "--app-id", "convoy"])["ticket"].as_str().unwrap().to_string();
    let second = Node::new();
    let out = second.json(&["init", "--join", &ticket]);
    assert_eq!(out["app_id"], "convoy");
    assert_eq!(
        std::fs::read(first.dir.join("formation.key")).unwrap(),
        std::fs::read(second.dir.join("formation.key")).unwrap()
    );
    let config = std::fs::read_to_string(second.dir.join("config.toml")).unwrap();
    assert!(config.contains(first.json(&["status"])["node_id"].as_str().unwrap()), "{config}");

    let bad = Node::new();
    bad.peat(&["init", "--join", "peat1nonsense"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("join ticket"));
    assert!(!bad.dir.exists(), "a bad ticket creates nothing");
}

#[test]
fn upsert_set_changes_only_the_named_paths_across_invocations() {
    let node = Node::new();
    let ids = node.ok(&[
        "upsert",
        "units",
        "u1",
        "--set",
        "name=Alpha",
        "--set",
        "pos.lat=59.5",
        "--set",
        "speed=3",
        "-o",
        "table",
    ]);
    assert_eq!(ids, "u1\n");
    node.ok(&["upsert", "units", "u1", "--set", "speed=4"]);
    assert_eq!(node.all("units"), json!([{"id": "u1", "name": "Alpha", "pos": {"lat": 59.5}, "speed": 4}]));
}

/// `upsert` of a stream prints each batch's ids once it is stored, keeping none of them: an
/// id comes out while the input is still open (a stream of any length holds no id list).
#[test]
fn upsert_prints_the_ids_of_each_batch_once_it_is_stored() {
    use std::io::{BufRead, Write};
    use std::process::Stdio;
    let node = Node::loopback();
    let mut upsert = node
        .spawn(&["upsert", "units", "-o", "ndjson"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("upsert starts");
    let mut input = upsert.stdin.take().unwrap();
    let stdout = std::io::BufReader::new(upsert.stdout.take().unwrap());
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    for i in 0..3 {
        writeln!(input, "{{\"id\":\"u{i}\"}}").unwrap();
        let line = lines.recv_timeout(std::time::Duration::from_secs(20));
        assert_eq!(line.expect("the id, while the input is open"), format!("{{\"id\":\"u{i}\"}}"));
    }
    drop(input);
    assert!(upsert.wait().unwrap().success());
    assert_eq!(node.json(&["query", "units", "--count"]), json!(3));
}

#[test]
fn json_round_trips_exactly() {
    let node = Node::new();
    let docs = [
        r#"{"a":[],"b":{},"f":1.0,"i":1,"id":"x","n":null,"nested":{"deep":[1,[2,{"k":-3.25e-7}]]},"s":"ü ✓ 日本 \"q\" \\"}"#,
        r#"{"big":18446744073709551615,"id":"y","neg":-9223372036854775808,"t":true}"#,
    ];
    node.ok_with_stdin(&["upsert", "c"], &docs.join("\n"));
    let out = node.ok(&["query", "c", "--output", "ndjson"]);
    assert_eq!(out.lines().collect::<Vec<_>>(), docs);
}

#[test]
fn query_output_feeds_back_into_upsert() {
    let node = Node::new();
    node.ok(&["upsert", "c", "x", "--set", "v=1", "--set", "keep=yes"]);
    let out = node.ok(&["query", "c", "--where", "id == x"]);
    let mut docs: Value = serde_json::from_str(&out).unwrap();
    docs[0]["v"] = json!(2);
    node.ok_with_stdin(&["upsert", "c"], &docs.to_string());
    assert_eq!(node.all("c"), json!([{"id": "x", "keep": "yes", "v": 2}]));
}

#[test]
fn a_document_with_no_fields_still_exists() {
    let node = Node::new();
    node.ok_with_stdin(&["upsert", "c"], "{\"id\":\"bare\"}");
    assert_eq!(node.json(&["query", "c"]), json!([{"id": "bare"}]));
    node.ok(&["upsert", "c", "bare", "--set", "v=1"]);
    assert_eq!(node.json(&["query", "c"]), json!([{"id": "bare", "v": 1}]));
}

#[test]
fn missing_id_gets_a_uuid_v7() {
    let node = Node::new();
    let ids = node.json(&["upsert", "c", "--json", r#"{"a":1}"#]);
    let id = ids[0].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7", "version 7: {id}");
    assert_eq!(node.all("c")[0]["id"], id);
}

#[test]
fn merge_sets_named_fields_and_replace_drops_the_rest() {
    let node = Node::new();
    node.ok(&["upsert", "c", "--json", r#"{"id":"d","a":1,"b":{"x":1,"y":2}}"#]);
    node.ok(&["upsert", "c", "--json", r#"{"id":"d","b":{"x":5}}"#]);
    assert_eq!(node.all("c"), json!([{"id": "d", "a": 1, "b": {"x": 5}}]));
    node.ok(&["upsert", "c", "d", "--replace", "--json", r#"{"z":0}"#]);
    assert_eq!(node.all("c"), json!([{"id": "d", "z": 0}]));
}

#[test]
fn query_filters_orders_limits_projects_counts_and_finds_within_a_radius() {
    let node = Node::new();
    let docs = (1..=20)
        .map(|i| {
            json!({"id": format!("u{i:02}"), "speed": i, "name": if i % 2 == 0 { "even" } else { "odd" },
            "lat": 59.0 + f64::from(i) * 0.001, "lon": 18.0})
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    node.ok_with_stdin(&["upsert", "units"], &docs);
    let ids = |v: Value| {
        v.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(node.json(&["query", "units", "--where", "speed > 15", "--where", "name == even"])),
        ["u16", "u18", "u20"]
    );
    assert_eq!(
        ids(node.json(&[
            "query",
            "units",
            "--where",
            "speed >= 3 and not (name == odd)",
            "--order-by",
            "speed",
            "--desc",
            "--limit",
            "2"
        ])),
        ["u20", "u18"]
    );
    assert_eq!(node.ok(&["query", "units", "--where", "speed <= 5 or id == u20", "--count"]), "6\n");
    assert_eq!(
        node.json(&["query", "units", "--where", "id == u03", "--fields", "speed"]),
        json!([{"id": "u03", "speed": 3}])
    );
    // 0.001 degrees of latitude is ~111 m: within 250 m of u01 are u01, u02, u03.
    assert_eq!(
        ids(node.json(&["query", "units", "--where", "within(59.001, 18.0, 250)"])),
        ["u01", "u02", "u03"]
    );
}

#[test]
fn remove_leaves_a_hidden_tombstone_exits_3_when_absent_and_upsert_revives() {
    let node = Node::new();
    node.ok(&["upsert", "c", "a", "--set", "v=1"]);
    node.ok(&["upsert", "c", "b", "--set", "v=2"]);
    node.ok(&["remove", "c", "a"]);
    assert_eq!(node.json(&["query", "c"]), json!([{"id": "b", "v": 2}]));
    assert_eq!(node.json(&["query", "c", "--deleted-only"]), json!([{"id": "a", "_deleted": true}]));
    node.peat(&["remove", "c", "a"]).assert().code(3).stderr(predicate::str::contains("no document 'a'"));
    node.peat(&["remove", "c", "nope"]).assert().code(3);
    let status = node.json(&["status"]);
    assert_eq!(status["collections"], json!([{"name": "c", "documents": 1}]));
    node.ok(&["upsert", "c", "a", "--set", "v=3"]);
    assert_eq!(node.json(&["query", "c", "--count"]), json!(2), "an upsert revives a removed document");
}

#[test]
fn bad_input_is_refused_with_exit_2_and_changes_nothing() {
    let node = Node::new();
    node.ok(&["upsert", "c", "keep", "--set", "v=1"]);
    let before = node.all("c");
    let cases: &[(&[&str], Option<&str>, &str)] = &[
        (&["upsert", "c"], Some("{\"id\":\"n1\"}\n{\"id\": \n"), "malformed JSON at line 3"),
        (&["upsert", "c"], Some("[1, 2]"), "expected a JSON object"),
        (&["upsert", "c", "--json", "{nope}"], None, "malformed JSON"),
        (&["upsert", "c", "--json", r#"{"id": 5}"#], None, "'id' must be a string"),
        (&["upsert", "c", "--json", r#"{"_deleted": true}"#], None, "reserved"),
        (&["upsert", "c", "--json", r#"{"_hlc": "1.0.x"}"#], None, "reserved"),
        (&["upsert", "c", "a/b", "--set", "v=1"], None, "document id"),
        (&["upsert", "../etc", "x", "--set", "v=1"], None, "collection name"),
        (&["upsert", "c", "x", "--set", "novalue"], None, "PATH=VALUE"),
        (&["upsert", "c", "keep", "--set", "v[3]=1"], None, "cannot set"),
        (&["query", "c", "--where", "v >"], None, "column 4"),
        (&["query", "c", "--where", "v == 1 garbage"], None, "column"),
        (&["query", "c", "--bogus"], None, "unexpected argument"),
        (&["frobnicate"], None, "unrecognized subcommand"),
    ];
    for (args, stdin, expect) in cases {
        let mut cmd = node.peat(args);
        if let Some(s) = stdin {
            cmd.write_stdin(*s);
        }
        cmd.assert().code(2).stdout("").stderr(predicate::str::contains(*expect));
        assert_eq!(node.all("c"), before, "after {args:?}");
    }
}

#[test]
fn errors_name_the_problem_in_one_line_and_a_where_error_points_at_its_column() {
    let node = Node::new();
    node.ok(&["init"]);
    let out = node.peat(&["upsert", "c", "--json", "{\"a\":"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("peat: error: --json: malformed JSON"), "{stderr}");
    let out = node.peat(&["query", "c", "--where", "speed >> 3"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("speed >> 3\n") && stderr.contains("^"),
        "a caret points at the column: {stderr}"
    );
}

#[test]
fn closed_pipe_exits_quietly() {
    let node = Node::new();
    let docs: String = (0..5000).map(|i| format!("{{\"id\":\"d{i}\",\"v\":{i}}}\n")).collect();
    node.ok_with_stdin(&["upsert", "c"], &docs);
    let script = format!(
        "'{}' --dir '{}' query c --output ndjson | head -n 1",
        env!("CARGO_BIN_EXE_peat"),
        node.dir.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &format!("set -o pipefail; {script}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
