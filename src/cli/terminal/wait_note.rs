//! The `-v` note when the wait after the input's end ends a session: the
//! peer may still have been about to answer (a server that sleeps a second
//! before replying), so say what happened and which flag waits longer.

use std::io::{self, Write};
use std::time::Duration;

use crate::event::bus::Sink;
use crate::event::{CloseReason, Event, EventKind};

/// Prints the note on stderr when a session closes with
/// [`CloseReason::WaitElapsed`].
pub struct WaitNote {
    wait: Duration,
    after: &'static str,
}

impl WaitNote {
    /// A note for a session that waits `wait` after `after` ("stdin
    /// ended", "the sends ended").
    pub fn new(wait: Duration, after: &'static str) -> Self {
        WaitNote { wait, after }
    }

    /// The note's text.
    pub fn text(&self) -> String {
        format!(
            "no data for {} after {}; --wait longer to keep listening",
            human(self.wait),
            self.after
        )
    }
}

/// `1s`, `1.5s`, `250ms`.
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

impl Sink for WaitNote {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        if let EventKind::Close {
            reason: CloseReason::WaitElapsed,
            ..
        } = &event.kind
        {
            let text = self.text();
            let _ = writeln!(io::stderr().lock(), "{}", crate::messages::tr(&text));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_wait_and_the_flag() {
        assert_eq!(
            WaitNote::new(Duration::from_secs(1), "stdin ended").text(),
            "no data for 1s after stdin ended; --wait longer to keep listening"
        );
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_millis(250)), "250ms");
    }
}
