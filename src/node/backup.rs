//! Backups of a whole node: a directory holding a consistent copy of the store (made by the
//! store itself, through the node when one runs), `config.toml`, the keys when asked, and a
//! manifest. Restoring one gives the store a new store id, so that peers read its change log
//! afresh instead of skipping positions they read from the original.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::client::ClientBackend;
use crate::backend::automerge::restore_store;
use crate::home::{CONFIG_FILE, DirLock, FORMATION_FILE, IDENTITY_FILE, NodeDir, STORE_FILE};
use crate::sync::{Error, Result};

/// The manifest a backup directory holds.
pub const MANIFEST_FILE: &str = "peat-backup.json";

/// What a backup holds, as its manifest says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub node_id: String,
    pub created: String,
    /// Whether `identity.key` and `formation.key` are in it.
    pub keys: bool,
    pub dir: PathBuf,
}

/// Makes `dest` an empty private directory for a backup and returns its absolute path (a
/// running node writes the store copy there itself).
pub fn prepare(dest: &Path) -> Result<PathBuf> {
    let io = |e| Error::context(&dest.display().to_string(), e);
    if dest.exists() && fs::read_dir(dest).map_err(io)?.next().is_some() {
        return Err(Error::invalid(format!("{} is not empty; back up into a new directory", dest.display())));
    }
    fs::create_dir_all(dest).map_err(io)?;
    fs::set_permissions(dest, fs::Permissions::from_mode(0o700)).map_err(io)?;
    dest.canonicalize().map_err(io)
}

/// Completes a backup whose store copy is in `dest`: the config, the keys if asked, and
/// the manifest, written last so that a backup with a manifest is whole.
pub fn finish(dir: &NodeDir, dest: &Path, include_keys: bool) -> Result<Manifest> {
    let mut files = vec![CONFIG_FILE];
    if include_keys {
        files.extend([IDENTITY_FILE, FORMATION_FILE]);
    }
    for name in files {
        copy(&dir.file(name), &dest.join(name))?;
    }
    let manifest = Manifest {
        version: 1,
        node_id: dir.identity()?.public().to_string(),
        created: crate::sync::clock::now(),
        keys: include_keys,
        dir: dest.to_path_buf(),
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::context("manifest", e))?;
    fs::write(dest.join(MANIFEST_FILE), text).map_err(|e| Error::context("writing the manifest", e))?;
    Ok(manifest)
}

/// Restores the backup in `from` into `dir`, which no node may be running on. The store and
/// config are replaced; keys come from the backup when it has them, else `dir` must have its
/// own. A directory that already has a store is replaced only with `force`.
pub async fn restore(dir: &NodeDir, from: &Path, force: bool) -> Result<Manifest> {
    let manifest = read_manifest(from)?;
    if ClientBackend::connect(dir).await?.is_some() {
        return Err(Error::refused(format!(
            "a node is running on {}; stop it (`peat sync stop`) before restoring",
            dir.path().display()
        )));
    }
    let (dir, from) = (dir.clone(), from.to_path_buf());
    tokio::task::spawn_blocking(move || restore_files(&dir, &from, force, manifest))
        .await
        .map_err(|e| Error::context("restore task", e))?
}

fn restore_files(dir: &NodeDir, from: &Path, force: bool, manifest: Manifest) -> Result<Manifest> {
    let has_keys = dir.file(IDENTITY_FILE).exists() && dir.file(FORMATION_FILE).exists();
    if !manifest.keys && !has_keys {
        return Err(Error::invalid(format!(
            "the backup holds no keys (made without --include-keys) and {} has none: create the node \
             there first (`peat init --join TICKET`), then restore into it",
            dir.path().display()
        )));
    }
    if dir.file(STORE_FILE).exists() && !force {
        return Err(Error::refused(format!(
            "{} already has a store; pass --force to replace it with the backup's",
            dir.path().display()
        )));
    }
    fs::create_dir_all(dir.path()).map_err(|e| Error::context(&dir.path().display().to_string(), e))?;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::context("directory permissions", e))?;
    let Some(_lock) = DirLock::try_acquire(dir)? else {
        return Err(Error::refused(format!("{} is in use by another peat process", dir.path().display())));
    };
    restore_store(&from.join(STORE_FILE), &dir.file(STORE_FILE))?;
    copy(&from.join(CONFIG_FILE), &dir.file(CONFIG_FILE))?;
    if manifest.keys {
        copy(&from.join(IDENTITY_FILE), &dir.file(IDENTITY_FILE))?;
        copy(&from.join(FORMATION_FILE), &dir.file(FORMATION_FILE))?;
    }
    Ok(Manifest { dir: dir.path().to_path_buf(), ..manifest })
}

fn read_manifest(from: &Path) -> Result<Manifest> {
    let path = from.join(MANIFEST_FILE);
    let text = fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::not_found(format!("{} is not a complete peat backup (no {MANIFEST_FILE})", from.display()))
        }
        _ => Error::context(&path.display().to_string(), e),
    })?;
    serde_json::from_slice(&text).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
}

/// Copies a file through a temp file and a rename (permissions kept: keys stay 0600).
fn copy(from: &Path, to: &Path) -> Result<()> {
    let partial = to.with_extension("partial");
    fs::copy(from, &partial).map_err(|e| Error::context(&format!("copying {}", from.display()), e))?;
    fs::rename(&partial, to).map_err(|e| Error::context(&format!("writing {}", to.display()), e))
}
