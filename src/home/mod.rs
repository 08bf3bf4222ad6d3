//! The persistence directory of one node (DESIGN.md §3): its paths, keys, config, lock and
//! join tickets. Everything above (backends, the node, the CLI) finds its files through here.

pub mod config;
pub mod lock;
pub mod ticket;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use iroh::SecretKey;

pub use config::{Config, ConfigFile, DEFAULT_PORT};
pub use lock::{DirLock, Leftovers};
pub use ticket::Ticket;

use crate::sync::{BackendConfig, Error, Result, Secret, TransportConfig};

pub const CONFIG_FILE: &str = "config.toml";
pub const IDENTITY_FILE: &str = "identity.key";
pub const FORMATION_FILE: &str = "formation.key";
pub const STORE_FILE: &str = "store.redb";
pub const LOCK_FILE: &str = "node.lock";
pub const PID_FILE: &str = "node.pid";
pub const SOCKET_FILE: &str = "node.sock";
pub const LOG_FILE: &str = "node.log";

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

    /// Whether the directory holds a node (perhaps a damaged one: [`NodeDir::check`] says).
    pub fn is_initialized(&self) -> bool {
        [IDENTITY_FILE, FORMATION_FILE, CONFIG_FILE].iter().any(|f| self.file(f).exists())
    }

    /// Errors with `NotFound` unless the directory holds a node: how read commands refuse a
    /// mistyped `--dir` instead of creating a node there. A node it holds must pass
    /// [`NodeDir::check`].
    pub fn require(&self) -> Result<()> {
        if self.is_initialized() {
            return self.check();
        }
        Err(Error::not_found(format!("no node in {} (create one with `peat init`)", self.path.display())))
    }

    /// Initialises the directory when it is not yet: 0700, fresh keys (0600), default config.
    /// Concurrent first commands agree on one node: the first makes it under a lock on the
    /// directory, the others then find it.
    pub fn ensure(&self) -> Result<Initialized> {
        let _lock = self.lock_for_init()?;
        if self.is_initialized() {
            self.check()?;
            return Ok(Initialized { dir: self.clone(), created: false });
        }
        self.write_new(Config::new("peat"), None)
    }

    /// Writes a new node: identity key, formation key (given, or fresh) and config. With
    /// `force`, replaces an existing one (but never its store).
    pub fn init(&self, config: Config, formation: Option<[u8; 32]>, force: bool) -> Result<Initialized> {
        let _lock = self.lock_for_init()?;
        if self.is_initialized() && !force {
            return Err(Error::invalid(format!(
                "{} is already initialised (node {}); pass --force to replace its keys and config",
                self.path.display(),
                self.identity()?.public()
            )));
        }
        self.write_new(config, formation)
    }

    fn write_new(&self, config: Config, formation: Option<[u8; 32]>) -> Result<Initialized> {
        fs::set_permissions(&self.path, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err(&self.path, e))?;
        write_secret(&self.file(IDENTITY_FILE), &SecretKey::generate().to_bytes())?;
        write_secret(&self.file(FORMATION_FILE), &formation.unwrap_or_else(rand::random))?;
        self.config_file().save(&config)?;
        Ok(Initialized { dir: self.clone(), created: true })
    }

    /// Creates the directory (0700) if missing, checks that it is safe to use, and locks it
    /// until the guard drops, so that only one process at a time initialises it.
    fn lock_for_init(&self) -> Result<fs::File> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.path)
            .map_err(|e| io_err(&self.path, e))?;
        self.check_dir()?;
        let dir = fs::File::open(&self.path).map_err(|e| io_err(&self.path, e))?;
        dir.lock().map_err(|e| io_err(&self.path, e))?;
        Ok(dir)
    }

    /// Checks a directory that holds a node: safe permissions, and every file a node needs
    /// present (a missing key is never silently replaced: that would be a new node).
    pub fn check(&self) -> Result<()> {
        self.check_dir()?;
        for name in [IDENTITY_FILE, FORMATION_FILE, CONFIG_FILE] {
            let path = self.file(name);
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::failed(format!(
                        "{} is missing from this node's directory; restore it from a backup \
                         (or `peat init --force` makes a new node with a new id)",
                        path.display()
                    )));
                }
                Err(e) => return Err(io_err(&path, e)),
            };
            if name != CONFIG_FILE && meta.permissions().mode() & 0o077 != 0 {
                return Err(Error::refused(format!(
                    "{} is readable by others (mode {:o}); run `chmod 600 {}`",
                    path.display(),
                    meta.permissions().mode() & 0o777,
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// The directory must belong to this user and be writable by nobody else: whoever can
    /// write it can replace the keys or the peer list.
    fn check_dir(&self) -> Result<()> {
        let meta = fs::metadata(&self.path).map_err(|e| io_err(&self.path, e))?;
        let me = effective_uid();
        if meta.uid() != me {
            return Err(Error::refused(format!(
                "{} belongs to user {}, not to you (user {me}); use a directory of your own",
                self.path.display(),
                meta.uid()
            )));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(Error::refused(format!(
                "{} is writable by group or others (mode {mode:o}); run `chmod 700 {}`",
                self.path.display(),
                self.path.display()
            )));
        }
        Ok(())
    }

    /// The node's Iroh secret key; its public key is the node id.
    pub fn identity(&self) -> Result<SecretKey> {
        Ok(SecretKey::from_bytes(&read_key(&self.file(IDENTITY_FILE))?))
    }

    /// The shared formation secret.
    pub fn formation_key(&self) -> Result<[u8; 32]> {
        read_key(&self.file(FORMATION_FILE))
    }

    /// The handle on `config.toml`.
    pub fn config_file(&self) -> ConfigFile {
        ConfigFile::new(self.file(CONFIG_FILE))
    }

    /// The current `config.toml`.
    pub fn config(&self) -> Result<Config> {
        self.config_file().load()
    }

    /// The backend configuration of this directory.
    pub fn backend_config(&self) -> Result<BackendConfig> {
        let config = self.config()?;
        Ok(BackendConfig {
            store: self.file(STORE_FILE),
            identity: Secret(self.identity()?.to_bytes()),
            formation_key: Secret(self.formation_key()?),
            app_id: config.app_id,
            transport: TransportConfig {
                listen: config.listen,
                relays: config.relays,
                mdns: config.mdns,
                relay_urls: config.relay_urls,
            },
            peers: config.peers,
            max_peers: config.max_peers,
            blocked: config.blocked,
        })
    }
}

/// This process's effective user id.
fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

pub(crate) fn io_err(path: &Path, err: std::io::Error) -> Error {
    match err.kind() {
        std::io::ErrorKind::PermissionDenied => {
            Error::refused(format!("{}: permission denied", path.display()))
        }
        _ => Error::failed(format!("{}: {err}", path.display())),
    }
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

/// Replaces the key file at `path` in one step: a new file (0600) written and synced beside
/// it, then renamed over it, so a crash leaves the old key or the new one, never neither.
pub(crate) fn replace_secret(path: &Path, bytes: &[u8; 32]) -> Result<()> {
    let mut next = path.as_os_str().to_owned();
    next.push(".new");
    let next = PathBuf::from(next);
    write_secret(&next, bytes)?;
    fs::rename(&next, path).map_err(|e| io_err(path, e))?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_err(dir, e))?;
    }
    Ok(())
}

pub(crate) fn read_key(path: &Path) -> Result<[u8; 32]> {
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
}
