//! Sending without stdin: `--send`, `--send-hex`, `--send-file`, `--eol`,
//! and the `--interval`/`--count` auto-send schedule (NetAssist's
//! "auto-send").

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::encoding::TextEncoding;
use crate::error::ConfigError;
use crate::escape::{escape_at, EscapeError};
use crate::hexinput::{parse_hex, HexError};
use crate::template::{Message, Template, TemplateError};

/// The line ending added to each `--send` (and each stdin line in line mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Eol {
    /// Nothing.
    None,
    /// `\n`.
    Lf,
    /// `\r\n`.
    Crlf,
}

impl Eol {
    /// The bytes of this line ending.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Eol::None => b"",
            Eol::Lf => b"\n",
            Eol::Crlf => b"\r\n",
        }
    }
}

/// One send as written on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendSpec {
    /// `--send TEXT`: text with escapes, encoded with `--encoding`.
    Text(String),
    /// `--send-hex HEX`.
    Hex(String),
    /// `--send-file PATH`: the file's bytes, read when the command starts.
    File(PathBuf),
    /// `--send-template TEMPLATE`: rendered for every message sent
    /// (counters, time, random bytes, checksums; see [`crate::template`]).
    Template(String),
}

/// A send that could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// A bad escape in `--send`.
    #[error("in --send {text:?}: {problem}")]
    Escape {
        /// The text as given.
        text: String,
        /// What is wrong.
        problem: EscapeError,
    },
    /// Bad hex in `--send-hex`.
    #[error("in --send-hex {text:?}: {problem}")]
    Hex {
        /// The hex as given.
        text: String,
        /// What is wrong.
        problem: HexError,
    },
    /// A bad `--send-template`.
    #[error("in --send-template {text:?}: {problem}")]
    Template {
        /// The template as given.
        text: String,
        /// What is wrong.
        problem: TemplateError,
    },
}

/// A send resolved to bytes, or a file still to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Ready bytes.
    Bytes(Bytes),
    /// A file to read at start.
    File(PathBuf),
    /// A template rendered per message.
    Template(Template),
}

/// Encodes text for sending: plain characters with `encoding`, escapes
/// (`\n \r \t \0 \xHH \\`) as the bytes they name.
pub fn encode_text(text: &str, encoding: TextEncoding) -> Result<Vec<u8>, EscapeError> {
    let mut out = Vec::with_capacity(text.len());
    let mut plain_start = 0;
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((position, (at, c))) = chars.next() {
        if c != '\\' {
            continue;
        }
        out.extend(encoding.encode(&text[plain_start..at]));
        let (byte, used) = escape_at(&text[at..], position)?;
        out.push(byte);
        for _ in 1..used {
            chars.next();
        }
        plain_start = chars.peek().map(|(_, (i, _))| *i).unwrap_or(text.len());
    }
    out.extend(encoding.encode(&text[plain_start..]));
    Ok(out)
}

/// Resolves the command line's sends to payloads (no I/O: files stay paths);
/// `time_format` is the strftime layout of `{time}` in templates.
pub fn resolve(
    specs: &[SendSpec],
    encoding: TextEncoding,
    eol: Eol,
    time_format: &str,
) -> Result<Vec<Payload>, SendError> {
    specs
        .iter()
        .map(|spec| match spec {
            SendSpec::Text(text) => {
                let mut bytes =
                    encode_text(text, encoding).map_err(|problem| SendError::Escape {
                        text: text.clone(),
                        problem,
                    })?;
                bytes.extend_from_slice(eol.bytes());
                Ok(Payload::Bytes(bytes.into()))
            }
            SendSpec::Hex(hex) => {
                parse_hex(hex)
                    .map(|b| Payload::Bytes(b.into()))
                    .map_err(|problem| SendError::Hex {
                        text: hex.clone(),
                        problem,
                    })
            }
            SendSpec::File(path) => Ok(Payload::File(path.clone())),
            SendSpec::Template(text) => Template::parse(text, time_format)
                .map(Payload::Template)
                .map_err(|problem| SendError::Template {
                    text: text.clone(),
                    problem,
                }),
        })
        .collect()
}

/// One message of a schedule: fixed bytes, or a template rendered when it
/// is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// The same bytes every time.
    Fixed(Bytes),
    /// Rendered with the message number (and peer, time, random bytes).
    Template(Template),
    /// The same bytes, due this long after its round started (a replayed
    /// session's recorded timing; see [`Schedule::timed`]).
    Timed {
        /// The bytes.
        bytes: Bytes,
        /// When it is due after its round started.
        at: Duration,
    },
}

impl Outgoing {
    /// The bytes of message number `number` (from 1) to `peer`.
    pub fn render(&self, number: u64, peer: &str) -> Bytes {
        match self {
            Outgoing::Fixed(b) | Outgoing::Timed { bytes: b, .. } => b.clone(),
            Outgoing::Template(t) => {
                let mut out = Vec::new();
                t.render(
                    &Message {
                        bytes: b"",
                        peer,
                        number,
                    },
                    &mut out,
                );
                out.into()
            }
        }
    }
}

/// Reads `--send-file` payloads; returns the messages in order.
pub fn load(payloads: &[Payload]) -> Result<Vec<Outgoing>, ConfigError> {
    payloads
        .iter()
        .map(|p| match p {
            Payload::Bytes(b) => Ok(Outgoing::Fixed(b.clone())),
            Payload::Template(t) => Ok(Outgoing::Template(t.clone())),
            Payload::File(path) => std::fs::read(path)
                .map(|b| Outgoing::Fixed(b.into()))
                .map_err(|e| {
                    ConfigError::new(format!("cannot read --send-file {}: {e}", path.display()))
                }),
        })
        .collect()
}

/// What to send besides the input, validated: the messages of one round
/// and how often rounds repeat (the NetAssist "auto-send").
#[derive(Debug, Clone, Default)]
pub struct SendPlan {
    /// The messages of one round, in order.
    pub payloads: Vec<Payload>,
    /// Time between rounds.
    pub interval: Option<Duration>,
    /// Rounds to send (`None`: until stopped).
    pub rounds: Option<u64>,
    /// `--delay`: the least time between two sends, so a stream peer gets
    /// them as separate reads (without it they may merge into one).
    pub gap: Option<Duration>,
}

impl SendPlan {
    /// True when there is something to send.
    pub fn has_sends(&self) -> bool {
        !self.payloads.is_empty()
    }

    /// The schedule of this plan (files read now), or `None` without sends.
    pub fn schedule(&self) -> Result<Option<Schedule>, ConfigError> {
        if !self.has_sends() {
            return Ok(None);
        }
        let messages = load(&self.payloads)?;
        Ok(Some(
            Schedule::new(messages, self.interval, self.rounds).with_gap(self.gap),
        ))
    }
}

impl From<SendError> for ConfigError {
    fn from(e: SendError) -> Self {
        ConfigError::new(e.to_string())
    }
}

/// The auto-send schedule: every message in order, repeated `count` rounds
/// (`None`: until stopped), rounds `interval` apart.
#[derive(Debug, Clone)]
pub struct Schedule {
    messages: Vec<Outgoing>,
    sent: u64,
    peer: String,
    interval: Option<Duration>,
    rounds: Option<u64>,
    rounds_done: u64,
    index: usize,
    started: Option<Instant>,
    gap: Option<Duration>,
    last_sent: Option<Instant>,
}

impl Schedule {
    /// A schedule of `messages`, sent `rounds` times (`None` = forever)
    /// with `interval` between the starts of rounds.
    pub fn new(messages: Vec<Outgoing>, interval: Option<Duration>, rounds: Option<u64>) -> Self {
        Schedule {
            messages,
            sent: 0,
            peer: String::new(),
            interval,
            rounds,
            rounds_done: 0,
            index: 0,
            started: None,
            gap: None,
            last_sent: None,
        }
    }

    /// The same schedule with at least `gap` between two messages.
    pub fn with_gap(mut self, gap: Option<Duration>) -> Self {
        self.gap = gap.filter(|g| !g.is_zero());
        self
    }

    /// A schedule of fixed messages.
    pub fn fixed(messages: Vec<Bytes>, interval: Option<Duration>, rounds: Option<u64>) -> Self {
        Schedule::new(
            messages.into_iter().map(Outgoing::Fixed).collect(),
            interval,
            rounds,
        )
    }

    /// A schedule of fixed `messages`, each due `offsets` (one per message)
    /// after its round started; a round starts when the one before it has
    /// sent its last message. `rounds`: `None` = until stopped.
    pub fn timed(messages: Vec<Bytes>, offsets: Vec<Duration>, rounds: Option<u64>) -> Self {
        let timed = messages
            .into_iter()
            .zip(offsets.into_iter().chain(std::iter::repeat(Duration::ZERO)))
            .map(|(bytes, at)| Outgoing::Timed { bytes, at })
            .collect();
        Schedule::new(timed, None, rounds)
    }

    /// Names the peer that `{peer}` in templates renders as.
    pub fn set_peer(&mut self, peer: &str) {
        self.peer = peer.to_string();
    }

    /// True when there is nothing (more) to send.
    pub fn is_done(&self) -> bool {
        self.messages.is_empty() || self.rounds.is_some_and(|r| self.rounds_done >= r)
    }

    /// The next message, waiting for its round's time. Cancel-safe: the
    /// state moves only when a message is returned.
    pub async fn next(&mut self) -> Option<Bytes> {
        if self.is_done() {
            return None;
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        // Every wait is until an instant known now, so one sleep until the
        // latest does them all: the round's interval, the gap after the
        // last send, and a timed message's time in its round (`started` is
        // the round's start then: a timed schedule has no interval).
        let mut due: Option<Instant> = None;
        if self.index == 0 && self.rounds_done > 0 {
            if let Some(interval) = self.interval {
                due = due.max(Some(
                    started + interval.saturating_mul(self.rounds_done.min(u32::MAX as u64) as u32),
                ));
            }
        }
        if let (Some(gap), Some(last)) = (self.gap, self.last_sent) {
            due = due.max(Some(last + gap));
        }
        if let Some(Outgoing::Timed { at, .. }) = self.messages.get(self.index) {
            due = due.max(started.checked_add(*at));
        }
        if let Some(due) = due {
            tokio::time::sleep_until(due).await;
        }
        self.last_sent = Some(Instant::now());
        self.sent += 1;
        let message = self.messages[self.index].render(self.sent, &self.peer);
        self.index += 1;
        if self.index == self.messages.len() {
            self.index = 0;
            self.rounds_done += 1;
            if matches!(self.messages.first(), Some(Outgoing::Timed { .. })) {
                self.started = None;
            }
        }
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::CTIME_FORMAT;

    #[test]
    fn text_is_encoded_and_escapes_are_bytes() {
        let gbk = TextEncoding::from_label("gbk").unwrap();
        assert_eq!(
            encode_text("你\\x00好\\n", gbk).unwrap(),
            [0xc4, 0xe3, 0, 0xba, 0xc3, b'\n']
        );
        assert_eq!(
            encode_text("plain", TextEncoding::default()).unwrap(),
            b"plain"
        );
        assert_eq!(encode_text("\\\\", TextEncoding::default()).unwrap(), b"\\");
        let err = encode_text("ab\\q", TextEncoding::default()).unwrap_err();
        assert_eq!(err.position, 2);
    }

    #[test]
    fn resolve_keeps_order_and_adds_eol_to_text_only() {
        let specs = vec![
            SendSpec::Hex("02".into()),
            SendSpec::Text("hi".into()),
            SendSpec::Hex("03".into()),
        ];
        let got = resolve(&specs, TextEncoding::default(), Eol::Crlf, CTIME_FORMAT).unwrap();
        assert_eq!(
            got,
            vec![
                Payload::Bytes(Bytes::from_static(b"\x02")),
                Payload::Bytes(Bytes::from_static(b"hi\r\n")),
                Payload::Bytes(Bytes::from_static(b"\x03")),
            ]
        );
        let err = resolve(
            &[SendSpec::Hex("4g".into())],
            TextEncoding::default(),
            Eol::None,
            CTIME_FORMAT,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("bad hex \"4g\" at position 0"),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn templates_render_per_message() {
        let specs = vec![
            SendSpec::Template("m{n} {seq:u16be}".into()),
            SendSpec::Text("{n}".into()),
        ];
        let payloads = resolve(&specs, TextEncoding::default(), Eol::None, CTIME_FORMAT).unwrap();
        let mut s = Schedule::new(load(&payloads).unwrap(), None, Some(2));
        let mut got = Vec::new();
        while let Some(m) = s.next().await {
            got.push(m);
        }
        assert_eq!(
            got,
            [
                Bytes::from_static(b"m1 \x00\x01"),
                Bytes::from_static(b"{n}"),
                Bytes::from_static(b"m3 \x00\x03"),
                Bytes::from_static(b"{n}"),
            ],
            "--send stays literal; {{n}} counts every message sent"
        );
        let err = resolve(
            &[SendSpec::Template("{crc16:x}".into())],
            TextEncoding::default(),
            Eol::None,
            CTIME_FORMAT,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("in --send-template"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn schedule_sends_rounds_at_the_interval() {
        let mut s = Schedule::fixed(
            vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")],
            Some(Duration::from_millis(50)),
            Some(3),
        );
        let start = Instant::now();
        let mut got = Vec::new();
        while let Some(m) = s.next().await {
            got.push((m, start.elapsed().as_millis()));
        }
        let times: Vec<u128> = got.iter().map(|(_, t)| *t).collect();
        assert_eq!(times, [0, 0, 50, 50, 100, 100]);
        assert_eq!(got.len(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_spaces_every_send_and_stretches_short_rounds() {
        let mut s = Schedule::fixed(
            vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")],
            Some(Duration::from_millis(50)),
            Some(2),
        )
        .with_gap(Some(Duration::from_millis(30)));
        let start = Instant::now();
        let mut times = Vec::new();
        while s.next().await.is_some() {
            times.push(start.elapsed().as_millis());
        }
        assert_eq!(times, [0, 30, 60, 90]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_timed_schedule_keeps_each_offset_and_rounds_follow_each_other() {
        let mut s = Schedule::timed(
            vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")],
            vec![Duration::from_millis(20), Duration::from_millis(120)],
            Some(2),
        );
        let start = Instant::now();
        let mut times = Vec::new();
        while let Some(m) = s.next().await {
            times.push((m, start.elapsed().as_millis()));
        }
        let a = Bytes::from_static(b"a");
        let b = Bytes::from_static(b"b");
        assert_eq!(
            times,
            [(a.clone(), 20), (b.clone(), 120), (a, 140), (b, 240)]
        );
    }
}

/// One stdin line as a message: text re-encoded, ending replaced by `eol`.
pub fn line_message(line: &[u8], encoding: TextEncoding, eol: Option<Eol>) -> Bytes {
    let (body, ending): (&[u8], &[u8]) = if let Some(b) = line.strip_suffix(b"\r\n") {
        (b, b"\r\n")
    } else if let Some(b) = line.strip_suffix(b"\n") {
        (b, b"\n")
    } else {
        (line, b"")
    };
    let mut out = if encoding.is_utf8() {
        body.to_vec()
    } else {
        encoding.encode(&String::from_utf8_lossy(body))
    };
    out.extend_from_slice(eol.map(Eol::bytes).unwrap_or(ending));
    out.into()
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn line_endings_are_replaced_or_kept() {
        let utf8 = TextEncoding::default();
        assert_eq!(
            line_message(b"hi\n", utf8, None),
            Bytes::from_static(b"hi\n")
        );
        assert_eq!(
            line_message(b"hi\r\n", utf8, Some(Eol::Lf)),
            Bytes::from_static(b"hi\n")
        );
        assert_eq!(
            line_message(b"hi\n", utf8, Some(Eol::Crlf)),
            Bytes::from_static(b"hi\r\n")
        );
        assert_eq!(
            line_message(b"hi", utf8, Some(Eol::None)),
            Bytes::from_static(b"hi")
        );
        let gbk = TextEncoding::from_label("gbk").unwrap();
        assert_eq!(
            line_message("你\n".as_bytes(), gbk, None),
            Bytes::from_static(b"\xc4\xe3\n")
        );
    }
}
