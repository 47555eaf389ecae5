//! [`Repeats`]: a notice that a flood can repeat thousands of times a
//! second ("refused …: 4096 flows already open") goes out once, then the
//! repeats are counted and summed up at most once per interval ("… and
//! 33,359 more"), so the status stream stays readable and cheap.

use std::time::{Duration, Instant};

/// How often repeats of a notice are summed up at most.
pub const REPEATS_INTERVAL: Duration = Duration::from_secs(1);

/// Counts the repeats of one notice between the lines that go out.
#[derive(Debug)]
pub struct Repeats {
    interval: Duration,
    /// When the last line went out.
    last: Option<Instant>,
    /// Repeats since then, not shown yet.
    held: u64,
}

impl Default for Repeats {
    fn default() -> Self {
        Repeats::new(REPEATS_INTERVAL)
    }
}

impl Repeats {
    /// At most one line per `interval`.
    pub fn new(interval: Duration) -> Repeats {
        Repeats {
            interval,
            last: None,
            held: 0,
        }
    }

    /// One more occurrence at `now`: true when its line goes out now (the
    /// first, or the first after a quiet interval; say how many were held
    /// with [`Repeats::take_held`] first), false when it is only counted.
    pub fn occur(&mut self, now: Instant) -> bool {
        match self.last {
            Some(last) if now.duration_since(last) < self.interval => {
                self.held += 1;
                false
            }
            _ => {
                self.last = Some(now);
                true
            }
        }
    }

    /// When the held repeats are due to be summed up, if any are held.
    pub fn due(&self) -> Option<Instant> {
        match (self.held, self.last) {
            (0, _) | (_, None) => None,
            (_, Some(last)) => Some(last + self.interval),
        }
    }

    /// The repeats held so far, now shown (a summary line goes out at `now`).
    pub fn take_held(&mut self, now: Instant) -> u64 {
        if self.held > 0 {
            self.last = Some(now);
        }
        std::mem::take(&mut self.held)
    }
}

/// `33359` as `33,359`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_goes_out_and_repeats_are_summed_once_per_interval() {
        let t0 = Instant::now();
        let mut r = Repeats::new(Duration::from_secs(1));
        assert!(r.occur(t0));
        assert_eq!(r.due(), None);
        for i in 1..=1000 {
            assert!(!r.occur(t0 + Duration::from_millis(i % 999)));
        }
        assert_eq!(r.due(), Some(t0 + Duration::from_secs(1)));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(r.take_held(t1), 1000);
        assert_eq!(r.due(), None);
        // Within the next interval: counted again.
        assert!(!r.occur(t1 + Duration::from_millis(10)));
        assert_eq!(r.take_held(t1 + Duration::from_secs(1)), 1);
        // After a quiet interval the next one goes out at once.
        assert!(r.occur(t1 + Duration::from_secs(5)));
        assert_eq!(thousands(33_359), "33,359");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
