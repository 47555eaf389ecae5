//! [`BufferBudget`]: the bytes of unfinished messages a whole server may
//! hold for its clients. Each connection takes what its decoder keeps (a
//! service's [`Share`]) and what its WebSocket layer reassembles (an
//! [`OwnedShare`]) and gives it back as messages complete; a connection
//! that would take the server past the budget is closed, so slow or
//! hostile clients (slowloris: many unterminated lines, unfinished
//! fragmented messages) cannot grow memory without bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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

impl BufferBudget {
    /// Moves what one holder holds from `*held` to `bytes`; false (and
    /// nothing taken) when that would take the server past its budget.
    fn hold(&self, held: &mut usize, bytes: usize) -> bool {
        if bytes <= *held {
            self.used.fetch_sub(*held - bytes, Ordering::Relaxed);
            *held = bytes;
            return true;
        }
        let more = bytes - *held;
        let before = self.used.fetch_add(more, Ordering::Relaxed);
        if before + more > self.limit {
            self.used.fetch_sub(more, Ordering::Relaxed);
            return false;
        }
        *held = bytes;
        true
    }

    /// One connection's share that owns its hold on the budget (for a
    /// layer that lives apart from the service, as a WebSocket reader).
    pub fn owned_share(self: &Arc<Self>) -> OwnedShare {
        OwnedShare {
            budget: Arc::clone(self),
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
        self.budget.hold(&mut self.held, bytes)
    }
}

impl Drop for Share<'_> {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.held, Ordering::Relaxed);
    }
}

/// Like [`Share`], owning its [`BufferBudget`] handle.
#[derive(Debug)]
pub struct OwnedShare {
    budget: Arc<BufferBudget>,
    held: usize,
}

impl OwnedShare {
    /// Sets what this connection holds to `bytes`; false (and nothing
    /// taken) when that would take the server past its budget.
    pub fn hold(&mut self, bytes: usize) -> bool {
        self.budget.hold(&mut self.held, bytes)
    }

    /// The server-wide budget in bytes.
    pub fn limit(&self) -> usize {
        self.budget.limit
    }
}

impl Drop for OwnedShare {
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

    #[test]
    fn owned_shares_count_against_the_same_budget() {
        let budget = Arc::new(BufferBudget::new(100));
        let mut a = budget.share();
        let mut o = budget.owned_share();
        assert!(a.hold(70));
        assert!(!o.hold(40));
        assert!(o.hold(30));
        drop(o);
        assert!(a.hold(100), "an owned share gives back what it held");
    }
}
