//! Chaos benchmark: the chaos suite of the integration tests (`tests/it/chaos.rs`) run longer,
//! with the release build: five nodes on hosts joined only through the link simulator, under
//! a seeded schedule of partitions, `kill -9`s, restarts and concurrent writes; then it heals,
//! converges and checks that every node holds the same documents and no acknowledged write
//! was lost. Needs root (network namespaces).
//!
//!     cargo bench --bench chaos                          # 5 minutes of rounds
//!     PEAT_CHAOS_SECS=1800 cargo bench --bench chaos     # half an hour
//!     PEAT_CHAOS_SEED=N cargo bench --bench chaos        # replay the schedule of seed N
//!
//! It reports the rounds survived, the faults and writes, how long convergence took after
//! the final heal and the bytes the simulator carried; a failure names the seed and the round.

#[allow(dead_code)]
#[path = "../tests/it/chaos.rs"]
mod chaos;
#[allow(dead_code)]
#[path = "../tests/it/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/it/hosts.rs"]
mod hosts;
#[allow(dead_code)]
#[path = "../tests/it/linksim.rs"]
mod linksim;

fn main() {
    let settings = chaos::Settings::from_env(300);
    let report = chaos::run(&settings);
    if report.rounds == 0 {
        return; // no network namespaces here: run() said why
    }
    println!("chaos benchmark, seed {}", settings.seed);
    println!(
        "rounds survived: {} in {} s ({} partitions, {} kill -9s)",
        report.rounds,
        settings.duration.as_secs(),
        report.partitions,
        report.kills
    );
    println!("writes acknowledged: {}, failed: {:?}", report.acked, report.failed);
    println!("converged {:.1} s after the final heal", report.converged_in.as_secs_f64());
    println!("simulator carried {:.1} MB", report.bytes as f64 / 1e6);
}
