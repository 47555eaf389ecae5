//! `sockmate connect ENDPOINT`: a full-duplex client, stdin to the socket and
//! the socket to stdout, with exact half-close semantics; `--send` and
//! auto-send; `--reconnect` with exponential backoff.

use std::time::Duration;

use clap::Args;

use super::args::LineMode;
use super::args::{parse_duration, CommonArgs, SendArgs, ViewArgs};
use super::output;
use super::stdin::{session_input, stdin_is_terminal};
use super::stdin_reader::STDIN_CHUNK;
use crate::endpoint::{Endpoint, Kind};
use crate::engine::{ConnectConfig, Engine};
use crate::error::ConfigError;
use crate::session::{SessionConfig, DEFAULT_DATAGRAM_WAIT, MAX_DATAGRAM};
use crate::shutdown::Shutdown;
use crate::transport::{BindAddr, SocketOptions};
use crate::view::ViewOptions;

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

/// A validated `connect`: the engine's config and the terminal's side
/// (views, how stdin becomes messages).
#[derive(Debug, Clone)]
pub struct ConnectRun {
    /// What the engine does.
    pub engine: ConnectConfig,
    /// What the terminal shows.
    pub view: ViewOptions,
    /// How stdin becomes messages.
    pub lines: LineMode,
}

impl TryFrom<ConnectArgs> for ConnectRun {
    type Error = ConfigError;

    fn try_from(args: ConnectArgs) -> Result<Self, ConfigError> {
        let endpoint: Endpoint = args.endpoint.parse()?;
        let view = args.view.options(args.common.verbosity(false))?;
        let bind = args
            .bind
            .as_deref()
            .map(str::parse::<BindAddr>)
            .transpose()
            .map_err(ConfigError::new)?;
        let (sends, lines) = args.send.plan(view.text_encoding())?;
        let lines = args.common.ws.line_mode(lines);
        let terminal = stdin_is_terminal();
        let session = SessionConfig {
            // A person at a terminal has nobody to pipe the rest to; a
            // reconnecting client treats the peer's end as a disconnect.
            end_on_peer_eof: terminal || args.reconnect,
            wait: args
                .wait
                .or((sends.has_sends() && !terminal).then_some(DEFAULT_DATAGRAM_WAIT)),
            idle_timeout: args.common.idle_timeout,
        };
        Ok(ConnectRun {
            engine: ConnectConfig {
                endpoint,
                socket: SocketOptions {
                    connect_timeout: args.connect_timeout,
                    bind,
                    ..args.common.socket_options()
                },
                session,
                sends,
                reconnect: args.reconnect.then_some(args.reconnect_max),
            },
            view,
            lines,
        })
    }
}

/// Largest UDP payload; one stdin read becomes at most one such datagram.
const MAX_UDP_PAYLOAD: usize = 65_507;

fn stdin_chunk(kind: Kind) -> usize {
    match kind {
        Kind::Udp => MAX_UDP_PAYLOAD,
        Kind::UnixDgram => MAX_DATAGRAM,
        _ => STDIN_CHUNK,
    }
}

/// Connects and runs the session until both directions have ended (and,
/// with `--reconnect`, again whenever the peer goes away).
pub async fn run(cfg: ConnectRun, shutdown: Shutdown) -> anyhow::Result<()> {
    let single = cfg.engine.reconnect.is_none();
    let engine = Engine::new(shutdown);
    let sinks = output::start(&cfg.view, single, &engine)?;
    let input = session_input(
        &cfg.engine.sends,
        cfg.lines,
        stdin_chunk(cfg.engine.endpoint.kind()),
    );
    let started = engine.connect(cfg.engine, input).await;
    output::finish(engine, sinks, started).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn connect_rejects_bad_endpoint_and_bind() {
        let cli = Cli::try_parse_from(["sockmate", "connect", "tcp://x:99999"]).unwrap();
        let Command::Connect(args) = cli.command else {
            panic!()
        };
        assert!(ConnectRun::try_from(args).is_err());
        let cli = Cli::try_parse_from(["sockmate", "connect", "x:1", "--bind", "nope"]).unwrap();
        let Command::Connect(args) = cli.command else {
            panic!()
        };
        let err = ConnectRun::try_from(args).unwrap_err().to_string();
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
