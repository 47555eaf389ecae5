//! Flag groups shared by several commands (socket and status options,
//! views, sends, limits) and the value parsers (durations, sizes).

use std::time::Duration;

use clap::Args;

use crate::encoding::TextEncoding;
use crate::error::ConfigError;
use crate::send::{Eol, SendPlan, SendSpec};
use crate::transport::SocketOptions;
use crate::view::status::Verbosity;
use crate::view::{ColorChoice, ViewOptions};

/// Options shared by every command that moves data.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Close the connection when nothing moves either way for this long (e.g. 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// Disable Nagle's algorithm (TCP_NODELAY) so small writes go out at once.
    #[arg(long)]
    pub nodelay: bool,
    /// Send TCP keepalive probes after this much idle time (default 60s when given without a value).
    #[arg(long, value_name = "DURATION", num_args = 0..=1, default_missing_value = "60s", value_parser = parse_duration)]
    pub keepalive: Option<Duration>,
    /// Print no status lines on stderr (data and errors only).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print status lines (connected, closed) on stderr where they are off by default.
    #[arg(short, long)]
    pub verbose: bool,
    /// TLS (`tls://`, `wss://`).
    #[command(flatten)]
    pub tls: super::tls_args::TlsArgs,
    /// WebSocket (`ws://`, `wss://`).
    #[command(flatten)]
    pub ws: super::tls_args::WsArgs,
}

/// How traffic is shown (connect, listen, relay).
#[derive(Debug, Args, Clone, Default)]
pub struct ViewArgs {
    /// Decode received bytes with ENC for display, and encode typed and --send text with it: utf-8, gbk, gb18030, big5, shift_jis, euc-kr, latin1, windows-1252, utf-16le, … (any WHATWG label).
    #[arg(long, value_name = "ENC")]
    pub encoding: Option<String>,
    /// Show each message as a hex dump (offset, 16 bytes in hex, ASCII gutter); --hex=line: one line per message, `PEER < 01 03 02 00 19`.
    #[arg(short = 'x', long, value_enum, value_name = "STYLE", num_args = 0..=1, require_equals = true, default_missing_value = "dump")]
    pub hex: Option<HexStyle>,
    /// With --hex, show the decoded text under each dump too.
    #[arg(long, requires = "hex")]
    pub text: bool,
    /// Start each message with the local time to the millisecond, the peer and < (received) or > (sent).
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Print one JSON object per event on stdout (JSON Lines; schema in the README).
    #[arg(long, conflicts_with = "hex")]
    pub json: bool,
    /// Also append the annotated transcript (JSON with --json) to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<std::path::PathBuf>,
    /// Print byte and message counters per connection and in total at exit (on stderr).
    #[arg(long)]
    pub stats: bool,
    /// Print live counters (bytes and messages in/out per connection and in total, rates) on stderr every DURATION; SIGUSR1 prints them at any time.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Views")]
    pub stats_interval: Option<Duration>,
    /// Colour the terminal views: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorChoice,
}

/// How `--hex` shows a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HexStyle {
    /// Offset, 16 bytes a row, ASCII gutter.
    Dump,
    /// One compact line per message.
    Line,
}

/// What to send without stdin (connect, listen).
#[derive(Debug, Args, Clone, Default)]
pub struct SendArgs {
    /// Send TEXT (repeatable, in order with the other --send* flags); escapes \n \r \t \0 \xHH \\; encoded with --encoding.
    #[arg(long, value_name = "TEXT")]
    pub send: Vec<String>,
    /// Send bytes written in hex: "48 65", 4865, 0x48,0x65 or \x48\x65 (repeatable).
    #[arg(long, value_name = "HEX")]
    pub send_hex: Vec<String>,
    /// Send the contents of a file (repeatable).
    #[arg(long, value_name = "PATH")]
    pub send_file: Vec<std::path::PathBuf>,
    /// Send a template rendered per message (repeatable, in order with the other --send* flags): {n} {time} {peer} {rand:N} {hex:01 02} {seq:u16be} and checksums over what comes before them: {crc16:modbus} {crc16:ccitt} {crc16:xmodem} {crc32} {sum8} {xor8} {lrc}.
    #[arg(long, value_name = "TEMPLATE", help_heading = "Sending")]
    pub send_template: Vec<String>,
    /// Line ending appended to each --send and, in line mode, to each stdin line.
    #[arg(long, value_enum, value_name = "EOL")]
    pub eol: Option<Eol>,
    /// Line mode: each stdin line is one message (encoded with --encoding, ending replaced by --eol). On by default when stdin is a terminal.
    #[arg(long)]
    pub lines: bool,
    /// Repeat the sends every DURATION (auto-send); with --count N, N rounds (0: until Ctrl-C, the default with --interval).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// How many rounds of sends (0: until Ctrl-C).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// The order of the --send* flags on the command line (filled in by `parse`).
    #[arg(skip)]
    pub order: Vec<SendSpec>,
}

impl SendArgs {
    /// True when the sends are binary (`--send-hex`, templates with
    /// payload macros): transcripts show them as hex, never decoded.
    pub fn binary_sends(&self) -> bool {
        !self.send_hex.is_empty()
            || self.send_template.iter().any(|t| {
                crate::template::Template::parse(t, crate::template::CTIME_FORMAT)
                    .is_ok_and(|t| t.has_macros())
            })
    }

    /// The auto-send plan and how stdin lines are made, validated.
    pub fn plan(&self, encoding: TextEncoding) -> Result<(SendPlan, LineMode), ConfigError> {
        let specs = if self.order.is_empty() {
            let mut specs: Vec<SendSpec> = self.send.iter().cloned().map(SendSpec::Text).collect();
            specs.extend(self.send_hex.iter().cloned().map(SendSpec::Hex));
            specs.extend(self.send_file.iter().cloned().map(SendSpec::File));
            specs.extend(self.send_template.iter().cloned().map(SendSpec::Template));
            specs
        } else {
            self.order.clone()
        };
        let payloads = crate::send::resolve(&specs, encoding, self.eol.unwrap_or(Eol::None))?;
        if payloads.is_empty() && (self.interval.is_some() || self.count.is_some()) {
            return Err(ConfigError::new(
                "--interval and --count repeat sends: give --send TEXT, --send-hex HEX, --send-template TEMPLATE or --send-file PATH too".into(),
            ));
        }
        if self.interval == Some(Duration::ZERO) {
            return Err(ConfigError::new(
                "--interval 0 would flood the peer (give e.g. --interval 1s)".into(),
            ));
        }
        let rounds = match (self.count, self.interval) {
            (Some(0), _) | (None, Some(_)) => None,
            (Some(n), _) => Some(n),
            (None, None) => Some(1),
        };
        Ok((
            SendPlan {
                payloads,
                interval: self.interval,
                rounds,
            },
            LineMode {
                lines: self.lines,
                eol: self.eol,
                encoding,
                delay: None,
            },
        ))
    }
}

/// How stdin becomes messages: line mode (`--lines`, or a terminal), the
/// line ending put on each line, and the encoding typed text is sent in.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineMode {
    /// `--lines`: each stdin line is one message.
    pub lines: bool,
    /// `--eol`: the ending each line gets (`None`: as typed).
    pub eol: Option<Eol>,
    /// `--encoding`: typed text is encoded with it.
    pub encoding: TextEncoding,
    /// `--delay`: the pause between stdin lines (line mode on).
    pub delay: Option<Duration>,
}

impl ViewArgs {
    /// The view options, with status lines at `verbosity`.
    pub fn options(&self, verbosity: Verbosity) -> Result<ViewOptions, ConfigError> {
        if self.stats_interval == Some(Duration::ZERO) {
            return Err(ConfigError::new(
                "--stats-interval 0 would print without end (give e.g. --stats-interval 1s)".into(),
            ));
        }
        let encoding = self
            .encoding
            .as_deref()
            .map(TextEncoding::from_label)
            .transpose()?;
        Ok(ViewOptions {
            verbosity,
            encoding,
            hex: self.hex.is_some(),
            hex_line: self.hex == Some(HexStyle::Line),
            stats_interval: self.stats_interval,
            text: self.text,
            timestamps: self.timestamps,
            json: self.json,
            log: self.log.clone(),
            stats: self.stats,
            color: self.color,
            ..ViewOptions::default()
        })
    }
}

impl CommonArgs {
    /// The socket options these flags set.
    pub fn socket_options(&self) -> SocketOptions {
        SocketOptions {
            nodelay: self.nodelay,
            keepalive: self.keepalive,
            tls: std::sync::Arc::new(self.tls.options()),
            ws: std::sync::Arc::new(self.ws.options()),
            ..SocketOptions::default()
        }
    }

    /// How much status goes to stderr.
    pub fn verbosity(&self, verbose_by_default: bool) -> Verbosity {
        if self.quiet {
            Verbosity::Quiet
        } else if verbose_by_default || self.verbose {
            Verbosity::Normal
        } else {
            Verbosity::Notices
        }
    }
}

/// Parses a duration: `250ms`, `2s`, `1m30s`, or a bare number of seconds
/// (`2`, `0.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() && (0.0..1e9).contains(&secs) {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("invalid duration \"{text}\" (give a positive number of seconds, or e.g. 500ms, 2s, 1m)"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("invalid duration \"{text}\": {e} (e.g. 500ms, 2s, 1m)"))
}

/// Parses a byte size: `1048576`, `64k`, `1m` (powers of 1024).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t
        .strip_suffix("ib")
        .or_else(|| t.strip_suffix('b'))
        .unwrap_or(&t);
    let (digits, unit) = match t.char_indices().last() {
        Some((i, 'k')) => (&t[..i], 1024),
        Some((i, 'm')) => (&t[..i], 1024 * 1024),
        Some((i, 'g')) => (&t[..i], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            format!("invalid size \"{text}\" (give a positive number of bytes, e.g. 4096, 64k, 1m)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("50ms").unwrap(), Duration::from_millis(50));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("inf").is_err());
    }
}
