//! Sync between separate `peat` node processes over Iroh on 127.0.0.1. Every wait is for an
//! event with a deadline (`sync wait`, `--wait-for-sync`, `watch --count --timeout`), never a
//! sleep.

use crate::harness::{Node, Watch};
use predicates::prelude::*;
use serde_json::Value;

/// A first node of a new formation, listening on a random loopback port, not started.
fn first() -> Node {
    Node::loopback()
}

/// Every document of `units` on a node, removed ones included: what must match across nodes.
fn state(node: &Node) -> Value {
    node.all("units")
}

fn ndjson(range: std::ops::Range<usize>, tag: &str) -> String {
    range
        .map(|i| format!("{{\"id\":\"u{i}\",\"n\":{i},\"tag\":\"{tag}\",\"pos\":{{\"lat\":{i}.5}}}}\n"))
        .collect()
}

/// `peat watch units --where 'id == ID' --count N --timeout 20s` running in the background:
/// returns once it has printed the document (as an `added` event: initial, or when the
/// document arrives after the watch began), so the watch is subscribed and the document here.
fn watch_doc(node: &Node, id: &str, count: u32) -> Watch {
    let filter = format!("id == {id}");
    let count = count.to_string();
    let mut watch = Watch::start(
        node,
        &["units", "--where", &filter, "--timeout", "20s", "--output", "ndjson", "--count", &count],
    );
    let event = watch.next_event();
    assert_eq!(event["event"], "added", "{event}");
    watch
}

/// Three nodes of one formation, running, not yet linked.
fn three_started_nodes() -> (Node, Node, Node) {
    let a = first();
    let (b, c) = (Node::joining(&a), Node::joining(&a));
    for node in [&a, &b, &c] {
        node.start();
    }
    (a, b, c)
}

#[test]
fn two_nodes_linked_by_ticket_converge_removals_reach_watch_and_peers_reports_the_link() {
    let a = first();
    let b = Node::joining(&a);
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..300, "before"));
    a.start();
    b.start();
    // The running node's ticket carries the port it is really bound to.
    let ticket =
        a.json(&["sync", "status", "--show-ticket", "-o", "json"])["ticket"].as_str().unwrap().to_string();
    b.ok(&["peers", "add", &ticket]);
    a.ok_with_stdin(&["upsert", "units", "--wait-for-sync", "20s"], &ndjson(300..310, "live"));
    b.ok(&["upsert", "units", "b1", "--set", "from=b", "--wait-for-sync"]);
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    assert_eq!(state(&a).as_array().unwrap().len(), 311);
    assert_eq!(state(&a), state(&b));

    // A removal on A shows up in watch on B.
    let mut watch = watch_doc(&b, "u7", 2);
    a.ok(&["remove", "units", "u7", "--wait-for-sync"]);
    let event = watch.next_event();
    assert_eq!((event["event"].as_str(), event["id"].as_str()), (Some("removed"), Some("u7")));
    let a_id = a.json(&["status", "-o", "json"])["node_id"].clone();
    assert_eq!(event["origin"], a_id, "the event names the peer the change came from");
    assert_eq!(watch.finish().0, Some(0), "the watch exits 0 after --count events");
    assert_eq!(b.json(&["query", "units", "--deleted-only", "--output", "json"])[0]["id"], "u7");

    let peers = b.json(&["peers", "--output", "json"]);
    assert_eq!(peers[0]["connected"], true);
    assert_eq!(peers[0]["relayed"], false);
    assert!(peers[0]["rtt_ms"].as_f64().is_some());
    assert!(peers[0]["docs_received"].as_u64().unwrap() >= 311, "{peers}");
}

#[test]
fn concurrent_edits_of_different_fields_both_survive() {
    let a = first();
    let b = Node::joining(&a);
    a.start();
    b.start();
    b.ok(&["peers", "add", &a.addr()]);
    a.ok(&["upsert", "units", "x", "--set", "name=Alpha", "--set", "speed=1", "--wait-for-sync"]);
    // Cut B off, edit different fields of the same document on each side, heal.
    b.stop();
    a.ok(&["upsert", "units", "x", "--set", "speed=9"]);
    b.ok(&["upsert", "units", "x", "--set", "name=Bravo"]);
    b.start();
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    let doc = &state(&a)[0];
    assert_eq!((doc["name"].as_str(), doc["speed"].as_i64()), (Some("Bravo"), Some(9)), "{doc}");
    assert_eq!(state(&a), state(&b));
}

#[test]
fn three_node_line_forwards_writes_and_removals() {
    let (a, b, c) = three_started_nodes();
    b.ok(&["peers", "add", &a.addr()]);
    c.ok(&["peers", "add", &b.addr()]);
    // C has no link to A: a write on A reaches it through B.
    a.ok(&["upsert", "units", "far", "--set", "hops=2"]);
    let mut watch = watch_doc(&c, "far", 2);
    a.ok(&["remove", "units", "far"]);
    let event = watch.next_event();
    assert_eq!(event["event"], "removed");
    assert_eq!(watch.finish().0, Some(0), "the watch exits 0 after --count events");
    // And back: a write on C reaches A.
    c.ok_with_stdin(&["upsert", "units"], &ndjson(0..50, "c"));
    c.ok(&["sync", "wait", "--timeout", "20s"]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    assert_eq!(state(&a), state(&c));
    assert_eq!(state(&a).as_array().unwrap().len(), 51);
}

#[test]
fn partition_then_heal_gives_identical_state() {
    let (a, b, c) = three_started_nodes();
    b.ok(&["peers", "add", &a.addr()]);
    c.ok(&["peers", "add", &a.addr()]);
    a.ok_with_stdin(&["upsert", "units", "--wait-for-sync"], &ndjson(0..100, "shared"));
    // C drops out; both sides keep writing, removing and editing the same documents.
    c.stop();
    a.ok_with_stdin(&["upsert", "units"], &ndjson(100..150, "a-side"));
    a.ok(&["upsert", "units", "u1", "--set", "side=a"]);
    a.ok(&["remove", "units", "u2"]);
    c.ok_with_stdin(&["upsert", "units"], &ndjson(150..200, "c-side"));
    c.ok(&["upsert", "units", "u1", "--set", "other=c"]);
    c.ok(&["remove", "units", "u3"]);
    c.start();
    c.ok(&["sync", "wait", "--timeout", "20s"]);
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    let all = state(&a);
    assert_eq!(all.as_array().unwrap().len(), 200);
    assert_eq!(all, state(&b));
    assert_eq!(all, state(&c));
    let u1 = c.json(&["query", "units", "--where", "id == u1", "--output", "json"]);
    assert_eq!((u1[0]["side"].as_str(), u1[0]["other"].as_str()), (Some("a"), Some("c")));
    assert_eq!(c.json(&["query", "units", "--deleted-only", "--count", "--output", "json"]), 2);
}

#[test]
fn wrong_formation_key_is_refused_on_both_sides() {
    let a = first();
    a.ok(&["upsert", "units", "secret", "--set", "x=1"]);
    a.start();
    let stranger = first(); // its own formation key
    stranger.start();
    stranger
        .peat(&["peers", "add", &a.addr()])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("formation key mismatch"));
    stranger.peat(&["sync", "wait", "--timeout", "1s"]).assert().code(1);
    assert_eq!(stranger.all("units"), Value::Array(vec![]), "a refused node never receives a document");
    let log = std::fs::read_to_string(a.dir.join("node.log")).unwrap();
    assert!(log.contains("formation key mismatch"), "the node logs the refusal: {log}");
    // A was not harmed: it still serves.
    a.ok(&["sync", "status"]);
}

#[test]
fn restart_keeps_peers_and_catches_up_incrementally() {
    let a = first();
    let b = Node::joining(&a);
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..500, "v1"));
    a.start();
    b.start();
    b.ok(&["peers", "add", &a.addr()]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    b.stop();
    a.ok(&["upsert", "units", "u42", "--set", "tag=v2"]);
    a.ok(&["upsert", "units", "new", "--set", "tag=v2"]);
    // The peer is remembered across the restart, and only what changed is pulled.
    let peers = b.json(&["peers", "--output", "json"]);
    assert_eq!(peers.as_array().unwrap().len(), 1);
    b.start();
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    assert_eq!(state(&a), state(&b));
    let peers = b.json(&["peers", "--output", "json"]);
    assert_eq!(peers[0]["docs_received"], 2, "incremental catch-up: {peers}");
}

#[test]
fn peers_add_and_remove_without_a_node_edit_the_config_and_bad_addresses_are_usage_errors() {
    let a = first();
    let id = a.json(&["status", "--output", "json"])["node_id"].as_str().unwrap().to_string();
    let b = Node::joining(&a);
    b.ok(&["peers", "add", &format!("{id}@127.0.0.1:9")]);
    let config = std::fs::read_to_string(b.dir.join("config.toml")).unwrap();
    assert!(config.contains(&format!("{id}@127.0.0.1:9")), "{config}");
    assert_eq!(b.json(&["peers", "--output", "json"])[0]["id"], id.as_str());
    b.peat(&["peers", "add", "not-an-address"]).assert().code(2);
    b.peat(&["peers", "add", "abc@127.0.0.1:1"]).assert().code(2);
    b.ok(&["peers", "remove", &id]);
    b.peat(&["peers", "remove", &id]).assert().code(3);
}

#[test]
fn sync_wait_without_a_running_node_exits_1() {
    // Without a running node there is nothing to wait for.
    let b = first();
    b.peat(&["sync", "wait", "--timeout", "1s"]).assert().code(1).stderr(predicate::str::contains("no node"));
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_from_a_peer_closes_only_that_connection() {
    use iroh::endpoint::{ConnectionError, presets};
    use peat::backend::automerge::net::wire;

    let a = first();
    a.ok(&["upsert", "units", "x", "--set", "v=1"]);
    a.start();
    let addr = a.addr();
    let (id, sock) = addr.split_once('@').unwrap();
    let target =
        iroh::EndpointAddr::from_parts(id.parse().unwrap(), [iroh::TransportAddr::Ip(sock.parse().unwrap())]);
    let ep = iroh::Endpoint::builder(presets::Minimal)
        .relay_mode(iroh::RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap();
    let oversized = [0xff, 0xff, 0xff, 0xff, wire::VERSION];
    let wrong_version = [0, 0, 0, 2, 99, 0];
    let undecodable = [0, 0, 0, 4, wire::VERSION, 0xff, 0xff, 0xff];
    for garbage in [&oversized[..], &wrong_version, &undecodable] {
        let conn = ep.connect(target.clone(), wire::ALPN).await.unwrap();
        let (mut send, _recv) = conn.open_bi().await.unwrap();
        send.write_all(garbage).await.unwrap();
        let closed = tokio::time::timeout(std::time::Duration::from_secs(10), conn.closed()).await;
        assert!(
            matches!(closed, Ok(ConnectionError::ApplicationClosed(_))),
            "the node closes a connection that sends {garbage:?}: {closed:?}"
        );
    }
    ep.close().await;
    // The node lives on and syncs with a proper peer.
    let b = Node::joining(&a);
    b.start();
    b.ok(&["peers", "add", &addr]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    a.ok(&["sync", "wait", "--timeout", "20s"]);
    assert_eq!(state(&a), state(&b));
}

#[test]
fn an_unreachable_peer_is_kept_and_sync_wait_and_wait_for_sync_exit_1_saying_so() {
    let a = first();
    let id = a.json(&["status", "--output", "json"])["node_id"].as_str().unwrap().to_string();
    let b = Node::joining(&a);
    b.start();
    // Nothing listens there: the peer is remembered, and the node keeps trying.
    b.peat(&["peers", "add", &format!("{id}@127.0.0.1:9")])
        .assert()
        .success()
        .stderr(predicate::str::contains("not reachable"));
    b.peat(&["sync", "wait", "--timeout", "1s"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no peer is reachable"));
    b.peat(&["upsert", "units", "x", "--set", "v=1", "--wait-for-sync", "1s"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("x"));
}

/// Documents in `units` on a node, as `query --count` says.
fn count(node: &Node) -> u64 {
    node.json(&["query", "units", "--count", "--output", "json"]).as_u64().expect("a count")
}

#[test]
fn a_fresh_node_s_sync_wait_returns_only_once_it_holds_every_document_of_its_peer() {
    let a = first();
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..5000, "seed"));
    a.start();
    let b = Node::joining(&a);
    b.ok(&["peers", "add", &a.addr()]); // remembered: B's node is not running yet
    b.start();
    // Both ways by default: B holds everything A had when the wait began.
    b.ok(&["sync", "wait", "--timeout", "30s"]);
    assert_eq!(count(&b), 5000, "sync wait returned before B held A's documents");
    // What B merged entered its own log: A acknowledges it (it holds those changes already).
    b.ok(&["sync", "wait", "--push", "--timeout", "20s"]);
    let peers = b.json(&["peers", "--output", "json"]);
    let behind = |p: &Value| (p["peer_behind"].as_u64(), p["we_behind"].as_u64());
    assert_eq!(behind(&peers[0]), (Some(0), Some(0)), "{peers}");
    let status = b.json(&["sync", "status", "--output", "json"]);
    assert_eq!(status["peers"][0]["id"], peers[0]["id"]);
    assert_eq!(behind(&status["peers"][0]), (Some(0), Some(0)), "{status}");
    // A disconnected peer has no counts: nothing is known of how far behind it is.
    b.stop();
    let peers = b.json(&["peers", "--output", "json"]);
    assert_eq!(behind(&peers[0]), (None, None), "{peers}");
}

#[test]
fn sync_wait_pull_and_push_each_wait_for_their_own_direction() {
    let a = first();
    let b = Node::joining(&a);
    a.start();
    b.start();
    b.ok(&["peers", "add", &a.addr()]);
    // --pull: B holds what A had when the wait began, written just before.
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..2000, "a"));
    b.ok(&["sync", "wait", "--pull", "--timeout", "20s"]);
    assert_eq!(count(&b), 2000, "--pull returned before B held A's documents");
    // --push: A holds what B wrote.
    b.ok_with_stdin(&["upsert", "units"], &ndjson(2000..4000, "b"));
    b.ok(&["sync", "wait", "--push", "--timeout", "20s"]);
    assert_eq!(count(&a), 4000, "--push returned before A held B's documents");
    let peers = a.json(&["peers", "--output", "json"]);
    assert!(peers[0]["peer_behind"].as_u64().is_some() && peers[0]["connected"] == true, "{peers}");
}

/// Resumes a process stopped with SIGSTOP when dropped, even if the test fails.
struct Stopped(i32);

impl Drop for Stopped {
    fn drop(&mut self) {
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

#[test]
fn sync_wait_pull_times_out_naming_a_peer_that_does_not_answer() {
    let a = first();
    let b = Node::joining(&a);
    a.start();
    b.start();
    b.ok(&["peers", "add", &a.addr()]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    let pid = a.json(&["sync", "status", "--output", "json"])["pid"].as_i64().unwrap() as i32;
    let id = a.json(&["status", "--output", "json"])["node_id"].as_str().unwrap().to_string();
    // A is frozen: still connected, but it cannot say where its log ends.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let _resume = Stopped(pid);
    b.peat(&["sync", "wait", "--pull", "--timeout", "1s"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("peer {}", &id[..10])))
        .stderr(predicate::str::contains("did not say where its log ends"));
}
