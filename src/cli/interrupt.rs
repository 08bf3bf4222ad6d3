//! Ctrl-C for a command that stops at a safe point itself (an upsert, after the batch in
//! flight) rather than be dropped wherever it is.

/// Ctrl-C, as a flag to check at safe points and a future to race against waits.
pub struct Interrupt(tokio::sync::watch::Receiver<bool>);

impl Interrupt {
    /// Starts listening for Ctrl-C.
    pub fn listen() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tx.send_replace(true);
            }
        });
        Self(rx)
    }

    /// Whether Ctrl-C was pressed.
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once Ctrl-C was pressed (never, if it cannot be listened for).
    pub async fn wait(&mut self) {
        if self.0.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// `work`'s result, or `None` when Ctrl-C comes first (`work` is then dropped).
    pub async fn or<T>(&mut self, work: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::select! {
            done = work => Some(done),
            () = self.wait() => None,
        }
    }
}
