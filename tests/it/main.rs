//! The integration tests: one test binary, one harness. Every test runs real `peat`
//! processes on temp directories, as a user would, and reads like a terminal session.
//!
//! - [`cli`]: the document commands (`init`, `upsert`, `query`, `remove`, `status`), input
//!   checks, errors and exit codes
//! - [`node`]: the node daemon (`sync start|stop|status`), the control socket and `watch`
//! - [`safety`]: no deadlocks without a node, reads that create nothing, `init --force`,
//!   hints when a query finds nothing, `get`, `--quiet`
//! - [`watch`]: `added`, `updated`, `removed`, `left`; timeouts; resuming after a node restart
//! - [`terminal`]: what a person sees at a real terminal (under script(1)): tables that fit,
//!   paging, secrets on their own line, the upsert summary
//! - [`data`]: `export`/`import` in both formats, `backup`/`restore` of a node that then
//!   syncs again, config.toml edits that keep hand-written comments
//! - [`service`]: the node's log (`logs`, `log_level`, SIGHUP) and `sync unit`
//! - [`sync`]: several node processes syncing over Iroh on 127.0.0.1
//! - [`formation`]: formations across hosts made of network namespaces ([`hosts`]): member
//!   exchange, cut links, restarts, mDNS, a relay, blocked peers
//! - [`hostile`]: hostile input, permissions, damaged stores (`doctor`, `repair`), a full disk
//!   (tmpfs), a peer's bad document
//! - [`generated`]: the clap definition, `--help`, completions and man pages
//!
//! Every wait is for an event with a deadline (`sync wait`, `--wait-for-sync`,
//! `watch --count --timeout`), never a sleep.
//!
//! [`hosts`] builds hosts from network namespaces, veth pairs and bridges inside a test and
//! removes them after it (the tests that use it print a line and pass when not run as root).

mod harness;
mod hosts;

mod cli;
mod data;
mod formation;
mod generated;
mod hostile;
mod node;
mod safety;
mod service;
mod sync;
mod terminal;
mod watch;
