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
