//! The persistence directory: keys, config and store of one node (DESIGN.md §3).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use iroh::SecretKey;
use serde::{Deserialize, Serialize};

use crate::sync::{BackendConfig, Error, Result, TransportConfig};

pub const CONFIG_FILE: &str = "config.toml";
pub const IDENTITY_FILE: &str = "identity.key";
pub const FORMATION_FILE: &str = "formation.key";
pub const STORE_FILE: &str = "store.redb";
pub const LOCK_FILE: &str = "node.lock";
pub const PID_FILE: &str = "node.pid";
pub const SOCKET_FILE: &str = "node.sock";
pub const LOG_FILE: &str = "node.log";

/// The default UDP port of the sync endpoint.
pub const DEFAULT_PORT: u16 = 7890;

/// `config.toml`: what an operator may edit by hand.
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
        }
    }
}

/// A node's persistence directory.
#[derive(Debug, Clone)]
pub struct NodeDir {
    path: PathBuf,
}

/// What `init` wrote or found.
#[derive(Debug)]
pub struct Initialized {
    pub dir: NodeDir,
    /// False when the directory was already initialised and left as it was.
    pub created: bool,
}

impl NodeDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `dirs::data_dir()/peat`: the directory when neither `--dir` nor `PEAT_DIR` names one.
    pub fn default_path() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("peat"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Whether the directory holds an initialised node.
    pub fn is_initialized(&self) -> bool {
        self.file(IDENTITY_FILE).exists() && self.file(CONFIG_FILE).exists()
    }

    /// Initialises the directory when it is not yet: 0700, fresh keys (0600), default config.
    pub fn ensure(&self) -> Result<Initialized> {
        if self.is_initialized() {
            return Ok(Initialized { dir: self.clone(), created: false });
        }
        self.init(Config::new("peat"), None, false)
    }

    /// Writes a new node: identity key, formation key (given, or fresh) and config. With
    /// `force`, replaces an existing one (but never its store).
    pub fn init(&self, config: Config, formation: Option<[u8; 32]>, force: bool) -> Result<Initialized> {
        if self.is_initialized() && !force {
            return Err(Error::invalid(format!(
                "{} is already initialised (node {}); pass --force to replace its keys and config",
                self.path.display(),
                self.identity()?.public()
            )));
        }
        fs::create_dir_all(&self.path).map_err(|e| io_err(&self.path, e))?;
        fs::set_permissions(&self.path, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err(&self.path, e))?;
        write_secret(&self.file(IDENTITY_FILE), &SecretKey::generate().to_bytes())?;
        write_secret(&self.file(FORMATION_FILE), &formation.unwrap_or_else(rand::random))?;
        self.save_config(&config)?;
        Ok(Initialized { dir: self.clone(), created: true })
    }

    /// The node's Iroh secret key; its public key is the node id.
    pub fn identity(&self) -> Result<SecretKey> {
        Ok(SecretKey::from_bytes(&read_key(&self.file(IDENTITY_FILE))?))
    }

    /// The shared formation secret.
    pub fn formation_key(&self) -> Result<[u8; 32]> {
        read_key(&self.file(FORMATION_FILE))
    }

    pub fn config(&self) -> Result<Config> {
        let path = self.file(CONFIG_FILE);
        let text = fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
        toml::from_str(&text)
            .map_err(|e| Error::invalid(format!("{}: {}", path.display(), one_line(&e.to_string()))))
    }

    /// Writes the config atomically (temp file + rename), so a crash never leaves half a file.
    pub fn save_config(&self, config: &Config) -> Result<()> {
        let text = toml::to_string_pretty(config).map_err(|e| Error::context("config", e))?;
        let path = self.file(CONFIG_FILE);
        let tmp = self.file(".config.toml.tmp");
        fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))
    }

    /// The backend configuration of this directory.
    pub fn backend_config(&self) -> Result<BackendConfig> {
        let config = self.config()?;
        Ok(BackendConfig {
            dir: self.path.clone(),
            app_id: config.app_id,
            transport: TransportConfig { listen: config.listen, relays: config.relays, mdns: config.mdns },
            peers: config.peers,
        })
    }
}

fn io_err(path: &Path, err: std::io::Error) -> Error {
    match err.kind() {
        std::io::ErrorKind::PermissionDenied => {
            Error::refused(format!("{}: permission denied", path.display()))
        }
        _ => Error::failed(format!("{}: {err}", path.display())),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write_secret(path: &Path, bytes: &[u8; 32]) -> Result<()> {
    let _ = fs::remove_file(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| io_err(path, e))
}

fn read_key(path: &Path) -> Result<[u8; 32]> {
    let bytes = fs::read(path).map_err(|e| io_err(path, e))?;
    bytes.try_into().map_err(|_| Error::failed(format!("{}: not a 32-byte key", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_private_files_and_keeps_identity() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = NodeDir::new(tmp.path().join("node"));
        assert!(dir.ensure().unwrap().created);
        let mode = |p: PathBuf| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path().to_path_buf()), 0o700);
        assert_eq!(mode(dir.file(IDENTITY_FILE)), 0o600);
        assert_eq!(mode(dir.file(FORMATION_FILE)), 0o600);
        let id = dir.identity().unwrap().public();
        assert!(!dir.ensure().unwrap().created);
        assert_eq!(dir.identity().unwrap().public(), id);
        assert_eq!(
            dir.init(Config::new("x"), None, false).unwrap_err().kind,
            crate::sync::ErrorKind::Invalid
        );
    }

    #[test]
    fn config_round_trips_and_rejects_unknown_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = NodeDir::new(tmp.path());
        dir.init(Config::new("app"), None, false).unwrap();
        let mut config = dir.config().unwrap();
        config.peers.push("abc@127.0.0.1:1".into());
        dir.save_config(&config).unwrap();
        assert_eq!(dir.config().unwrap(), config);
        fs::write(dir.file(CONFIG_FILE), "app_id = 'a'\nlisten = '0.0.0.0:1'\nbogus = 1\n").unwrap();
        assert!(dir.config().is_err());
    }
}
