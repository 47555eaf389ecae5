//! Views: the sinks that render the event stream (stdout data, status lines
//! on stderr; later text, hex, timestamps, JSON, log files, the UI).
//!
//! The sinks run on one thread attached to the event [`Bus`](crate::event::bus::Bus), draining a
//! bounded channel, so rendering never blocks the socket code and a stalled
//! stdout applies backpressure to the sessions that feed it.
//!
//! Every view that decodes text keeps one streaming decoder per connection
//! and direction ([`encoding::ConnDecoders`]), so a character split across
//! two reads decodes as one everywhere.

pub mod dump;
pub mod hexdump;
pub mod json;
pub mod pcap;
pub mod printer;
pub mod raw;
pub mod stats;
pub mod status;
pub mod stdout;

use std::io::{self, IsTerminal};

use crate::encoding;
use std::path::PathBuf;

pub use crate::event::bus::{Sink, SinkThread};

/// When to colour the terminal views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Everything that decides how a command shows its traffic.
#[derive(Debug, Clone, Default)]
pub struct ViewOptions {
    /// Status-line detail on stderr.
    pub verbosity: status::Verbosity,
    /// `--encoding`: decode received text (and encode typed text) with this.
    pub encoding: Option<encoding::TextEncoding>,
    /// `--hex`: a hex dump per message.
    pub hex: bool,
    /// `--text` (with `--hex`): the decoded text too.
    pub text: bool,
    /// `-t`: local time to the millisecond and a direction tag per message.
    pub timestamps: bool,
    /// `--json`: JSON Lines on stdout.
    pub json: bool,
    /// `--log FILE`: the annotated transcript appended to a file.
    pub log: Option<PathBuf>,
    /// `--pcap FILE`: the traffic as a pcapng capture.
    pub pcap: Option<crate::pcap::PcapOptions>,
    /// `--stats`: counters at exit.
    pub stats: bool,
    /// `--color`.
    pub color: ColorChoice,
    /// `--send-only`: received data is not shown on stdout.
    pub hide_received: bool,
    /// `--stats-interval`: live counters on stderr this often.
    pub stats_interval: Option<std::time::Duration>,
    /// `--hex=line`: one compact hex line per message.
    pub hex_line: bool,
    /// Sent bytes are binary (`--send-hex`, payload macros): show them as
    /// a hex line in text transcripts, never decoded.
    pub sent_as_hex: bool,
    /// Each received message ends its own line in the plain views: set
    /// for message-keeping transports (UDP, datagram sockets, WebSocket)
    /// when stdout is a terminal, so `hello` and `world` do not show as
    /// `helloworld`; a pipe gets the bytes exactly.
    pub message_lines: bool,
}

impl ViewOptions {
    /// Sets [`ViewOptions::message_lines`] for a session on `kind`: on
    /// when its messages have boundaries and stdout is a terminal.
    pub fn end_messages_on_terminal(&mut self, kind: crate::endpoint::Kind) {
        let messages = kind.keeps_message_boundaries() || kind.is_websocket();
        self.message_lines = messages && io::stdout().is_terminal();
    }
    /// The encoding for text (UTF-8 unless chosen).
    pub fn text_encoding(&self) -> encoding::TextEncoding {
        self.encoding.unwrap_or_default()
    }

    /// True when stdout carries an annotated view (not raw bytes or plain
    /// decoded text).
    pub fn annotated(&self) -> bool {
        self.json || self.hex || self.timestamps
    }

    fn use_color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && io::stdout().is_terminal()
            }
        }
    }
}

/// What stdout shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdoutView {
    /// Received bytes as they came (closing stdout on the peer's EOF in a
    /// single session).
    Raw {
        /// Close stdout when the peer ends its writes.
        close_on_peer_eof: bool,
    },
    /// Received bytes decoded to UTF-8, nothing added.
    Decoded {
        /// Close stdout when the peer ends its writes.
        close_on_peer_eof: bool,
    },
    /// The annotated transcript.
    Transcript,
    /// JSON Lines.
    Json,
    /// Nothing (status lines still go to stderr).
    Nothing,
}

/// Builds the sinks for these options. `single_session` lets the raw and
/// decoded views close stdout when the peer ends its writes.
pub fn build_sinks(opts: &ViewOptions, single_session: bool) -> io::Result<Vec<Box<dyn Sink>>> {
    let stdout = if opts.hide_received {
        StdoutView::Nothing
    } else if opts.json {
        StdoutView::Json
    } else if opts.hex || opts.timestamps {
        StdoutView::Transcript
    } else if opts.encoding.is_some() {
        StdoutView::Decoded {
            close_on_peer_eof: single_session,
        }
    } else {
        StdoutView::Raw {
            close_on_peer_eof: single_session,
        }
    };
    assemble_sinks(opts, stdout, opts.hex)
}

/// The sinks for a chosen stdout view: status lines on stderr, the view,
/// the `--log` file (JSON when stdout is JSON), the `--pcap` capture and
/// `--stats`. `hex` picks
/// hex dumps (with `--text`, plus the text) for transcript bodies.
pub fn assemble_sinks(
    opts: &ViewOptions,
    stdout: StdoutView,
    hex: bool,
) -> io::Result<Vec<Box<dyn Sink>>> {
    let encoding = opts.text_encoding();
    let body = match (hex, opts.text) {
        (true, _) if opts.hex_line => printer::Body::HexLine,
        (true, true) => printer::Body::HexAndText,
        (true, false) => printer::Body::Hex,
        _ => printer::Body::Text,
    };
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(status::StatusLines::new(opts.verbosity))];
    match stdout {
        StdoutView::Json => sinks.push(Box::new(json::JsonLines::new(
            raw::stdout_writer()?,
            encoding,
        ))),
        StdoutView::Transcript => {
            let style = printer::Style {
                body,
                timestamps: opts.timestamps,
                color: opts.use_color(),
                encoding,
                status: false,
                sent_as_hex: opts.sent_as_hex,
            };
            sinks.push(Box::new(printer::Transcript::new(
                raw::stdout_writer()?,
                style,
            )));
        }
        StdoutView::Decoded { close_on_peer_eof } => {
            sinks.push(Box::new(
                printer::DecodedStdout::new(encoding, close_on_peer_eof)?
                    .message_lines(opts.message_lines),
            ));
        }
        StdoutView::Raw { close_on_peer_eof } => sinks.push(Box::new(
            raw::RawStdout::new(close_on_peer_eof)?.message_lines(opts.message_lines),
        )),
        StdoutView::Nothing => {}
    }
    if let Some(path) = &opts.log {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open log file {}: {e}", path.display()),
                )
            })?;
        let file = io::BufWriter::new(file);
        if stdout == StdoutView::Json {
            sinks.push(Box::new(json::JsonLines::new(file, encoding)));
        } else {
            let style = printer::Style {
                body,
                timestamps: true,
                color: false,
                encoding,
                status: true,
                sent_as_hex: opts.sent_as_hex,
            };
            sinks.push(Box::new(printer::Transcript::new(file, style)));
        }
    }
    if let Some(capture) = &opts.pcap {
        sinks.push(Box::new(pcap::PcapSink::create(capture)?));
    }
    if opts.stats {
        sinks.push(Box::new(stats::Stats::new()));
    }
    Ok(sinks)
}
