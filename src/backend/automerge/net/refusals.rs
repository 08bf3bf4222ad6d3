//! Refused handshakes in the log, bounded: anyone can dial a node, so a line per refusal would
//! let strangers fill the disk. Each peer gets at most one line per [`WINDOW`], at most
//! [`MAX_LINES`] peers per window; the rest are counted and reported as one line when the
//! window ends (or the node stops).

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use iroh::EndpointId;
use tokio::time::Instant;

/// How long one peer's refusals share a line.
pub(super) const WINDOW: Duration = Duration::from_secs(60);
/// Refusal lines per window, however many peers are refused.
const MAX_LINES: usize = 20;

/// The refusals logged and suppressed in the current window.
pub(super) struct RefusalLog {
    state: Mutex<Window>,
}

struct Window {
    started: Instant,
    logged: HashSet<EndpointId>,
    suppressed: u64,
}

impl Default for RefusalLog {
    fn default() -> Self {
        let window = Window { started: Instant::now(), logged: HashSet::new(), suppressed: 0 };
        Self { state: Mutex::new(window) }
    }
}

impl RefusalLog {
    /// Logs a refused handshake with `peer`, unless this window has logged it (or enough).
    pub(super) fn refused(&self, peer: &EndpointId, reason: &str) {
        let mut window = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if window.started.elapsed() >= WINDOW {
            window.roll();
        }
        if window.logged.len() < MAX_LINES && window.logged.insert(*peer) {
            tracing::warn!(
                "peer {peer}: refused: {reason} (more from it this minute are counted, not logged)"
            );
        } else {
            window.suppressed += 1;
        }
    }

    /// Ends the window: reports what it suppressed. Called every [`WINDOW`] and at stop.
    pub(super) fn flush(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).roll();
    }
}

impl Window {
    fn roll(&mut self) {
        if self.suppressed > 0 {
            tracing::warn!("{} more refused handshakes not logged in the last minute", self.suppressed);
        }
        *self = Window { started: Instant::now(), logged: HashSet::new(), suppressed: 0 };
    }
}

/// Reports suppressed refusals once a window, until the engine stops (then once more).
pub(super) async fn run(shared: std::sync::Arc<super::Shared>) {
    let stopped = shared.stopped();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            () = tokio::time::sleep(WINDOW) => shared.refusals.flush(),
            () = &mut stopped => break,
        }
    }
    shared.refusals.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_peer_and_a_bounded_number_of_peers_per_window() {
        let log = RefusalLog::default();
        let stranger = iroh::SecretKey::from_bytes(&[7; 32]).public();
        for _ in 0..1000 {
            log.refused(&stranger, "wrong formation");
        }
        for i in 0..100u8 {
            log.refused(&iroh::SecretKey::from_bytes(&[i; 32]).public(), "wrong formation");
        }
        let window = log.state.lock().unwrap();
        assert_eq!(window.logged.len(), MAX_LINES);
        assert_eq!(window.suppressed, 999 + 100 - (MAX_LINES as u64 - 1));
    }
}
