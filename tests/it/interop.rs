//! Interoperability with the Automerge ecosystem: peat's Automerge export loads in the
//! JavaScript library (`@automerge/automerge`, run with node) as the same JSON, and a document
//! made and changed there imports into peat and syncs to another node. The library is
//! installed once with npm into the target dir and reused; the JavaScript side is
//! `tests/it/interop.mjs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::Node;

/// Where npm installs the library: kept between runs, under the target dir.
fn npm_prefix() -> PathBuf {
    let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("npm-automerge");
    if !prefix.join("node_modules/@automerge/automerge/package.json").exists() {
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg("@automerge/automerge@3")
            .output()
            .expect("npm runs (node and npm must be installed)");
        assert!(out.status.success(), "npm install failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    prefix
}

/// Runs `node interop.mjs PREFIX ARGS...` with `input` on stdin and returns its stdout lines.
fn js(prefix: &Path, args: &[&str], input: &str) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/interop.mjs");
    let mut child = Command::new("node")
        .arg(script)
        .arg(prefix)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "node interop.mjs {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// A document's JSON without its id, which peat keeps outside the Automerge document.
fn fields(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("id");
    doc
}

#[test]
fn automerge_exports_load_in_javascript_and_javascript_documents_import_and_sync() {
    let prefix = npm_prefix();
    let a = Node::loopback();
    let b = Node::joining(&a);
    a.ok(&["upsert", "units", "u1", "--set", "name=Alpha", "--set", "speed=4", "--set", "pos.lat=59.25"]);
    a.ok(&["upsert", "units", "u1", "--set", "tags=[\"x\",1,null]", "--set", "on=true", "--set", "speed=5"]);

    // peat -> JavaScript: the same JSON.
    let export = a.ok(&["export", "units", "--format", "automerge"]);
    let loaded = js(&prefix, &["show"], &export);
    let peat_doc = a.json(&["get", "units", "u1", "--output", "json"])[0].clone();
    assert_eq!(loaded, [json!({"id": "u1", "doc": fields(peat_doc)})]);

    // JavaScript -> peat: made and changed there, imported here through the running node,
    // synced to B.
    a.start();
    b.start();
    b.ok(&["peers", "add", &a.addr()]);
    let made = js(&prefix, &["make", "units", "js1"], "");
    let summary = a.ok_with_stdin(&["import", "-", "--output", "json"], &format!("{}\n", made[0]));
    assert_eq!(serde_json::from_str::<Value>(&summary).unwrap()["changed"], 1, "{summary}");
    let expected = json!({
        "id": "js1", "name": "Bravo", "speed": 2, "pos": {"lat": 59.5, "lon": 18},
        "tags": ["js", "changed"], "ready": true,
    });
    assert_eq!(a.json(&["get", "units", "js1", "--output", "json"]), json!([expected]));
    let history = a.json(&["history", "units", "js1", "--output", "json"]);
    assert_eq!(history.as_array().unwrap().len(), 2, "made, then changed: {history}");
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    assert_eq!(b.json(&["get", "units", "js1", "--output", "json"]), json!([expected]), "synced to B");
    assert_eq!(b.json(&["history", "units", "js1", "--output", "json"]), history, "with its history");
}
