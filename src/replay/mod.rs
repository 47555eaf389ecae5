//! `sockmate replay`: a recorded session ([`transcript`]: `--json` lines or
//! a `--log`; [`pcap`]: a `.pcap`/`.pcapng` capture) turned into [`Conversation`]s of client and server messages,
//! which the replay service ([`crate::service::replay`]) answers from and
//! the replaying client sends on a timed schedule ([`Conversation::schedule`]).
//!
//! Who was the client: in a transcript written by a server (`listen`,
//! `relay`: it has a `listening` line) `<`/`in` came from its clients; in
//! one written by `connect`, `>`/`out` did.

pub mod pcap;
pub mod transcript;

use std::time::Duration;

use bytes::Bytes;

use crate::encoding::TextEncoding;
use crate::event::Direction;
use crate::send::{Eol, Schedule};
pub use transcript::{Entry, Transcript, TranscriptError};

/// One side of a recorded conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Side {
    /// The side that connected.
    Client,
    /// The side that listened.
    Server,
}

/// One recorded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who sent it.
    pub from: Side,
    /// When, after the conversation started (its connection opened, or its
    /// first message).
    pub at: Duration,
    /// The bytes (a text entry of a `--log` with the chosen line ending).
    pub bytes: Bytes,
    /// The line ending was not recorded (a text entry of a `--log`) and
    /// none was chosen: the player adds one.
    pub eol_lost: bool,
}

/// The messages of one recorded connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// How the transcript names it (`#3`, or a peer label).
    pub label: String,
    /// Its messages in order.
    pub messages: Vec<Message>,
}

/// A parsed recording: its conversations in the order they started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Every recorded connection that carried data.
    pub conversations: Vec<Conversation>,
    /// Which side wrote the transcript.
    pub recorded_at: Side,
}

/// How to read a transcript.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// The encoding text entries were shown in (`--encoding`).
    pub encoding: TextEncoding,
    /// Which side wrote it; `None`: a server when it has a `listening` line.
    pub recorded_at: Option<Side>,
    /// The line ending given to text entries of a `--log` (which drops
    /// it); `None`: left to the player (a server ends a reply like the
    /// request it answers, a client sends `\n`).
    pub eol: Option<Eol>,
}

impl Recording {
    /// Parses `text` into conversations.
    pub fn parse(text: &str, opts: ReadOptions) -> Result<Recording, TranscriptError> {
        let transcript = transcript::parse(text, opts.encoding)?;
        Ok(Recording::from_transcript(transcript, opts))
    }

    /// Reads a file's bytes: a packet capture, or a `--json`/`--log`
    /// transcript (UTF-8 text).
    pub fn read(bytes: &[u8], opts: ReadOptions) -> Result<Recording, TranscriptError> {
        if pcap::is_capture(bytes) {
            return Ok(Recording::from_transcript(pcap::parse(bytes)?, opts));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            TranscriptError::Capture(format!(
                "not a sockmate transcript or a packet capture (byte {} is not UTF-8, and --log and --json files are UTF-8 text)",
                e.valid_up_to()
            ))
        })?;
        Recording::parse(text, opts)
    }

    /// Groups a transcript's messages by connection and side.
    pub fn from_transcript(t: Transcript, opts: ReadOptions) -> Recording {
        let recorded_at = opts.recorded_at.unwrap_or(if t.recorded_by_server {
            Side::Server
        } else {
            Side::Client
        });
        let mut conversations: Vec<(u64, Conversation)> = Vec::new();
        for entry in t.entries {
            let from = match (recorded_at, entry.dir) {
                (Side::Server, Direction::In) | (Side::Client, Direction::Out) => Side::Client,
                _ => Side::Server,
            };
            let index = match conversations
                .iter()
                .position(|(_, c)| c.label == entry.conn)
            {
                Some(i) => i,
                None => {
                    let start = t
                        .opens
                        .iter()
                        .rev()
                        .find(|(label, at)| *label == entry.conn && *at <= entry.at_ms)
                        .map_or(entry.at_ms, |(_, at)| *at);
                    conversations.push((
                        start,
                        Conversation {
                            label: entry.conn.clone(),
                            messages: Vec::new(),
                        },
                    ));
                    conversations.len() - 1
                }
            };
            let Some((start, conversation)) = conversations.get_mut(index) else {
                continue;
            };
            let mut bytes = entry.bytes;
            if let (true, Some(eol)) = (entry.eol_lost, opts.eol) {
                bytes.extend_from_slice(eol.bytes());
            }
            conversation.messages.push(Message {
                from,
                at: Duration::from_millis(entry.at_ms.saturating_sub(*start)),
                bytes: bytes.into(),
                eol_lost: entry.eol_lost && opts.eol.is_none(),
            });
        }
        Recording {
            conversations: conversations.into_iter().map(|(_, c)| c).collect(),
            recorded_at,
        }
    }

    /// Only the conversation `label` (`#3` or `3` for a `--json`
    /// transcript's connection 3, or a `--log`'s peer label); `None` when
    /// there is no such one.
    pub fn only(mut self, label: &str) -> Option<Recording> {
        let want = label.trim();
        let hash = format!("#{}", want.trim_start_matches('#'));
        let peer = format!(" {want}");
        self.conversations.retain(|c| {
            c.label == want
                || c.label == hash
                || c.label.starts_with(&format!("{hash} "))
                || c.label.ends_with(&peer)
        });
        (!self.conversations.is_empty()).then_some(self)
    }

    /// The labels of the conversations, for messages.
    pub fn labels(&self) -> Vec<&str> {
        self.conversations
            .iter()
            .map(|c| c.label.as_str())
            .collect()
    }
}

/// How a replaying client paces its sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As recorded, divided by this factor (`--speed`; 1 = as recorded).
    Speed(f64),
    /// One after the other without waiting (`--no-timing`).
    NoTiming,
}

impl Conversation {
    /// What `side` sent, in order.
    pub fn sent_by(&self, side: Side) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(move |m| m.from == side)
    }

    /// The client's messages as a timed schedule, played once or (with
    /// `looped`) until stopped.
    pub fn schedule(&self, pace: Pace, looped: bool) -> Schedule {
        let mut messages = Vec::new();
        let mut offsets = Vec::new();
        for m in self.sent_by(Side::Client) {
            messages.push(match m.eol_lost {
                true => [&m.bytes[..], Eol::Lf.bytes()].concat().into(),
                false => m.bytes.clone(),
            });
            offsets.push(match pace {
                Pace::NoTiming => Duration::ZERO,
                Pace::Speed(speed) => {
                    Duration::try_from_secs_f64(m.at.as_secs_f64() / speed).unwrap_or(Duration::MAX)
                }
            });
        }
        Schedule::timed(messages, offsets, (!looped).then_some(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(recorded_at: Option<Side>) -> ReadOptions {
        ReadOptions {
            encoding: TextEncoding::default(),
            recorded_at,
            eol: Some(Eol::Lf),
        }
    }

    const CONNECT_LOG: &str = "[10:00:00.000] connected: 127.0.0.1:5020\n\
[10:00:00.500] 127.0.0.1:5020 > 01 03\n\
[10:00:00.600] 127.0.0.1:5020 < ok\n\
[10:00:01.500] 127.0.0.1:5020 > 01 04\n";

    #[test]
    fn sides_follow_the_recorder() {
        let r = Recording::parse(CONNECT_LOG, opts(None)).unwrap();
        assert_eq!(r.recorded_at, Side::Client);
        let c = &r.conversations[0];
        let froms: Vec<Side> = c.messages.iter().map(|m| m.from).collect();
        assert_eq!(froms, [Side::Client, Side::Server, Side::Client]);
        assert_eq!(c.messages[0].at, Duration::from_millis(500));
        assert_eq!(&c.messages[1].bytes[..], b"ok\n");
        let r = Recording::parse(CONNECT_LOG, opts(Some(Side::Server))).unwrap();
        assert_eq!(r.conversations[0].messages[0].from, Side::Server);
    }

    #[tokio::test(start_paused = true)]
    async fn the_client_schedule_follows_speed_and_no_timing() {
        let r = Recording::parse(CONNECT_LOG, opts(None)).unwrap();
        let c = &r.conversations[0];
        for (pace, want) in [
            (Pace::Speed(1.0), [500, 1500]),
            (Pace::Speed(2.0), [250, 750]),
            (Pace::NoTiming, [0, 0]),
        ] {
            let mut schedule = c.schedule(pace, false);
            let start = tokio::time::Instant::now();
            let mut times = Vec::new();
            while let Some(m) = schedule.next().await {
                times.push((m[0], start.elapsed().as_millis()));
            }
            assert_eq!(times, [(1, want[0]), (1, want[1])], "{pace:?}");
        }
    }

    #[test]
    fn only_picks_one_conversation() {
        let log = "[10:00:00.000] #1 a:1 < x\n[10:00:00.000] #2 a:2 < y\n";
        let r = Recording::parse(log, opts(None)).unwrap();
        assert_eq!(r.labels(), ["#1 a:1", "#2 a:2"]);
        assert_eq!(r.clone().only("2").unwrap().labels(), ["#2 a:2"]);
        assert_eq!(r.clone().only("a:1").unwrap().labels(), ["#1 a:1"]);
        assert!(r.only("9").is_none());
    }
}
