//! The engine's tasks, tracked so that stopping can wait for them to wind down (sessions
//! persist their cursors on the way out) instead of cutting them off mid-write.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::task::{JoinError, JoinSet};

/// Every task the engine spawned and that has not yet been reaped.
#[derive(Default)]
pub(super) struct Tasks {
    set: Mutex<JoinSet<()>>,
}

impl Tasks {
    /// Spawns a tracked task (and forgets the ones that have ended).
    pub(super) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.lock();
        while let Some(ended) = set.try_join_next() {
            report(ended);
        }
        set.spawn(task);
    }

    /// Waits until every task has ended, those spawned meanwhile included. After `bound`,
    /// aborts the rest and returns false.
    pub(super) async fn wait(&self, bound: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            // Taken out so that no lock is held while waiting; new tasks go to a fresh set.
            let mut set = std::mem::take(&mut *self.lock());
            if set.is_empty() {
                return true;
            }
            let all = async {
                while let Some(ended) = set.join_next().await {
                    report(ended);
                }
            };
            if tokio::time::timeout_at(deadline, all).await.is_err() {
                while !set.is_empty() {
                    set.shutdown().await;
                    set = std::mem::take(&mut *self.lock());
                }
                return false;
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, JoinSet<()>> {
        self.set.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn report(ended: Result<(), JoinError>) {
    if let Err(e) = ended
        && e.is_panic()
    {
        tracing::error!("sync task failed: {e}");
    }
}
