//! Data in and out: `export` and `import` in both formats, `backup` and `restore` of a whole
//! node (also while it runs, and syncing again afterwards), and config.toml edits that keep
//! what an operator wrote by hand.

use crate::harness::{Node, Watch};
use serde_json::Value;

fn ndjson(range: std::ops::Range<usize>) -> String {
    range.map(|i| format!("{{\"id\":\"u{i}\",\"n\":{i}}}\n")).collect()
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).expect("an NDJSON record")).collect()
}

fn collections(node: &Node) -> Value {
    node.json(&["status", "-o", "json"])["collections"].clone()
}

#[test]
fn an_automerge_export_imports_with_history_and_a_second_import_changes_nothing() {
    let a = Node::loopback();
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..20));
    a.ok(&["upsert", "alerts", "a1", "--set", "msg=low fuel"]);
    a.ok(&["remove", "units", "u3"]);
    let file = a.dir.with_file_name("convoy.peat");
    let path = file.to_str().unwrap();
    a.ok(&["export", "--format", "automerge", "--out", path]);
    let records = lines(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(records.len(), 21, "20 units (one a tombstone) and one alert");
    let u3 = records.iter().find(|r| r["id"] == "u3").unwrap();
    assert_eq!((u3["deleted"].as_bool(), u3["automerge"].is_string()), (Some(true), true), "{u3}");

    let b = Node::loopback();
    let first = b.json(&["import", path, "-o", "json"]);
    assert_eq!((first["documents"].as_u64(), first["changed"].as_u64()), (Some(21), Some(21)));
    assert_eq!(collections(&b), collections(&a));
    assert_eq!(b.all("units"), a.all("units"), "tombstones included");
    let again = b.json(&["import", path, "-o", "json"]);
    assert_eq!(again["changed"], 0, "the same history merges to nothing new: {again}");
    assert_eq!(collections(&b), collections(&a));

    // History came along: an edit on B after the import merges back into A as a change.
    b.ok(&["upsert", "units", "u1", "--set", "n=100"]);
    let back = b.sh(&format!(
        "peat export units --format automerge | '{}' --dir '{}' import -",
        env!("CARGO_BIN_EXE_peat"),
        a.dir.display()
    ));
    assert_eq!(back.code, Some(0), "{}", back.stderr);
    assert!(back.stdout.contains("\"changed\": 1"), "only u1 changed: {}", back.stdout);
    assert_eq!(a.json(&["get", "units", "u1", "-o", "json"])[0]["n"], 100);
}

#[test]
fn an_ndjson_export_through_a_running_node_skips_removed_documents_unless_asked() {
    let a = Node::loopback();
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..5));
    a.ok(&["upsert", "alerts", "a1", "--set", "msg=hi"]);
    a.ok(&["remove", "units", "u0"]);
    a.start();
    let out = a.ok(&["export", "units"]);
    let records = lines(&out);
    assert_eq!(records.len(), 4, "{out}");
    assert_eq!(
        records[0],
        serde_json::json!({"collection": "units", "id": "u1", "doc": {"id": "u1", "n": 1}})
    );
    let text = a.ok(&["export", "--include-deleted"]);
    let all = lines(&text);
    assert_eq!(all.len(), 6, "both collections, the tombstone too");
    assert!(all.iter().any(|r| r["id"] == "u0" && r["deleted"] == true && r["doc"]["_deleted"] == true));

    let b = Node::loopback();
    let summary: Value =
        serde_json::from_str(&b.ok_with_stdin(&["import", "-", "-o", "json"], &text)).unwrap();
    assert_eq!((summary["documents"].as_u64(), summary["changed"].as_u64()), (Some(6), Some(6)));
    assert_eq!(collections(&b), collections(&a));
    let again: Value = serde_json::from_str(&b.ok_with_stdin(&["import", "-", "-o", "json"], &text)).unwrap();
    assert_eq!(again["changed"], 0, "the same values are no change: {again}");
    a.stop();
}

#[test]
fn a_malformed_import_line_is_refused_with_its_number() {
    let b = Node::loopback();
    let run =
        b.sh("printf '%s\\n' '{\"collection\":\"c\",\"id\":\"x\",\"doc\":{\"v\":1}}' 'oops' | peat import -");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("line 2: not an export record"), "{}", run.stderr);
}

#[test]
fn a_restored_node_keeps_its_documents_and_catches_up_with_its_peer() {
    let a = Node::loopback();
    let b = Node::joining(&a);
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..50));
    a.start();
    b.start();
    b.ok(&["peers", "add", &a.addr()]);
    a.ok(&["peers", "add", &b.addr()]);
    a.ok(&["sync", "wait", "--timeout", "20s"]);

    // A backup while the node runs, then a write the backup does not hold.
    let backup = a.dir.with_file_name("backup");
    let made = a.json(&["backup", backup.to_str().unwrap(), "--include-keys", "-o", "json"]);
    assert_eq!(made["keys"], true);
    a.ok(&["upsert", "units", "late", "--set", "n=51", "--wait-for-sync", "20s"]);
    let node_id = a.json(&["status", "-o", "json"])["node_id"].clone();
    a.stop();

    let r = Node::new();
    r.ok(&["restore", backup.to_str().unwrap()]);
    let status = r.json(&["status", "-o", "json"]);
    assert_eq!(status["node_id"], node_id, "the keys came back");
    assert_eq!(status["collections"][0]["documents"], 50, "the store as it was at the backup");
    let again = r.run(&["restore", backup.to_str().unwrap()]);
    assert_eq!(again.code, Some(4), "an existing store is kept without --force: {}", again.stderr);

    r.start();
    // B's write after the backup reaches the restored node...
    let mut watch = Watch::start(
        &r,
        &["units", "--where", "id == late", "--count", "1", "--timeout", "20s", "-o", "ndjson"],
    );
    assert_eq!(watch.next_event()["document"]["n"], 51);
    assert_eq!(watch.finish().0, Some(0));
    // ...and its own new writes reach B, though its log restarted behind what B had read.
    r.ok(&["upsert", "units", "after", "--set", "from=restored", "--wait-for-sync", "20s"]);
    assert_eq!(b.json(&["get", "units", "after", "-o", "json"])[0]["from"], "restored");
    assert_eq!(r.all("units"), b.all("units"));
}

#[test]
fn hand_written_comments_in_config_survive_peers_add_and_remove() {
    let a = Node::loopback();
    let config = a.dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let hand = format!(
        "# alpha: the convoy's lead vehicle\n{}\n# reviewed by ops\n",
        text.replace("max_peers", "# few peers: the radio link is slow\nmax_peers")
    );
    std::fs::write(&config, &hand).unwrap();
    let other = Node::loopback();
    let id = other.json(&["status", "-o", "json"])["node_id"].as_str().unwrap().to_string();
    a.ok(&["peers", "add", &format!("{id}@127.0.0.1:7999")]);
    let added = std::fs::read_to_string(&config).unwrap();
    assert!(added.contains(&format!("{id}@127.0.0.1:7999")), "{added}");
    a.ok(&["peers", "remove", &id]);
    let removed = std::fs::read_to_string(&config).unwrap();
    for comment in [
        "# alpha: the convoy's lead vehicle\n",
        "# few peers: the radio link is slow\nmax_peers",
        "# reviewed by ops\n",
    ] {
        assert!(added.contains(comment) && removed.contains(comment), "lost {comment:?}:\n{removed}");
    }
    assert!(!removed.contains("127.0.0.1:7999"), "{removed}");
    assert!(removed.contains(&format!("blocked = [\"{id}\"]")), "{removed}");
}
