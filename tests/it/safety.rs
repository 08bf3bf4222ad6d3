//! Safe by default: commands never deadlock on each other without a node, reads never create
//! a node, `init --force` never replaces a running one, and a query that finds nothing says
//! why it might have.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{Node, wait_until};
use predicates::prelude::*;
use serde_json::Value;

/// NDJSON of `n` documents of about 100 bytes: together far more than a pipe holds.
fn units(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!("{{\"id\":\"u{i}\",\"speed\":{i},\"name\":\"unit number {i} of the convoy, padded\"}}\n")
        })
        .collect()
}

#[test]
fn the_readme_pipeline_without_a_node_succeeds_20_times_in_a_row() {
    let node = Node::new();
    node.ok_with_stdin(&["upsert", "units"], &units(3000));
    for round in 0..20 {
        let started = Instant::now();
        // $ peat query units -o ndjson | peat upsert units
        let run = node.sh("peat query units -o ndjson | peat upsert units");
        assert_eq!(run.code, Some(0), "round {round}: {}", run.stderr);
        let ids: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(ids.as_array().unwrap().len(), 3000, "round {round}");
        assert!(!run.stderr.contains("waiting"), "round {round}: {}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(8), "round {round} took {:?}", started.elapsed());
    }
    assert_eq!(node.ok(&["query", "units", "--count"]), "3000\n");
}

#[test]
fn an_upsert_of_empty_input_fails_and_writes_nothing() {
    let node = Node::new();
    // $ printf '' | peat upsert units
    node.peat(&["upsert", "units"])
        .write_stdin("")
        .assert()
        .code(2)
        .stdout("")
        .stderr("peat: error: nothing to write: stdin held no documents\n");
    assert!(!node.dir.exists(), "no input, no node");
}

#[test]
fn a_command_waiting_for_the_store_says_so_and_a_holder_that_never_lets_go_is_refused_with_exit_4() {
    let node = Node::loopback();
    // A live feed into `peat upsert`: it holds the store while its input stays open.
    let mut feed =
        node.spawn(&["upsert", "units"]).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let mut input = feed.stdin.take().unwrap();
    writeln!(input, "{{\"id\":\"live\",\"speed\":1}}").unwrap();
    let holder = feed.id().to_string();
    wait_until("the feed to take the store", Duration::from_secs(10), || {
        std::fs::read_to_string(node.dir.join("node.lock")).is_ok_and(|pid| pid.trim() == holder)
    });

    // $ peat query units
    let run = node.run(&["query", "units"]);
    assert_eq!(run.code, Some(4), "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(&format!(
            "peat: waiting for {}: another peat command (pid {holder}) has its store open",
            node.dir.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("locked by another peat process (pid {holder}) that does not answer; start the node (`peat sync start`)")),
        "{}",
        run.stderr
    );

    drop(input);
    assert!(feed.wait().unwrap().success());
    assert_eq!(node.ok(&["query", "units", "--count"]), "1\n");
}

#[test]
fn reads_on_a_directory_without_a_node_exit_3_and_create_nothing_writes_create_one_and_say_so() {
    let node = Node::new();
    let none = format!("peat: error: no node in {} (create one with `peat init`)\n", node.dir.display());
    for read in [
        &["status"][..],
        &["query", "units"],
        &["get", "units", "u1"],
        &["remove", "units", "u1"],
        &["peers"],
        &["peers", "remove", "abc"],
        &["sync", "status"],
        &["sync", "stop"],
        &["sync", "wait", "--timeout", "1s"],
        &["watch", "units", "--timeout", "1s"],
    ] {
        node.peat(read).assert().code(3).stdout("").stderr(none.clone());
        assert!(!node.dir.exists(), "`peat {}` created the directory", read.join(" "));
    }

    // $ peat upsert units u1 --set speed=4
    node.peat(&["upsert", "units", "u1", "--set", "speed=4"]).assert().success().stderr(
        predicate::str::starts_with(format!("peat: initialised a new node in {}", node.dir.display())),
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |f: &str| std::fs::metadata(node.dir.join(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(""), 0o700);
    assert_eq!((mode("identity.key"), mode("formation.key")), (0o600, 0o600));
    node.peat(&["status"]).assert().success().stderr("");
}

#[test]
fn init_force_is_refused_while_the_node_runs_and_asks_first_at_a_terminal() {
    let node = Node::loopback();
    let id = node.json(&["status"])["node_id"].clone();
    node.start();
    // $ peat init --force --app-id x
    node.peat(&["init", "--force", "--app-id", "x"]).assert().code(4).stderr(
        predicate::str::contains("is running or in use").and(predicate::str::contains("peat sync stop")),
    );
    assert_eq!(node.json(&["status"])["node_id"], id);
    assert_eq!(node.json(&["sync", "status", "-o", "json"])["node_id"], id, "status and sync status agree");
    node.stop();

    // At a terminal it asks; anything but yes changes nothing.
    let (code, screen) = node.at_terminal(100, &["init", "--force", "--app-id", "x"], "n\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains(&format!("peat: replace node {}", id.as_str().unwrap())) && screen.contains("[y/N]"),
        "{screen}"
    );
    assert!(screen.contains("not confirmed: nothing was changed"), "{screen}");
    assert_eq!(node.json(&["status"])["node_id"], id);

    // --yes skips the question.
    let (code, screen) = node.at_terminal(100, &["init", "--force", "--yes", "--app-id", "x"], "");
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("[y/N]"), "{screen}");
    assert_ne!(node.json(&["status"])["node_id"], id, "new keys");
}

#[test]
fn a_query_that_finds_nothing_hints_why_on_stderr_with_the_result_unchanged() {
    let node = Node::new();
    node.ok(&["upsert", "units", "u1", "--set", "speed=4"]);
    node.ok(&["upsert", "users", "ann", "--set", "role=admin"]);
    node.ok(&["upsert", "alerts", "a1", "--set", "level=3"]);

    // $ peat query unit
    node.peat(&["query", "unit"])
        .assert()
        .success()
        .stdout("[]\n")
        .stderr("peat: no collection 'unit' (collections: units, users, alerts)\n");
    // $ peat query units --where 'sped > 150'
    node.peat(&["query", "units", "--where", "sped > 150", "--count"])
        .assert()
        .success()
        .stdout("0\n")
        .stderr("peat: no document in 'units' has a field 'sped'\n");
    // A field that exists, but nothing matches: no hint.
    node.peat(&["query", "units", "--where", "speed > 150"]).assert().success().stdout("[]\n").stderr("");
    // $ peat get unit u1
    node.peat(&["get", "unit", "u1"])
        .assert()
        .code(3)
        .stdout("[]\n")
        .stderr(predicate::str::contains("no collection 'unit' (collections: units,"));
}

#[test]
fn get_prints_documents_in_the_order_given_and_exits_3_when_one_is_missing() {
    let node = Node::new();
    node.ok_with_stdin(&["upsert", "units"], &units(3));
    node.ok(&["remove", "units", "u1"]);
    let out = node.json(&["get", "units", "u2", "u0"]);
    assert_eq!(out[0]["id"], "u2");
    assert_eq!(out[1]["id"], "u0");
    node.peat(&["get", "units", "u2", "u1", "nope"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("\"u2\""))
        .stderr(predicate::str::contains(
            "2 of 3 ids not found: document 'u1' in 'units' was removed; no document 'nope' in 'units'",
        ));
}

#[test]
fn quiet_silences_messages_but_not_data_or_errors() {
    let node = Node::new();
    // $ peat -q upsert units u1 --set speed=1     (creates the node without a word)
    node.peat(&["-q", "upsert", "units", "u1", "--set", "speed=1"]).assert().success().stderr("");
    node.peat(&["--quiet", "upsert", "units"]).write_stdin(units(50)).assert().success().stderr("");
    node.peat(&["query", "unit", "--quiet"]).assert().success().stdout("[]\n").stderr("");
    node.peat(&["-q", "get", "units", "nope"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("peat: error:"));
}
