//! A run's counts over time: how many messages, bytes and errors fell into
//! each interval (one second, or longer for long runs with many
//! connections) of the measured window. Each worker records into its own
//! [`Recorder`]; the recorders add up at the end into the report's
//! [`Timeline`], and `bench merge` adds timelines of runs made at the same
//! time.
//!
//! Bounded: a run keeps at most [`MAX_SAMPLES`] intervals, and all of its
//! connections together at most [`MAX_CELLS`] samples, the interval growing
//! (in whole seconds) to fit.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Most intervals in one run's timeline (an hour at one per second).
pub const MAX_SAMPLES: u64 = 3600;

/// Most samples all connections of a run keep together (32 bytes each).
pub const MAX_CELLS: u64 = 1 << 20;

/// The counts of one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Messages completed (echoed, sent or connected).
    pub messages: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Failures (failed connects, resets, lost datagrams).
    pub errors: u64,
}

impl Sample {
    fn add(&mut self, other: &Sample) {
        self.messages += other.messages;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.errors += other.errors;
    }
}

/// The counts of each interval of the measured window, oldest first; the
/// last interval may be cut short by the end of the run (the report's
/// `duration_s` tells how long it was).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Seconds per sample (1 unless the run was long with many
    /// connections); 0 in a report without samples.
    pub interval_s: f64,
    /// One entry per interval.
    pub samples: Vec<Sample>,
}

/// The interval of a run measuring for `window` on `connections`
/// connections: one second, or the whole number of seconds that keeps
/// the samples within [`MAX_SAMPLES`] and [`MAX_CELLS`].
pub fn interval_for(window: Duration, connections: usize) -> Duration {
    let per_connection = (MAX_CELLS / (connections.max(1) as u64)).clamp(1, MAX_SAMPLES);
    let seconds = window.as_secs_f64().ceil().max(1.0) as u64;
    Duration::from_secs(seconds.div_ceil(per_connection).max(1))
}

/// How many intervals of `interval` cover `window` (at least one).
pub fn intervals_in(window: Duration, interval: Duration) -> usize {
    let n = window.as_nanos().div_ceil(interval.as_nanos().max(1));
    usize::try_from(n).unwrap_or(usize::MAX).max(1)
}

impl Timeline {
    /// Total counts over all samples.
    pub fn total(&self) -> Sample {
        let mut total = Sample::default();
        for s in &self.samples {
            total.add(s);
        }
        total
    }

    /// Adds another run's timeline, interval by interval (runs made at the
    /// same time). With different intervals, the longer one is kept and
    /// the shorter one's samples go into the interval they start in.
    pub fn add(&mut self, other: &Timeline) {
        if other.samples.is_empty() {
            return;
        }
        if self.samples.is_empty() {
            *self = other.clone();
            return;
        }
        if other.interval_s > self.interval_s {
            let mine = std::mem::replace(self, other.clone());
            self.add_rebucketed(&mine);
        } else {
            self.add_rebucketed(other);
        }
    }

    /// Adds `other` (whose interval is not longer than ours).
    fn add_rebucketed(&mut self, other: &Timeline) {
        let ratio = if self.interval_s > 0.0 {
            other.interval_s / self.interval_s
        } else {
            1.0
        };
        for (i, s) in other.samples.iter().enumerate() {
            let at = ((i as f64) * ratio).floor() as usize;
            if at >= MAX_SAMPLES as usize {
                break;
            }
            if self.samples.len() <= at {
                self.samples.resize(at + 1, Sample::default());
            }
            if let Some(slot) = self.samples.get_mut(at) {
                slot.add(s);
            }
        }
    }

    /// Puts errors that no worker tied to a moment (a worker that failed
    /// as a whole) into the last interval, so the samples add up to
    /// `errors`.
    pub fn reconcile_errors(&mut self, errors: u64) {
        let placed = self.total().errors;
        if let (Some(last), true) = (self.samples.last_mut(), errors > placed) {
            last.errors += errors - placed;
        }
    }
}

/// One worker's timeline while it runs.
#[derive(Debug, Clone)]
pub struct Recorder {
    from: Instant,
    interval: Duration,
    limit: usize,
    samples: Vec<Sample>,
    /// The interval last written to and when it ends: most records fall in
    /// the same interval as the one before.
    cursor: (usize, Instant),
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(Instant::now(), Duration::from_secs(1), 1)
    }
}

impl Recorder {
    /// A recorder for `intervals` intervals of `interval` from `from` (the
    /// start of measuring).
    pub fn new(from: Instant, interval: Duration, intervals: usize) -> Recorder {
        let interval = interval.max(Duration::from_millis(1));
        Recorder {
            from,
            interval,
            limit: intervals.clamp(1, MAX_SAMPLES as usize),
            samples: Vec::new(),
            cursor: (0, from + interval),
        }
    }

    /// The sample of the interval holding `at`; a moment before measuring
    /// counts in the first interval, one after the end in the last.
    pub fn at(&mut self, at: Instant) -> &mut Sample {
        let (index, end) = self.cursor;
        let index = if at < end && at + self.interval >= end {
            index
        } else {
            let since = at.saturating_duration_since(self.from).as_nanos();
            let i = since / self.interval.as_nanos().max(1);
            let i = usize::try_from(i).unwrap_or(usize::MAX).min(self.limit - 1);
            let end = self.from + self.interval * u32::try_from(i + 1).unwrap_or(u32::MAX);
            self.cursor = (i, end);
            i
        };
        self.nth(index)
    }

    /// The sample of interval number `index` (the last one beyond the
    /// end).
    pub fn nth(&mut self, index: usize) -> &mut Sample {
        let index = index.min(self.limit - 1);
        if self.samples.len() <= index {
            self.samples.resize(index + 1, Sample::default());
        }
        // The vector was just grown to hold `index`.
        let last = self.samples.len() - 1;
        &mut self.samples[index.min(last)]
    }

    /// Adds another recorder's samples (same start and interval).
    pub fn add(&mut self, other: &Recorder) {
        self.limit = self.limit.max(other.limit);
        self.add_samples(&other.samples, true);
    }

    /// Adds what a sender recorded: bytes sent, and its messages only if
    /// `messages` (sends are the messages of `--mode send`, not of echo).
    pub fn add_sent(&mut self, sender: &Recorder, messages: bool) {
        self.limit = self.limit.max(sender.limit);
        self.add_samples(&sender.samples, messages);
    }

    fn add_samples(&mut self, samples: &[Sample], messages: bool) {
        if self.samples.len() < samples.len() {
            self.samples.resize(samples.len(), Sample::default());
        }
        for (mine, theirs) in self.samples.iter_mut().zip(samples) {
            if messages {
                mine.add(theirs);
            } else {
                mine.bytes_sent += theirs.bytes_sent;
                mine.bytes_received += theirs.bytes_received;
                mine.errors += theirs.errors;
            }
        }
    }

    /// The samples recorded so far, per interval.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The timeline of the first `intervals` intervals (the measured
    /// window, which a stop may have cut short).
    pub fn finish(&self, intervals: usize) -> Timeline {
        let mut samples = self.samples.clone();
        samples.resize(intervals.clamp(1, self.limit), Sample::default());
        let last = samples.len() - 1;
        // Anything recorded beyond the cut goes into the last interval.
        for extra in self.samples.iter().skip(samples.len()) {
            samples[last].add(extra);
        }
        Timeline {
            interval_s: self.interval.as_secs_f64(),
            samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_grows_to_keep_the_samples_bounded() {
        assert_eq!(
            interval_for(Duration::from_secs(10), 1),
            Duration::from_secs(1)
        );
        assert_eq!(
            interval_for(Duration::from_secs(7200), 1),
            Duration::from_secs(2)
        );
        // 16,384 connections keep 64 samples each.
        assert_eq!(
            interval_for(Duration::from_secs(640), 16_384),
            Duration::from_secs(10)
        );
        assert_eq!(
            intervals_in(Duration::from_millis(2500), Duration::from_secs(1)),
            3
        );
    }

    #[test]
    fn records_land_in_their_interval_and_clamp_at_the_ends() {
        let from = Instant::now();
        let mut r = Recorder::new(from, Duration::from_secs(1), 3);
        r.at(from).messages += 1;
        r.at(from + Duration::from_millis(999)).messages += 1;
        r.at(from + Duration::from_millis(1000)).messages += 1;
        r.at(from + Duration::from_secs(60)).errors += 1;
        r.at(from - Duration::from_millis(5)).errors += 1;
        r.at(from + Duration::from_millis(500)).messages += 1;
        let t = r.finish(3);
        let counts: Vec<(u64, u64)> = t.samples.iter().map(|s| (s.messages, s.errors)).collect();
        assert_eq!(counts, [(3, 1), (1, 0), (0, 1)]);
        // Cut short by a stop: the rest counts in the last kept interval.
        let t = r.finish(1);
        assert_eq!((t.samples[0].messages, t.samples[0].errors), (4, 2));
    }

    #[test]
    fn timelines_add_per_interval_and_rebucket_shorter_intervals() {
        let one = |counts: &[u64], interval_s: f64| Timeline {
            interval_s,
            samples: counts
                .iter()
                .map(|&m| Sample {
                    messages: m,
                    ..Sample::default()
                })
                .collect(),
        };
        let mut a = one(&[1, 2, 3], 1.0);
        a.add(&one(&[10, 20], 1.0));
        assert_eq!(a, one(&[11, 22, 3], 1.0));
        let mut b = one(&[1, 1, 1, 1], 1.0);
        b.add(&one(&[5, 5], 2.0));
        assert_eq!(b, one(&[7, 7], 2.0));
        let mut c = Timeline::default();
        c.add(&one(&[4], 1.0));
        c.reconcile_errors(3);
        assert_eq!(c.total().errors, 3);
    }
}
