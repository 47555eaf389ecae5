//! How a [`Pacer`](super::pacer::Pacer) wait is split between sleeping on
//! its timer and yielding to the due time: how early to set the timer
//! (learnt from how late its wakes come) and which waits are too short to
//! sleep at all.

use std::time::Duration;

/// How much of a wait of `wait` to spend yielding rather than asleep, when
/// the timer should be set `ahead` of due times: a wait not much longer
/// than a wake is late ([`SHORT_WAIT`]) and at most [`SPIN_WHOLE_MAX`] is
/// spun whole, since a sleep that short would end after the due time;
/// otherwise `ahead`, but at most 1/[`SPIN_SHARE`] of the wait. (Longer
/// waits are always slept, so the lateness of wakes keeps being learnt.)
pub fn spin_for(wait: Duration, ahead: Duration) -> Duration {
    if wait <= (ahead * SHORT_WAIT).min(SPIN_WHOLE_MAX) {
        wait
    } else {
        ahead.min(wait / SPIN_SHARE)
    }
}

/// Most yields in the last stretch of one wait (a bound in count next to
/// the bound in time, [`SPIN_MAX`]); past it the wait sleeps on tokio's
/// timer.
pub const MAX_SPINS: u32 = 1_000_000;

/// At most 1/`SPIN_SHARE` of a wait is spent yielding: at moderate rates
/// the thread still sleeps most of each gap and leaves the CPU to others
/// (a server on the same machine, above all).
pub const SPIN_SHARE: u32 = 4;

/// A wait of at most `SHORT_WAIT` times the spin-ahead is not slept at all
/// but spun (yielding) to its due time: on a VM a timer wake is 100–300 µs
/// late, so at 10,000 msgs/s per thread (100 µs gaps) every sleep would
/// send late. This costs the thread a core at such rates, as sockperf's
/// busy-waiting client spends at every rate.
pub const SHORT_WAIT: u32 = 2;

/// The longest wait ever spun whole (10,000 msgs/s per thread and above).
/// Measured on the 2-vCPU VM (`bench/compare.sh rate`): spinning 100 µs
/// gaps halves p50 at 20,000 msgs/s, while spinning 200 µs gaps (5,000
/// msgs/s) gains nothing at p50 and lengthens the tail, because the
/// spinning thread competes with the server for the cores.
pub const SPIN_WHOLE_MAX: Duration = Duration::from_micros(100);

/// The least the timer is set before a due time.
pub const SPIN_MIN: Duration = Duration::from_micros(10);

/// The most the timer is set before a due time: at most this much of each
/// wait is spent yielding instead of sleeping.
pub const SPIN_MAX: Duration = Duration::from_millis(1);

/// How long before a due time to set the timer: twice the recent average
/// lateness of the timer's wakes, plus [`SPIN_MIN`], within [`SPIN_MIN`] and
/// [`SPIN_MAX`]. On a quiet bare-metal machine wakes are a few µs late and
/// the spin is short; on a VM whose idle vCPUs halt, wakes after a long
/// sleep are 100–300 µs late and the spin grows to cover them.
#[derive(Debug, Clone, Copy)]
pub struct SpinAhead {
    /// Exponentially weighted average lateness, in nanoseconds.
    average_ns: u64,
}

impl Default for SpinAhead {
    fn default() -> Self {
        SpinAhead { average_ns: 50_000 }
    }
}

impl SpinAhead {
    /// Counts one wake that came `late` after the time it was set for.
    pub fn observe(&mut self, late: Duration) {
        let late = u64::try_from(late.as_nanos()).unwrap_or(u64::MAX);
        // average += (late - average) / 8, in integers, without overflow.
        self.average_ns = if late >= self.average_ns {
            self.average_ns + (late - self.average_ns) / 8
        } else {
            self.average_ns - (self.average_ns - late).div_ceil(8)
        };
    }

    /// How long before a due time to set the timer now.
    pub fn get(&self) -> Duration {
        let ahead = Duration::from_nanos(self.average_ns.saturating_mul(2)) + SPIN_MIN;
        ahead.clamp(SPIN_MIN, SPIN_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_waits_are_spun_whole_and_long_ones_mostly_slept() {
        let us = Duration::from_micros;
        // 10,000 msgs/s on a VM: 100 µs gaps, wakes ~100 µs late.
        assert_eq!(spin_for(us(100), us(110)), us(100));
        assert_eq!(spin_for(us(60), us(110)), us(60));
        // 5,000 msgs/s: slept, with the usual spin-ahead.
        assert_eq!(spin_for(us(200), us(110)), us(50));
        // A spin-ahead grown to its 1 ms cap does not make 1,000 msgs/s
        // spin whole (its waits would never be measured again).
        assert_eq!(
            spin_for(us(950), SPIN_MAX),
            us(237) + Duration::from_nanos(500)
        );
        // Past twice the spin-ahead: the spin-ahead, within a quarter.
        assert_eq!(spin_for(us(1000), us(110)), us(110));
        assert_eq!(spin_for(us(300), us(110)), us(75));
        assert_eq!(spin_for(Duration::from_millis(10), us(110)), us(110));
        // A quiet machine: short spin-ahead, so 100 µs gaps are mostly slept.
        assert_eq!(spin_for(us(100), us(12)), us(12).min(us(25)));
    }

    #[test]
    fn spin_ahead_follows_the_lateness_of_wakes_within_its_bounds() {
        let mut ahead = SpinAhead::default();
        assert_eq!(ahead.get(), Duration::from_micros(110));
        // Wakes 200 µs late: the spin grows towards 2 x 200 + 10 µs.
        for _ in 0..200 {
            ahead.observe(Duration::from_micros(200));
        }
        let us = ahead.get().as_micros();
        assert!((400..=410).contains(&us), "{us}");
        // One stall does not pass the cap, and the spin shrinks back.
        ahead.observe(Duration::from_secs(5));
        assert_eq!(ahead.get(), SPIN_MAX);
        for _ in 0..400 {
            ahead.observe(Duration::from_micros(2));
        }
        let us = ahead.get().as_micros();
        assert!((14..=16).contains(&us), "{us}");
        // Punctual wakes: the least spin.
        for _ in 0..400 {
            ahead.observe(Duration::ZERO);
        }
        assert_eq!(ahead.get(), SPIN_MIN);
        // Absurd lateness saturates instead of overflowing.
        ahead.observe(Duration::MAX);
        assert_eq!(ahead.get(), SPIN_MAX);
    }
}
