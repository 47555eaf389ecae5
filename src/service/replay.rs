//! The replay service (`sockmate replay --as server`): each message a
//! client sends is looked up among the recorded requests and answered with
//! the recorded reply.
//!
//! A recording becomes a list of [`Exchange`]s: a client message and what
//! the server sent after it until the client's next message. What the
//! server sent before any request is the banner. A request is found:
//!
//! - [`MatchMode::Exact`]: by its bytes (with or without a line ending);
//! - [`MatchMode::Loose`]: by its bytes outside the `--ignore` ranges; where
//!   the recorded reply repeated the recorded request's bytes in an ignored
//!   range (a Modbus TCP transaction id), the reply repeats the new ones;
//! - [`MatchMode::Order`]: the Nth message of a connection gets the Nth
//!   reply, whatever it holds.
//!
//! A request recorded several times (with different replies) answers the
//! Nth message of a connection with the first such exchange at or after
//! position N, so a client that repeats the recorded session gets the
//! recorded replies in order. `--loop` starts over after the last one.

use std::fmt;
use std::ops::Range;

use crate::frame::trim_line_ending;
use crate::replay::{Conversation, Side};

/// How a request is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum MatchMode {
    /// By its bytes.
    #[default]
    Exact,
    /// By its bytes outside the `--ignore` ranges.
    Loose,
    /// By position: the Nth request gets the Nth reply.
    Order,
}

/// Byte offsets of a message to ignore when matching (`--ignore 0..2`;
/// `4..` runs to the end of the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRange {
    /// First ignored byte.
    pub start: usize,
    /// One past the last ignored byte; `None`: to the end.
    pub end: Option<usize>,
}

impl std::str::FromStr for IgnoreRange {
    type Err = String;

    /// `2..4` (bytes 2 and 3), `5` (byte 5), `4..` (from 4 on).
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("invalid --ignore \"{s}\": {why} (give byte offsets from 0, end excluded: 0..2, 7, or 6.. for the rest)")
        };
        let number = |t: &str| t.trim().parse::<usize>().map_err(|_| bad("not a number"));
        let range = match s.split_once("..") {
            None => {
                let at = number(s)?;
                IgnoreRange {
                    start: at,
                    end: Some(at.checked_add(1).ok_or_else(|| bad("too large"))?),
                }
            }
            Some((a, b)) => IgnoreRange {
                start: if a.trim().is_empty() { 0 } else { number(a)? },
                end: if b.trim().is_empty() {
                    None
                } else {
                    Some(number(b)?)
                },
            },
        };
        if range.end.is_some_and(|end| end <= range.start) {
            return Err(bad("the end must be after the start"));
        }
        Ok(range)
    }
}

impl fmt::Display for IgnoreRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.end {
            Some(end) => write!(f, "{}..{end}", self.start),
            None => write!(f, "{}..", self.start),
        }
    }
}

impl IgnoreRange {
    fn contains(&self, at: usize) -> bool {
        at >= self.start && self.end.is_none_or(|end| at < end)
    }

    /// The range within a message of `len` bytes, when it fits whole.
    fn within(&self, len: usize) -> Option<Range<usize>> {
        let end = self.end?;
        (end <= len).then_some(self.start..end)
    }
}

/// A recorded request and the reply the server gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// What the client sent.
    pub request: Vec<u8>,
    /// Everything the server sent after it, until the client's next message.
    pub reply: Vec<u8>,
    /// Where in `reply` a recorded message ended without its line ending
    /// (a text `--log`): the request's line ending goes there.
    pub eol_at: Vec<usize>,
}

/// The recorded exchanges and how to answer from them.
#[derive(Debug, Clone, Default)]
pub struct ReplayTable {
    /// What the server sent before any request (sent on connect).
    pub banner: Vec<u8>,
    /// Every exchange, in recorded order.
    pub exchanges: Vec<Exchange>,
    /// How requests are recognised.
    pub mode: MatchMode,
    /// Bytes left out of the comparison (`--match loose`).
    pub ignore: Vec<IgnoreRange>,
    /// Sent for a request nothing matches (`--unmatched-reply`); nothing
    /// when `None`.
    pub unmatched_reply: Option<Vec<u8>>,
    /// Start over after the last recorded exchange (`--loop`).
    pub looped: bool,
}

/// What the table answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The recorded exchange with this index (from 0) answered.
    Matched(usize),
    /// Nothing matched; the `--unmatched-reply` (if any) is in the output.
    Unmatched,
}

impl ReplayTable {
    /// The exchanges of `conversations` (in order), with the banner of the
    /// first one.
    pub fn from_conversations(conversations: &[Conversation]) -> ReplayTable {
        let mut table = ReplayTable::default();
        for (n, conversation) in conversations.iter().enumerate() {
            let mut current: Option<Exchange> = None;
            for m in &conversation.messages {
                match (m.from, current.as_mut()) {
                    (Side::Client, _) => {
                        table.exchanges.extend(current.take());
                        current = Some(Exchange {
                            request: m.bytes.to_vec(),
                            reply: Vec::new(),
                            eol_at: Vec::new(),
                        });
                    }
                    (Side::Server, Some(exchange)) => {
                        exchange.reply.extend_from_slice(&m.bytes);
                        if m.eol_lost {
                            exchange.eol_at.push(exchange.reply.len());
                        }
                    }
                    (Side::Server, None) if n == 0 => {
                        table.banner.extend_from_slice(&m.bytes);
                        if m.eol_lost {
                            table.banner.push(b'\n');
                        }
                    }
                    (Side::Server, None) => {}
                }
            }
            table.exchanges.extend(current);
        }
        table
    }

    /// True when `got` is the recorded `want` under the match mode.
    fn matches(&self, want: &[u8], got: &[u8]) -> bool {
        match self.mode {
            MatchMode::Order => true,
            MatchMode::Exact => got == want || trim_line_ending(got) == trim_line_ending(want),
            MatchMode::Loose => {
                self.loosely_equal(want, got)
                    || self.loosely_equal(trim_line_ending(want), trim_line_ending(got))
            }
        }
    }

    fn loosely_equal(&self, want: &[u8], got: &[u8]) -> bool {
        let ignored = |at: usize| self.ignore.iter().any(|r| r.contains(at));
        (0..want.len().max(got.len())).all(|at| ignored(at) || want.get(at) == got.get(at))
    }

    /// Finds the exchange for `msg`, the `number`th message (from 1) of its
    /// connection, and appends the answer to `out`.
    pub fn answer(&self, msg: &[u8], number: u64, out: &mut Vec<u8>) -> Lookup {
        let count = self.exchanges.len();
        let position = usize::try_from(number.saturating_sub(1)).unwrap_or(usize::MAX);
        let found = match self.mode {
            MatchMode::Order if count == 0 => None,
            MatchMode::Order if self.looped => Some(position % count),
            MatchMode::Order => (position < count).then_some(position),
            _ => {
                let start = if self.looped && count > 0 {
                    position % count
                } else {
                    position
                };
                let hit = |i: &usize| {
                    self.exchanges
                        .get(*i)
                        .is_some_and(|e| self.matches(&e.request, msg))
                };
                (start..count).find(hit).or_else(|| (0..count).find(hit))
            }
        };
        let Some(exchange) = found.and_then(|i| self.exchanges.get(i).map(|e| (i, e))) else {
            if let Some(reply) = &self.unmatched_reply {
                out.extend_from_slice(reply);
            }
            return Lookup::Unmatched;
        };
        let (index, exchange) = exchange;
        let at = out.len();
        out.extend_from_slice(&exchange.reply);
        if self.mode == MatchMode::Loose {
            if let Some(reply) = out.get_mut(at..) {
                self.carry_ignored(exchange, msg, reply);
            }
        }
        if !exchange.eol_at.is_empty() {
            let eol = msg.get(trim_line_ending(msg).len()..).unwrap_or_default();
            let mut with_eols = Vec::with_capacity(exchange.reply.len() + eol.len() * 4);
            let mut from = 0;
            for &end in &exchange.eol_at {
                with_eols.extend_from_slice(out.get(at + from..at + end).unwrap_or_default());
                with_eols.extend_from_slice(eol);
                from = end;
            }
            with_eols.extend_from_slice(out.get(at + from..).unwrap_or_default());
            out.truncate(at);
            out.extend_from_slice(&with_eols);
        }
        Lookup::Matched(index)
    }

    /// Where the recorded reply repeated the recorded request's bytes in an
    /// ignored range, puts the new request's bytes there.
    fn carry_ignored(&self, exchange: &Exchange, msg: &[u8], reply: &mut [u8]) {
        for range in &self.ignore {
            let Some(r) = range.within(exchange.request.len()) else {
                continue;
            };
            let (Some(recorded), Some(now)) = (exchange.request.get(r.clone()), msg.get(r.clone()))
            else {
                continue;
            };
            if let Some(slot) = reply.get_mut(r) {
                if slot == recorded {
                    slot.copy_from_slice(now);
                }
            }
        }
    }

    /// The line for a request nothing matched.
    pub fn unmatched_line(&self, peer: &str, number: u64, msg: &[u8]) -> String {
        const SHOWN: usize = 32;
        let mut hex = String::new();
        for b in msg.iter().take(SHOWN) {
            hex.push_str(&format!(" {b:02x}"));
        }
        if msg.len() > SHOWN {
            hex.push_str(" …");
        }
        let reply = match &self.unmatched_reply {
            Some(r) if !r.is_empty() => format!("sent the --unmatched-reply ({} bytes)", r.len()),
            _ => "no reply (set one with --unmatched-reply)".to_string(),
        };
        format!(
            "unmatched: {peer} message {number} ({} bytes:{hex}) is not in the recording ({} mode); {reply}",
            msg.len(),
            match self.mode {
                MatchMode::Exact => "exact",
                MatchMode::Loose => "loose",
                MatchMode::Order => "order",
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::Message;
    use bytes::Bytes;
    use proptest::prelude::*;
    use std::time::Duration;

    fn conversation(messages: &[(Side, &[u8])]) -> Conversation {
        Conversation {
            label: "#1".into(),
            messages: messages
                .iter()
                .map(|(from, bytes)| Message {
                    from: *from,
                    at: Duration::ZERO,
                    bytes: Bytes::copy_from_slice(bytes),
                    eol_lost: false,
                })
                .collect(),
        }
    }

    fn ask(table: &ReplayTable, msg: &[u8], number: u64) -> (Lookup, Vec<u8>) {
        let mut out = Vec::new();
        let lookup = table.answer(msg, number, &mut out);
        (lookup, out)
    }

    use Side::{Client as C, Server as S};

    #[test]
    fn exchanges_banner_and_exact_matches() {
        let table = ReplayTable::from_conversations(&[conversation(&[
            (S, b"hello\n"),
            (C, b"A\n"),
            (S, b"1"),
            (S, b"2"),
            (C, b"B"),
            (C, b"A\n"),
            (S, b"3"),
        ])]);
        assert_eq!(table.banner, b"hello\n");
        assert_eq!(table.exchanges.len(), 3);
        assert_eq!(ask(&table, b"A\n", 1), (Lookup::Matched(0), b"12".to_vec()));
        assert_eq!(
            ask(&table, b"A\r\n", 3),
            (Lookup::Matched(2), b"3".to_vec())
        );
        assert_eq!(ask(&table, b"A", 9), (Lookup::Matched(0), b"12".to_vec()));
        assert_eq!(ask(&table, b"B", 1), (Lookup::Matched(1), Vec::new()));
        assert_eq!(ask(&table, b"Z", 1), (Lookup::Unmatched, Vec::new()));
        let with_reply = ReplayTable {
            unmatched_reply: Some(b"?".to_vec()),
            ..table.clone()
        };
        assert_eq!(
            ask(&with_reply, b"Z", 1),
            (Lookup::Unmatched, b"?".to_vec())
        );
        let text_log = ReplayTable::from_conversations(&[Conversation {
            label: "#1".into(),
            messages: vec![
                Message {
                    from: C,
                    at: Duration::ZERO,
                    bytes: Bytes::from_static(b"Q"),
                    eol_lost: true,
                },
                Message {
                    from: S,
                    at: Duration::ZERO,
                    bytes: Bytes::from_static(b"a"),
                    eol_lost: true,
                },
                Message {
                    from: S,
                    at: Duration::ZERO,
                    bytes: Bytes::from_static(b"b"),
                    eol_lost: true,
                },
            ],
        }]);
        assert_eq!(
            ask(&text_log, b"Q\r\n", 1).1,
            b"a\r\nb\r\n",
            "replies end like the request"
        );
        assert_eq!(ask(&text_log, b"Q", 1).1, b"ab");
        let line = with_reply.unmatched_line("127.0.0.1:9", 4, b"Z");
        assert!(
            line.starts_with("unmatched: 127.0.0.1:9 message 4 (1 bytes: 5a)"),
            "{line}"
        );
    }

    #[test]
    fn loose_ignores_ranges_and_carries_the_transaction_id() {
        let mut table = ReplayTable::from_conversations(&[conversation(&[
            (C, &[0x00, 0x01, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2]),
            (S, &[0x00, 0x01, 0, 0, 0, 7, 1, 3, 4, 0, 0xfa, 0, 0x10]),
        ])]);
        table.mode = MatchMode::Loose;
        table.ignore = vec!["0..2".parse().unwrap()];
        let (lookup, reply) = ask(&table, &[0x12, 0x34, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2], 1);
        assert_eq!(lookup, Lookup::Matched(0));
        assert_eq!(reply, [0x12, 0x34, 0, 0, 0, 7, 1, 3, 4, 0, 0xfa, 0, 0x10]);
        let (lookup, _) = ask(&table, &[0x12, 0x34, 0, 0, 0, 6, 1, 3, 0, 9, 0, 2], 1);
        assert_eq!(lookup, Lookup::Unmatched);
        table.ignore = vec!["8..".parse().unwrap(), "0..2".parse().unwrap()];
        let (lookup, _) = ask(&table, &[9, 9, 0, 0, 0, 6, 1, 3, 7, 7, 7, 7, 7], 1);
        assert_eq!(lookup, Lookup::Matched(0));
    }

    #[test]
    fn order_and_loop() {
        let mut table = ReplayTable::from_conversations(&[conversation(&[
            (C, b"x"),
            (S, b"1"),
            (C, b"x"),
            (S, b"2"),
        ])]);
        assert_eq!(ask(&table, b"x", 1).1, b"1");
        assert_eq!(
            ask(&table, b"x", 2).1,
            b"2",
            "a repeated request gets its replies in turn"
        );
        assert_eq!(ask(&table, b"x", 3).1, b"1");
        table.mode = MatchMode::Order;
        assert_eq!(ask(&table, b"anything", 2).1, b"2");
        assert_eq!(ask(&table, b"x", 3).0, Lookup::Unmatched);
        table.looped = true;
        assert_eq!(ask(&table, b"x", 3).1, b"1");
        assert_eq!(ask(&table, b"x", 4).1, b"2");
    }

    #[test]
    fn ignore_ranges_parse_and_refuse() {
        assert_eq!("2..4".parse::<IgnoreRange>().unwrap().to_string(), "2..4");
        assert_eq!("7".parse::<IgnoreRange>().unwrap().to_string(), "7..8");
        assert_eq!("6..".parse::<IgnoreRange>().unwrap().to_string(), "6..");
        assert_eq!("..2".parse::<IgnoreRange>().unwrap().to_string(), "0..2");
        for bad in ["4..2", "x", "1..y", "3..3", ""] {
            let e = bad.parse::<IgnoreRange>().unwrap_err();
            assert!(e.contains("invalid --ignore"), "{e}");
        }
    }

    proptest! {
        #[test]
        fn any_message_and_ranges_never_panic(
            recorded in proptest::collection::vec(any::<u8>(), 0..20),
            reply in proptest::collection::vec(any::<u8>(), 0..20),
            msg in proptest::collection::vec(any::<u8>(), 0..20),
            ranges in proptest::collection::vec("[0-9]{0,2}\\.\\.[0-9]{0,2}", 0..3),
            number in any::<u64>(),
            looped in any::<bool>(),
        ) {
            for mode in [MatchMode::Exact, MatchMode::Loose, MatchMode::Order] {
                let mut table = ReplayTable::from_conversations(&[conversation(&[
                    (C, &recorded), (S, &reply),
                ])]);
                table.mode = mode;
                table.looped = looped;
                table.ignore = ranges.iter().filter_map(|r| r.parse().ok()).collect();
                let _ = ask(&table, &msg, number);
                if mode == MatchMode::Exact {
                    prop_assert_eq!(ask(&table, &recorded, 1), (Lookup::Matched(0), reply.clone()));
                }
            }
        }
    }
}
