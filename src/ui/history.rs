//! A session's recent messages for the page, kept so that a page that
//! connects later (or reloads) is shown what happened before it: bounded
//! in count and bytes, the oldest dropped first and counted.

use std::collections::VecDeque;
use std::sync::Arc;

/// Most messages kept per session.
pub const HISTORY_MESSAGES: usize = 2000;

/// Most bytes of messages kept per session.
pub const HISTORY_BYTES: usize = 4 * 1024 * 1024;

/// The kept messages, each numbered (the `q` of an `ev`), and how many
/// older ones were dropped.
#[derive(Debug, Default)]
pub struct History {
    items: VecDeque<(u64, Arc<str>)>,
    bytes: usize,
    next: u64,
    dropped: u64,
}

impl History {
    /// The number the next message gets (from 1).
    pub fn next_seq(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Keeps `message` (numbered `seq`), dropping the oldest beyond the
    /// bounds.
    pub fn keep(&mut self, seq: u64, message: Arc<str>) {
        self.bytes += message.len();
        self.items.push_back((seq, message));
        while self.items.len() > HISTORY_MESSAGES || self.bytes > HISTORY_BYTES {
            match self.items.pop_front() {
                Some((_, old)) => {
                    self.bytes -= old.len();
                    self.dropped += 1;
                }
                None => break,
            }
        }
    }

    /// How many messages were dropped (too old to keep).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The kept messages, oldest first.
    pub fn messages(&self) -> Vec<Arc<str>> {
        self.items.iter().map(|(_, m)| Arc::clone(m)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_go_first_and_are_counted() {
        let mut h = History::default();
        for i in 0..HISTORY_MESSAGES + 5 {
            let seq = h.next_seq();
            assert_eq!(seq, i as u64 + 1);
            h.keep(seq, Arc::from(format!("m{i}")));
        }
        assert_eq!(h.dropped(), 5);
        let kept = h.messages();
        assert_eq!(kept.len(), HISTORY_MESSAGES);
        assert_eq!(&*kept[0], "m5");
        let big: Arc<str> = Arc::from("x".repeat(HISTORY_BYTES));
        let seq = h.next_seq();
        h.keep(seq, big);
        assert_eq!(h.messages().len(), 1, "bounded in bytes too");
    }
}
