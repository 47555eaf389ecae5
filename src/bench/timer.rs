//! The pacer's precise timer on Linux: one `timerfd` on `CLOCK_MONOTONIC`
//! (the clock behind [`Instant`] on Linux), armed with an absolute
//! nanosecond deadline and registered with tokio's reactor through its pipe
//! type: like a FIFO's reading end, it becomes readable (8 bytes: the
//! expiry count) when it fires. This keeps the registration free of
//! `unsafe`. Elsewhere (`timer_portable.rs`) there is no such timer and
//! the pacer uses tokio's 1 ms timer.

use std::io;

use rustix::time::{
    ClockId, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec,
};
use tokio::net::unix::pipe;
use tokio::time::Instant;

/// A timer that fires at an absolute time with nanosecond precision.
#[derive(Debug)]
pub struct Timer(pipe::Receiver);

impl Timer {
    /// A new, unarmed timer.
    pub fn new() -> io::Result<Timer> {
        let fd = rustix::time::timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        Ok(Timer(pipe::Receiver::from_owned_fd_unchecked(fd)?))
    }

    /// Sets the timer to fire at `at` (through `anchor`'s clock pair).
    pub fn set(&self, anchor: &Anchor, at: Instant) -> io::Result<()> {
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: anchor.deadline(at),
        };
        rustix::time::timerfd_settime(&self.0, TimerfdTimerFlags::ABSTIME, &spec)?;
        Ok(())
    }

    /// Waits until the timer fires; an error means it is broken.
    pub async fn fired(&self) -> io::Result<()> {
        let mut expirations = [0u8; 8];
        loop {
            self.0.readable().await?;
            match self.0.try_read(&mut expirations) {
                Ok(_) => return Ok(()),
                // Not readable after all (already read, or re-armed
                // meanwhile); try_read cleared the readiness.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// A pair of readings of [`Instant`] and `CLOCK_MONOTONIC` taken together,
/// to turn due times into the timer's absolute deadlines.
#[derive(Debug, Clone, Copy)]
pub struct Anchor {
    instant: Instant,
    monotonic: Timespec,
}

impl Anchor {
    /// Reads both clocks, [`Instant`] first: the monotonic reading is then
    /// a little later than the true one, so deadlines err late, never early.
    pub fn now() -> Anchor {
        let instant = Instant::now();
        let monotonic = rustix::time::clock_gettime(ClockId::Monotonic);
        Anchor { instant, monotonic }
    }

    /// The `CLOCK_MONOTONIC` time of `at`; times before the anchor map to
    /// the anchor (already past: the timer fires at once); far-future times
    /// saturate.
    pub fn deadline(&self, at: Instant) -> Timespec {
        let after = at.saturating_duration_since(self.instant);
        let after = Timespec::try_from(after).unwrap_or(Timespec {
            tv_sec: i64::MAX / 2,
            tv_nsec: 0,
        });
        self.monotonic.checked_add(after).unwrap_or(Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 999_999_999,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ts(sec: i64, nsec: i64) -> Timespec {
        Timespec {
            tv_sec: sec,
            tv_nsec: nsec,
        }
    }

    #[test]
    fn deadline_adds_the_offset_from_the_anchor_in_nanoseconds() {
        let base = Instant::now();
        let anchor = Anchor {
            instant: base,
            monotonic: ts(100, 999_999_000),
        };
        assert_eq!(anchor.deadline(base), ts(100, 999_999_000));
        assert_eq!(
            anchor.deadline(base + Duration::from_nanos(1_500)),
            ts(101, 500)
        );
        assert_eq!(
            anchor.deadline(base + Duration::from_micros(2_500_250)),
            ts(103, 500_249_000)
        );
    }

    #[test]
    fn deadline_before_the_anchor_is_the_anchor_and_far_future_saturates() {
        let base = Instant::now() + Duration::from_secs(10);
        let anchor = Anchor {
            instant: base,
            monotonic: ts(5, 0),
        };
        assert_eq!(anchor.deadline(base - Duration::from_secs(3)), ts(5, 0));
        let anchor = Anchor {
            instant: base,
            monotonic: ts(i64::MAX - 1, 0),
        };
        let far = anchor.deadline(base + Duration::from_secs(3600));
        assert_eq!(far, ts(i64::MAX, 999_999_999));
    }

    #[test]
    fn deadlines_keep_the_order_of_due_times() {
        let base = Instant::now();
        let anchor = Anchor::now();
        let mut last = anchor.deadline(base);
        for us in [1u64, 2, 50, 999, 1000, 1001, 250_000, 3_000_000] {
            let d = anchor.deadline(base + Duration::from_micros(us));
            assert!((d.tv_sec, d.tv_nsec) > (last.tv_sec, last.tv_nsec), "{us}");
            assert!((0..1_000_000_000).contains(&d.tv_nsec));
            last = d;
        }
    }

    #[test]
    fn anchor_deadlines_are_never_before_the_monotonic_clock() {
        // Instant is CLOCK_MONOTONIC on Linux, and the anchor errs late:
        // the deadline for "now" is at or after the monotonic clock read
        // just before it.
        let anchor = Anchor::now();
        for _ in 0..1000 {
            let before = rustix::time::clock_gettime(ClockId::Monotonic);
            let d = anchor.deadline(Instant::now());
            assert!((d.tv_sec, d.tv_nsec) >= (before.tv_sec, before.tv_nsec));
        }
    }
}
