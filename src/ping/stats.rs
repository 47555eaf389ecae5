//! The statistics ping(8) prints at the end: packets transmitted and
//! received, duplicates, loss, and the round-trip times' min/avg/max/mdev.

use std::time::Duration;

/// Counts and round-trip times of one ping run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Echo requests sent.
    pub transmitted: u64,
    /// Requests answered (each once, duplicates not counted).
    pub received: u64,
    /// Replies to a request that had been answered already.
    pub duplicates: u64,
    /// Requests that could not be sent (the kernel refused them).
    pub errors: u64,
    rtt_count: u64,
    rtt_sum_ms: f64,
    rtt_sum_sq_ms: f64,
    rtt_min_ms: f64,
    rtt_max_ms: f64,
}

/// Round-trip times in milliseconds, as ping(8) prints them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rtt {
    /// The fastest reply.
    pub min_ms: f64,
    /// The mean.
    pub avg_ms: f64,
    /// The slowest reply.
    pub max_ms: f64,
    /// The mean deviation as ping(8) computes it: the standard deviation,
    /// `sqrt(mean(rtt²) − mean(rtt)²)`.
    pub mdev_ms: f64,
}

impl Stats {
    /// Counts one answered request and its round trip (duplicates count
    /// apart and do not change the times, as in ping(8)).
    pub fn reply(&mut self, rtt: Duration, duplicate: bool) {
        if duplicate {
            self.duplicates += 1;
            return;
        }
        self.received += 1;
        let ms = rtt.as_secs_f64() * 1000.0;
        if self.rtt_count == 0 || ms < self.rtt_min_ms {
            self.rtt_min_ms = ms;
        }
        if ms > self.rtt_max_ms {
            self.rtt_max_ms = ms;
        }
        self.rtt_count += 1;
        self.rtt_sum_ms += ms;
        self.rtt_sum_sq_ms += ms * ms;
    }

    /// The share of requests not answered, in percent (0 when none was
    /// sent).
    pub fn loss_percent(&self) -> f64 {
        if self.transmitted == 0 {
            return 0.0;
        }
        let lost = self.transmitted.saturating_sub(self.received);
        lost as f64 * 100.0 / self.transmitted as f64
    }

    /// The round-trip times, once a reply came.
    pub fn rtt(&self) -> Option<Rtt> {
        if self.rtt_count == 0 {
            return None;
        }
        let n = self.rtt_count as f64;
        let avg = self.rtt_sum_ms / n;
        let variance = (self.rtt_sum_sq_ms / n - avg * avg).max(0.0);
        Some(Rtt {
            min_ms: self.rtt_min_ms,
            avg_ms: avg,
            max_ms: self.rtt_max_ms,
            mdev_ms: variance.sqrt(),
        })
    }

    /// ping(8)'s summary lines after `--- HOST ping statistics ---`: the
    /// counts over `elapsed`, and the times when a reply came.
    pub fn lines(&self, elapsed: Duration) -> Vec<String> {
        let mut counts = format!(
            "{} packets transmitted, {} received",
            self.transmitted, self.received
        );
        if self.duplicates > 0 {
            counts.push_str(&format!(", +{} duplicates", self.duplicates));
        }
        if self.errors > 0 {
            counts.push_str(&format!(", +{} errors", self.errors));
        }
        counts.push_str(&format!(
            ", {}% packet loss, time {}ms",
            format_percent(self.loss_percent()),
            elapsed.as_millis()
        ));
        let mut lines = vec![counts];
        if let Some(rtt) = self.rtt() {
            lines.push(format!(
                "rtt min/avg/max/mdev = {:.3}/{:.3}/{:.3}/{:.3} ms",
                rtt.min_ms, rtt.avg_ms, rtt.max_ms, rtt.mdev_ms
            ));
        }
        lines
    }
}

/// A percentage as ping(8) writes it: whole numbers bare (`0`, `100`),
/// others with up to four significant digits (`33.3333`).
pub fn format_percent(percent: f64) -> String {
    if percent.fract() == 0.0 {
        format!("{percent:.0}")
    } else {
        let text = format!("{percent:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A round-trip time as ping(8) prints it after `time=`: three decimals
/// under 1 ms, two under 10 ms, one under 100 ms, whole milliseconds above.
pub fn format_rtt(rtt: Duration) -> String {
    let ms = rtt.as_secs_f64() * 1000.0;
    match ms {
        ms if ms < 1.0 => format!("{ms:.3}"),
        ms if ms < 10.0 => format!("{ms:.2}"),
        ms if ms < 100.0 => format!("{ms:.1}"),
        ms => format!("{ms:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_times_read_like_ping() {
        let us = Duration::from_micros;
        assert_eq!(format_rtt(us(45)), "0.045");
        assert_eq!(format_rtt(us(1_234)), "1.23");
        assert_eq!(format_rtt(us(12_345)), "12.3");
        assert_eq!(format_rtt(us(123_456)), "123");
    }

    #[test]
    fn counts_loss_duplicates_and_times_like_ping() {
        let mut stats = Stats {
            transmitted: 3,
            ..Stats::default()
        };
        stats.reply(Duration::from_micros(100), false);
        stats.reply(Duration::from_micros(300), false);
        stats.reply(Duration::from_micros(900), true);
        let rtt = stats.rtt().unwrap();
        assert_eq!((rtt.min_ms, rtt.max_ms), (0.1, 0.3));
        assert!((rtt.avg_ms - 0.2).abs() < 1e-9);
        assert!((rtt.mdev_ms - 0.1).abs() < 1e-9);
        assert_eq!(
            stats.lines(Duration::from_millis(2003)),
            [
                "3 packets transmitted, 2 received, +1 duplicates, 33.3333% packet loss, time 2003ms",
                "rtt min/avg/max/mdev = 0.100/0.200/0.300/0.100 ms"
            ]
        );
    }

    #[test]
    fn nothing_received_has_no_times() {
        let stats = Stats {
            transmitted: 2,
            ..Stats::default()
        };
        assert_eq!(stats.rtt(), None);
        assert_eq!(
            stats.lines(Duration::from_millis(1000)),
            ["2 packets transmitted, 0 received, 100% packet loss, time 1000ms"]
        );
        assert_eq!(Stats::default().loss_percent(), 0.0);
        assert_eq!(format_percent(50.0), "50");
    }
}
