//! Formations across real hosts: nodes on hosts made of network namespaces ([`crate::hosts`]),
//! each on the default listen address `0.0.0.0:7890` unless a scenario says otherwise, joined
//! by tickets, finding each other by member exchange, mDNS or a relay, and surviving cut
//! links, restarts and blocks. Every wait is for an event with a deadline (`sync wait`,
//! `watch --count --timeout`), or a polled state with a deadline where no event exists.

use std::time::Duration;

use crate::harness::{Node, Watch, wait_until};
use crate::hosts::{Host, Lan, Relay, Split};
use serde_json::Value;

/// `peat init -o json ARGS...` on a host: the node and its join ticket.
fn init(host: &Host, args: &[&str]) -> (Node, String) {
    let node = host.node();
    let out = node.json(&[&["init", "-o", "json"], args].concat());
    let ticket = out["ticket"].as_str().unwrap_or_else(|| panic!("init printed no ticket: {out}"));
    (node, ticket.to_string())
}

/// What `peat peers -o json` on `node` says about the peer `id`.
fn peer(node: &Node, id: &str) -> Option<Value> {
    node.json(&["peers", "-o", "json"]).as_array().unwrap().iter().find(|p| p["id"] == id).cloned()
}

/// Every document of `units`, removed ones included: what must match across nodes.
fn state(node: &Node) -> Value {
    node.all("units")
}

fn ndjson(range: std::ops::Range<usize>, side: &str) -> String {
    range.map(|i| format!("{{\"id\":\"u{i}\",\"n\":{i},\"side\":\"{side}\"}}\n")).collect()
}

/// `peat watch units --where 'id == ID' --count 1 --timeout D` running on `node`: it ends with
/// exit 0 once the document is there (already, or when it arrives), exit 1 at the deadline.
fn watch_for(node: &Node, id: &str, timeout: &str) -> Watch {
    let filter = format!("id == {id}");
    Watch::start(node, &["units", "--where", &filter, "--count", "1", "--timeout", timeout, "-o", "ndjson"])
}

/// Asserts that the watch saw document `id` arrive.
fn arrived(watch: Watch, id: &str, what: &str) {
    let (code, events) = watch.finish();
    assert_eq!(code, Some(0), "{what}: the document never arrived");
    assert_eq!(events[0]["id"], id, "{what}: {events:?}");
}

/// Shows the end of each node's `node.log` under a failure of the test.
struct LogsOnFailure<'a>(Vec<(&'static str, &'a Node)>);

impl Drop for LogsOnFailure<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for (name, node) in &self.0 {
                eprintln!("--- node.log of {name} (last lines)\n{}", node.log_tail(12));
            }
        }
    }
}

/// `peat -v sync start ARGS...`: the node logs its connections to `node.log`.
fn start(node: &Node, args: &[&str]) {
    node.start_with(&[&["-v"], args].concat());
}

fn sync_wait(nodes: &[&Node]) {
    for node in nodes {
        node.ok(&["sync", "wait", "--timeout", "30s"]);
    }
}

#[test]
fn one_ticket_joins_the_whole_formation_and_writes_on_every_host_converge() {
    let Some(lan) = Lan::new(3) else { return };
    let (a, ticket_a) = init(&lan.hosts[0], &[]);
    let (b, ticket_b) = init(&lan.hosts[1], &["--join", &ticket_a]);
    let (c, _) = init(&lan.hosts[2], &["--join", &ticket_b]);
    let _logs = LogsOnFailure(vec![("A", &a), ("B", &b), ("C", &c)]);
    // The tickets carry the hosts' interface addresses and the default port.
    for (ticket, host) in [(&ticket_a, &lan.hosts[0]), (&ticket_b, &lan.hosts[1])] {
        let addrs = peat::home::Ticket::decode(ticket).unwrap().addrs;
        assert!(addrs.contains(&host.addr(7890)), "the ticket of {} carries {addrs:?}", host.ip);
    }
    let (a_id, b_id) = (a.id(), b.id());
    let config = std::fs::read_to_string(c.dir.join("config.toml")).unwrap();
    assert!(config.contains(&b_id) && !config.contains(&a_id), "C knows only B: {config}");
    for node in [&a, &b, &c] {
        start(node, &[]);
    }

    // C learns A from B and connects to it.
    wait_until("C to connect to A", Duration::from_secs(20), || {
        peer(&c, &a_id).is_some_and(|p| p["connected"] == true)
    });
    let a_on_c = peer(&c, &a_id).unwrap();
    // Either C learned A from B, or A learned C from B and dialed first: both are exchange.
    assert!(
        a_on_c["source"] == "exchange" || a_on_c["source"] == "incoming",
        "C found A through a member, not its config: {a_on_c}"
    );

    a.ok(&["upsert", "units", "from-a", "--set", "host=a"]);
    b.ok(&["upsert", "units", "from-b", "--set", "host=b"]);
    c.ok_with_stdin(&["upsert", "units"], &ndjson(0..20, "c"));
    c.ok(&["remove", "units", "u0"]);
    sync_wait(&[&a, &b, &c]);
    let all = state(&a);
    assert_eq!(all.as_array().unwrap().len(), 22, "{all}");
    assert_eq!(all, state(&b));
    assert_eq!(all, state(&c));
}

#[test]
fn a_cut_link_heals_and_writes_from_both_sides_converge() {
    let Some(lan) = Lan::new(3) else { return };
    let (a, ticket) = init(&lan.hosts[0], &[]);
    let (b, _) = init(&lan.hosts[1], &["--join", &ticket]);
    let (c, _) = init(&lan.hosts[2], &["--join", &ticket]);
    let _logs = LogsOnFailure(vec![("A", &a), ("B", &b), ("C", &c)]);
    for node in [&a, &b, &c] {
        start(node, &[]);
    }
    a.ok_with_stdin(&["upsert", "units"], &ndjson(0..50, "shared"));
    sync_wait(&[&b, &c, &a]);
    assert_eq!(state(&c), state(&a));

    lan.cut(2);
    // The link is really down: a write on A does not reach C.
    let watch = Watch::start(
        &c,
        &["units", "--where", "side == a", "--no-initial", "--count", "1", "--timeout", "2s", "-o", "ndjson"],
    );
    a.ok_with_stdin(&["upsert", "units"], &ndjson(50..70, "a"));
    a.ok(&["upsert", "units", "u1", "--set", "by_a=1"]);
    a.ok(&["remove", "units", "u2"]);
    let (code, events) = watch.finish();
    assert_eq!((code, events.len()), (Some(1), 0), "a write crossed the cut link: {events:?}");
    c.ok_with_stdin(&["upsert", "units"], &ndjson(70..90, "c"));
    c.ok(&["upsert", "units", "u1", "--set", "by_c=1"]);
    c.ok(&["remove", "units", "u3"]);

    lan.heal(2);
    sync_wait(&[&c, &a, &b]);
    let all = state(&a);
    assert_eq!(all.as_array().unwrap().len(), 90);
    assert_eq!(all, state(&b));
    assert_eq!(all, state(&c));
    let u1 = &c.json(&["query", "units", "--where", "id == u1", "-o", "json"])[0];
    assert_eq!((u1["by_a"].as_i64(), u1["by_c"].as_i64()), (Some(1), Some(1)), "{u1}");
    assert_eq!(c.json(&["query", "units", "--deleted-only", "--count", "-o", "json"]), 2);
}

#[test]
fn a_dead_link_is_noticed_and_a_write_crosses_within_seconds_of_its_return() {
    let Some(lan) = Lan::new(2) else { return };
    let (a, ticket) = init(&lan.hosts[0], &[]);
    let (b, _) = init(&lan.hosts[1], &["--join", &ticket]);
    let _logs = LogsOnFailure(vec![("A", &a), ("B", &b)]);
    start(&a, &[]);
    start(&b, &[]);
    sync_wait(&[&b, &a]);
    let a_id = a.id();

    lan.cut(1);
    // Keep-alives find the dead path: both sides drop the connection (no one says so).
    wait_until("B to notice the link is dead", Duration::from_secs(20), || {
        peer(&b, &a_id).is_some_and(|p| p["connected"] == false)
    });
    lan.heal(1);
    let watch = watch_for(&b, "after-heal", "6s");
    a.ok(&["upsert", "units", "after-heal", "--set", "v=1"]);
    arrived(watch, "after-heal", "a write on A reaches B within seconds of the link's return");
}

#[test]
fn a_node_restarted_on_another_port_is_found_again() {
    let Some(lan) = Lan::new(2) else { return };
    let (a, ticket) = init(&lan.hosts[0], &[]);
    let (b, _) = init(&lan.hosts[1], &["--join", &ticket]);
    let _logs = LogsOnFailure(vec![("A", &a), ("B", &b)]);
    start(&a, &[]);
    start(&b, &[]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);

    // B knows A only at 10.77.0.1:7890; A comes back on 7891.
    a.stop();
    start(&a, &["--listen", "0.0.0.0:7891"]);
    let listen = a.json(&["sync", "status", "-o", "json"])["listen"].clone();
    assert!(listen.to_string().contains(":7891"), "{listen}");
    let watch = watch_for(&a, "after-restart", "30s");
    b.ok(&["upsert", "units", "after-restart", "--set", "from=b"]);
    arrived(watch, "after-restart", "a write on B reaches A on its new port");
    let a_on_b = peer(&b, &a.id()).expect("B still knows A");
    assert!(
        a_on_b["addrs"].to_string().contains(&lan.hosts[0].addr(7891).to_string()),
        "B learned A's new address from the connection: {a_on_b}"
    );
}

#[test]
fn mdns_finds_a_member_with_no_configured_peers() {
    let Some(lan) = Lan::new(2) else { return };
    let app_id = format!("mdns-{}", std::process::id());
    let (a, _) = init(&lan.hosts[0], &["--app-id", &app_id]);
    let (b, _) = init(&lan.hosts[1], &["--app-id", &app_id]);
    std::fs::copy(a.dir.join("formation.key"), b.dir.join("formation.key")).unwrap();
    let _logs = LogsOnFailure(vec![("A", &a), ("B", &b)]);
    for node in [&a, &b] {
        assert_eq!(node.json(&["peers", "-o", "json"]), Value::Array(vec![]), "no configured peers");
        start(node, &["--mdns"]);
    }
    let watch = watch_for(&b, "found", "30s");
    a.ok(&["upsert", "units", "found", "--set", "via=mdns"]);
    arrived(watch, "found", "a write on A reaches B found by mDNS");
}

#[test]
fn hosts_with_no_route_to_each_other_sync_through_a_relay() {
    let Some(net) = Split::new() else { return };
    assert!(!net.left.routes_to(net.right.ip) && !net.right.routes_to(net.left.ip), "the sides are apart");
    assert!(net.left.routes_to(net.relay_ip) && net.right.routes_to(net.relay_ip));
    let relay = Relay::start(&net.relay, net.relay_ip);
    for side in [&net.left, &net.right] {
        relay.healthy_from(side).unwrap_or_else(|e| panic!("the relay from {}: {e}", side.ip));
    }
    let (a, ticket) = init(&net.left, &[]);
    let (b, _) = init(&net.right, &["--join", &ticket]);
    let _logs = LogsOnFailure(vec![("A", &a), ("B", &b)]);
    start(&a, &["--relay", &relay.url]);
    start(&b, &["--relay", &relay.url]);
    let config = std::fs::read_to_string(a.dir.join("config.toml")).unwrap();
    assert!(config.contains(&relay.url), "--relay is saved in config.toml: {config}");

    let watch = watch_for(&b, "over-relay", "30s");
    a.ok(&["upsert", "units", "over-relay", "--set", "from=a"]);
    arrived(watch, "over-relay", "a write on A reaches B through the relay");
    let a_on_b = peer(&b, &a.id()).expect("B knows A");
    assert_eq!(
        (&a_on_b["connected"], &a_on_b["relayed"]),
        (&Value::Bool(true), &Value::Bool(true)),
        "{a_on_b}"
    );
}

#[test]
fn a_removed_peer_is_blocked_until_added_again() {
    let Some(lan) = Lan::new(2) else { return };
    let (a, ticket) = init(&lan.hosts[0], &[]);
    let (c, c_ticket) = init(&lan.hosts[1], &["--join", &ticket]);
    let _logs = LogsOnFailure(vec![("A", &a), ("C", &c)]);
    start(&a, &[]);
    start(&c, &[]);
    c.ok(&["sync", "wait", "--timeout", "20s"]);
    let (a_id, c_id) = (a.id(), c.id());

    a.ok(&["peers", "remove", &c_id]);
    wait_until("C to see A refuse it", Duration::from_secs(20), || {
        peer(&c, &a_id).is_some_and(|p| {
            p["connected"] == false
                && p["last_error"].as_str().is_some_and(|e| e.to_lowercase().contains("refused"))
        })
    });
    let watch =
        Watch::start(&c, &["units", "--no-initial", "--count", "1", "--timeout", "3s", "-o", "ndjson"]);
    a.ok(&["upsert", "units", "secret", "--set", "v=1"]);
    let (code, events) = watch.finish();
    assert_eq!((code, events.len()), (Some(1), 0), "a blocked peer got a write: {events:?}");
    assert_eq!(state(&c), Value::Array(vec![]));

    // Added again, it is unblocked and catches up.
    let watch = watch_for(&c, "secret", "20s");
    a.ok(&["peers", "add", &c_ticket]);
    arrived(watch, "secret", "the write reaches C once A adds it again");
}
