//! The node daemon's lifecycle: start (in the foreground, or detached in the background),
//! graceful stop, and the pid file. The directory lock is the truth about whether a node
//! runs; the pid file and socket are hints that a killed node may leave behind.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::client::ClientBackend;
use super::logging::{KEEP_LOGS, MAX_LOG_BYTES, Rotating};
use super::open::{LOCK_WAIT, RETRY, open_local};
use super::server::ControlServer;
use crate::backend::automerge::AutomergeBackend;
use crate::home::{DirLock, LOG_FILE, Leftovers, NodeDir, PID_FILE};
use crate::sync::{DataSyncBackend, Error, PeerDiscovery, PeerInfo, Result, SyncDirection, SyncEngine};

/// Runs the node in this process until SIGTERM, SIGINT or a shutdown request; then flushes,
/// closes connections and removes its socket and pid file. Calls `ready` once it serves.
pub async fn run_foreground(dir: &NodeDir, ready: impl FnOnce(&str)) -> Result<()> {
    dir.ensure()?;
    let lock = acquire(dir).await?;
    if let Some(leftovers) = lock.clean_leftovers(dir) {
        tracing::info!("{leftovers}");
    }
    let pid_file = PidFile::write(dir)?;
    let backend = Arc::new(open_local(dir, lock).await?);
    backend.sync_engine().start_sync().await?;
    let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
    let server = ControlServer::bind(dir, backend.clone(), shutdown_tx)?;
    let serving = format!(
        "peat node {} serving {} (pid {})",
        dir.identity()?.public(),
        dir.path().display(),
        std::process::id()
    );
    tracing::info!("started: {serving}");
    ready(&serving);

    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|e| Error::context("signal handler", e))?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| Error::context("signal handler", e))?;
    let why = loop {
        tokio::select! {
            _ = shutdown_rx.wait_for(|stop| *stop) => break "shutdown requested",
            _ = term.recv() => break "SIGTERM",
            _ = tokio::signal::ctrl_c() => break "SIGINT",
            _ = hup.recv() => reload(dir, &backend).await,
        }
    };
    tracing::info!("stopping ({why})");
    server.close().await;
    backend.shutdown().await?;
    drop(pid_file);
    tracing::info!("stopped");
    Ok(())
}

/// SIGHUP: rereads config.toml and applies its `log_level`, `peers` and `blocked`;
/// connections to peers still listed stay up.
async fn reload(dir: &NodeDir, backend: &AutomergeBackend) {
    let owned = dir.clone();
    let config = match tokio::task::spawn_blocking(move || owned.config()).await {
        Ok(Ok(config)) => config,
        Ok(Err(e)) => return tracing::error!("SIGHUP: config.toml not reloaded: {e}"),
        Err(e) => return tracing::error!("SIGHUP: config.toml not reloaded: {e}"),
    };
    tracing::info!("SIGHUP: reloading log level '{}'", config.log_level);
    match super::logging::reload(&config.log_level) {
        Ok(()) => tracing::info!("SIGHUP: log level is now '{}'", config.log_level),
        Err(e) => tracing::error!("SIGHUP: log level not changed: {e}"),
    }
    if let Some(r) = backend.reload_peers(&config).await {
        tracing::info!("SIGHUP: peers reloaded: {} new dialed, {} dropped", r.added, r.dropped);
    }
}

/// Takes the directory lock for a node, or explains who has it.
async fn acquire(dir: &NodeDir) -> Result<DirLock> {
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    loop {
        if let Some(lock) = DirLock::try_acquire(dir)? {
            return Ok(lock);
        }
        if let Some(client) = ClientBackend::connect(dir).await? {
            let pid =
                client.node_info().await.map(|i| i.pid.to_string()).unwrap_or_else(|_| "unknown".into());
            return Err(already_running(dir, &pid));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(Error::refused(format!(
                "{} is locked by another peat process{} that does not answer",
                dir.path().display(),
                DirLock::holder(dir).map(|pid| format!(" (pid {pid})")).unwrap_or_default()
            )));
        }
        tokio::time::sleep(RETRY).await;
    }
}

fn already_running(dir: &NodeDir, pid: &str) -> Error {
    Error::failed(format!("a node is already running on {} (pid {pid})", dir.path().display()))
}

/// Starts the node detached unless one already runs, passing `-v` on `verbose` times, and
/// returns its ready line once it serves.
pub async fn start_detached(dir: &NodeDir, verbose: u8) -> Result<String> {
    if let Some(client) = ClientBackend::connect(dir).await? {
        return Err(already_running(dir, &client.node_info().await?.pid.to_string()));
    }
    let extra: Vec<String> = (0..verbose).map(|_| "-v".to_string()).collect();
    let dir = dir.clone();
    tokio::task::spawn_blocking(move || start_background(&dir, &extra))
        .await
        .map_err(|e| Error::context("starting the node", e))?
}

/// `node.pid`, removed when dropped.
struct PidFile(std::path::PathBuf);

impl PidFile {
    fn write(dir: &NodeDir) -> Result<Self> {
        let path = dir.file(PID_FILE);
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .map_err(|e| Error::context("writing pid file", e))?;
        Ok(Self(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Starts `peat sync start --foreground --log-file` detached (own session; its log, and
/// stderr for what comes before logging, to `node.log`) and
/// returns its ready line once it serves. `extra` are flags passed on to the child.
fn start_background(dir: &NodeDir, extra: &[String]) -> Result<String> {
    use std::os::unix::process::CommandExt;
    dir.ensure()?;
    let exe = std::env::current_exe().map_err(|e| Error::context("locating the peat binary", e))?;
    let log_path = dir.file(LOG_FILE);
    Rotating::rotate_if_full(&log_path, MAX_LOG_BYTES, KEEP_LOGS)
        .map_err(|e| Error::context(&format!("rotating {}", log_path.display()), e))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| Error::context(&format!("opening {}", log_path.display()), e))?;
    let (ready_rx, ready_tx) = std::io::pipe().map_err(|e| Error::context("pipe", e))?;
    let mut command = Command::new(exe);
    command
        .arg("--dir")
        .arg(dir.path())
        .args(["sync", "start", "--foreground", "--log-file"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(ready_tx)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; it detaches the node from the terminal's session
    // so that closing the terminal or its Ctrl-C does not reach it.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|e| Error::context("starting the node", e))?;
    // Our copy of the pipe's write end must close, or EOF would never come.
    drop(command);
    let mut line = String::new();
    std::io::BufReader::new(ready_rx)
        .read_line(&mut line)
        .map_err(|e| Error::context("waiting for the node", e))?;
    if line.is_empty() {
        let status = child.wait().map_err(|e| Error::context("node", e))?;
        let why = last_line(&log_path).unwrap_or_else(|| format!("it exited with {status}"));
        let why = why.strip_prefix("peat: error: ").unwrap_or(&why).to_string();
        return Err(Error::failed(format!("the node did not start: {why} (log: {})", log_path.display())));
    }
    Ok(line.trim_end().to_string())
}

fn last_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string)
}

/// What `stop` found.
pub enum Stopped {
    /// The node with this pid shut down.
    Stopped(u32),
    /// No node was running; a killed node's leftovers were cleaned up, if any.
    NotRunning(Option<Leftovers>),
}

/// Asks the running node to shut down gracefully and waits for its process to end.
pub async fn stop(dir: &NodeDir, timeout: Duration) -> Result<Stopped> {
    dir.require()?;
    if let Some(client) = ClientBackend::connect(dir).await? {
        let too_late = || Error::timeout(format!("the node did not stop within {}s", timeout.as_secs_f64()));
        let stopped = async {
            let pid = client.node_info().await?.pid;
            let exited = ProcessExit::watch(pid)?;
            client.shutdown_node(timeout).await?;
            // The connection closes as the process winds down; the store and the lock are
            // released once it is gone. The lock is checked too: a node in another pid
            // namespace has a pid that means nothing here.
            exited.wait().await?;
            while DirLock::try_acquire(dir)?.is_none() {
                tokio::time::sleep(RETRY).await;
            }
            Ok(Stopped::Stopped(pid))
        };
        // The whole stop is bounded: a node that hangs (SIGSTOP, a stuck disk) cannot hang us.
        return tokio::time::timeout(timeout, stopped).await.map_err(|_| too_late())?;
    }
    // No node answers. If nobody holds the lock either, whatever is left is stale.
    let Some(lock) = DirLock::try_acquire(dir)? else {
        return Err(Error::refused(format!(
            "{} is locked by a peat process that does not answer on its socket",
            dir.path().display()
        )));
    };
    Ok(Stopped::NotRunning(lock.clean_leftovers(dir)))
}

/// The end of a process, as an event (a pidfd turns readable when the process exits).
struct ProcessExit(Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>);

impl ProcessExit {
    /// Watches `pid`; a process already gone is already exited.
    fn watch(pid: u32) -> Result<Self> {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ESRCH) => Ok(Self(None)),
                _ => Err(Error::context(&format!("watching the node process {pid}"), e)),
            };
        }
        // SAFETY: the descriptor was just opened and is owned by nobody else.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
        // SAFETY: an OwnedFd keeps its descriptor open and the same until the AsyncFd drops it.
        let fd =
            unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
                .map_err(|e| Error::context("watching the node process", e.into_parts().1))?;
        Ok(Self(Some(fd)))
    }

    /// Returns once the process has exited.
    async fn wait(self) -> Result<()> {
        if let Some(fd) = &self.0 {
            fd.readable().await.map_err(|e| Error::context("watching the node process", e))?.retain_ready();
        }
        Ok(())
    }
}

/// What `sync wait` shows its progress with: called with the node's peers now and then.
pub type ShowProgress<'a> = &'a mut (dyn FnMut(&[PeerInfo]) + Send);

/// How often `sync wait` reads the peers to show its progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Waits until the running node and its connected peers are in sync in `direction`
/// (`sync wait`). With `progress`, hands it the node's peers now and then while waiting, read
/// over a second control connection: for display only, the wait itself is the node's.
pub async fn wait_for_sync(
    dir: &NodeDir,
    direction: SyncDirection,
    timeout: Duration,
    progress: Option<ShowProgress<'_>>,
) -> Result<()> {
    dir.require()?;
    let Some(client) = ClientBackend::connect(dir).await? else {
        return Err(Error::failed("no node is running; start it with `peat sync start`"));
    };
    let wait = SyncEngine::wait_for_sync(&client, direction, timeout);
    let Some(progress) = progress else { return wait.await };
    let Some(reader) = ClientBackend::connect(dir).await? else { return wait.await };
    tokio::pin!(wait);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            done = &mut wait => return done,
            _ = tick.tick() => {
                if let Ok(peers) = PeerDiscovery::peers(&reader).await {
                    progress(&peers);
                }
            }
        }
    }
}
