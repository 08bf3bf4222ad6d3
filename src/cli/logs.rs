//! `peat logs`: the node's log, its last lines, and new ones as they come (`-f`).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Context;
use crate::home::LOG_FILE;
use crate::sync::Error;

/// How often `-f` looks for new lines.
const POLL: Duration = Duration::from_millis(200);

/// Show the node's log (node.log)
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print the last lines of node.log, the log of the node started in the background \
with `peat sync start` (its level is log_level in config.toml, default info; the file is rotated by \
size into node.log.1 to node.log.3). With -f, keep printing new lines as the node writes them, \
across rotations, until Ctrl-C. A node in the foreground (systemd) logs to stderr instead: see \
`journalctl --user -u peat`.",
    after_help = "Examples:\n  peat logs\n  peat logs -n 200\n  peat logs -f\n  peat logs -n 0 -f | grep -i refused"
)]
pub struct Args {
    /// Follow: print new lines as they are written, until Ctrl-C
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How many of the last lines to print first
    #[arg(long, short = 'n', default_value_t = 20, value_name = "N")]
    pub lines: usize,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    ctx.dir.require()?;
    let path = ctx.dir.file(LOG_FILE);
    let printer = ctx.printer;
    let (lines, follow) = (args.lines, args.follow);
    // Reading and following block on the file: a thread of their own, told to stop when this
    // command ends (Ctrl-C drops it), so the runtime never waits on it.
    let stop = Stop::default();
    let stopped = stop.0.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::not_found(format!(
                "no {} yet (a node started with `peat sync start` writes it)",
                path.display()
            )),
            _ => Error::context(&path.display().to_string(), e),
        })?;
        let mut reader = BufReader::new(file);
        for line in last_lines(&mut reader, lines)? {
            printer.line(line)?;
        }
        if follow {
            loop_follow(&path, reader, printer, &stopped)?;
        }
        Ok(())
    })
    .await??;
    drop(stop);
    Ok(())
}

/// The last `n` lines, reading the file once and keeping no more than `n` lines.
fn last_lines(reader: &mut impl BufRead, n: usize) -> anyhow::Result<VecDeque<String>> {
    let mut last = VecDeque::with_capacity(n.min(4096));
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 {
        if n > 0 {
            if last.len() == n {
                last.pop_front();
            }
            last.push_back(line.trim_end_matches('\n').to_string());
        }
        line.clear();
    }
    Ok(last)
}

/// Prints lines as they are appended; when the file is rotated (a new, shorter file under
/// the name), starts on the new one from its beginning.
fn loop_follow(
    path: &std::path::Path,
    mut reader: BufReader<std::fs::File>,
    printer: super::Printer,
    stopped: &AtomicBool,
) -> anyhow::Result<()> {
    let mut partial = String::new();
    while !stopped.load(Ordering::Relaxed) {
        let mut chunk = String::new();
        reader.read_to_string(&mut chunk)?;
        partial.push_str(&chunk);
        while let Some(end) = partial.find('\n') {
            printer.line(&partial[..end])?;
            partial.drain(..=end);
        }
        std::thread::sleep(POLL);
        let position = reader.stream_position()?;
        if std::fs::metadata(path).is_ok_and(|m| m.len() < position)
            && let Ok(file) = std::fs::File::open(path)
        {
            reader = BufReader::new(file);
            reader.seek(SeekFrom::Start(0))?;
        }
    }
    Ok(())
}

/// Set when dropped: tells the following thread to end.
#[derive(Default)]
struct Stop(Arc<AtomicBool>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
