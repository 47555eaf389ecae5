//! The time plan every bench worker follows: when measuring starts (after
//! the warmup), when everything stops (the duration is a hard bound), and
//! in open loop, when each message is due.
//!
//! Open loop: message `seq` of a connection is due at
//! `start + offset + seq × interval`, whatever happened to the messages
//! before it. Its latency is measured from that intended time, so a stall
//! of the server (or of sockmate) shows up in the percentiles instead of
//! silently delaying later sends (no coordinated omission).

use std::time::Duration;

use tokio::time::Instant;

/// One worker's schedule.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// When sending starts.
    pub start: Instant,
    /// Messages sent before this are not measured (warmup).
    pub measure_from: Instant,
    /// Nothing is sent at or after this; the worker stops here.
    pub end: Instant,
    /// Open loop: time between this connection's messages.
    pub interval: Option<Duration>,
    /// Open loop: this connection's first message is due this long after
    /// `start`, so connections do not all send at the same instant.
    pub offset: Duration,
}

impl Plan {
    /// A plan for `connections` connections sharing `rate` messages/s
    /// (None: closed loop); this is connection number `index`.
    pub fn new(
        start: Instant,
        warmup: Duration,
        duration: Duration,
        rate: Option<f64>,
        connections: usize,
        index: usize,
    ) -> Plan {
        let interval = rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(connections.max(1) as f64 / r));
        let offset = interval
            .map(|i| i.mul_f64(index as f64 / connections.max(1) as f64))
            .unwrap_or_default();
        Plan {
            start,
            measure_from: start + warmup,
            end: start + duration,
            interval,
            offset,
        }
    }

    /// When message `seq` is due (open loop); `None` in closed loop.
    pub fn due(&self, seq: u64) -> Option<Instant> {
        let interval = self.interval?;
        let nanos = (interval.as_nanos()).saturating_mul(u128::from(seq));
        let after = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.start.checked_add(self.offset + after)
    }

    /// True when a message sent (or due) at `at` is measured.
    pub fn measured(&self, at: Instant) -> bool {
        at >= self.measure_from && at < self.end
    }

    /// The measured window's length, if the run stopped at `stopped`.
    pub fn window(&self, stopped: Instant) -> Duration {
        stopped
            .min(self.end)
            .saturating_duration_since(self.measure_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_loop_spreads_connections_and_counts_rate() {
        let start = Instant::now();
        let dur = Duration::from_secs(2);
        let plans: Vec<Plan> = (0..4)
            .map(|i| Plan::new(start, Duration::ZERO, dur, Some(200.0), 4, i))
            .collect();
        // 200 msgs/s over 4 connections: 50/s each, 20 ms apart, offset 5 ms.
        assert_eq!(plans[0].interval, Some(Duration::from_millis(20)));
        assert_eq!(plans[1].offset, Duration::from_millis(5));
        let due_in_window: usize = plans
            .iter()
            .map(|p| {
                (0..1000)
                    .filter(|&s| p.due(s).is_some_and(|t| p.measured(t)))
                    .count()
            })
            .sum();
        assert_eq!(due_in_window, 400);
    }

    #[test]
    fn closed_loop_has_no_due_times() {
        let p = Plan::new(
            Instant::now(),
            Duration::ZERO,
            Duration::from_secs(1),
            None,
            1,
            0,
        );
        assert_eq!(p.due(3), None);
    }
}
