//! A bench run's counts while it runs: the workers keep their own counts
//! and hand them over every `HAND_OVER_EVERY`, so the hot path gains one
//! comparison. The engine turns them into a `bench_sample` event per
//! second; the terminal's live line shows those.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use super::latency::{Latency, Percentiles};
use crate::event::repeats::thousands;

/// How often the line is printed.
pub const EVERY: Duration = Duration::from_secs(1);

/// How often a worker hands its counts over: often enough that each line
/// is at most this late.
const HAND_OVER_EVERY: Duration = Duration::from_millis(200);

/// What the workers have handed over so far.
#[derive(Debug, Default)]
pub struct Live {
    /// Connections open.
    pub connected: AtomicUsize,
    /// Messages completed (echoed, sent or connected) in the measured window.
    pub messages: AtomicU64,
    /// Failures handed over so far.
    pub errors: AtomicU64,
    /// Latencies handed over so far.
    latency: Mutex<Option<Latency>>,
    /// Latencies handed over since the last [`Live::take_window`].
    window: Mutex<Option<Latency>>,
    /// When the measured window starts (set once the workers are ready).
    pub measuring_from: OnceLock<Instant>,
}

impl Live {
    /// The percentiles of the latencies handed over since the last call.
    pub fn take_window(&self) -> Percentiles {
        let taken = self.window.lock().ok().and_then(|mut w| w.take());
        taken.map(|l| l.percentiles()).unwrap_or_default()
    }

    /// The (p50, p99) so far in microseconds, if any latency came in.
    pub fn percentiles(&self) -> Option<(f64, f64)> {
        let guard = self.latency.lock().ok()?;
        let p = guard.as_ref()?.percentiles();
        (p.count > 0).then_some((p.p50, p.p99))
    }
}

/// One worker's counts not yet handed over; does nothing without a
/// [`Live`].
#[derive(Debug, Default)]
pub struct LiveFeed {
    live: Option<Arc<Live>>,
    messages: u64,
    errors: u64,
    recent: Option<Latency>,
    next: Option<Instant>,
}

impl LiveFeed {
    /// A feed into `live` (none: counting is off).
    pub fn new(live: Option<Arc<Live>>) -> Self {
        LiveFeed {
            live,
            messages: 0,
            errors: 0,
            recent: None,
            next: None,
        }
    }

    /// Counts one message (with its latency, if it has one) at `now`.
    pub fn message(&mut self, latency: Option<Duration>, now: Instant) {
        if self.live.is_none() {
            return;
        }
        self.messages += 1;
        if let Some(latency) = latency {
            self.recent.get_or_insert_with(Latency::new).record(latency);
        }
        self.tick(now);
    }

    /// Counts `n` failures at `now`.
    pub fn failed(&mut self, n: u64, now: Instant) {
        if self.live.is_none() {
            return;
        }
        self.errors += n;
        self.tick(now);
    }

    /// Hands the counts over when it is time.
    fn tick(&mut self, now: Instant) {
        match self.next {
            Some(next) if now < next => {}
            Some(_) => {
                self.flush();
                self.next = Some(now + HAND_OVER_EVERY);
            }
            None => self.next = Some(now + HAND_OVER_EVERY),
        }
    }

    /// Hands the counts over.
    pub fn flush(&mut self) {
        let Some(live) = &self.live else { return };
        live.messages
            .fetch_add(std::mem::take(&mut self.messages), Ordering::Relaxed);
        live.errors
            .fetch_add(std::mem::take(&mut self.errors), Ordering::Relaxed);
        if let Some(recent) = self.recent.take() {
            if let Ok(mut window) = live.window.lock() {
                window.get_or_insert_with(Latency::new).add(&recent);
            }
            if let Ok(mut all) = live.latency.lock() {
                all.get_or_insert_with(Latency::new).add(&recent);
            }
        }
    }
}

impl Drop for LiveFeed {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The line for one second: `3s  8 connections  41,203 msgs/s  p50 31.2 µs
/// p99 88.0 µs`.
pub fn line(
    elapsed: Duration,
    connections: usize,
    per_second: f64,
    p: Option<(f64, f64)>,
) -> String {
    let plural = if connections == 1 { "" } else { "s" };
    let mut line = format!(
        "{:>3}s  {connections} connection{plural}  {} msgs/s",
        elapsed.as_secs(),
        thousands(per_second.round() as u64)
    );
    if let Some((p50, p99)) = p {
        line.push_str(&format!("  p50 {p50:.1} µs  p99 {p99:.1} µs"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_hands_over_its_counts_and_the_line_reads_well() {
        let live = Arc::new(Live::default());
        {
            let mut feed = LiveFeed::new(Some(live.clone()));
            let now = Instant::now();
            for _ in 0..10 {
                feed.message(Some(Duration::from_micros(50)), now);
            }
        }
        assert_eq!(live.messages.load(Ordering::Relaxed), 10);
        let (p50, p99) = live.percentiles().unwrap();
        assert!((49.0..51.0).contains(&p50) && (49.0..51.0).contains(&p99));
        assert_eq!(
            line(Duration::from_secs(3), 8, 41203.4, Some((31.25, 88.0))),
            "  3s  8 connections  41,203 msgs/s  p50 31.2 µs  p99 88.0 µs"
        );
        let mut off = LiveFeed::new(None);
        off.message(None, Instant::now());
        assert_eq!(off.messages, 0);
    }
}
