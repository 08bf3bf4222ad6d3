//! What every command works with: the directory, a way to open its backend, and the printer.

use crate::home::NodeDir;
use crate::node::open;
use crate::sync::{DataSyncBackend, Error};

use super::printer::{Format, Printer};

/// The context of one command.
pub struct Context {
    pub dir: NodeDir,
    pub printer: Printer,
    /// How many `-v` were given (passed on to a node started in the background).
    pub verbose: u8,
}

impl Context {
    /// The context for `--dir` (else the platform's data dir), `--output` and `-v`.
    pub fn new(dir: Option<&std::path::Path>, output: Option<Format>, verbose: u8) -> Result<Self, Error> {
        let dir = match dir {
            Some(dir) => NodeDir::new(dir),
            None => NodeDir::default_path().map(NodeDir::new).ok_or_else(|| {
                Error::invalid("no data directory on this platform; pass --dir or set PEAT_DIR")
            })?,
        };
        Ok(Self { dir, printer: Printer::new(Format::resolve(output)), verbose })
    }

    /// Initialises a missing directory with defaults, telling the user where and who it is.
    pub fn ensure_initialized(&self) -> anyhow::Result<()> {
        if self.dir.ensure()?.created {
            self.printer.note(format!(
                "initialised a new node in {} (node {})",
                self.dir.path().display(),
                self.dir.identity()?.public()
            ));
        }
        Ok(())
    }

    /// The backend for a command: the running node's, else the store opened here.
    pub async fn backend(&self) -> anyhow::Result<Box<dyn DataSyncBackend>> {
        self.ensure_initialized()?;
        Ok(open::open(&self.dir).await?.boxed())
    }

    /// Like [`Context::backend`], but a store opened here is also served to other commands
    /// for as long as this one runs (for `watch`).
    pub async fn serving_backend(&self) -> anyhow::Result<Box<dyn DataSyncBackend>> {
        self.ensure_initialized()?;
        Ok(open::open_serving(&self.dir).await?)
    }
}
