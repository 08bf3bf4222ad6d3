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

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn every_file_a_node_creates_is_private() {
    let node = Node::loopback();
    node.ok(&["upsert", "units", "u1", "--set", "name=Alpha"]);
    node.start();
    assert_eq!(mode(&node.dir), 0o700);
    for name in
        ["store.redb", "config.toml", "identity.key", "formation.key", "node.log", "node.pid", "node.sock"]
    {
        assert_eq!(mode(&node.dir.join(name)) & 0o077, 0, "{name} is {:o}", mode(&node.dir.join(name)));
    }
    node.stop();
}

#[test]
fn a_directory_writable_by_others_or_a_key_readable_by_others_is_refused() {
    let node = Node::new();
    std::fs::create_dir(&node.dir).unwrap();
    chmod(&node.dir, 0o777);
    let run = node.run(&["upsert", "units", "u1", "--set", "x=1"]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(run.stderr.contains("writable by group or others (mode 777); run `chmod 700"), "{}", run.stderr);
    assert!(!node.dir.join("identity.key").exists(), "nothing written there");

    chmod(&node.dir, 0o700);
    node.ok(&["upsert", "units", "u1", "--set", "x=1"]);
    let key = node.dir.join("identity.key");
    chmod(&key, 0o644);
    let run = node.run(&["query", "units"]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(
        run.stderr.contains("identity.key is readable by others (mode 644); run `chmod 600"),
        "{}",
        run.stderr
    );
    chmod(&key, 0o600);
    node.ok(&["query", "units"]);
}

#[test]
fn a_missing_key_or_config_or_an_empty_store_is_an_error_naming_the_file() {
    let node = Node::new();
    node.ok(&["upsert", "units", "u1", "--set", "x=1"]);
    let id = node.json(&["status", "--output", "json"]);
    for name in ["identity.key", "formation.key", "config.toml"] {
        let path = node.dir.join(name);
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        for args in [&["query", "units"][..], &["upsert", "units", "u2", "--set", "x=2"]] {
            let run = node.run(args);
            assert_eq!(run.code, Some(1), "{name} {args:?}: {}", run.stderr);
            assert!(run.stderr.contains(&format!("{name} is missing")), "{}", run.stderr);
        }
        assert!(!path.exists(), "{name} was not silently made anew");
        std::fs::write(&path, saved).unwrap();
        chmod(&path, 0o600);
    }
    assert_eq!(node.json(&["status", "--output", "json"]), id, "the same node");
    let store = node.dir.join("store.redb");
    std::fs::write(&store, b"").unwrap();
    let run = node.run(&["query", "units"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("store.redb is empty (0 bytes)"), "{}", run.stderr);
}

#[test]
fn concurrent_first_commands_agree_on_one_node() {
    for round in 0..5 {
        let node = Node::new();
        let writers: Vec<_> = (0..6)
            .map(|i| {
                let mut cmd = node.spawn(&["upsert", "units", &format!("u{i}"), "--set", "x=1"]);
                cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        let mut announced = Vec::new();
        for w in writers {
            let out = w.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "round {round}: {stderr}");
            announced
                .extend(stderr.lines().filter(|l| l.contains("initialised a new node")).map(String::from));
        }
        assert_eq!(announced.len(), 1, "round {round}: one node made: {announced:?}");
        assert_eq!(node.ok(&["query", "units", "--count"]), "6\n");
    }
}

/// A small deterministic generator, so a failing round names the damage it did.
fn lcg(state: &mut u64) -> u64 {
    *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *state >> 33
}

#[test]
fn a_damaged_store_gives_an_error_never_a_panic() {
    let node = Node::new();
    let docs: String =
        (0..300).map(|i| format!("{{\"id\":\"u{i}\",\"n\":{i},\"pad\":\"{}\"}}\n", "p".repeat(50))).collect();
    node.ok_with_stdin(&["upsert", "units"], &docs);
    let store = node.dir.join("store.redb");
    let pristine = std::fs::read(&store).unwrap();
    let (mut state, mut damaged_reports) = (14, 0);
    for round in 0..40 {
        let mut damaged = pristine.clone();
        let at = lcg(&mut state) as usize % damaged.len();
        let damage = if round % 2 == 0 {
            let end = (at + 4096).min(damaged.len());
            damaged[at..end].fill(0);
            format!("zeroed 4096 bytes at {at}")
        } else {
            damaged[at] ^= 0xff;
            format!("flipped the byte at {at}")
        };
        std::fs::write(&store, &damaged).unwrap();
        for args in [&["status"][..], &["query", "units", "--count"]] {
            let run = node.run(args);
            assert_ne!(run.code, Some(101), "round {round} ({damage}), {args:?}: {}", run.stderr);
            assert!(
                !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
                "round {round} ({damage}), {args:?}: {}",
                run.stderr
            );
            assert!(run.stderr.lines().count() <= 1, "round {round} ({damage}): {}", run.stderr);
            damaged_reports += usize::from(run.stderr.contains("store.redb is damaged"));
        }
    }
    assert!(damaged_reports > 0, "zeroed pages make redb panic; each must be reported as damage")
}

#[test]
fn doctor_finds_damage_and_repair_salvages_the_readable_documents() {
    let node = Node::new();
    let docs: String =
        (0..300).map(|i| format!("{{\"id\":\"u{i}\",\"n\":{i},\"pad\":\"{}\"}}\n", "p".repeat(50))).collect();
    node.ok_with_stdin(&["upsert", "units"], &docs);
    let report = node.json(&["doctor", "--output", "json"]);
    assert_eq!((report["documents"].as_u64(), report["problems"].as_u64()), (Some(300), Some(0)), "{report}");

    // One flipped byte in u150's projection (its JSON no longer parses) makes the whole
    // collection unreadable; the Automerge documents, from which repair rebuilds the
    // projections, are intact.
    let store = node.dir.join("store.redb");
    let mut damaged = std::fs::read(&store).unwrap();
    let marker = br#""id":"u150""#;
    let at = damaged.windows(marker.len()).position(|w| w == marker).expect("u150's projection");
    damaged[at] = b'X';
    std::fs::write(&store, &damaged).unwrap();
    let run = node.run(&["query", "units", "--count"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("corrupt projection") && run.stderr.contains("`peat repair`"),
        "{}",
        run.stderr
    );
    let run = node.run(&["doctor"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("`peat repair`"), "{}", run.stderr);

    let salvage = node.json(&["repair", "--output", "json"]);
    let saved = salvage["documents"].as_u64().unwrap();
    assert_eq!(saved, 300, "every document rebuilt from its Automerge form: {salvage}");
    assert!(std::path::Path::new(salvage["damaged"].as_str().unwrap()).exists(), "the old file is kept");
    let report = node.json(&["doctor", "--output", "json"]);
    assert_eq!(report["problems"].as_u64(), Some(0), "{report}");
    assert_eq!(node.ok(&["query", "units", "--count"]), format!("{saved}\n"));
    node.ok(&["upsert", "units", "after", "--set", "x=1"]);
}

/// A tmpfs mounted for one test, unmounted when dropped (also when the test fails).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// A 2 MiB tmpfs at `under/disk`, soon full; `None` (and a line saying the test is
    /// skipped) where mounting is not allowed.
    fn small(under: &std::path::Path) -> Option<Self> {
        let path = under.join("disk");
        std::fs::create_dir_all(&path).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!("skipped: mounting a tmpfs needs root");
        }
        ok.then_some(Self(path))
    }

    fn resize(&self, size: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    /// Lazily (`-l`): a node that is still exiting cannot keep the mount.
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_says_how_many_documents_were_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::small(tmp.path()) else { return };
    let dir = disk.0.join("node");
    let peat = |args: &[&str]| peat_in(&dir, args);
    // 30,000 documents of ~150 bytes: 3 transactions, far more than 2 MiB.
    let docs: String =
        (0..30_000).map(|i| format!("{{\"id\":\"u{i}\",\"pad\":\"{}\"}}\n", "p".repeat(120))).collect();
    let out = peat(&["upsert", "units"]).write_stdin(docs).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let stored: usize = stderr
        .split("(stored ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no stored count: {stderr}"));
    assert_eq!(stored % 5_000, 0, "whole transactions only: {stderr}");

    disk.resize("64m");
    let count = peat(&["query", "units", "--count"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&count.stdout), format!("{stored}\n"), "{count:?}");
    let again = peat(&["upsert", "units", "after", "--set", "x=1"]).output().unwrap();
    assert!(again.status.success(), "{again:?}");
}

/// `peat --dir DIR ARGS...` with an empty environment.
fn peat_in(dir: &std::path::Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_peat"));
    cmd.env_clear().arg("--dir").arg(dir).args(args);
    cmd
}

/// Stops the node of `dir` when dropped (before its tmpfs is unmounted).
struct Running(std::path::PathBuf);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::process::Command::new(env!("CARGO_BIN_EXE_peat"))
            .arg("--dir")
            .arg(&self.0)
            .args(["sync", "stop"])
            .output();
    }
}

#[test]
fn a_node_whose_disk_filled_up_serves_reads_and_writes_again_once_space_is_freed() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::small(tmp.path()) else { return };
    let dir = disk.0.join("node");
    let peat = |args: &[&str]| peat_in(&dir, args);
    peat(&["init", "--listen", "127.0.0.1:0"]).assert().success();
    peat(&["upsert", "units", "first", "--set", "x=1"]).assert().success();
    peat(&["sync", "start"]).assert().success();
    let _running = Running(dir.clone());
    let docs: String =
        (0..30_000).map(|i| format!("{{\"id\":\"u{i}\",\"pad\":\"{}\"}}\n", "p".repeat(120))).collect();
    let out = peat(&["upsert", "units"]).write_stdin(docs).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("documents before the error)"), "{stderr}");

    let got = peat(&["get", "units", "first"]).output().unwrap();
    assert!(got.status.success(), "reads go on while the disk is full: {got:?}");
    disk.resize("64m");
    let again = peat(&["upsert", "units", "after", "--set", "x=2"]).output().unwrap();
    assert!(again.status.success(), "writes work again without a restart: {again:?}");
    let status = peat(&["sync", "status", "--output", "json"]).output().unwrap();
    assert!(status.status.success(), "the same node still runs: {status:?}");
}

/// Plants a document nested 100 levels deep in a stopped node's store, as an older or hostile
/// peat could have stored it: the Automerge document, its heads and a change-log entry
/// after everything else (what a peer pulls).
fn plant_deep_document(node: &Node, id: &str) {
    use automerge::transaction::Transactable;
    use redb::{ReadableDatabase, ReadableTable, TableDefinition};
    type Key<'a> = (&'a str, &'a str);
    const DOCS: TableDefinition<Key, &[u8]> = TableDefinition::new("docs");
    const HEADS: TableDefinition<Key, &[u8]> = TableDefinition::new("heads");
    const CHANGES: TableDefinition<u64, Key> = TableDefinition::new("changes");
    let mut doc = automerge::AutoCommit::new();
    let mut obj = automerge::ROOT;
    for _ in 0..100 {
        obj = doc.put_object(&obj, "a", automerge::ObjType::Map).unwrap();
    }
    doc.put(&obj, "x", 1).unwrap();
    let saved = doc.save();
    let heads: Vec<u8> = doc.get_heads().iter().flat_map(|h| h.0).collect();
    let db = redb::Database::create(node.dir.join("store.redb")).unwrap();
    let seq = {
        let read = db.begin_read().unwrap();
        read.open_table(CHANGES).unwrap().last().unwrap().map_or(0, |(s, _)| s.value()) + 1
    };
    let txn = db.begin_write().unwrap();
    txn.open_table(DOCS).unwrap().insert(("units", id), saved.as_slice()).unwrap();
    txn.open_table(HEADS).unwrap().insert(("units", id), heads.as_slice()).unwrap();
    txn.open_table(CHANGES).unwrap().insert(seq, ("units", id)).unwrap();
    txn.commit().unwrap();
}

#[test]
fn a_peers_bad_document_is_refused_and_reported_and_sync_goes_on_past_it() {
    let a = Node::loopback();
    let b = Node::joining(&a);
    a.ok(&["upsert", "units", "before", "--set", "x=1"]);
    plant_deep_document(&a, "deep");
    a.ok(&["upsert", "units", "after", "--set", "x=2"]);
    a.start();
    b.start();
    b.ok(&["peers", "add", &a.addr()]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    let ids: Vec<String> =
        b.all("units").as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, ["after", "before"], "everything but the bad document arrived");
    let peers = b.json(&["peers", "--output", "json"]);
    let error = peers[0]["last_error"].as_str().unwrap_or_else(|| panic!("no last_error: {peers}"));
    assert!(error.contains("units/deep") || error.contains("levels deep"), "{error}");
    a.ok(&["upsert", "units", "later", "--set", "x=3", "--wait-for-sync", "20s"]);
    assert!(b.ok(&["get", "units", "later", "-o", "json"]).contains("later"), "sync goes on");
}
