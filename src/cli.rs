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
use crate::command::OutputOptions;
use crate::endpoint::Endpoint;
use crate::session::SessionConfig;
use crate::transport::{BindAddr, SocketOptions};
use crate::view::status::Verbosity;

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
    /// Send files (and with -r directories) to a `sockmate receive`, checked by SHA-256.
    Send(SendArgs),
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
    /// Socket and status options.
    #[command(flatten)]
    pub common: CommonArgs,
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
}

impl CommonArgs {
    fn socket_options(&self) -> SocketOptions {
        SocketOptions {
            nodelay: self.nodelay,
            keepalive: self.keepalive,
            ..SocketOptions::default()
        }
    }

    fn output(&self, verbose_by_default: bool) -> OutputOptions {
        let verbosity = if self.quiet || !(verbose_by_default || self.verbose) {
            Verbosity::Quiet
        } else {
            Verbosity::Normal
        };
        OutputOptions { verbosity }
    }
}

impl TryFrom<ConnectArgs> for ConnectConfig {
    type Error = UsageError;

    fn try_from(args: ConnectArgs) -> Result<Self, UsageError> {
        let endpoint: Endpoint = args.endpoint.parse()?;
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
            output: args.common.output(false),
        })
    }
}

impl TryFrom<ListenArgs> for ListenConfig {
    type Error = UsageError;

    fn try_from(args: ListenArgs) -> Result<Self, UsageError> {
        let endpoint = Endpoint::parse_listen(&args.endpoint)?;
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
            output: args.common.output(true),
        })
    }
}

/// Parses a duration: `250ms`, `2s`, `1m30s`, or a bare number of seconds
/// (`2`, `0.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 && secs < 1e9 {
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
pub struct SendArgs {
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

impl TryFrom<SendArgs> for crate::command::transfer::SendConfig {
    type Error = UsageError;

    fn try_from(args: SendArgs) -> Result<Self, UsageError> {
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
