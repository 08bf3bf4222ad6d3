//! The chaos suite: five nodes on hosts of a [`Field`], joined only through the link
//! simulator, under a seeded random schedule of rounds. In each round one fault (a partition,
//! a heal, a `kill -9` of a node, a restart of a killed one, or none) strikes while every node
//! takes concurrent upserts and removes through the CLI. At the end everything heals, the
//! nodes converge, and:
//!
//! - every node holds the same documents (`query --include-deleted -o ndjson`)
//! - every acknowledged write (exit 0) is there: a document only its owner writes holds the
//!   owner's last acknowledged change or a later attempted one; a document every node writes
//!   holds no change older, on the node that made it, than that node's last acknowledged one
//!
//! The seed is printed and named in every failure; `PEAT_CHAOS_SEED=N` replays its schedule
//! (the faults and writes; timing still differs), `PEAT_CHAOS_SECS` sets how long the rounds
//! go on. Shared with `benches/chaos.rs` (included there with `#[path]`), which runs longer.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

use crate::harness::{Node, pid_alive, wait_until};
use crate::hosts::Field;
use crate::linksim::LinkConfig;

const NODES: usize = 5;
/// Documents `o{node}-{k}` that only their node writes, per node.
const OWNED: usize = 6;
/// Documents `s{k}` that every node writes.
const SHARED: usize = 6;
/// At most this many nodes are down at once.
const MAX_DOWN: usize = 2;
/// How long the nodes have to converge once everything has healed.
const CONVERGE: Duration = Duration::from_secs(120);

/// Which run: the seed of its schedule and how long the rounds go on.
pub struct Settings {
    pub seed: u64,
    pub duration: Duration,
}

impl Settings {
    /// `PEAT_CHAOS_SEED` (else a new seed from the clock) and `PEAT_CHAOS_SECS` (else `secs`).
    pub fn from_env(secs: u64) -> Self {
        let number = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|s| s.parse::<u64>().unwrap_or_else(|_| panic!("{name}={s}: not a number")))
        };
        let clock =
            || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        Self {
            seed: number("PEAT_CHAOS_SEED").unwrap_or_else(clock),
            duration: Duration::from_secs(number("PEAT_CHAOS_SECS").unwrap_or(secs)),
        }
    }
}

/// What a run did, once it has passed every check.
#[derive(Debug, Default)]
pub struct Report {
    pub rounds: usize,
    pub partitions: usize,
    pub kills: usize,
    /// Writes acknowledged (exit 0).
    pub acked: usize,
    /// Writes that failed (a node killed under them, a remove of a document already removed),
    /// by what they said.
    pub failed: BTreeMap<String, usize>,
    /// From the final heal until every node held the same documents.
    pub converged_in: Duration,
    /// Bytes the simulator carried between the nodes.
    pub bytes: u64,
}

/// One change a node is asked to make.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    Upsert { doc: String, token: String },
    Remove { doc: String },
}

impl Op {
    fn doc(&self) -> &str {
        match self {
            Op::Upsert { doc, .. } | Op::Remove { doc } => doc,
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Op::Upsert { doc, token } => {
                ["upsert", "units", doc, "--set", &format!("w={token}")].map(String::from).into()
            }
            Op::Remove { doc } => ["remove", "units", doc].map(String::from).into(),
        }
    }
}

/// The fault of one round.
#[derive(Debug)]
enum Fault {
    None,
    Partition(Vec<Vec<usize>>),
    Heal,
    Kill(usize),
    Restart(usize),
}

/// One round of the schedule: a fault, and the changes each node is asked to make meanwhile.
struct Round {
    fault: Fault,
    ops: Vec<Vec<Op>>,
}

/// The seeded schedule.
struct Schedule {
    rng: Xoshiro256PlusPlus,
    round: usize,
}

impl Schedule {
    fn new(seed: u64) -> Self {
        Self { rng: Xoshiro256PlusPlus::seed_from_u64(seed), round: 0 }
    }

    /// The next round, given which nodes are up.
    fn next(&mut self, up: &[bool]) -> Round {
        self.round += 1;
        let fault = self.fault(up);
        let ops = (0..NODES).map(|node| self.ops(node)).collect();
        Round { fault, ops }
    }

    fn fault(&mut self, up: &[bool]) -> Fault {
        let pick = |rng: &mut Xoshiro256PlusPlus, nodes: Vec<usize>| nodes[rng.random_range(0..nodes.len())];
        let (running, down): (Vec<usize>, Vec<usize>) = (0..NODES).partition(|&i| up[i]);
        match self.rng.random_range(0..10) {
            0..=2 => {
                let side: Vec<bool> = (0..NODES).map(|_| self.rng.random_bool(0.5)).collect();
                let groups: Vec<Vec<usize>> =
                    [true, false].map(|s| (0..NODES).filter(|&i| side[i] == s).collect()).into();
                Fault::Partition(groups.into_iter().filter(|g: &Vec<usize>| !g.is_empty()).collect())
            }
            3 | 4 => Fault::Heal,
            5 | 6 if down.len() < MAX_DOWN => Fault::Kill(pick(&mut self.rng, running)),
            5..=7 if !down.is_empty() => Fault::Restart(pick(&mut self.rng, down)),
            _ => Fault::None,
        }
    }

    /// One to three changes for `node`, to its own documents or to shared ones.
    fn ops(&mut self, node: usize) -> Vec<Op> {
        (0..self.rng.random_range(1..=3))
            .map(|j| {
                let doc = if self.rng.random_bool(0.5) {
                    format!("o{node}-{}", self.rng.random_range(0..OWNED))
                } else {
                    format!("s{}", self.rng.random_range(0..SHARED))
                };
                if self.rng.random_bool(0.2) {
                    Op::Remove { doc }
                } else {
                    Op::Upsert { doc, token: format!("t{node}-{}-{j}", self.round) }
                }
            })
            .collect()
    }
}

/// Every change asked of each node, in the node's order, and whether it was acknowledged.
#[derive(Default)]
struct Ledger {
    by_node: Vec<Vec<(Op, bool)>>,
}

/// A document as the nodes hold it at the end: its change token, or none when it is removed
/// (a tombstone keeps no fields).
#[derive(Debug, PartialEq)]
struct Held {
    token: Option<String>,
    removed: bool,
}

/// Runs the chaos suite; panics, naming the seed, if a check fails.
pub fn run(settings: &Settings) -> Report {
    let seed = settings.seed;
    println!("chaos seed {seed} ({} s): replay with PEAT_CHAOS_SEED={seed}", settings.duration.as_secs());
    let link = LinkConfig {
        loss: 0.02,
        delay: Duration::from_millis(5),
        jitter: Duration::from_millis(5),
        rate: Some(1_000_000),
        queue: 256 * 1024,
    };
    let Some(field) = Field::new(NODES, link, seed) else { return Report::default() };
    let first = field.start_node(0, None);
    let ticket = Field::ticket(&first);
    let nodes: Vec<Node> =
        std::iter::once(first).chain((1..NODES).map(|i| field.start_node(i, Some(&ticket)))).collect();
    let rounds = std::cell::Cell::new(0);
    let logs = LogsOnFailure { seed, nodes: &nodes, rounds: &rounds };

    let mut report = Report::default();
    let mut up = [true; NODES];
    let mut ledger = Ledger { by_node: vec![Vec::new(); NODES] };
    let mut schedule = Schedule::new(seed);
    let start = Instant::now();
    while start.elapsed() < settings.duration {
        let round = schedule.next(&up);
        println!(
            "round {}: {:?}, {} writes",
            schedule.round,
            round.fault,
            round.ops.iter().map(Vec::len).sum::<usize>()
        );
        let writers = write(&nodes, round.ops);
        strike(&field, &nodes, round.fault, &mut up, &mut report, seed);
        for (node, writer) in writers.into_iter().enumerate() {
            record(&mut ledger.by_node[node], writer.join().expect("a writer thread"), &mut report);
        }
        report.rounds = schedule.round;
        rounds.set(report.rounds);
    }

    println!("healing everything after {} rounds", report.rounds);
    field.sim.heal();
    for (node, _) in nodes.iter().zip(up).filter(|(_, up)| !up) {
        restart(node, seed);
    }
    // A node the schedule did not kill must still run: none crashes on its own.
    for (i, node) in nodes.iter().enumerate() {
        let running = node.json(&["sync", "status", "-o", "json"])["running"] == true;
        assert!(running, "chaos seed {seed}: node {i} is not running, though only the schedule kills nodes");
    }
    let healed = Instant::now();
    let held = converge(&nodes, seed);
    report.converged_in = healed.elapsed();
    let problems = check(&ledger, &held);
    assert!(
        problems.is_empty(),
        "chaos seed {seed}: {} acknowledged writes not as they should be (replay with PEAT_CHAOS_SEED={seed}):\n{}",
        problems.len(),
        problems.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
    report.bytes = field.sim.total().passed_bytes;
    drop(logs);
    report
}

/// Makes one fault happen; `up` tells which nodes run.
fn strike(field: &Field, nodes: &[Node], fault: Fault, up: &mut [bool], report: &mut Report, seed: u64) {
    match fault {
        Fault::None => {}
        Fault::Partition(groups) => {
            field.sim.partition(&groups);
            report.partitions += 1;
        }
        Fault::Heal => field.sim.heal(),
        Fault::Kill(i) => {
            kill(&nodes[i]);
            up[i] = false;
            report.kills += 1;
        }
        Fault::Restart(i) => {
            restart(&nodes[i], seed);
            up[i] = true;
        }
    }
}

/// Adds the changes one node made in a round to its ledger and their outcomes to the report.
fn record(ledger: &mut Vec<(Op, bool)>, done: Vec<(Op, Outcome)>, report: &mut Report) {
    for (op, outcome) in done {
        ledger.push((op, outcome.is_ok()));
        match outcome {
            Ok(()) => report.acked += 1,
            Err(said) => *report.failed.entry(said).or_default() += 1,
        }
    }
}

/// How a change ended: acknowledged (exit 0), or the exit code and what it said, without the
/// names it quoted and the paths (so that like failures count together).
type Outcome = Result<(), String>;

/// Starts one thread per node that makes its changes in order through the CLI; each returns
/// the changes with how they ended.
fn write(nodes: &[Node], ops: Vec<Vec<Op>>) -> Vec<std::thread::JoinHandle<Vec<(Op, Outcome)>>> {
    nodes
        .iter()
        .zip(ops)
        .map(|(node, ops)| {
            let commands: Vec<(Op, Command)> = ops
                .into_iter()
                .map(|op| {
                    let args = op.args();
                    let command = node.spawn(&args.iter().map(String::as_str).collect::<Vec<_>>());
                    (op, command)
                })
                .collect();
            std::thread::spawn(move || {
                commands
                    .into_iter()
                    .map(|(op, mut command)| {
                        let out = command.output().expect("peat runs");
                        (op, outcome(&out))
                    })
                    .collect()
            })
        })
        .collect()
}

fn outcome(out: &std::process::Output) -> Outcome {
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let error = stderr.lines().find(|l| l.starts_with("peat:")).or(stderr.lines().last()).unwrap_or("");
    let unquoted = error.split('\'').step_by(2).collect::<Vec<_>>().join("'…'");
    let said =
        unquoted.split(' ').map(|w| if w.contains('/') { "…" } else { w }).collect::<Vec<_>>().join(" ");
    Err(format!("exit {:?}: {said}", out.status.code()))
}

/// `kill -9` of the node's daemon; returns once it is gone.
fn kill(node: &Node) {
    let pid: i32 = std::fs::read_to_string(node.dir.join("node.pid"))
        .expect("a running node has a pid file")
        .trim()
        .parse()
        .expect("a pid");
    // SAFETY: kill(2) of the pid the node wrote; it runs in the test's own namespace.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill -9 {pid}");
    wait_until("the killed node to exit", Duration::from_secs(10), || !pid_alive(pid as u32));
}

/// Starts a killed node again; a node that cannot start fails the run.
fn restart(node: &Node, seed: u64) {
    let run = node.run(&["sync", "start", "-v"]);
    assert_eq!(run.code, Some(0), "chaos seed {seed}: a killed node does not start again:\n{}", run.stderr);
}

/// Waits until every node holds the same documents, each node waiting for its peers in turn
/// (`sync wait`); the documents they hold, by id.
fn converge(nodes: &[Node], seed: u64) -> BTreeMap<String, Held> {
    let deadline = Instant::now() + CONVERGE;
    loop {
        for node in nodes {
            node.run(&["sync", "wait", "--timeout", "10s"]);
        }
        let states: Vec<String> =
            nodes.iter().map(|n| n.ok(&["query", "units", "--include-deleted", "-o", "ndjson"])).collect();
        let sorted: Vec<Vec<&str>> = states
            .iter()
            .map(|s| {
                let mut lines: Vec<&str> = s.lines().collect();
                lines.sort();
                lines
            })
            .collect();
        if sorted.iter().all(|s| *s == sorted[0]) {
            return sorted[0].iter().map(|line| held(line)).collect();
        }
        if Instant::now() > deadline {
            let differ: Vec<String> = (1..nodes.len())
                .filter(|&i| sorted[i] != sorted[0])
                .map(|i| {
                    let first = sorted[0].iter().zip(&sorted[i]).find(|(a, b)| a != b);
                    format!(
                        "node {i} differs from node 0 ({} vs {} documents; first: {first:?})",
                        sorted[i].len(),
                        sorted[0].len()
                    )
                })
                .collect();
            panic!("chaos seed {seed}: the nodes did not converge in {CONVERGE:?}:\n{}", differ.join("\n"));
        }
    }
}

/// A line of `query --include-deleted -o ndjson`: the document's id and what it holds.
fn held(line: &str) -> (String, Held) {
    let doc: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let id = doc["id"].as_str().unwrap_or_else(|| panic!("no id: {line}")).to_string();
    let removed = doc["_deleted"] == true;
    let token = doc["w"].as_str().map(String::from);
    assert!(removed || token.is_some(), "no change token: {line}");
    (id, Held { token, removed })
}

/// Every way the documents held break an acknowledged write.
fn check(ledger: &Ledger, held: &BTreeMap<String, Held>) -> Vec<String> {
    let mut problems = Vec::new();
    for (node, ops) in ledger.by_node.iter().enumerate() {
        let mut docs: Vec<&str> = ops.iter().map(|(op, _)| op.doc()).collect();
        docs.sort();
        docs.dedup();
        for doc in docs {
            let mine: Vec<&(Op, bool)> = ops.iter().filter(|(op, _)| op.doc() == doc).collect();
            let owned = doc.starts_with(&format!("o{node}-"));
            problems.extend(check_doc(node, doc, &mine, held.get(doc), owned));
        }
    }
    problems
}

/// What is wrong with `held` for the changes `ops` that `node` made to `doc`, in order;
/// `owned` when no other node writes it.
fn check_doc(
    node: usize,
    doc: &str,
    ops: &[&(Op, bool)],
    held: Option<&Held>,
    owned: bool,
) -> Option<String> {
    let Some(held) = held else {
        let last = ops.iter().rposition(|(_, ok)| *ok);
        return last.map(|i| format!("{doc}: node {node}'s acknowledged {:?} is missing", ops[i].0));
    };
    let is_remove = |op: &Op| matches!(op, Op::Remove { .. });
    if held.removed {
        return owned.then(|| removed_without_a_remove(node, doc, ops)).flatten();
    }
    // Which of this node's upserts the document holds: none means another node's won.
    let Some(at) = ops
        .iter()
        .position(|(op, _)| matches!(op, Op::Upsert { token, .. } if held.token.as_ref() == Some(token)))
    else {
        return owned.then(|| format!("{doc}: holds {held:?}, which node {node} never wrote"));
    };
    let last_upsert = ops.iter().rposition(|(op, ok)| *ok && matches!(op, Op::Upsert { .. }));
    if let Some(last) = last_upsert.filter(|&last| last > at) {
        return Some(format!(
            "{doc}: holds {held:?}, older than node {node}'s acknowledged {:?}",
            ops[last].0
        ));
    }
    if !owned {
        return None; // whether another node's remove won is not this node's to say
    }
    // Only removes may have followed the upsert it holds: an acknowledged one must show.
    if ops[at + 1..].iter().any(|(op, ok)| *ok && is_remove(op)) {
        return Some(format!(
            "{doc}: holds {held:?}, though node {node}'s acknowledged remove came after it"
        ));
    }
    None
}

/// A removed document this node alone writes: one of its removes must follow its last
/// acknowledged upsert (an upsert after a remove revives the document).
fn removed_without_a_remove(node: usize, doc: &str, ops: &[&(Op, bool)]) -> Option<String> {
    let last_upsert = ops.iter().rposition(|(op, ok)| *ok && matches!(op, Op::Upsert { .. }));
    let after = &ops[last_upsert.map_or(0, |i| i + 1)..];
    if after.iter().any(|(op, _)| matches!(op, Op::Remove { .. })) {
        return None;
    }
    let last = last_upsert.map(|i| &ops[i].0);
    Some(format!("{doc}: removed, though node {node} never removed it after {last:?}"))
}

/// Prints the seed and the end of every node's log when a run fails.
struct LogsOnFailure<'a> {
    seed: u64,
    nodes: &'a [Node],
    /// Rounds survived so far.
    rounds: &'a std::cell::Cell<usize>,
}

impl Drop for LogsOnFailure<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for (i, node) in self.nodes.iter().enumerate() {
                eprintln!("--- node {i}: node.log (last lines)\n{}", node.log_tail(10));
            }
            let (seed, rounds) = (self.seed, self.rounds.get());
            eprintln!("chaos seed {seed} failed after {rounds} rounds: replay with PEAT_CHAOS_SEED={seed}");
        }
    }
}

/// Five nodes through a minute (`PEAT_CHAOS_SECS`) of partitions, `kill -9`s, restarts and
/// concurrent writes end with the same documents everywhere and no acknowledged write lost.
#[test]
fn five_nodes_through_partitions_kills_and_concurrent_writes_converge_and_lose_no_acknowledged_write() {
    let settings = Settings::from_env(60);
    let report = run(&settings);
    println!("{report:?}");
    if report.rounds > 0 {
        assert!(
            report.acked > 0 && report.kills + report.partitions > 0,
            "the run made no chaos: {report:?}"
        );
    }
}

#[cfg(test)]
mod checks {
    use super::*;

    fn up(doc: &str, token: &str, ok: bool) -> (Op, bool) {
        (Op::Upsert { doc: doc.into(), token: token.into() }, ok)
    }

    fn rm(doc: &str, ok: bool) -> (Op, bool) {
        (Op::Remove { doc: doc.into() }, ok)
    }

    fn verdict(ops: &[(Op, bool)], held: Option<(&str, bool)>, owned: bool) -> Option<String> {
        let held = held.map(|(token, removed)| Held { token: (!removed).then(|| token.into()), removed });
        check_doc(0, "d", &ops.iter().collect::<Vec<_>>(), held.as_ref(), owned)
    }

    /// The check finds each way an acknowledged write can be lost, and accepts what is right.
    #[test]
    fn the_check_catches_lost_writes_and_accepts_the_right_outcomes() {
        let two = [up("d", "a", true), up("d", "b", true)];
        assert_eq!(verdict(&two, Some(("b", false)), true), None);
        assert!(verdict(&two, Some(("a", false)), true).unwrap().contains("older"));
        assert!(verdict(&two, None, true).unwrap().contains("missing"));
        assert!(verdict(&two, Some(("b", true)), true).unwrap().contains("never removed it"));
        assert!(verdict(&two, Some(("x", false)), true).unwrap().contains("never wrote"));
        // A failed change may or may not have happened.
        let failed = [up("d", "a", true), up("d", "b", false)];
        assert_eq!(verdict(&failed, Some(("a", false)), true), None);
        assert_eq!(verdict(&failed, Some(("b", false)), true), None);
        // An acknowledged remove must stay.
        let removed = [up("d", "a", true), rm("d", true)];
        assert_eq!(verdict(&removed, Some(("a", true)), true), None);
        assert!(
            verdict(&removed, Some(("a", false)), true).unwrap().contains("acknowledged remove came after")
        );
        let revived = [up("d", "a", true), rm("d", true), up("d", "b", true)];
        assert_eq!(verdict(&revived, Some(("b", false)), true), None);
        // On a shared document another node's change may win, but not an older one of ours.
        assert_eq!(verdict(&two, Some(("t3-1-0", false)), false), None);
        assert!(verdict(&two, Some(("a", false)), false).is_some());
    }

    #[test]
    fn a_seed_replays_the_same_schedule() {
        let rounds = |seed| {
            let mut s = Schedule::new(seed);
            (0..20).map(|_| s.next(&[true; NODES]).ops).collect::<Vec<_>>()
        };
        assert_eq!(rounds(5), rounds(5));
        assert_ne!(rounds(5), rounds(6));
    }
}
