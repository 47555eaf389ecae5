//! [`Meter`]: what moved on one connection (bytes and messages each way)
//! and when anything last moved, shared by its two directions, the
//! services and the engine's registry (live counters for a UI).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::event::{Counters, Direction};

/// Counters and an activity clock for one connection. All methods take
/// `&self`, so both directions (and a reader of live counters) share it.
#[derive(Debug)]
pub struct Meter {
    start: Instant,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    msgs_in: AtomicU64,
    msgs_out: AtomicU64,
    last_ms: AtomicU64,
}

impl Default for Meter {
    fn default() -> Self {
        Meter::new()
    }
}

impl Meter {
    /// A meter whose clock starts now.
    pub fn new() -> Self {
        Meter {
            start: Instant::now(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            msgs_in: AtomicU64::new(0),
            msgs_out: AtomicU64::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    /// Marks that something moved now.
    pub fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// Counts one received message of `n` bytes.
    pub fn received(&self, n: usize) {
        self.received_bytes(n);
        self.received_msgs(1);
    }

    /// Counts one sent message of `n` bytes.
    pub fn sent(&self, n: usize) {
        self.sent_bytes(n);
        self.sent_msgs(1);
    }

    /// Counts received bytes (messages are counted apart, when framed).
    pub fn received_bytes(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        self.touch();
    }

    /// Counts received messages.
    pub fn received_msgs(&self, n: u64) {
        self.msgs_in.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts sent bytes (messages are counted apart).
    pub fn sent_bytes(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        self.touch();
    }

    /// Counts sent messages.
    pub fn sent_msgs(&self, n: u64) {
        self.msgs_out.fetch_add(n, Ordering::Relaxed);
    }

    /// What moved so far.
    pub fn counters(&self) -> Counters {
        Counters {
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            msgs_in: self.msgs_in.load(Ordering::Relaxed),
            msgs_out: self.msgs_out.load(Ordering::Relaxed),
        }
    }

    /// How long the connection has existed.
    pub fn age(&self) -> Duration {
        self.start.elapsed()
    }

    /// Resolves once nothing has moved for `quiet`.
    pub async fn quiet_for(&self, quiet: Duration) {
        loop {
            let last = self.last_ms.load(Ordering::Relaxed);
            tokio::time::sleep_until(self.start + Duration::from_millis(last) + quiet).await;
            if self.last_ms.load(Ordering::Relaxed) == last {
                return;
            }
        }
    }

    /// Resolves once nothing has moved for `quiet`; never when `None`.
    pub async fn idle(&self, quiet: Option<Duration>) {
        match quiet {
            // Boxed: this future sits in every connection's read and write,
            // and most connections have no idle timeout to pay for.
            Some(quiet) => Box::pin(self.quiet_for(quiet)).await,
            None => std::future::pending().await,
        }
    }
}

/// One direction of a [`Meter`], for a copy loop that moves bytes one
/// way: `In` counts as received, `Out` as sent (in a relay, `In` is client
/// → target).
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    meter: &'a Meter,
    dir: Direction,
}

impl Meter {
    /// The direction `dir` of this meter.
    pub fn side(&self, dir: Direction) -> Side<'_> {
        Side { meter: self, dir }
    }
}

impl Side<'_> {
    /// Counts one message of `n` bytes moved this way.
    pub fn moved(&self, n: usize) {
        match self.dir {
            Direction::In => self.meter.received(n),
            Direction::Out => self.meter.sent(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn counts_and_goes_quiet() {
        let m = Meter::new();
        m.received(5);
        m.sent(3);
        m.sent(1);
        let c = m.counters();
        assert_eq!(
            (c.bytes_in, c.bytes_out, c.msgs_in, c.msgs_out),
            (5, 4, 1, 2)
        );
        tokio::time::timeout(Duration::from_secs(3), m.quiet_for(Duration::from_secs(2)))
            .await
            .unwrap();
    }
}
