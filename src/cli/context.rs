//! What every command works with: the directory, a way to open its backend, and the printer.
//!
//! Read commands open a directory that holds a node and fail with exit 3 otherwise (a
//! mistyped `--dir` creates nothing); write commands create a missing node and say so.
//! Either way a command holds the store only while it makes its trait calls: [`Context::close`]
//! releases it before the command prints, so that a full pipe never holds the directory.

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

/// The global options every command shares.
pub struct Options<'a> {
    pub dir: Option<&'a std::path::Path>,
    pub output: Option<Format>,
    pub verbose: u8,
    pub quiet: bool,
    pub wide: bool,
}

impl Context {
    /// The context for `--dir` (else the platform's data dir) and the output options.
    pub fn new(options: Options<'_>) -> Result<Self, Error> {
        let dir = match options.dir {
            Some(dir) => NodeDir::new(dir),
            None => NodeDir::default_path().map(NodeDir::new).ok_or_else(|| {
                Error::invalid("no data directory on this platform; pass --dir or set PEAT_DIR")
            })?,
        };
        let printer = Printer::new(Format::resolve(options.output), options.quiet, options.wide);
        Ok(Self { dir, printer, verbose: options.verbose })
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

    /// The backend for a command that writes: the running node's, else the store opened
    /// here; a missing node is created first.
    pub async fn writer(&self) -> anyhow::Result<Box<dyn DataSyncBackend>> {
        self.ensure_initialized()?;
        self.reader().await
    }

    /// The backend for a command that reads: the running node's, else the store opened
    /// here. Exit 3 when the directory holds no node.
    pub async fn reader(&self) -> anyhow::Result<Box<dyn DataSyncBackend>> {
        Ok(open::open(&self.dir, &self.notice()).await?.boxed())
    }

    /// Like [`Context::reader`], but a store opened here is also served to other commands
    /// for as long as this one runs (for `watch`).
    pub async fn serving_reader(&self) -> anyhow::Result<Box<dyn DataSyncBackend>> {
        Ok(open::open_serving(&self.dir, &self.notice()).await?)
    }

    /// Shuts a backend down and lets go of the store, before the command prints.
    pub async fn close(&self, backend: Box<dyn DataSyncBackend>) -> anyhow::Result<()> {
        backend.shutdown().await?;
        Ok(())
    }

    /// Messages of the node layer (waiting for the directory), through the printer.
    pub fn notice(&self) -> impl Fn(String) + Send + Sync + use<> {
        let printer = self.printer;
        move |message| printer.note(message)
    }
}
