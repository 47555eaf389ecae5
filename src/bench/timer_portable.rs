//! Where there is no `timerfd` (everywhere but Linux), the pacer has no
//! precise timer: [`Timer::new`] fails and waits use tokio's 1 ms timer,
//! correct but with that granularity (bench's `--rate` percentiles then
//! carry up to 1 ms of lateness).

use std::io;

use tokio::time::Instant;

/// A precise timer (none here: cannot be made).
#[derive(Debug)]
pub enum Timer {}

impl Timer {
    /// Fails: no precise timer on this platform.
    pub fn new() -> io::Result<Timer> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no timerfd on this platform",
        ))
    }

    /// Sets the timer.
    pub fn set(&self, _: &Anchor, _: Instant) -> io::Result<()> {
        match *self {}
    }

    /// Waits until the timer fires.
    pub async fn fired(&self) -> io::Result<()> {
        match *self {}
    }
}

/// The clock reading the timer's deadlines count from.
#[derive(Debug, Clone, Copy)]
pub struct Anchor;

impl Anchor {
    /// Reads the clock.
    pub fn now() -> Anchor {
        Anchor
    }
}
