//! Stopping: one [`Shutdown`] per engine (a cancellation token, a tracker
//! of the tasks that must finish, and one grace period) replaces ad-hoc
//! tokens and per-module deadlines.
//!
//! A stop is: cancel the token (servers stop accepting, sessions end their
//! loops), then give the tracked tasks [`GRACE`] to deliver what is in
//! flight, then drop what is left.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::TaskTracker;

/// How long connections get to finish after a stop (a signal, `stop()` on
/// a handle): replies in flight go out, then what is left is dropped.
pub const GRACE: Duration = Duration::from_secs(2);

/// How long one connection may go on delivering what is in flight after
/// shutdown before its writes are cut (inside [`GRACE`], so the cut still
/// happens before the process gives up waiting).
pub const DRAIN: Duration = Duration::from_millis(1500);

/// A stop signal and the tasks that should finish before the program ends.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    tracker: TaskTracker,
}

impl Shutdown {
    /// A fresh, not yet cancelled shutdown.
    pub fn new() -> Self {
        Shutdown::default()
    }

    /// A shutdown that stops when this one does, and can also be stopped on
    /// its own (one listener, one connection) without stopping the parent.
    pub fn child(&self) -> Self {
        Shutdown {
            token: self.token.child_token(),
            tracker: TaskTracker::new(),
        }
    }

    /// Asks everything under this shutdown to stop.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// True once a stop was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves when a stop is asked for.
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }

    /// The underlying token (for code that selects on it).
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Runs `task` as one of the tasks a stop waits for.
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn(task)
    }

    /// How many tracked tasks are still running.
    pub fn running(&self) -> usize {
        self.tracker.len()
    }

    /// Waits for the tracked tasks, at most [`GRACE`]. Returns how many
    /// were still running when the grace period ran out (0: all finished).
    pub async fn drain(&self) -> usize {
        self.tracker.close();
        match tokio::time::timeout(GRACE, self.tracker.wait()).await {
            Ok(()) => 0,
            Err(_) => self.tracker.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_child_stops_with_its_parent_but_not_the_other_way() {
        let parent = Shutdown::new();
        let child = parent.child();
        child.cancel();
        assert!(!parent.is_cancelled());
        let other = parent.child();
        parent.cancel();
        assert!(other.is_cancelled());
    }

    #[tokio::test(start_paused = true)]
    async fn drain_waits_for_tasks_and_gives_up_after_the_grace() {
        let s = Shutdown::new();
        s.spawn(async {});
        assert_eq!(s.drain().await, 0);
        let s = Shutdown::new();
        s.spawn(std::future::pending::<()>());
        assert_eq!(s.drain().await, 1);
    }
}
