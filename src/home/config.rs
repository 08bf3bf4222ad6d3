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
        toml::from_str(&text)
            .map_err(|e| Error::invalid(format!("{}: {}", self.path.display(), one_line(&e.to_string()))))
    }

    /// Writes the config atomically (temp file + rename), so a crash never leaves half a file.
    pub fn save(&self, config: &Config) -> Result<()> {
        let text = toml::to_string_pretty(config).map_err(|e| Error::context("config", e))?;
        let tmp = self.path.with_file_name(".config.toml.tmp");
        fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
        fs::rename(&tmp, &self.path).map_err(|e| io_err(&self.path, e))
    }

    /// Loads, lets `change` edit, and saves when it reports a change. Returns that report.
    pub fn update(&self, change: impl FnOnce(&mut Config) -> bool) -> Result<bool> {
        let mut config = self.load()?;
        let changed = change(&mut config);
        if changed {
            self.save(&config)?;
        }
        Ok(changed)
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
}
