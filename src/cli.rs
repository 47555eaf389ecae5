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

use std::path::PathBuf;

use crate::endpoint::Kind;
use crate::escape::unescape;
use crate::frame::{FrameSpec, DEFAULT_MAX_FRAME};
use crate::limits::{parse_cidr, AccessList};
use crate::service::exec::DEFAULT_EXEC_MAX_CONNS;
use crate::service::{respond, ExecSpec, Rules, Serve, ServiceConfig, TIME_REPLY};
use crate::template::{Template, CTIME_FORMAT};

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
#[allow(clippy::large_enum_variant)] // parsed once; boxing buys nothing
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
    /// Send files (and with -r directories) to a `sockmate receive`, checked by SHA-256.
    Send(SendFilesArgs),
    /// Receive files from `sockmate send` into a directory, stored only once their digest checks.
    Receive(ReceiveArgs),
    /// Probe which TCP (or UDP) ports of a host are open.
    Scan(ScanArgs),
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
    /// Server behaviours and limits.
    #[command(flatten)]
    pub service: ServiceArgs,
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
        let service = args
            .service
            .into_config(&endpoint, args.common.idle_timeout)?;
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
            service,
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

// ---- send / receive / scan (issue #6) ----

/// Display options of `send` and `receive`.
#[derive(Debug, Args, Clone, Default)]
pub struct TransferOutputArgs {
    /// Print progress and results as JSON lines on stdout (events: start, progress, done, error).
    #[arg(long)]
    pub json: bool,
    /// No status or summary lines on stderr (errors only).
    #[arg(short, long)]
    pub quiet: bool,
}

/// `sockmate send`.
#[derive(Debug, Args)]
pub struct SendFilesArgs {
    /// Where the receiver is: tcp://HOST:PORT (or HOST:PORT) or unix:///path. With --listen: where to wait for receivers (PORT alone = 127.0.0.1:PORT).
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// Files to send (directories too, with -r).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// Wait for a receiver to connect (`sockmate receive --connect`) instead of connecting.
    #[arg(long)]
    pub listen: bool,
    /// With --listen: serve every receiver that connects, concurrently, until interrupted.
    #[arg(short = 'k', long, requires = "listen")]
    pub keep_open: bool,
    /// Send directories with everything in them.
    #[arg(short, long)]
    pub recursive: bool,
    /// Send bare bytes with no header (one file), like `nc HOST PORT < FILE`.
    #[arg(long, conflicts_with = "recursive")]
    pub raw: bool,
    /// Give up connecting after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Progress and summary options.
    #[command(flatten)]
    pub output: TransferOutputArgs,
}

/// `sockmate receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Where to wait for senders: PORT (= tcp://127.0.0.1:PORT), HOST:PORT (0.0.0.0:PORT for all interfaces), unix:///path. With --connect: where the `send --listen` is.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// Directory to store received files in (created if missing).
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub dir: std::path::PathBuf,
    /// With --raw: the file to write the received bytes to.
    #[arg(short, long, value_name = "FILE", requires = "raw")]
    pub output: Option<std::path::PathBuf>,
    /// Connect to a `sockmate send --listen` instead of listening.
    #[arg(long)]
    pub connect: bool,
    /// Keep listening and receive from many senders at once, until interrupted.
    #[arg(short = 'k', long, conflicts_with = "connect")]
    pub keep_open: bool,
    /// Replace files that already exist (otherwise they are skipped).
    #[arg(long)]
    pub overwrite: bool,
    /// Continue an interrupted transfer from its partial file; the digest still covers the whole file.
    #[arg(long)]
    pub resume: bool,
    /// Receive bare bytes until the peer closes (needs --output), like `nc -l PORT > FILE`.
    #[arg(long, conflicts_with_all = ["resume", "keep_open"])]
    pub raw: bool,
    /// Give up connecting after this long (with --connect).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Progress and summary options.
    #[command(flatten)]
    pub output_opts: TransferOutputArgs,
}

fn stream_endpoint(endpoint: Endpoint) -> Result<Endpoint, UsageError> {
    use crate::endpoint::Kind;
    match endpoint.kind() {
        Kind::Tcp | Kind::Unix => Ok(endpoint),
        _ => Err(UsageError::Invalid(format!(
            "{endpoint} is not a stream endpoint: file transfer runs over tcp:// or unix:// (e.g. tcp://127.0.0.1:9000)"
        ))),
    }
}

impl TryFrom<SendFilesArgs> for crate::command::transfer::SendConfig {
    type Error = UsageError;

    fn try_from(args: SendFilesArgs) -> Result<Self, UsageError> {
        let endpoint = if args.listen {
            Endpoint::parse_listen(&args.endpoint)?
        } else {
            args.endpoint.parse()?
        };
        if args.raw && args.files.len() != 1 {
            return Err(UsageError::Invalid(format!(
                "--raw sends exactly one file, {} given (send several with the header, without --raw)",
                args.files.len()
            )));
        }
        Ok(Self {
            endpoint: stream_endpoint(endpoint)?,
            files: args.files,
            listen: args.listen,
            keep_open: args.keep_open,
            recursive: args.recursive,
            raw: args.raw,
            display: crate::command::transfer::TransferDisplay {
                json: args.output.json,
                quiet: args.output.quiet,
            },
            socket: SocketOptions {
                connect_timeout: args.connect_timeout,
                nodelay: true,
                ..SocketOptions::default()
            },
        })
    }
}

impl TryFrom<ReceiveArgs> for crate::command::transfer::ReceiveConfig {
    type Error = UsageError;

    fn try_from(args: ReceiveArgs) -> Result<Self, UsageError> {
        let endpoint = if args.connect {
            args.endpoint.parse()?
        } else {
            Endpoint::parse_listen(&args.endpoint)?
        };
        if args.raw && args.output.is_none() {
            return Err(UsageError::Invalid(
                "--raw needs --output FILE (e.g. --raw --output received.bin)".into(),
            ));
        }
        Ok(Self {
            endpoint: stream_endpoint(endpoint)?,
            store: crate::transfer::receiver::ReceiveOptions {
                dir: args.dir,
                overwrite: args.overwrite,
                resume: args.resume,
            },
            output: args.output,
            connect: args.connect,
            keep_open: args.keep_open,
            raw: args.raw,
            display: crate::command::transfer::TransferDisplay {
                json: args.output_opts.json,
                quiet: args.output_opts.quiet,
            },
            socket: SocketOptions {
                connect_timeout: args.connect_timeout,
                nodelay: true,
                ..SocketOptions::default()
            },
        })
    }
}

/// `sockmate scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Host to probe (a name or an IP). Probe only hosts you are allowed to.
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Ports: 22,80,8000-8100; 1024- (to 65535); -1024 (from 1); - (all, 1-65535).
    #[arg(value_name = "PORTS", allow_hyphen_values = true)]
    pub ports: String,
    /// How long to wait for each probe before calling the port filtered (TCP) or open|filtered (UDP).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Probes in flight at once (default: 1000, lowered to fit the open-file limit).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Show only open ports.
    #[arg(long)]
    pub open: bool,
    /// One JSON object per port on stdout ({"host","port","proto","state"}).
    #[arg(long)]
    pub json: bool,
    /// Probe UDP ports instead of TCP: open on a reply, closed on ICMP port unreachable, else open|filtered.
    #[arg(long)]
    pub udp: bool,
    /// With --udp: the datagram to send (default: an empty datagram).
    #[arg(long, value_name = "TEXT", requires = "udp")]
    pub send: Option<String>,
    /// No summary line on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

impl TryFrom<ScanArgs> for crate::command::scan::ScanConfig {
    type Error = UsageError;

    fn try_from(args: ScanArgs) -> Result<Self, UsageError> {
        let host = crate::scan::parse_host(&args.host).map_err(UsageError::Invalid)?;
        let ports = crate::scan::ports::parse_ports(&args.ports)
            .map_err(|e| UsageError::Invalid(e.to_string()))?;
        if args.concurrency == Some(0) {
            return Err(UsageError::Invalid(
                "invalid --concurrency 0 (give at least 1, e.g. --concurrency 500)".into(),
            ));
        }
        if args.timeout.is_zero() {
            return Err(UsageError::Invalid(
                "invalid --timeout 0 (give e.g. --timeout 500ms)".into(),
            ));
        }
        Ok(Self {
            host,
            host_text: args.host,
            ports,
            timeout: args.timeout,
            concurrency: args.concurrency,
            only_open: args.open,
            json: args.json,
            udp: args.udp,
            payload: args.send.map(String::into_bytes).unwrap_or_default(),
            quiet: args.quiet,
        })
    }
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
    /// Serve only clients in this network (CIDR like 192.168.1.0/24 or one address; repeatable).
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub allow: Vec<ipnet::IpNet>,
    /// Refuse clients in this network (repeatable; wins over --allow).
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub deny: Vec<ipnet::IpNet>,
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
        let access = AccessList {
            allow: args.allow,
            deny: args.deny,
        };
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

/// `sockmate listen` server behaviours and limits (issue 4).
#[derive(Debug, Args, Clone, Default)]
pub struct ServiceArgs {
    /// How a stream is cut into messages: raw (what one read returned), line, crlf, len16, len32 (big-endian length header) or delim:HEX.
    #[arg(long, value_name = "FRAME", default_value = "raw", value_parser = clap::value_parser!(FrameSpec))]
    pub frame: FrameSpec,
    /// Longest message; a client sending a longer one gets an error line and is closed (suffixes k, m: 64k, 1m).
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_frame: Option<usize>,
    /// Sent to each client when it connects (each new peer for UDP), as is (escapes like \n allowed).
    #[arg(long, value_name = "TEXT")]
    pub banner: Option<String>,
    /// Reply to each message: placeholders {text} {hex} {len} {peer} {time}, and "n" in braces for the message number; {{ }} for braces; escapes \n \r \t \0 \xHH \\.
    #[arg(long, value_name = "TEMPLATE")]
    pub reply: Option<String>,
    /// strftime layout of {time} (default like C's ctime: Sun Nov 22 14:03:07 2026).
    #[arg(long, value_name = "FORMAT", default_value = CTIME_FORMAT)]
    pub time_format: String,
    /// A message equal to WORD (line ending trimmed) closes that connection.
    #[arg(long, value_name = "WORD")]
    pub quit_word: Option<String>,
    /// A ready-made service: echo, discard, time, chargen, chat, broker, exec.
    #[arg(long, value_name = "SERVICE", value_parser = clap::value_parser!(Serve))]
    pub serve: Option<Serve>,
    /// Answer a message: 'MATCH=>REPLY' where MATCH is text, hex:BYTES or re:REGEX ($1 in REPLY); first match wins (repeatable).
    #[arg(long, value_name = "RULE")]
    pub respond: Vec<String>,
    /// Read --respond rules from FILE, one a line (# comments).
    #[arg(long, value_name = "FILE")]
    pub respond_file: Option<PathBuf>,
    /// Reply when no --respond rule matches.
    #[arg(long, value_name = "REPLY")]
    pub respond_default: Option<String>,
    /// Run CMD per connection with the socket as its stdin and stdout (no shell; needs --allow on a non-loopback address).
    #[arg(long, value_name = "CMD", conflicts_with = "sh_exec")]
    pub exec: Option<String>,
    /// Like --exec, through `sh -c CMD`.
    #[arg(long, value_name = "CMD")]
    pub sh_exec: Option<String>,
    /// Send the command's stderr to the client too.
    #[arg(long)]
    pub exec_stderr: bool,
    /// Serve at most N clients at once (and N --exec children); more get one refusal line.
    #[arg(long, value_name = "N")]
    pub max_conns: Option<usize>,
    /// Accept clients only from this network (CIDR like 192.168.1.0/24 or one address; repeatable).
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub allow: Vec<ipnet::IpNet>,
    /// Refuse clients from this network (repeatable; wins over --allow).
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub deny: Vec<ipnet::IpNet>,
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

fn is_loopback(endpoint: &Endpoint) -> bool {
    match endpoint.host_port() {
        Some((crate::endpoint::Host::Ip(ip), _)) => ip.is_loopback(),
        Some((crate::endpoint::Host::Name(name), _)) => name.eq_ignore_ascii_case("localhost"),
        None => true,
    }
}

impl ServiceArgs {
    /// True when no behaviour or limit flag was given.
    fn is_empty(&self) -> bool {
        self.max_frame.is_none()
            && self.frame == FrameSpec::Raw
            && self.banner.is_none()
            && self.reply.is_none()
            && self.quit_word.is_none()
            && self.serve.is_none()
            && self.respond.is_empty()
            && self.respond_file.is_none()
            && self.respond_default.is_none()
            && self.exec.is_none()
            && self.sh_exec.is_none()
            && self.max_conns.is_none()
            && self.allow.is_empty()
            && self.deny.is_empty()
    }

    /// Validates the flags into a service configuration (`None` when no
    /// service flag was given). Reads no files: `--respond-file` is loaded
    /// by [`ServiceConfig::load_rules_file`] when the server starts.
    pub fn into_config(
        self,
        endpoint: &Endpoint,
        idle_timeout: Option<Duration>,
    ) -> Result<Option<ServiceConfig>, UsageError> {
        if self.is_empty() {
            return Ok(None);
        }
        let invalid = UsageError::Invalid;
        let time_format = self.time_format.clone();
        let template = |flag: &str, text: &str| {
            Template::parse(text, &time_format)
                .map_err(|e| invalid(format!("invalid {flag} \"{text}\": {e}")))
        };
        let reply = match (&self.reply, self.serve) {
            (Some(text), _) => Some(template("--reply", text)?),
            (None, Some(Serve::Time)) => Some(template("--serve time", TIME_REPLY)?),
            (None, _) => None,
        };
        let banner = self
            .banner
            .as_deref()
            .map(unescape)
            .transpose()
            .map_err(|e| invalid(format!("invalid --banner: {e}")))?;
        let mut rules = Rules::default();
        for rule in &self.respond {
            rules
                .rules
                .push(respond::parse_rule(rule, &time_format).map_err(invalid)?);
        }
        if let Some(text) = &self.respond_default {
            rules.default = Some(respond::parse_default(text, &time_format).map_err(invalid)?);
        }
        let exec = match (&self.exec, &self.sh_exec) {
            (Some(cmd), _) => Some(ExecSpec::direct(cmd, self.exec_stderr).map_err(invalid)?),
            (None, Some(cmd)) => Some(ExecSpec::shell(cmd, self.exec_stderr).map_err(invalid)?),
            (None, None) => None,
        };
        let datagram = matches!(endpoint.kind(), Kind::Udp | Kind::UnixDgram);
        match (self.serve, &exec) {
            (Some(Serve::Exec), None) => {
                return Err(invalid(
                    "--serve exec needs the command: --exec CMD or --sh-exec CMD".into(),
                ))
            }
            (Some(other), Some(_)) if other != Serve::Exec => {
                return Err(invalid(format!(
                    "--exec and --serve {other} cannot be combined (pick one)"
                )))
            }
            _ => {}
        }
        if datagram {
            let stream_only = match (self.serve, &exec) {
                (_, Some(_)) => Some("--exec"),
                (Some(Serve::Chat), _) => Some("--serve chat"),
                (Some(Serve::Broker), _) => Some("--serve broker"),
                _ => None,
            };
            if let Some(flag) = stream_only {
                return Err(invalid(format!(
                    "{flag} needs a stream endpoint such as tcp://127.0.0.1:PORT or unix:///path, not {endpoint}"
                )));
            }
        }
        if exec.is_some() && self.allow.is_empty() && !is_loopback(endpoint) {
            return Err(invalid(format!(
                "refusing --exec on {endpoint}: anyone who can connect could run commands; add --allow CIDR (e.g. --allow 192.168.1.0/24) or listen on loopback (127.0.0.1:PORT)"
            )));
        }
        if matches!(
            self.serve,
            Some(Serve::Chat | Serve::Broker | Serve::Chargen | Serve::Discard)
        ) && (reply.is_some() || !rules.is_empty())
        {
            return Err(invalid(format!(
                "--reply and --respond do not apply to --serve {}",
                self.serve.map(|s| s.to_string()).unwrap_or_default()
            )));
        }
        if self.max_conns == Some(0) {
            return Err(invalid("invalid --max-conns 0 (give at least 1)".into()));
        }
        let max_conns = match (self.max_conns, &exec) {
            (None, Some(_)) => Some(DEFAULT_EXEC_MAX_CONNS),
            (n, _) => n,
        };
        Ok(Some(ServiceConfig {
            frame: self.frame,
            max_frame: self.max_frame.unwrap_or(DEFAULT_MAX_FRAME),
            banner,
            reply,
            rules,
            quit_word: self.quit_word.map(String::into_bytes),
            serve: self.serve.or(exec.as_ref().map(|_| Serve::Exec)),
            exec,
            max_conns,
            access: AccessList {
                allow: self.allow,
                deny: self.deny,
            },
            idle_timeout,
            respond_file: self.respond_file,
            time_format,
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
            .contains("invalid network \"nope\""));
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

#[cfg(test)]
mod service_args_tests {
    use super::*;
    use proptest::prelude::*;

    fn config(args: &[&str]) -> Result<Option<ServiceConfig>, String> {
        let mut argv = vec!["sockmate", "listen"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let Command::Listen(args) = cli.command else {
            panic!()
        };
        ListenConfig::try_from(args)
            .map(|c| c.service)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn tutorial_lines_parse() {
        let c = config(&[
            "9999",
            "-k",
            "--banner",
            "hello, i am server",
            "--reply",
            "Loop_msg:{text}!",
            "--quit-word",
            "exit",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.banner.as_deref(), Some(&b"hello, i am server"[..]));
        assert_eq!(c.quit_word.as_deref(), Some(&b"exit"[..]));
        assert!(config(&["9999"]).unwrap().is_none());
        let t = config(&["0", "--serve", "time"]).unwrap().unwrap();
        assert_eq!(t.reply.unwrap().to_string(), "[{time}] {text}");
        let e = config(&["8000", "--exec", "sh"]).unwrap().unwrap();
        assert_eq!(e.max_conns, Some(DEFAULT_EXEC_MAX_CONNS));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        let e = config(&["0", "--reply", "x{txt}"]).unwrap_err();
        assert!(e.contains("unknown placeholder {txt} at position 1"), "{e}");
        let e = config(&["0.0.0.0:0", "--exec", "sh"]).unwrap_err();
        assert!(e.contains("refusing --exec"), "{e}");
        assert!(config(&["0.0.0.0:0", "--exec", "sh", "--allow", "10.0.0.0/8"]).is_ok());
        assert!(config(&["udp://127.0.0.1:0", "--serve", "chat"])
            .unwrap_err()
            .contains("stream endpoint"));
        assert!(config(&["0", "--serve", "exec"])
            .unwrap_err()
            .contains("needs the command"));
        assert!(config(&["0", "--frame", "lines"]).is_err());
        assert!(config(&["0", "--respond", "nothing"])
            .unwrap_err()
            .contains("=>"));
        assert!(config(&["0", "--banner", "\\q"])
            .unwrap_err()
            .contains("bad escape"));
        assert!(config(&["0", "--banner", "\\\\"]).is_ok());
        assert!(config(&["0", "--time-format", "%Q", "--serve", "time"]).is_err());
        assert!(config(&["0", "--allow", "10.0.0.0/33"]).is_err());
        assert!(config(&["0", "--max-conns", "0"]).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("64k").unwrap(), 65536);
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
    }

    proptest! {
        #[test]
        fn size_parser_never_panics(s in "\\PC{0,12}") {
            let _ = parse_size(&s);
        }
    }
}
