//! Logging of commands and of the node. A command logs warnings to stderr (`-v` for more); a
//! node logs at config.toml's `log_level` (default `info`), to stderr in the foreground (for
//! journald) or, detached, to `node.log`, which it rotates by size. SIGHUP makes a running node
//! reread the level ([`reload`]) without dropping connections.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::EnvFilter;

/// `node.log` is rotated past this size...
pub const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;
/// ...keeping `node.log.1` (the newest) to `node.log.3`.
pub const KEEP_LOGS: usize = 3;

type ReloadFn = Box<dyn Fn(EnvFilter) -> Result<(), String> + Send + Sync>;
static RELOAD: OnceLock<ReloadFn> = OnceLock::new();

/// Where log lines go.
pub enum Sink {
    /// A command's stderr: just the message.
    Command,
    /// A node's stderr: timestamps and sources.
    Node,
    /// A detached node's rotated log file.
    File(PathBuf),
}

/// Installs the global subscriber. `RUST_LOG` wins over `level`; NO_COLOR disables colour.
pub fn init(level: &str, sink: Sink, ansi: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| filter_or_info(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // The reload handle's type depends on the whole builder, so it is taken last.
    macro_rules! install {
        ($builder:expr) => {{
            let builder = $builder.with_filter_reloading();
            let handle = builder.reload_handle();
            let _ = RELOAD.set(Box::new(move |f| handle.reload(f).map_err(|e| e.to_string())));
            builder.init()
        }};
    }
    match sink {
        Sink::Command => {
            install!(builder.with_writer(io::stderr).with_ansi(ansi).without_time().with_target(false))
        }
        Sink::Node => install!(builder.with_writer(io::stderr).with_ansi(ansi)),
        Sink::File(path) => match Rotating::open(&path, MAX_LOG_BYTES, KEEP_LOGS) {
            Ok(file) => install!(builder.with_writer(Mutex::new(file)).with_ansi(false)),
            Err(e) => {
                eprintln!("peat: cannot write {}: {e}; logging to stderr", path.display());
                install!(builder.with_writer(io::stderr).with_ansi(false))
            }
        },
    }
}

/// Replaces the running filter with `level` (SIGHUP).
pub fn reload(level: &str) -> Result<(), String> {
    let filter =
        EnvFilter::try_new(with_quiet_crates(level)).map_err(|e| format!("log_level '{level}': {e}"))?;
    RELOAD.get().ok_or("logging is not initialised")?(filter)
}

/// Crates that log at `warn` unless `level` names them: at `info` their spans wrap every
/// UDP packet (the transport) and every document loaded (Automerge), and formatting those
/// took a fifth of a syncing node's CPU.
const QUIET_CRATES: &str = "iroh=warn,noq=warn,noq_proto=warn,noq_udp=warn,automerge=warn";

/// `level` after the quieter defaults, so its own directives for those crates win.
fn with_quiet_crates(level: &str) -> String {
    format!("{QUIET_CRATES},{level}")
}

fn filter_or_info(level: &str) -> EnvFilter {
    EnvFilter::try_new(with_quiet_crates(level)).unwrap_or_else(|e| {
        eprintln!("peat: log_level '{level}' is not a filter ({e}); using info");
        EnvFilter::new("info")
    })
}

/// A log file that moves itself to `.1` (and older ones up to `.keep`) when a write would
/// take it past `max` bytes.
pub struct Rotating {
    path: PathBuf,
    file: File,
    size: u64,
    max: u64,
    keep: usize,
}

impl Rotating {
    pub fn open(path: &Path, max: u64, keep: usize) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Self { path: path.to_path_buf(), file, size, max, keep })
    }

    /// Rotates `path` now if it is at least `max` bytes (before a node starts writing it).
    pub fn rotate_if_full(path: &Path, max: u64, keep: usize) -> io::Result<()> {
        if fs::metadata(path).is_ok_and(|m| m.len() >= max) {
            shift(path, keep)?;
        }
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        shift(&self.path, self.keep)?;
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// `path.N-1` -> `path.N` ... `path` -> `path.1`; the oldest beyond `keep` is dropped.
fn shift(path: &Path, keep: usize) -> io::Result<()> {
    let numbered = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
    for n in (1..keep).rev() {
        if numbered(n).exists() {
            fs::rename(numbered(n), numbered(n + 1))?;
        }
    }
    fs::rename(path, numbered(1))
}

impl Write for Rotating {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_packet_and_per_document_spans_are_off_unless_the_level_names_their_crate() {
        let enabled = |level: &str, target: &str| {
            let filter = EnvFilter::try_new(with_quiet_crates(level)).unwrap();
            let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(io::sink).finish();
            tracing::subscriber::with_default(subscriber, || match target {
                "iroh" => !tracing::info_span!(target: "iroh::socket::transports", "poll_send").is_disabled(),
                "automerge" => !tracing::info_span!(target: "automerge::automerge", "load").is_disabled(),
                _ => !tracing::info_span!(target: "peat::node", "serving").is_disabled(),
            })
        };
        assert!(!enabled("info", "iroh"), "a span per packet at info");
        assert!(!enabled("info", "automerge"), "a span per document loaded at info");
        assert!(enabled("info", "peat"));
        assert!(enabled("info,iroh=info", "iroh"), "the operator's own directive wins");
    }

    #[test]
    fn the_log_rotates_by_size_and_keeps_a_few_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("node.log");
        let mut log = Rotating::open(&path, 100, 2).unwrap();
        for i in 0..10 {
            log.write_all(format!("line {i:02} {}\n", "x".repeat(40)).as_bytes()).unwrap();
        }
        let read = |p: &str| fs::read_to_string(tmp.path().join(p)).unwrap();
        assert!(read("node.log").starts_with("line 08"), "two 50-byte lines per file");
        assert!(read("node.log.1").starts_with("line 06"));
        assert!(read("node.log.2").starts_with("line 04"));
        assert!(!tmp.path().join("node.log.3").exists(), "only two old files are kept");
    }
}
