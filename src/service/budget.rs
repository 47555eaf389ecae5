//! [`BufferBudget`]: the bytes of unfinished messages a whole server may
//! hold for its clients. Each connection takes what its decoder keeps and
//! gives it back as messages complete; a connection that would take the
//! server past the budget is closed, so slow or hostile clients (slowloris:
//! many unterminated lines) cannot grow memory without bound.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes of unfinished messages a server holds over all its clients by
/// default (with the default `--max-conns`, a server stays within a few
/// hundred MB whatever clients do).
pub const DEFAULT_BUFFER_BUDGET: usize = 128 * 1024 * 1024;

/// A server-wide byte budget shared by its connections.
#[derive(Debug)]
pub struct BufferBudget {
    limit: usize,
    used: AtomicUsize,
}

impl Default for BufferBudget {
    fn default() -> Self {
        BufferBudget::new(DEFAULT_BUFFER_BUDGET)
    }
}

impl BufferBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        BufferBudget {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// The budget in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// One connection's share, given back when dropped.
    pub fn share(&self) -> Share<'_> {
        Share {
            budget: self,
            held: 0,
        }
    }
}

/// What one connection holds of a [`BufferBudget`].
#[derive(Debug)]
pub struct Share<'a> {
    budget: &'a BufferBudget,
    held: usize,
}

impl Share<'_> {
    /// Sets what this connection holds to `bytes`; false (and nothing
    /// taken) when that would take the server past its budget.
    pub fn hold(&mut self, bytes: usize) -> bool {
        if bytes <= self.held {
            self.budget
                .used
                .fetch_sub(self.held - bytes, Ordering::Relaxed);
            self.held = bytes;
            return true;
        }
        let more = bytes - self.held;
        let before = self.budget.used.fetch_add(more, Ordering::Relaxed);
        if before + more > self.budget.limit {
            self.budget.used.fetch_sub(more, Ordering::Relaxed);
            return false;
        }
        self.held = bytes;
        true
    }
}

impl Drop for Share<'_> {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.held, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_stay_within_the_budget_and_are_given_back() {
        let budget = BufferBudget::new(100);
        let mut a = budget.share();
        let mut b = budget.share();
        assert!(a.hold(60));
        assert!(!b.hold(50), "60 + 50 is past 100");
        assert!(b.hold(40));
        assert!(a.hold(10), "shrinking always works");
        assert!(b.hold(90));
        drop(b);
        assert!(a.hold(100));
    }
}
