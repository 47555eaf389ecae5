//! The command line: clap definitions (each field's doc comment is its help)
//! and their conversion into validated configurations, without I/O.
//!
//! Conventions: long flags are `--kebab-case`; durations accept `500ms`,
//! `2s`, `1m` or a bare number of seconds; endpoints are parsed after clap so
//! that a bad one gets sockmate's own one-line message and exit code 2.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::command::connect::ConnectConfig;
use crate::command::listen::ListenConfig;
use crate::endpoint::Endpoint;
use crate::send::{Eol, SendSpec};
use crate::session::SessionConfig;
use crate::transport::{BindAddr, SocketOptions};
use crate::view::encoding::TextEncoding;
use crate::view::status::Verbosity;
use crate::view::{ColorChoice, ViewOptions};

/// sockmate: connect, listen, relay, inspect and measure sockets.
#[derive(Debug, Parser)]
#[command(name = "sockmate", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to ENDPOINT: stdin goes to the socket, the socket to stdout.
    #[command(visible_alias = "c")]
    Connect(ConnectArgs),
    /// Listen on ENDPOINT: serve one client (like nc -l), or many with -k.
    #[command(visible_alias = "l")]
    Listen(ListenArgs),
}

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
}

/// `sockmate connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Where to connect: tcp://HOST:PORT (or HOST:PORT), udp://HOST:PORT, unix:///path, unix-dgram:///path, unix-seqpacket:///path, unix://@abstract.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// After stdin ends, exit this long after the last byte instead of waiting for the peer to close (datagram default: 1s).
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,
    /// Give up connecting after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Source address: an IP (127.0.0.2), IP:PORT, or for unix-dgram a path of our own.
    #[arg(long, value_name = "SOURCE")]
    pub bind: Option<String>,
    /// When the peer goes away or refuses, connect again with exponential backoff (auto-send goes on).
    #[arg(long)]
    pub reconnect: bool,
    /// Longest wait between reconnect attempts.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub reconnect_max: Duration,
    /// Socket and status options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// How traffic is shown.
    #[command(flatten)]
    pub view: ViewArgs,
    /// What to send without stdin.
    #[command(flatten)]
    pub send: SendArgs,
}

/// `sockmate listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: PORT (= tcp://127.0.0.1:PORT), HOST:PORT, tcp://…, udp://…, unix:///path, unix-dgram:///path, unix-seqpacket:///path, unix://@abstract. Port 0 picks a free port.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// Keep listening after a client leaves and serve many clients at once.
    #[arg(short = 'k', long)]
    pub keep_open: bool,
    /// Set SO_REUSEPORT so several processes can share the port.
    #[arg(long)]
    pub reuseport: bool,
    /// Length of the kernel's queue of connections waiting to be accepted.
    #[arg(long, value_name = "N")]
    pub backlog: Option<u32>,
    /// After stdin ends, end the session this long after the last byte instead of waiting for the client to close.
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,
    /// Socket and status options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// How traffic is shown.
    #[command(flatten)]
    pub view: ViewArgs,
    /// What to send to each client without stdin.
    #[command(flatten)]
    pub send: SendArgs,
}

/// How traffic is shown (connect, listen, relay).
#[derive(Debug, Args, Clone, Default)]
pub struct ViewArgs {
    /// Decode received bytes with ENC for display, and encode typed and --send text with it: utf-8, gbk, gb18030, big5, shift_jis, euc-kr, latin1, windows-1252, utf-16le, … (any WHATWG label).
    #[arg(long, value_name = "ENC")]
    pub encoding: Option<String>,
    /// Show each message as a hex dump (offset, 16 bytes in hex, ASCII gutter).
    #[arg(short = 'x', long)]
    pub hex: bool,
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
    /// Colour the terminal views: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorChoice,
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

/// A command-line value that parsed but does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A bad endpoint.
    #[error(transparent)]
    Endpoint(#[from] crate::endpoint::EndpointError),
    /// Any other bad value, described.
    #[error("{0}")]
    Invalid(String),
    /// An unknown `--encoding`.
    #[error(transparent)]
    Encoding(#[from] crate::view::encoding::UnknownEncoding),
    /// A bad `--send` or `--send-hex`.
    #[error(transparent)]
    Send(#[from] crate::send::SendError),
}

/// Parses the process's command line, keeping the relative order of the
/// `--send`, `--send-hex` and `--send-file` flags.
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// [`parse`] on given arguments (for tests).
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let Some((_, sub)) = matches.subcommand() {
        let send = match &mut cli.command {
            Command::Connect(a) => Some(&mut a.send),
            Command::Listen(a) => Some(&mut a.send),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(send) = send {
            send.order = send_order(sub, send);
        }
    }
    Ok(cli)
}

fn send_order(matches: &clap::ArgMatches, send: &SendArgs) -> Vec<SendSpec> {
    let indices = |id: &str| -> Vec<usize> {
        matches
            .try_get_raw_occurrences(id)
            .ok()
            .flatten()
            .map(|_| {
                matches
                    .indices_of(id)
                    .map(|i| i.collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let mut all: Vec<(usize, SendSpec)> = Vec::new();
    all.extend(
        indices("send")
            .into_iter()
            .zip(send.send.iter().cloned().map(SendSpec::Text)),
    );
    all.extend(
        indices("send_hex")
            .into_iter()
            .zip(send.send_hex.iter().cloned().map(SendSpec::Hex)),
    );
    all.extend(
        indices("send_file")
            .into_iter()
            .zip(send.send_file.iter().cloned().map(SendSpec::File)),
    );
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, spec)| spec).collect()
}

/// What to send, validated.
#[derive(Debug, Clone, Default)]
pub struct SendConfig {
    /// The messages of one round, in order.
    pub payloads: Vec<crate::send::Payload>,
    /// Time between rounds.
    pub interval: Option<Duration>,
    /// Rounds to send (`None`: until stopped).
    pub rounds: Option<u64>,
    /// Line ending for stdin lines in line mode (`None`: keep the typed one).
    pub eol: Option<Eol>,
    /// Line mode for stdin.
    pub lines: bool,
}

impl SendConfig {
    /// True when there is something to send besides stdin.
    pub fn has_sends(&self) -> bool {
        !self.payloads.is_empty()
    }
}

impl SendArgs {
    fn config(&self, encoding: TextEncoding) -> Result<SendConfig, UsageError> {
        let specs = if self.order.is_empty() {
            let mut specs: Vec<SendSpec> = self.send.iter().cloned().map(SendSpec::Text).collect();
            specs.extend(self.send_hex.iter().cloned().map(SendSpec::Hex));
            specs.extend(self.send_file.iter().cloned().map(SendSpec::File));
            specs
        } else {
            self.order.clone()
        };
        let payloads = crate::send::resolve(&specs, encoding, self.eol.unwrap_or(Eol::None))?;
        if payloads.is_empty() && (self.interval.is_some() || self.count.is_some()) {
            return Err(UsageError::Invalid(
                "--interval and --count repeat sends: give --send TEXT, --send-hex HEX or --send-file PATH too".into(),
            ));
        }
        if self.interval == Some(Duration::ZERO) {
            return Err(UsageError::Invalid(
                "--interval 0 would flood the peer (give e.g. --interval 1s)".into(),
            ));
        }
        let rounds = match (self.count, self.interval) {
            (Some(0), _) | (None, Some(_)) => None,
            (Some(n), _) => Some(n),
            (None, None) => Some(1),
        };
        Ok(SendConfig {
            payloads,
            interval: self.interval,
            rounds,
            eol: self.eol,
            lines: self.lines,
        })
    }
}

impl ViewArgs {
    fn options(&self, verbosity: Verbosity) -> Result<ViewOptions, UsageError> {
        let encoding = self
            .encoding
            .as_deref()
            .map(TextEncoding::from_label)
            .transpose()?;
        Ok(ViewOptions {
            verbosity,
            encoding,
            hex: self.hex,
            text: self.text,
            timestamps: self.timestamps,
            json: self.json,
            log: self.log.clone(),
            stats: self.stats,
            color: self.color,
        })
    }
}

impl CommonArgs {
    fn socket_options(&self) -> SocketOptions {
        SocketOptions {
            nodelay: self.nodelay,
            keepalive: self.keepalive,
            ..SocketOptions::default()
        }
    }

    fn verbosity(&self, verbose_by_default: bool) -> Verbosity {
        if self.quiet {
            Verbosity::Quiet
        } else if verbose_by_default || self.verbose {
            Verbosity::Normal
        } else {
            Verbosity::Notices
        }
    }
}

impl TryFrom<ConnectArgs> for ConnectConfig {
    type Error = UsageError;

    fn try_from(args: ConnectArgs) -> Result<Self, UsageError> {
        let endpoint: Endpoint = args.endpoint.parse()?;
        let encoding = args.view.options(Verbosity::Quiet)?.text_encoding();
        let bind = args
            .bind
            .as_deref()
            .map(str::parse::<BindAddr>)
            .transpose()
            .map_err(UsageError::Invalid)?;
        Ok(ConnectConfig {
            endpoint,
            socket: SocketOptions {
                connect_timeout: args.connect_timeout,
                bind,
                ..args.common.socket_options()
            },
            session: SessionConfig {
                wait: args.wait,
                idle_timeout: args.common.idle_timeout,
                end_on_peer_eof: false,
            },
            output: args.view.options(args.common.verbosity(false))?,
            send: args.send.config(encoding)?,
            reconnect: args.reconnect.then_some(args.reconnect_max),
        })
    }
}

impl TryFrom<ListenArgs> for ListenConfig {
    type Error = UsageError;

    fn try_from(args: ListenArgs) -> Result<Self, UsageError> {
        let endpoint = Endpoint::parse_listen(&args.endpoint)?;
        let encoding = args.view.options(Verbosity::Quiet)?.text_encoding();
        if args.backlog == Some(0) {
            return Err(UsageError::Invalid(
                "invalid --backlog 0 (give at least 1, e.g. --backlog 128)".into(),
            ));
        }
        Ok(ListenConfig {
            endpoint,
            socket: SocketOptions {
                reuseport: args.reuseport,
                backlog: args.backlog,
                ..args.common.socket_options()
            },
            session: SessionConfig {
                wait: args.wait,
                idle_timeout: args.common.idle_timeout,
                end_on_peer_eof: false,
            },
            keep_open: args.keep_open,
            output: args.view.options(args.common.verbosity(true))?,
            send: args.send.config(encoding)?,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

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

    #[test]
    fn listen_bare_port_is_loopback() {
        let cli = Cli::try_parse_from(["sockmate", "listen", "9999", "-k"]).unwrap();
        let Command::Listen(args) = cli.command else {
            panic!()
        };
        let cfg = ListenConfig::try_from(args).unwrap();
        assert_eq!(cfg.endpoint.to_string(), "tcp://127.0.0.1:9999");
        assert!(cfg.keep_open);
    }

    #[test]
    fn connect_rejects_bad_endpoint_and_bind() {
        let cli = Cli::try_parse_from(["sockmate", "connect", "tcp://x:99999"]).unwrap();
        let Command::Connect(args) = cli.command else {
            panic!()
        };
        assert!(ConnectConfig::try_from(args).is_err());
        let cli = Cli::try_parse_from(["sockmate", "connect", "x:1", "--bind", "nope"]).unwrap();
        let Command::Connect(args) = cli.command else {
            panic!()
        };
        let err = ConnectConfig::try_from(args).unwrap_err().to_string();
        assert!(err.contains("invalid source address \"nope\""), "{err}");
    }

    #[test]
    fn keepalive_takes_an_optional_value() {
        let cli = Cli::try_parse_from(["sockmate", "connect", "x:1", "--keepalive"]).unwrap();
        let Command::Connect(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.common.keepalive, Some(Duration::from_secs(60)));
    }
}
