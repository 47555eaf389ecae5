//! `sockmate send ENDPOINT FILE…` and `sockmate receive ENDPOINT --dir DIR`.

use std::time::Duration;

use clap::Args;

use crate::cli::args::{parse_duration, ProxyArgs};
use crate::endpoint::Endpoint;
use crate::error::ConfigError;

use crate::cli::transfer_view::{TransferJson, TransferLines};
use crate::engine::{Engine, Handle, StartError};
use crate::event::bus::{Sink, SinkThread};
use crate::shutdown::Shutdown;
use crate::transfer::config::{ReceiveConfig, SendFilesConfig, Timeouts, TransferDisplay};
use crate::transfer::digest::{DigestKind, UnknownDigest};
use crate::transfer::observer::printable;
use crate::transport::SocketOptions;
use crate::view::status::{StatusLines, Verbosity};

// ---- send / receive / scan (issue #6) ----

/// Display options of `send` and `receive`.
#[derive(Debug, Args, Clone, Default)]
pub struct TransferOutputArgs {
    /// Print progress and results as JSON lines on stdout (events: start, progress, done, error).
    #[arg(long, help_heading = "Views")]
    pub json: bool,
    /// No status or summary lines on stderr (errors only).
    #[arg(short, long, help_heading = "Views")]
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
    #[arg(long, help_heading = "Endpoint and socket")]
    pub listen: bool,
    /// With --listen: serve every receiver that connects, concurrently, until interrupted.
    #[arg(
        short = 'k',
        long,
        requires = "listen",
        help_heading = "Endpoint and socket"
    )]
    pub keep_open: bool,
    /// Send directories with everything in them.
    #[arg(short, long, help_heading = "Sending")]
    pub recursive: bool,
    /// Send bare bytes with no header (one file), like `nc HOST PORT < FILE`.
    #[arg(long, conflicts_with = "recursive", help_heading = "Sending")]
    pub raw: bool,
    /// With --raw: also hash what is sent and show its SHA-256 in the summary, to compare with the receiver's (without --raw the digest is always sent and checked).
    #[arg(
        long,
        requires = "raw",
        conflicts_with = "digest",
        help_heading = "Sending"
    )]
    pub sha256: bool,
    /// The digest that checks each file: blake3 (the default, fastest) or sha256 (to compare with sha256sum); the receiver's --digest wins when both name one. With --raw: hash what is sent with it and show it in the summary.
    #[arg(long, value_name = "ALG", value_parser = parse_digest, help_heading = "Sending")]
    pub digest: Option<DigestKind>,
    /// Give up connecting after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
    pub connect_timeout: Option<Duration>,
    /// Drop a peer that has not sent its hello or its next file header
    /// (or answer) after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s", help_heading = "Limits")]
    pub handshake_timeout: Duration,
    /// Drop a peer that moves no file data for this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s", help_heading = "Limits")]
    pub idle_timeout: Duration,
    /// Progress and summary options.
    #[command(flatten)]
    pub output: TransferOutputArgs,
    /// `--proxy` (without --listen).
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

/// `sockmate receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Where to wait for senders: PORT (= tcp://127.0.0.1:PORT), HOST:PORT (0.0.0.0:PORT for all interfaces), unix:///path. With --connect: where the `send --listen` is.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// Directory to store received files in (created if missing).
    #[arg(
        short,
        long,
        value_name = "DIR",
        default_value = ".",
        help_heading = "Receiving"
    )]
    pub dir: std::path::PathBuf,
    /// With --raw: the file to write the received bytes to.
    #[arg(
        short,
        long,
        value_name = "FILE",
        requires = "raw",
        help_heading = "Receiving"
    )]
    pub output: Option<std::path::PathBuf>,
    /// Connect to a `sockmate send --listen` instead of listening.
    #[arg(long, help_heading = "Endpoint and socket")]
    pub connect: bool,
    /// Keep listening and receive from many senders at once, until interrupted.
    #[arg(
        short = 'k',
        long,
        conflicts_with = "connect",
        help_heading = "Endpoint and socket"
    )]
    pub keep_open: bool,
    /// Replace files that already exist (otherwise they are skipped).
    #[arg(long, help_heading = "Receiving")]
    pub overwrite: bool,
    /// Continue an interrupted transfer from its partial file; the digest still covers the whole file.
    #[arg(long, help_heading = "Receiving")]
    pub resume: bool,
    /// Receive bare bytes until the peer closes (needs --output), like `nc -l PORT > FILE`.
    #[arg(long, conflicts_with_all = ["resume", "keep_open"], help_heading = "Receiving")]
    pub raw: bool,
    /// With --raw: also hash what arrives and show its SHA-256 in the summary, to compare with the sender's (without --raw every file's digest is checked).
    #[arg(
        long,
        requires = "raw",
        conflicts_with = "digest",
        help_heading = "Receiving"
    )]
    pub sha256: bool,
    /// The digest that checks each file: blake3 or sha256 (to compare with sha256sum); without it, the one the sender offers (blake3 unless it says --digest). With --raw: hash what arrives with it and show it in the summary.
    #[arg(long, value_name = "ALG", value_parser = parse_digest, help_heading = "Receiving")]
    pub digest: Option<DigestKind>,
    /// Give up connecting after this long (with --connect).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
    pub connect_timeout: Option<Duration>,
    /// Drop a peer that has not sent its hello or its next file header
    /// (or answer) after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s", help_heading = "Limits")]
    pub handshake_timeout: Duration,
    /// Drop a peer that moves no file data for this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s", help_heading = "Limits")]
    pub idle_timeout: Duration,

    /// Progress and summary options.
    #[command(flatten)]
    pub output_opts: TransferOutputArgs,
}

/// `--digest`'s value parser: the error names both choices.
fn parse_digest(name: &str) -> Result<DigestKind, String> {
    name.parse().map_err(|e: UnknownDigest| e.to_string())
}

fn stream_endpoint(endpoint: Endpoint) -> Result<Endpoint, ConfigError> {
    use crate::endpoint::Kind;
    match endpoint.kind() {
        Kind::Tcp | Kind::Unix => Ok(endpoint),
        _ => Err(ConfigError::new(format!(
            "{endpoint} is not a stream endpoint: file transfer runs over tcp:// or unix:// (e.g. tcp://127.0.0.1:9000)"
        ))),
    }
}

impl TryFrom<SendFilesArgs> for SendFilesConfig {
    type Error = ConfigError;

    fn try_from(args: SendFilesArgs) -> Result<Self, ConfigError> {
        if args.listen && args.proxy.proxy.is_some() {
            return Err(ConfigError::new(
                "--proxy is for connecting out; drop it with --listen".into(),
            ));
        }
        let endpoint = if args.listen {
            Endpoint::parse_listen(&args.endpoint)?
        } else {
            args.endpoint.parse()?
        };
        if args.raw && args.files.len() != 1 {
            return Err(ConfigError::new(format!(
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
            digest: args
                .digest
                .or((args.raw && args.sha256).then_some(DigestKind::Sha256)),
            display: TransferDisplay {
                json: args.output.json,
                quiet: args.output.quiet,
            },
            socket: SocketOptions {
                connect_timeout: args.connect_timeout,
                nodelay: true,
                proxy: args.proxy.proxy()?,
                ..SocketOptions::default()
            },
            timeouts: timeouts(args.handshake_timeout, args.idle_timeout)?,
        })
    }
}

/// Deadlines from the command line; zero is refused (it would drop every
/// peer at once).
fn timeouts(handshake: Duration, idle: Duration) -> Result<Timeouts, ConfigError> {
    if handshake.is_zero() || idle.is_zero() {
        return Err(ConfigError::new(
            "--handshake-timeout and --idle-timeout must be longer than 0 (e.g. 10s)".into(),
        ));
    }
    Ok(Timeouts { handshake, idle })
}

impl TryFrom<ReceiveArgs> for ReceiveConfig {
    type Error = ConfigError;

    fn try_from(args: ReceiveArgs) -> Result<Self, ConfigError> {
        let endpoint = if args.connect {
            args.endpoint.parse()?
        } else {
            Endpoint::parse_listen(&args.endpoint)?
        };
        if args.raw && args.output.is_none() {
            return Err(ConfigError::new(
                "--raw needs --output FILE (e.g. --raw --output received.bin)".into(),
            ));
        }
        Ok(Self {
            endpoint: stream_endpoint(endpoint)?,
            store: crate::transfer::receiver::ReceiveOptions {
                dir: args.dir,
                overwrite: args.overwrite,
                resume: args.resume,
                digest: args.digest.filter(|_| !args.raw),
                timeouts: timeouts(args.handshake_timeout, args.idle_timeout)?,
            },
            output: args.output,
            connect: args.connect,
            keep_open: args.keep_open,
            raw: args.raw,
            raw_digest: args
                .digest
                .or(args.sha256.then_some(DigestKind::Sha256))
                .filter(|_| args.raw),
            display: TransferDisplay {
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

/// Runs `sockmate send`.
pub async fn run_send(cfg: SendFilesConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let (display, listening) = (cfg.display, cfg.listen);
    let engine = Engine::new(shutdown);
    let sinks = engine.attach(sinks(display, "sent"))?;
    let started = engine.send(cfg).await;
    finish(engine, sinks, started, display, listening).await
}

/// The sinks of a transfer command: status lines (a `-k` session's
/// error), the bars and summaries, and `--json`.
fn sinks(display: TransferDisplay, verb: &'static str) -> Vec<Box<dyn Sink>> {
    let mut sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(StatusLines::new(Verbosity::Quiet)),
        Box::new(TransferLines::new(display.json, display.quiet, verb)),
    ];
    if display.json {
        sinks.push(Box::new(TransferJson::default()));
    }
    sinks
}

/// Says where a listening side waits, waits for the transfer to end, and
/// lets the sinks finish.
async fn finish(
    engine: Engine,
    sinks: SinkThread,
    started: Result<Handle, StartError>,
    display: TransferDisplay,
    listening: bool,
) -> anyhow::Result<()> {
    let result = match started {
        Ok(handle) => {
            if listening && !display.quiet {
                errln!(
                    "{}",
                    printable(&format!("listening on {}", handle.local_addr()))
                );
            }
            handle.finished().await.map_err(anyhow::Error::from)
        }
        Err(e) => Err(e.into()),
    };
    drop(engine);
    sinks.join().await;
    result
}

/// Runs `sockmate receive`.
pub async fn run_receive(cfg: ReceiveConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let (display, listening) = (cfg.display, !cfg.connect);
    let engine = Engine::new(shutdown);
    let sinks = engine.attach(sinks(display, "received"))?;
    let started = engine.receive(cfg).await;
    finish(engine, sinks, started, display, listening).await
}
