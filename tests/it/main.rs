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
//! - [`expiry`]: `peat collection` settings that sync, and documents that expire (`--ttl`)
//!   on every node
//! - [`history`]: `history` and `get/query --conflicts` after concurrent writes on two nodes
//! - [`latest`]: the `latest` history policy: last writer wins, catch-up costs the state
//! - [`interop`]: Automerge exports read by the JavaScript library, its documents imported and synced
//! - [`service`]: the node's log (`logs`, `log_level`, SIGHUP) and `sync unit`
//! - [`stress`]: a node under stress (slow watchers, hung nodes, huge lines, Ctrl-C on a
//!   write), removed documents that keep no fields, and `formation rekey` cutting a node off
//! - [`sync`]: several node processes syncing over Iroh on 127.0.0.1
//! - [`formation`]: formations across hosts made of network namespaces ([`hosts`]): member
//!   exchange, cut links, restarts, mDNS, a relay, blocked peers
//! - [`field`]: two hosts whose only path is the link simulator ([`linksim`]): a lossy link,
//!   a partition that heals, the bytes of a compressed initial sync
//! - [`chaos`]: five field hosts under a seeded schedule of partitions, `kill -9`s, restarts
//!   and concurrent writes converge and lose no acknowledged write (`PEAT_CHAOS_SEED`,
//!   `PEAT_CHAOS_SECS`)
//! - [`million`]: large results streamed in bounded memory, key lookups, top-k, `--explain`
//! - [`index`]: secondary indexes answer as scans do, stay current (also through sync), `--explain`
//! - [`hostile`]: hostile input, permissions, damaged stores (`doctor`, `repair`), a full disk
//!   (tmpfs), a peer's bad document
//! - [`generated`]: the clap definition, `--help`, completions and man pages
//!
//! Every wait is for an event with a deadline (`sync wait`, `--wait-for-sync`,
//! `watch --count --timeout`), never a sleep.
//!
//! [`hosts`] builds hosts from network namespaces, veth pairs and bridges inside a test and
//! removes them after it (the tests that use it print a line and pass when not run as root);
//! [`linksim`] is the user-space link between the hosts of a [`hosts::Field`].

mod harness;
mod hosts;
mod linksim;

mod chaos;
mod cli;
mod data;
mod expiry;
mod field;
mod formation;
mod generated;
mod history;
mod hostile;
mod index;
mod interop;
mod latest;
mod million;
mod node;
mod safety;
mod service;
mod stress;
mod sync;
mod terminal;
mod watch;
