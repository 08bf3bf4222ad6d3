//! peat: operate Peat sync nodes. A node keeps JSON documents in collections as Automerge
//! CRDT documents in a local persistence directory and syncs them peer-to-peer over Iroh.
//!
//! # Architecture
//!
//! The crate is built around one seam, the sync abstraction layer in [`sync`]: four traits
//! ([`DocumentStore`](sync::DocumentStore), [`PeerDiscovery`](sync::PeerDiscovery),
//! [`SyncEngine`](sync::SyncEngine), [`DataSyncBackend`](sync::DataSyncBackend)) that every
//! backend implements. Every `peat` command is one call on a `dyn DataSyncBackend` and does not
//! know which backend it holds: the store opened in the command's own process, or a running
//! node reached through its control socket.
//!
//! ## Layers
//!
//! Each layer may import only those below it:
//!
//! ```text
//! main.rs   thin: parse, run, turn the outcome into an exit code
//! cli/      a command context (directory, backend opener, printer), one file per command,
//!           the printer (data on stdout, messages on stderr) and the exit status
//! node/     the daemon (start, stop, pid file), the control socket server, the client
//!           backend, choosing a backend for a command, a node's status
//! backend/  memory (the mock), automerge (store: redb + Automerge; index: secondary
//!           indexes; net: sync over Iroh), shared query execution, the external sort and
//!           change observation
//! home/     the persistence directory: paths, config.toml, keys, the lock, join tickets
//! sync/     traits, types, errors, the query language and its plans, order-preserving
//!           index keys, naming rules
//! ```
//!
//! Backends receive what they need (a store path, keys, a [`ConfigFile`](home::ConfigFile)
//! handle for remembering peers) and never import the node; `config.toml` is read and written
//! only through [`home::ConfigFile`]. Blocking work (redb, files, name lookups) runs on
//! `spawn_blocking` threads, never on the async executor.
//!
//! ## The path of a write
//!
//! `peat upsert` parses its input on a thread, validates each document, and calls
//! `upsert` in batches of up to 5,000. Without a node, the command has taken the directory
//! lock and opened the store itself; with one, [`node::client::ClientBackend`] sends the batch
//! as one JSON line over `node.sock` and the node's server makes the same trait call. The
//! store applies each input to its Automerge document as a minimal delta (unchanged values
//! make no ops); a new document of scalar fields is written directly as its one Automerge
//! change (`backend/automerge/flat.rs`). That work runs on the other cores while one thread
//! commits, in one redb transaction, the new change (appended to the document), its JSON
//! projection, its heads where needed and its new place in the change log. After the commit, observers
//! (`watch`) and the sync engine are notified; the engine announces the new log position to
//! connected peers.
//!
//! ## The path of a query
//!
//! `--where` parses into a [`Query`](sync::Query) ([`sync::query`]). The store scans the
//! collection's JSON projections (never loading Automerge), filters, then orders and limits.
//! Through a node, the request travels as JSON and the documents come back the same way.
//!
//! ## What a document remembers
//!
//! The JSON projection is what queries see; the Automerge document behind it keeps the rest.
//! `peat history` reads its changes in causal order, each one's effect being the diff between
//! the states before and after it (commits carry their time, which Automerge leaves to the
//! application). `--conflicts` reads the fields where concurrent writes left several values
//! (`get_all`); the one shown is Automerge's, the highest operation id, so every node agrees.
//!
//! ## The store's tables (redb)
//!
//! Keyed by (collection, id): `docs` (the document's base: its saved form), `deltas`
//! (keyed by (collection, id, n): the changes made since the base, folded into a new base
//! once they outgrow it), `projections` (a live/removed byte and the JSON form), `heads`
//! (current change hashes, for a document whose base does not name them,
//! `backend/automerge/chunk.rs`), `doc_seq` (the document's latest change-log position). Then `changes` (log position to document, one
//! entry per document at its latest change), `counts` (live documents per collection),
//! `expires`/`expiry_due` (when documents with a time to live expire, by document and by
//! time), the index tables and `meta` (store identity, per-peer cursors).
//!
//! ## Collection settings
//!
//! A collection's settings ([`sync::settings`]: history policy, priority, time to live) are a
//! document of the system collection `_peat.collections`, synced like any other. The store
//! reads them in its write transaction: a `latest` collection stores each write as a fresh
//! one-change document stamped by a hybrid logical clock (`backend/automerge/latest.rs`);
//! a time to live gives the document an expiry time that a sweeper acts on
//! (`backend/automerge/expiry.rs`); `high`/`critical` writes are pushed to peers on a QUIC
//! stream of their own (`net/push.rs`).
//!
//! ## The sync protocol
//!
//! After a formation check (one `Hello` each way with a keyed BLAKE3 MAC over the app id,
//! both node ids and keying material of the connection's TLS session; the dialer's, sent
//! with its first bytes, already says where to feed it from), each side *feeds* its change
//! log to the other from the cursor the peer last acknowledged, and *pulls* from the other's feed: for each entry it asks for "the changes
//! since these heads" (the heads it holds), and the feeder answers with exactly the
//! Automerge changes the puller misses (the whole document when it has none, nothing when it
//! holds all). That is one round trip per batch of documents with many batches in flight.
//! After the formation check each direction is one zstd stream, and documents travel as
//! Automerge chunks without their checksums (`net/wire.rs`, `net/chunks.rs`).
//! Acknowledgements of log positions are both the flow-control window and the proof of delivery that `sync wait`
//! waits for; cursors are kept per peer store identity, so a reconnect moves only what
//! changed. What a node receives enters its own log and is offered on to its other peers.
//! Each side also tells the other where its log ends (when it moves, and on request): a
//! `sync wait` asks every connected peer, and is over once it has merged each one's log up
//! to that point and each one has acknowledged its own. The same positions give the
//! entries each side is behind that `peers` shows.
//!
//! This departs from Automerge's own sync messages (`automerge::sync`), which exchange
//! Bloom filters in several rounds per document: over thousands of documents that lock-step
//! was an order of magnitude slower, while comparing heads kept beside each document needs
//! no document to be loaded at all.
//!
//! # Using the sync layer as a library
//!
//! The real backend on a directory of its own: initialised from a config, discovery and
//! sync started, an upsert, a shutdown.
//!
//! ```
//! use peat::backend::automerge::AutomergeBackend;
//! use peat::home::{Config, DirLock, NodeDir};
//! use peat::sync::{DataSyncBackend, DocInput, QueryRequest};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?;
//! let home = NodeDir::new(tmp.path().join("node"));
//! let mut config = Config::new("convoy");
//! config.listen = "127.0.0.1:0".parse()?; // any free loopback port
//! home.init(config, None, false)?;
//!
//! let lock = DirLock::try_acquire(&home)?.ok_or("another process has the directory")?;
//! let backend = AutomergeBackend::new(lock, home.config_file());
//! backend.initialize(home.backend_config()?).await?;
//! backend.peer_discovery().start().await?; // binds the Iroh endpoint, dials known peers
//! backend.sync_engine().start_sync().await?;
//!
//! let unit = json!({"id": "u1", "name": "Alpha", "speed": 4});
//! let input = DocInput::from_object(unit.as_object().unwrap().clone(), false)?;
//! backend.document_store().upsert("units", vec![input]).await?;
//! let results = backend.document_store().query("units", &QueryRequest::default()).await?;
//! let found = results.collect().await?;
//! assert_eq!(found[0].to_json(), unit);
//!
//! backend.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The memory backend is the mock for tests of code written against the traits: it keeps
//! the same contract (a test suite checks that it agrees with the real backends), and
//! linked instances sync in-process.
//!
//! ```
//! use peat::backend::memory::MemoryBackend;
//! use peat::sync::{DataSyncBackend, DocInput, Query, QueryRequest};
//! use serde_json::json;
//!
//! /// The code under test: how many units are fast.
//! async fn fast_units(backend: &dyn DataSyncBackend) -> peat::sync::Result<u64> {
//!     let fast = Query::parse("speed > 5").expect("a valid filter");
//!     backend.document_store().count("units", &QueryRequest::matching(fast)).await
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (here, there) = (MemoryBackend::new("here"), MemoryBackend::new("there"));
//! here.link(&there);
//! here.sync_engine().start_sync().await?;
//! there.sync_engine().start_sync().await?;
//! let unit = |id: &str, speed: u32| DocInput::from_object(
//!     json!({"id": id, "speed": speed}).as_object().unwrap().clone(), false);
//! here.document_store().upsert("units", vec![unit("a", 9)?, unit("b", 2)?]).await?;
//! assert_eq!(fast_units(&there).await?, 1, "the write reached the linked backend");
//! # Ok(())
//! # }
//! ```

pub mod backend;
pub mod cli;
pub mod home;
pub mod node;
pub mod sync;

#[cfg(test)]
mod properties;
