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
    /// Forward every client of LISTEN to a new connection to TARGET (any kinds), optionally dumping the traffic.
    #[command(visible_alias = "r")]
    Relay(RelayArgs),
    /// Load-test ENDPOINT (echo, send, connect); or `bench merge A.json B.json` to merge --json reports.
    #[command(visible_alias = "b")]
    Bench(BenchArgs),
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

// ---------------------------------------------------------------- relay and bench

use crate::bench::{BenchConfig, Mode as BenchMode, RunConfig as BenchRunConfig};
use crate::command::relay::RelayConfig;
use crate::relay::access::AccessList;
use crate::relay::dump::DumpFormat;
use crate::relay::framing::{RelayFrame, MAX_RELAY_FRAME};
use crate::relay::pump::PairRules;

/// Most connections `bench` opens (one process holds at most `ulimit -n`
/// sockets).
pub const MAX_BENCH_CONNECTIONS: usize = 16_384;

/// Largest `bench --size` on a stream.
pub const MAX_BENCH_SIZE: usize = 16 * 1024 * 1024;

/// Most requests in flight per connection (`bench --pipeline`).
pub const MAX_BENCH_PIPELINE: usize = 4096;

/// `sockmate relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where clients connect: PORT (= tcp://127.0.0.1:PORT), HOST:PORT, tcp://…, udp://…, unix:///path, unix-dgram:///path, unix-seqpacket:///path.
    #[arg(value_name = "LISTEN")]
    pub listen: String,
    /// Where each client is forwarded: tcp://HOST:PORT (or HOST:PORT), udp://…, unix:///path, ….
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Show the traffic both ways on stdout: text, hex or json; each message is tagged `#ID CLIENT <` (client to target) or `>` (target to client). Turns off splice.
    #[arg(long, value_name = "FORMAT")]
    pub dump: Option<String>,
    /// Between a stream and datagrams: how datagram boundaries appear on the stream (raw, line, len16, len32).
    #[arg(long, value_name = "FRAME")]
    pub frame: Option<String>,
    /// Tear the whole connection down as soon as either side ends (default: carry each half-close across and keep the other way flowing).
    #[arg(long)]
    pub close_both: bool,
    /// Serve at most N clients (or datagram flows) at once; beyond it new clients are refused.
    #[arg(long, value_name = "N")]
    pub max_conns: Option<usize>,
    /// Give up connecting to TARGET after this long (that client is closed).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Serve only clients in this network (repeatable), e.g. 127.0.0.0/8.
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<String>,
    /// Refuse clients in this network (repeatable); wins over --allow.
    #[arg(long, value_name = "CIDR")]
    pub deny: Vec<String>,
    /// Always copy through a buffer instead of splice(2) (for measuring).
    #[arg(long)]
    pub no_splice: bool,
    /// Set SO_REUSEPORT on LISTEN.
    #[arg(long)]
    pub reuseport: bool,
    /// Length of the kernel's queue of connections waiting to be accepted.
    #[arg(long, value_name = "N")]
    pub backlog: Option<u32>,
    /// Socket and status options (--idle-timeout also ends datagram flows; default 60s for them).
    #[command(flatten)]
    pub common: CommonArgs,
    /// How the dump looks (--hex, --json or -t alone imply --dump hex, json or text).
    #[command(flatten)]
    pub view: ViewArgs,
}

impl TryFrom<RelayArgs> for RelayConfig {
    type Error = UsageError;

    fn try_from(args: RelayArgs) -> Result<Self, UsageError> {
        let listen = Endpoint::parse_listen(&args.listen)?;
        let target: Endpoint = args.target.parse()?;
        let frame = args
            .frame
            .as_deref()
            .map(str::parse::<RelayFrame>)
            .transpose()
            .map_err(UsageError::Invalid)?;
        let mixed =
            listen.kind().keeps_message_boundaries() != target.kind().keeps_message_boundaries();
        if mixed && frame.is_none() {
            return Err(UsageError::Invalid(format!(
                "relaying {} to {} needs --frame to mark datagram boundaries on the stream side (raw, line, len16 or len32, e.g. --frame line)",
                listen.kind().scheme(),
                target.kind().scheme()
            )));
        }
        if !mixed && frame.is_some() {
            return Err(UsageError::Invalid(
                "--frame is only for a relay between a stream and datagrams (e.g. tcp:// to udp://); drop it here".into(),
            ));
        }
        if args.max_conns == Some(0) {
            return Err(UsageError::Invalid(
                "invalid --max-conns 0 (give at least 1, e.g. --max-conns 100)".into(),
            ));
        }
        if args.backlog == Some(0) {
            return Err(UsageError::Invalid(
                "invalid --backlog 0 (give at least 1, e.g. --backlog 128)".into(),
            ));
        }
        let access = AccessList::parse(&args.allow, &args.deny).map_err(UsageError::Invalid)?;
        let view = args.view.options(args.common.verbosity(true))?;
        let dump = match args.dump.as_deref() {
            Some(format) => Some(format.parse::<DumpFormat>().map_err(UsageError::Invalid)?),
            None if view.json => Some(DumpFormat::Json),
            None if view.hex => Some(DumpFormat::Hex),
            None if view.timestamps => Some(DumpFormat::Text),
            None => None,
        };
        if dump.is_none() && view.log.is_some() {
            return Err(UsageError::Invalid(
                "--log records relayed traffic: add --dump text, hex or json".into(),
            ));
        }
        Ok(RelayConfig {
            listen,
            target,
            listen_socket: SocketOptions {
                reuseport: args.reuseport,
                backlog: args.backlog,
                ..args.common.socket_options()
            },
            target_socket: SocketOptions {
                connect_timeout: args.connect_timeout,
                ..args.common.socket_options()
            },
            frame,
            rules: PairRules {
                close_both: args.close_both,
                idle_timeout: args.common.idle_timeout,
            },
            max_conns: args.max_conns,
            access,
            dump,
            splice: !args.no_splice,
            view,
        })
    }
}

/// `sockmate bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The endpoint to drive (an echo service for --mode echo): tcp://HOST:PORT (or HOST:PORT), udp://…, unix:///path, …; or `merge` followed by --json report files.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// With `merge`: the report files to add up.
    #[arg(value_name = "REPORT")]
    pub reports: Vec<std::path::PathBuf>,
    /// echo (request/response), send (one-way bulk) or connect (connections per second).
    #[arg(short, long, value_name = "MODE", default_value = "echo")]
    pub mode: String,
    /// Connections used at once (connect mode: parallel connectors).
    #[arg(short, long, value_name = "N", default_value_t = 1)]
    pub connections: usize,
    /// Total run time, warmup included; the run never goes beyond it.
    #[arg(short, long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Time at the start that is run but not measured.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Message size in bytes (default 64 for echo, 131072 for send, like iperf3).
    #[arg(short, long, value_name = "BYTES")]
    pub size: Option<usize>,
    /// Open loop: send this many messages per second in total, on schedule; latency counts from the scheduled time.
    #[arg(short, long, value_name = "MSGS/S")]
    pub rate: Option<f64>,
    /// Closed loop: requests in flight per connection.
    #[arg(short, long, value_name = "K", default_value_t = 1)]
    pub pipeline: usize,
    /// Print one JSON object (mergeable with `bench merge`) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Give up connecting after this long.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
}

impl TryFrom<BenchArgs> for BenchConfig {
    type Error = UsageError;

    fn try_from(args: BenchArgs) -> Result<Self, UsageError> {
        let invalid = |m: String| Err(UsageError::Invalid(m));
        if args.endpoint == "merge" {
            if args.reports.is_empty() {
                return invalid(
                    "bench merge needs report files, e.g. sockmate bench merge a.json b.json"
                        .into(),
                );
            }
            return Ok(BenchConfig::Merge {
                files: args.reports,
                json: args.json,
            });
        }
        if let Some(extra) = args.reports.first() {
            return invalid(format!(
                "unexpected argument \"{}\" (bench takes one ENDPOINT; to merge reports write: sockmate bench merge a.json b.json)",
                extra.display()
            ));
        }
        let endpoint: Endpoint = args.endpoint.parse()?;
        let mode: BenchMode = args.mode.parse().map_err(UsageError::Invalid)?;
        if args.connections == 0 || args.connections > MAX_BENCH_CONNECTIONS {
            return invalid(format!(
                "invalid --connections {} (give 1 to {MAX_BENCH_CONNECTIONS}, e.g. --connections 4)",
                args.connections
            ));
        }
        if args.duration.is_zero() {
            return invalid(
                "invalid --duration 0 (give a positive time, e.g. --duration 10s)".into(),
            );
        }
        if args.warmup >= args.duration {
            return invalid(format!(
                "--warmup {} leaves nothing to measure in --duration {} (the duration includes the warmup)",
                humantime::format_duration(args.warmup),
                humantime::format_duration(args.duration)
            ));
        }
        if args.pipeline == 0 || args.pipeline > MAX_BENCH_PIPELINE {
            return invalid(format!(
                "invalid --pipeline {} (give 1 to {MAX_BENCH_PIPELINE})",
                args.pipeline
            ));
        }
        if let Some(rate) = args.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return invalid(format!(
                    "invalid --rate {rate} (give messages per second, e.g. --rate 1000)"
                ));
            }
        }
        let datagram = !endpoint.kind().is_connection_oriented();
        let size = args
            .size
            .unwrap_or(if mode == BenchMode::Send && !datagram {
                131_072
            } else {
                64
            });
        let max = if datagram {
            MAX_RELAY_FRAME
        } else {
            MAX_BENCH_SIZE
        };
        let min = if datagram && mode == BenchMode::Echo {
            crate::bench::datagram::SEQ_BYTES
        } else {
            1
        };
        if mode != BenchMode::Connect && !(min..=max).contains(&size) {
            return invalid(format!(
                "invalid --size {size} (give {min} to {max} bytes for {}{})",
                endpoint.kind().scheme(),
                if min > 1 {
                    ": each datagram carries an 8-byte sequence number"
                } else {
                    ""
                }
            ));
        }
        if mode == BenchMode::Connect && !endpoint.kind().is_connection_oriented() {
            return invalid(format!(
                "--mode connect needs a connection-oriented endpoint (tcp://, unix://), not {}",
                endpoint.kind().scheme()
            ));
        }
        Ok(BenchConfig::Run(BenchRunConfig {
            endpoint,
            mode,
            connections: args.connections,
            duration: args.duration,
            warmup: args.warmup,
            size,
            rate: args.rate,
            pipeline: args.pipeline,
            socket: SocketOptions {
                connect_timeout: Some(args.connect_timeout),
                nodelay: true,
                ..SocketOptions::default()
            },
            json: args.json,
        }))
    }
}

#[cfg(test)]
mod relay_bench_tests {
    use super::*;

    fn relay(args: &[&str]) -> Result<RelayConfig, String> {
        let mut all = vec!["sockmate", "relay"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| e.to_string())?;
        let Command::Relay(a) = cli.command else {
            return Err("not relay".into());
        };
        RelayConfig::try_from(a).map_err(|e| e.to_string())
    }

    fn bench(args: &[&str]) -> Result<BenchConfig, String> {
        let mut all = vec!["sockmate", "bench"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| e.to_string())?;
        let Command::Bench(a) = cli.command else {
            return Err("not bench".into());
        };
        BenchConfig::try_from(a).map_err(|e| e.to_string())
    }

    #[test]
    fn relay_needs_frame_only_between_stream_and_datagram() {
        assert!(relay(&["0", "127.0.0.1:9"]).is_ok());
        let err = relay(&["0", "udp://127.0.0.1:9"]).unwrap_err();
        assert!(err.contains("needs --frame"), "{err}");
        assert!(relay(&["0", "udp://127.0.0.1:9", "--frame", "len16"]).is_ok());
        assert!(relay(&["0", "127.0.0.1:9", "--frame", "line"])
            .unwrap_err()
            .contains("only for"));
        assert!(relay(&["udp://127.0.0.1:0", "udp://127.0.0.1:9"]).is_ok());
    }

    #[test]
    fn relay_rejects_bad_values_with_one_line() {
        assert!(relay(&["0", "x:1", "--dump", "xml"])
            .unwrap_err()
            .contains("text, hex or json"));
        assert!(relay(&["0", "x:1", "--allow", "nope"])
            .unwrap_err()
            .contains("--allow \"nope\""));
        assert!(relay(&["0", "x:1", "--max-conns", "0"])
            .unwrap_err()
            .contains("--max-conns 0"));
        assert!(relay(&["0", "x:1", "--log", "/tmp/x"])
            .unwrap_err()
            .contains("add --dump"));
        let cfg = relay(&["0", "x:1", "--dump", "hex", "--encoding", "gbk", "-t"]).unwrap();
        assert!(cfg.dump == Some(DumpFormat::Hex) && cfg.splice);
        let cfg = relay(&["0", "x:1", "--json"]).unwrap();
        assert_eq!(cfg.dump, Some(DumpFormat::Json));
    }

    #[test]
    fn bench_defaults_and_bounds() {
        let BenchConfig::Run(cfg) = bench(&["127.0.0.1:9"]).unwrap() else {
            panic!()
        };
        assert_eq!((cfg.size, cfg.connections, cfg.pipeline), (64, 1, 1));
        let BenchConfig::Run(cfg) = bench(&["127.0.0.1:9", "-m", "send"]).unwrap() else {
            panic!()
        };
        assert_eq!(cfg.size, 131_072);
        assert!(bench(&["127.0.0.1:9", "-c", "0"])
            .unwrap_err()
            .contains("--connections 0"));
        assert!(bench(&["127.0.0.1:9", "-d", "1s", "--warmup", "2s"])
            .unwrap_err()
            .contains("--warmup"));
        assert!(bench(&["udp://127.0.0.1:9", "-s", "4"])
            .unwrap_err()
            .contains("sequence number"));
        assert!(bench(&["udp://127.0.0.1:9", "-m", "connect"])
            .unwrap_err()
            .contains("connection-oriented"));
        assert!(bench(&["127.0.0.1:9", "--rate", "0"])
            .unwrap_err()
            .contains("--rate"));
        assert!(bench(&["127.0.0.1:9", "a.json"])
            .unwrap_err()
            .contains("bench merge"));
        assert!(
            matches!(bench(&["merge", "a.json", "b.json"]).unwrap(), BenchConfig::Merge { ref files, .. } if files.len() == 2)
        );
        assert!(bench(&["merge"]).unwrap_err().contains("report files"));
    }
}
