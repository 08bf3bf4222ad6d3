//! The node daemon, run as an operator would: `sync start|stop|status`, the control socket,
//! and `watch` seeing writes made by other `peat` processes.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{Node, Watch, pid_alive, wait_until};
use predicates::prelude::*;
use serde_json::{Value, json};

fn kinds(events: &[Value]) -> Vec<(&str, &str)> {
    events.iter().map(|e| (e["event"].as_str().unwrap(), e["id"].as_str().unwrap())).collect()
}

#[test]
fn start_and_stop_twice_refuse_a_second_start_and_leave_nothing_behind() {
    let node = Node::loopback();
    for _ in 0..2 {
        node.ok(&["sync", "start"]);
        let status = node.json(&["sync", "status", "-o", "json"]);
        assert_eq!(status["running"], true);
        let pid = status["pid"].as_u64().unwrap();
        assert_eq!(node.json(&["status"])["running"], true, "peat status goes through the node");
        assert!(node.dir.join("node.sock").exists() && node.dir.join("node.pid").exists());
        node.peat(&["sync", "start"]).assert().code(1).stderr(predicate::str::contains(format!(
            "already running on {} (pid {pid})",
            node.dir.display()
        )));
        node.peat(&["sync", "stop"]).assert().success().stderr(predicate::str::contains("node stopped"));
        assert_eq!(
            node.ok(&["query", "c", "--count"]),
            "0\n",
            "stop waits until the node has closed its store"
        );
        wait_until("the stopped node to exit", Duration::from_secs(10), || !pid_alive(pid as u32));
        assert_eq!(node.json(&["sync", "status", "-o", "json"])["running"], false);
        assert_eq!(node.json(&["status"])["running"], false);
        assert!(!node.dir.join("node.sock").exists() && !node.dir.join("node.pid").exists());
    }
    node.peat(&["sync", "stop"]).assert().success().stderr(predicate::str::contains("no node is running"));
}

#[test]
fn writes_by_other_processes_reach_watch_through_the_node() {
    let node = Node::loopback();
    node.ok(&["upsert", "units", "a", "--set", "v=0"]);
    node.ok(&["sync", "start"]);
    let watch = Watch::start(&node, &["units", "--count", "4", "--timeout", "30s", "-o", "ndjson"]);
    node.ok(&["upsert", "units", "b", "--set", "v=1"]);
    node.ok(&["upsert", "other", "z", "--set", "v=9"]);
    node.ok(&["upsert", "units", "a", "--set", "v=2"]);
    node.ok(&["remove", "units", "b"]);
    let (code, events) = watch.finish();
    assert_eq!(code, Some(0));
    assert_eq!(kinds(&events), [("added", "a"), ("added", "b"), ("updated", "a"), ("removed", "b")]);
    assert_eq!(events[0]["initial"], true, "the current match comes first, marked initial");
    assert_eq!(events[1].get("initial"), None);
    assert_eq!(events[1]["origin"], "local");
    assert_eq!(events[2]["document"], json!({"id": "a", "v": 2}));
    assert_eq!(events[3]["document"]["_deleted"], true);
    assert_eq!(events[1]["collection"], "units");
    node.ok(&["sync", "stop"]);
}

#[test]
fn watch_without_a_node_serves_the_directory_and_filters() {
    let node = Node::loopback();
    let watch =
        Watch::start(&node, &["c", "--where", "v > 5", "--no-initial", "--count", "2", "--timeout", "30s"]);
    for (id, v) in [("low", 1), ("high", 7), ("higher", 9)] {
        node.ok(&["upsert", "c", id, "--set", &format!("v={v}")]);
    }
    let (code, events) = watch.finish();
    assert_eq!(code, Some(0));
    assert_eq!(kinds(&events), [("added", "high"), ("added", "higher")]);
    assert!(!node.dir.join("node.sock").exists(), "watch removes its socket when it ends");
    assert_eq!(node.ok(&["query", "c", "--count"]), "3\n");
}

#[test]
fn watch_timeout_alone_exits_0_and_with_count_exits_1_saying_how_many_events_it_saw() {
    let node = Node::loopback();
    node.peat(&["watch", "c", "--no-initial", "--timeout", "300ms"]).assert().success().stdout("");
    node.peat(&["watch", "c", "--no-initial", "--count", "2", "--timeout", "300ms"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("timed out after 0 of 2 events"));
}

#[test]
fn kill_9_loses_no_committed_write_the_next_command_cleans_up_and_the_node_restarts() {
    let node = Node::loopback();
    node.ok(&["sync", "start"]);
    let docs: String = (0..500).map(|i| format!("{{\"id\":\"d{i}\",\"v\":{i}}}\n")).collect();
    node.ok_with_stdin(&["upsert", "c"], &docs);
    let pid: i32 = std::fs::read_to_string(node.dir.join("node.pid")).unwrap().trim().parse().unwrap();
    // SAFETY: sending a signal to a process id we read from the node's pid file.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    wait_until("the killed node to exit", Duration::from_secs(10), || !pid_alive(pid as u32));

    assert!(node.dir.join("node.sock").exists(), "a killed node leaves its socket behind");
    node.peat(&["query", "c", "--count"]).assert().success().stdout("500\n").stderr(
        predicate::str::contains(format!("cleaned up after node pid {pid}, which did not shut down cleanly")),
    );
    assert!(!node.dir.join("node.sock").exists() && !node.dir.join("node.pid").exists());
    node.ok(&["sync", "start"]);
    assert_eq!(node.json(&["sync", "status", "-o", "json"])["running"], true);
    assert_eq!(node.json(&["query", "c", "--where", "id == d499"]), json!([{"id": "d499", "v": 499}]));
    node.ok(&["sync", "stop"]);
}

#[test]
fn sigterm_stops_a_foreground_node_gracefully() {
    let node = Node::loopback();
    let mut child = node
        .spawn(&["sync", "start", "--foreground"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
    assert!(ready.contains("serving"), "{ready}");
    node.ok(&["upsert", "c", "x", "--set", "v=1"]);
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    assert!(child.wait().unwrap().success(), "SIGTERM is a clean shutdown");
    assert!(!node.dir.join("node.sock").exists() && !node.dir.join("node.pid").exists());
    assert_eq!(node.json(&["query", "c"]), json!([{"id": "x", "v": 1}]));
}

#[test]
fn control_socket_is_owner_only_and_garbage_on_it_never_harms_the_node() {
    let node = Node::loopback();
    node.ok(&["sync", "start"]);
    let socket = node.dir.join("node.sock");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    let mut conn = UnixStream::connect(&socket).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    for garbage in [
        "not json",
        "{\"v\":1,\"request\":{\"op\":\"explode\"}}",
        "{\"v\":99,\"request\":{\"op\":\"collections\"}}",
        "\u{0}\u{1}\u{2}",
    ] {
        writeln!(conn, "{garbage}").unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let response: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(response["error"]["kind"], "invalid", "{garbage}: {line}");
    }
    // A well-formed request on the same connection still works.
    writeln!(conn, "{}", json!({"v": 1, "request": {"op": "collections"}})).unwrap();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), json!({"ok": []}));

    // A client that vanishes mid-request, and one that opens a stream and vanishes.
    let mut half = UnixStream::connect(&socket).unwrap();
    half.write_all(b"{\"v\":1,\"request\":{\"op\":\"upse").unwrap();
    drop(half);
    let mut watcher = UnixStream::connect(&socket).unwrap();
    writeln!(
        watcher,
        "{}",
        json!({"v": 1, "request": {"op": "observe", "collection": "c", "filter": "all", "start": {"now": {"initial": true}}}})
    )
    .unwrap();
    drop(watcher);

    node.ok(&["upsert", "c", "after", "--set", "ok=true"]);
    assert_eq!(node.json(&["query", "c"]), json!([{"id": "after", "ok": true}]));
    assert_eq!(node.json(&["sync", "status", "-o", "json"])["running"], true);
    node.ok(&["sync", "stop"]);
}

#[test]
fn stop_returns_within_its_timeout_and_a_malformed_timeout_is_a_usage_error() {
    let node = Node::loopback();
    node.ok(&["sync", "start"]);
    let started = Instant::now();
    node.ok(&["sync", "stop", "--timeout", "20s"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    node.peat(&["sync", "stop", "--timeout", "banana"]).assert().code(2);
}
