//! The node as a service: its log (`peat logs`, levels from config.toml, SIGHUP) and the
//! systemd unit.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::Node;

#[test]
fn the_node_logs_at_its_configured_level_and_sighup_changes_it_while_it_runs() {
    let a = Node::loopback();
    a.start();
    let pid = a.json(&["sync", "status", "-o", "json"])["pid"].as_u64().unwrap().to_string();
    assert!(a.ok(&["logs", "-n", "5"]).contains("started: peat node"), "info by default");

    // `-n 50`: the reload line is shown whether it lands before or after `logs -f` opens the file.
    let mut follow = a.spawn(&["logs", "-f", "-n", "50"]).stdout(Stdio::piped()).spawn().unwrap();
    let lines = BufReader::new(follow.stdout.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || lines.map_while(Result::ok).try_for_each(|l| tx.send(l)));
    let config = a.dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("log_level = \"info\"", "log_level = \"warn\"")).unwrap();
    let hup = std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let shown =
        std::iter::from_fn(|| rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok())
            .any(|line| line.contains("SIGHUP: reloading log level 'warn'"));
    let _ = follow.kill();
    let _ = follow.wait();
    assert!(shown, "logs -f shows the reload line within 20 s");

    assert_eq!(
        a.json(&["sync", "status", "-o", "json"])["pid"].as_u64().unwrap().to_string(),
        pid,
        "still running"
    );
    a.stop();
    let log = std::fs::read_to_string(a.dir.join("node.log")).unwrap();
    let after = &log[log.find("reloading log level").unwrap()..];
    assert!(!after.contains("stopping"), "info lines are gone at warn: {after}");
}

#[test]
fn sync_unit_prints_a_hardened_systemd_unit_for_the_directory() {
    let a = Node::loopback();
    let unit = a.ok(&["sync", "unit"]);
    let dir = a.dir.canonicalize().unwrap();
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_peat")).canonicalize().unwrap();
    let exec = format!("ExecStart={} --dir {} sync start --foreground", exe.display(), dir.display());
    for line in
        [exec.as_str(), "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"]
    {
        assert!(unit.lines().any(|l| l == line), "no {line:?} in:\n{unit}");
    }
    assert!(unit.contains(&format!("ReadWritePaths={}", dir.display())));
    assert_eq!(Node::new().run(&["sync", "unit"]).code, Some(3), "no unit for a directory without a node");
}

fn log(node: &Node) -> String {
    std::fs::read_to_string(node.dir.join("node.log")).unwrap_or_default()
}

/// Whether `node` lists the peer `id` as connected.
fn connected(node: &Node, id: &str) -> bool {
    let peers = node.json(&["peers", "-o", "json"]);
    peers.as_array().unwrap().iter().any(|p| p["id"] == id && p["connected"] == true)
}

fn hup(node: &Node) {
    let pid = node.json(&["sync", "status", "-o", "json"])["pid"].as_u64().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
}

#[test]
fn node_log_tells_peers_connecting_and_leaving_with_the_reason_and_what_a_catch_up_moved() {
    let a = Node::loopback();
    let b = Node::joining(&a);
    a.ok_with_stdin(&["upsert", "units"], "{\"id\":\"u1\"}\n{\"id\":\"u2\"}\n{\"id\":\"u3\"}\n");
    a.start();
    b.start();
    let (id_a, id_b) = (a.id(), b.id());
    b.ok(&["peers", "add", &a.addr()]);
    b.ok(&["sync", "wait", "--timeout", "20s"]);
    b.stop();
    let left = format!("peer {id_b}: disconnected: ");
    crate::harness::wait_until("A to log B leaving", Duration::from_secs(20), || log(&a).contains(&left));
    let on_a = log(&a);
    assert!(on_a.contains(&format!("peer {id_b}: connected (accepted)")), "{on_a}");
    let reason = on_a[on_a.find(&left).unwrap() + left.len()..].lines().next().unwrap();
    assert!(reason.contains("node stopping"), "the reason B gave: {reason}");
    let on_b = log(&b);
    assert!(on_b.contains(&format!("peer {id_a}: connected (dialed)")), "{on_b}");
    assert!(
        on_b.contains(&format!("peer {id_a}: caught up: received 3 documents")),
        "a summary of the catch-up: {on_b}"
    );
}

#[test]
fn a_flood_of_refused_handshakes_logs_one_line_for_the_stranger_and_a_count() {
    let a = Node::loopback();
    a.start();
    let stranger = Node::loopback(); // another formation
    stranger.start();
    let id = stranger.id();
    let addr = a.addr();
    for _ in 0..12 {
        stranger.peat(&["peers", "add", &addr]).assert().code(4);
    }
    a.stop();
    let on_a = log(&a);
    let lines = on_a.lines().filter(|l| l.contains(&format!("peer {id}: refused"))).count();
    assert_eq!(lines, 1, "one line for the stranger's refusals: {on_a}");
    let counted = on_a.lines().find(|l| l.contains("more refused handshakes not logged")).expect(&on_a);
    let n: u64 = counted.split_whitespace().find_map(|w| w.parse().ok()).unwrap();
    assert!(n >= 11, "the other refusals are counted: {counted}");
}

#[test]
fn sighup_reloads_peers_from_config_toml_dialing_new_ones_and_keeping_connections_up() {
    let a = Node::loopback();
    let (b, c) = (Node::joining(&a), Node::joining(&a));
    for node in [&a, &b, &c] {
        node.start();
    }
    let (id_a, id_b, id_c) = (a.id(), b.id(), c.id());
    b.ok(&["peers", "add", &a.addr()]);
    assert!(connected(&b, &id_a));

    // C is added by hand to B's config.toml; SIGHUP makes B dial it.
    let config = b.dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let peers_line = text.lines().find(|l| l.starts_with("peers = [")).unwrap().to_string();
    let with_c = peers_line.replace("]", &format!(", \"{}\"]", c.addr()));
    std::fs::write(&config, text.replace(&peers_line, &with_c)).unwrap();
    hup(&b);
    crate::harness::wait_until("B to connect to C", Duration::from_secs(20), || connected(&b, &id_c));
    assert!(connected(&b, &id_a), "the link to A stays up");
    let on_b = log(&b);
    assert!(on_b.contains("SIGHUP: peers reloaded: 1 new dialed, 0 dropped"), "{on_b}");
    assert!(!on_b.contains(&format!("peer {id_a}: disconnected")), "A's connection was not dropped: {on_b}");
    assert_eq!(log(&a).matches(&format!("peer {id_b}: connected")).count(), 1, "one connection from B");

    // A leaves the list and is blocked: B drops it (and refuses its redials), C stays.
    let edited = text.replace(&peers_line, &format!("peers = [\"{}\"]", c.addr()));
    std::fs::write(&config, format!("{edited}blocked = [\"{id_a}\"]\n")).unwrap();
    hup(&b);
    crate::harness::wait_until("B to drop A", Duration::from_secs(20), || !connected(&b, &id_a));
    crate::harness::wait_until("B to log the reload", Duration::from_secs(20), || {
        log(&b).contains("SIGHUP: peers reloaded: 0 new dialed, 1 dropped")
    });
    assert!(connected(&b, &id_c), "the link to C stays up");
}
