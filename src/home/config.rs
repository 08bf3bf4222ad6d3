//! `config.toml`: what an operator may edit by hand, and the one place that reads and
//! writes it. The node's own edits (peers added or removed) go through [`ConfigFile`] too.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::io_err;
use crate::sync::{Error, Result};

/// The default UDP port of the sync endpoint.
pub const DEFAULT_PORT: u16 = 7890;

/// The settings of a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Peers sync only within one app id.
    pub app_id: String,
    /// UDP address of the sync endpoint.
    pub listen: SocketAddr,
    /// Peers dialed at start, as `ID@HOST:PORT`.
    #[serde(default)]
    pub peers: Vec<String>,
    /// Use the public Iroh relays (off: nothing leaves the local network).
    #[serde(default)]
    pub relays: bool,
    /// Find peers on the local network with mDNS.
    #[serde(default)]
    pub mdns: bool,
    /// `HOST:PORT` addresses put first in join tickets: how peers reach this node through
    /// NAT, a port forward or a container's published port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advertise: Vec<String>,
    /// URLs of the operator's own Iroh relay servers, for peers with no direct path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relay_urls: Vec<String>,
    /// Most peers the node dials; beyond it, members told by peer exchange or found by
    /// mDNS are not dialed.
    #[serde(default = "default_max_peers")]
    pub max_peers: usize,
    /// Node ids removed with `peers remove`: refused, never dialed, not learned again until
    /// `peers add`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<String>,
    /// What the node logs: a level (`error`, `warn`, `info`, `debug`, `trace`) or a
    /// `tracing` filter such as `info,peat=debug`. `kill -HUP` makes a running node reread it.
    #[serde(default = "default_log_level")]
    pub log_level: String,
}

fn default_log_level() -> String {
    "info".into()
}

fn default_max_peers() -> usize {
    32
}

impl Config {
    /// Defaults for a new node of `app_id`.
    pub fn new(app_id: &str) -> Self {
        Self {
            app_id: app_id.into(),
            listen: SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT)),
            peers: Vec::new(),
            relays: false,
            mdns: false,
            advertise: Vec::new(),
            relay_urls: Vec::new(),
            max_peers: default_max_peers(),
            blocked: Vec::new(),
            log_level: default_log_level(),
        }
    }
}

/// A handle on a node's `config.toml`. Cheap to clone; every call reads or writes the file,
/// so hand edits between calls are honoured. Calls block on disk I/O: async callers run
/// them with `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
}

impl ConfigFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<Config> {
        let text = fs::read_to_string(&self.path).map_err(|e| io_err(&self.path, e))?;
        self.parse(&text)
    }

    /// Writes a whole new config (a new node's), replacing the file.
    pub fn save(&self, config: &Config) -> Result<()> {
        let text = toml::to_string_pretty(config).map_err(|e| Error::context("config", e))?;
        self.write(&text)
    }

    /// Loads, lets `change` edit, and saves when it reports a change. Returns that report.
    /// Only the settings that changed are rewritten (with `toml_edit`), so the operator's
    /// comments, order and layout survive the node's own edits.
    pub fn update(&self, change: impl FnOnce(&mut Config) -> bool) -> Result<bool> {
        let text = fs::read_to_string(&self.path).map_err(|e| io_err(&self.path, e))?;
        let before = self.parse(&text)?;
        let mut config = before.clone();
        if !change(&mut config) || config == before {
            return Ok(false);
        }
        let edited = edit_in_place(&text, &before, &config)
            .map_err(|e| Error::invalid(format!("{}: {}", self.path.display(), one_line(&e))))?;
        self.write(&edited)?;
        Ok(true)
    }

    fn parse(&self, text: &str) -> Result<Config> {
        let bad = |e: String| Error::invalid(format!("{}: {}", self.path.display(), one_line(&e)));
        let config: Config = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        crate::sync::validate::app_id(&config.app_id).map_err(bad)?;
        Ok(config)
    }

    /// Writes the text atomically (temp file + rename), so a crash never leaves half a file.
    fn write(&self, text: &str) -> Result<()> {
        let tmp = self.path.with_file_name(".config.toml.tmp");
        fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
        fs::rename(&tmp, &self.path).map_err(|e| io_err(&self.path, e))
    }

    /// Adds `ID@ADDR` peer entries not already there; returns whether any was new.
    pub fn add_peers(&self, entries: &[String]) -> Result<bool> {
        self.update(|config| {
            let before = config.peers.len();
            for entry in entries {
                if !config.peers.contains(entry) {
                    config.peers.push(entry.clone());
                }
            }
            config.peers.len() != before
        })
    }

    /// Blocks (`true`) or unblocks a node id; returns whether that changed anything.
    pub fn set_blocked(&self, id: &str, blocked: bool) -> Result<bool> {
        self.update(|config| {
            let listed = config.blocked.iter().any(|b| b == id);
            match (listed, blocked) {
                (false, true) => config.blocked.push(id.to_string()),
                (true, false) => config.blocked.retain(|b| b != id),
                _ => return false,
            }
            true
        })
    }

    /// Removes every entry of the peer `id`; returns whether there were any.
    pub fn remove_peer(&self, id: &str) -> Result<bool> {
        let prefix = format!("{id}@");
        self.update(|config| {
            let before = config.peers.len();
            config.peers.retain(|p| !p.starts_with(&prefix));
            config.peers.len() != before
        })
    }
}

/// `text` with the top-level settings that differ between `before` and `after` rewritten
/// and everything else (comments, blank lines, order, other settings) left as it was.
fn edit_in_place(text: &str, before: &Config, after: &Config) -> std::result::Result<String, String> {
    let table = |c: &Config| toml::Table::try_from(c).map_err(|e| e.to_string());
    let (old, new) = (table(before)?, table(after)?);
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| e.to_string())?;
    let fresh: toml_edit::DocumentMut = toml::to_string_pretty(after)
        .map_err(|e| e.to_string())?
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        doc.remove(key);
    }
    for (key, value) in &new {
        if old.get(key) == Some(value) {
            continue;
        }
        let Some(item) = fresh.get(key) else { continue };
        match (doc.get_mut(key).and_then(|i| i.as_value_mut()), item.as_value()) {
            // Keep the value's own decor (a comment after it on the line).
            (Some(existing), Some(value)) => {
                let decor = existing.decor().clone();
                *existing = value.clone();
                *existing.decor_mut() = decor;
            }
            _ => {
                doc.insert(key, item.clone());
            }
        }
    }
    Ok(doc.to_string())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_edits_peers_and_rejects_unknown_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let file = ConfigFile::new(tmp.path().join("config.toml"));
        file.save(&Config::new("app")).unwrap();
        let entries = ["abc@127.0.0.1:1".to_string(), "abc@127.0.0.1:2".to_string()];
        assert!(file.add_peers(&entries).unwrap());
        assert!(!file.add_peers(&entries[..1]).unwrap(), "an entry already there is no change");
        assert_eq!(file.load().unwrap().peers, entries);
        assert!(file.remove_peer("abc").unwrap());
        assert!(!file.remove_peer("abc").unwrap());
        assert!(file.load().unwrap().peers.is_empty());
        fs::write(file.path(), "app_id = 'a'\nlisten = '0.0.0.0:1'\nbogus = 1\n").unwrap();
        assert!(file.load().is_err());
    }

    #[test]
    fn edits_keep_comments_order_and_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let file = ConfigFile::new(tmp.path().join("config.toml"));
        let text = "# convoy node, edited by hand\napp_id = 'a'  # the formation\n\n# peers we trust\npeers = []\nlisten = '0.0.0.0:1'\n";
        fs::write(file.path(), text).unwrap();
        assert!(file.add_peers(&["abc@127.0.0.1:1".to_string()]).unwrap());
        let edited = fs::read_to_string(file.path()).unwrap();
        assert!(
            edited.starts_with(
                "# convoy node, edited by hand\napp_id = 'a'  # the formation\n\n# peers we trust\npeers = ["
            ),
            "{edited}"
        );
        assert!(edited.ends_with("listen = '0.0.0.0:1'\n"), "{edited}");
        assert!(file.set_blocked("abc", true).unwrap());
        assert!(file.remove_peer("abc").unwrap());
        assert!(file.set_blocked("abc", false).unwrap());
        let back = fs::read_to_string(file.path()).unwrap();
        assert!(back.contains("# peers we trust\npeers = []"), "{back}");
        assert!(!back.contains("blocked"), "an emptied list that is skipped when empty goes: {back}");
        assert_eq!(file.load().unwrap().app_id, "a");
        fs::write(file.path(), "app_id = ''\nlisten = '0.0.0.0:1'\n").unwrap();
        assert!(file.load().unwrap_err().message.contains("use 1 to 64 printable characters"));
    }
}
