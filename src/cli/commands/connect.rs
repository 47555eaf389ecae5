//! `sockmate connect ENDPOINT`: a full-duplex client, stdin to the socket and
//! the socket to stdout, with exact half-close semantics; `--send` and
//! auto-send; `--reconnect` with exponential backoff.

use std::time::Duration;

use clap::Args;

use crate::cli::args::LineMode;
use crate::cli::args::{exec_spec, parse_duration, CommonArgs, ProxyArgs, SendArgs, ViewArgs};
use crate::cli::end_args::EndArgs;
use crate::cli::explain::{ExplainArgs, Role};
use crate::cli::output;
use crate::cli::stdin::{session_input, stdin_is_terminal};
use crate::cli::stdin_reader::STDIN_CHUNK;
use crate::endpoint::{Endpoint, Kind};
use crate::engine::{ConnectConfig, Engine};
use crate::error::ConfigError;
use crate::session::{SessionConfig, DEFAULT_DATAGRAM_WAIT, MAX_DATAGRAM};
use crate::shutdown::Shutdown;
use crate::transport::{BindAddr, SocketOptions};
use crate::ui::CliUi;
use crate::view::ViewOptions;

/// `sockmate connect`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub struct ConnectArgs {
    /// Where to connect: tcp://HOST:PORT (or HOST:PORT), udp://HOST:PORT, unix:///path, unix-dgram:///path, unix-seqpacket:///path, unix://@abstract, serial:///dev/ttyUSB0?baud=115200&data=8&parity=none&stop=1&flow=none; or a side that is not a socket: exec:'PROGRAM ARGS', sh:'COMMAND', file:PATH[?append|?read], pty:[?link=PATH][&raw].
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// After stdin ends, exit this long after the last byte instead of waiting for the peer to close (datagram default: 1s).
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
    pub wait: Option<Duration>,
    /// Give up connecting after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
    pub connect_timeout: Option<Duration>,
    /// Source address: an IP (127.0.0.2), IP:PORT, or for unix-dgram a path of our own.
    #[arg(long, value_name = "SOURCE", help_heading = "Endpoint and socket")]
    pub bind: Option<String>,
    /// When the peer closes, fails or refuses, connect again with exponential backoff (auto-send goes on); --reconnect=on-error: only after a failure (reset, refused), not after the peer's clean close.
    #[arg(long, value_enum, value_name = "WHEN", num_args = 0..=1, require_equals = true, default_missing_value = "always", help_heading = "Endpoint and socket")]
    pub reconnect: Option<ReconnectWhen>,
    /// Longest wait between reconnect attempts.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::cli::args::parse_reconnect_max, help_heading = "Endpoint and socket")]
    pub reconnect_max: Duration,
    /// udp://: take datagrams from any source, not only the peer (an unconnected socket; each datagram shows its sender).
    #[arg(long, help_heading = "UDP")]
    pub any_source: bool,
    /// strftime layout of {time} in --send-template (default like C's ctime: Sun Nov 22 14:03:07 2026).
    #[arg(long, value_name = "FORMAT", default_value = crate::template::CTIME_FORMAT, help_heading = "Sending")]
    pub time_format: String,
    /// Socket and status options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// `--proxy`.
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// How traffic is shown.
    #[command(flatten)]
    pub view: ViewArgs,
    /// What to send without stdin.
    #[command(flatten)]
    pub send: SendArgs,
    /// The browser UI.
    #[command(flatten)]
    pub ui: crate::cli::ui_cmd::UiFlag,
    /// When the session ends (nc's EOF switches).
    #[command(flatten)]
    pub end: EndArgs,
    /// Saved settings and packets.
    #[command(flatten)]
    pub profile: crate::cli::profile::ProfileArgs,
    /// Run CMD with the connection as its stdin and stdout (no shell; like ncat -e or socat EXEC:).
    #[arg(
        long,
        value_name = "CMD",
        conflicts_with = "sh_exec",
        help_heading = "Services"
    )]
    pub exec: Option<String>,
    /// Like --exec, through `sh -c CMD`.
    #[arg(long, value_name = "CMD", help_heading = "Services")]
    pub sh_exec: Option<String>,
    /// Send the command's stderr to the peer too.
    #[arg(long, help_heading = "Services")]
    pub exec_stderr: bool,
    /// Run the --exec command on a pseudo-terminal in its own session (interactive shells, job control; socat EXEC:…,pty,setsid,ctty).
    #[arg(long, help_heading = "Services")]
    pub pty: bool,
    /// `--explain`, `--lang`.
    #[command(flatten)]
    pub explain: ExplainArgs,
}

/// When `--reconnect` connects again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReconnectWhen {
    /// After the peer's clean close and after a failure.
    Always,
    /// After a failure only (reset, refused, timed out).
    OnError,
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
    /// Also show the session in the browser (`--ui`).
    pub ui: bool,
    /// `--recv-only`: stdin is not read.
    pub recv_only: bool,
    /// `--explain`, `--lang`.
    pub explain: ExplainArgs,
}

impl TryFrom<ConnectArgs> for ConnectRun {
    type Error = ConfigError;

    fn try_from(args: ConnectArgs) -> Result<Self, ConfigError> {
        let endpoint: Endpoint = args.endpoint.parse()?;
        crate::cli::zone::require_zone(&endpoint)?;
        if args.any_source && endpoint.kind() != Kind::Udp {
            return Err(ConfigError::new(format!(
                "--any-source is for udp:// endpoints, not {} (drop it)",
                endpoint.kind().scheme()
            )));
        }
        let view = args.view.options(args.common.verbosity(false))?;
        let bind = args
            .bind
            .as_deref()
            .map(str::parse::<BindAddr>)
            .transpose()
            .map_err(ConfigError::new)?;
        let (mut sends, mut lines) = args.send.plan(view.text_encoding(), &args.time_format)?;
        lines.delay = args.end.delay;
        sends.gap = args.end.delay;
        let lines = args.common.ws.line_mode(lines);
        let exec = exec_spec(&args.exec, &args.sh_exec, args.exec_stderr, args.pty)?;
        if exec.is_some() && !endpoint.kind().is_connection_oriented() {
            return Err(ConfigError::new(format!(
                "--exec needs a stream endpoint (tcp://, unix://, unix-seqpacket://), not {endpoint}"
            )));
        }
        if exec.is_some() && sends.has_sends() {
            return Err(ConfigError::new(
                "--exec gives the connection to the command: drop the --send* flags".into(),
            ));
        }
        if args.end.recv_only && sends.has_sends() {
            return Err(ConfigError::new(
                "--recv-only sends nothing: drop it or the --send* flags".into(),
            ));
        }
        let terminal = stdin_is_terminal() && exec.is_none();
        let mut session = SessionConfig {
            // A person at a terminal has nobody to pipe the rest to. A
            // piped input goes on after the peer's end (it may be a
            // half-close); if the peer closed for good, the write after it
            // is refused, and a reconnecting client sends it again on the
            // next connection. A client that only receives reconnects at
            // the peer's end.
            end_on_peer_eof: terminal
                || (args.reconnect == Some(ReconnectWhen::Always) && args.end.recv_only),
            // A serial line never ends by itself: like datagrams, a piped
            // stdin's end waits for the replies, then exits.
            wait: args
                .wait
                .or(
                    ((sends.has_sends() || endpoint.kind() == Kind::Serial) && !terminal)
                        .then_some(DEFAULT_DATAGRAM_WAIT),
                ),
            idle_timeout: args.common.idle_timeout,
            ..SessionConfig::default()
        };
        args.end.apply(&mut session)?;
        let mut view = view;
        view.hide_received = args.end.send_only;
        view.sent_as_hex = args.send.binary_sends();
        view.end_messages_on_terminal(endpoint.kind());
        Ok(ConnectRun {
            engine: ConnectConfig {
                endpoint,
                socket: SocketOptions {
                    connect_timeout: args.connect_timeout,
                    bind,
                    proxy: args.proxy.proxy()?,
                    ip: std::sync::Arc::new(crate::transport::IpOptions {
                        any_source: args.any_source,
                        ..args.common.ip.options()
                    }),
                    ..args.common.socket_options()
                },
                session,
                sends,
                reconnect: args.reconnect.map(|_| args.reconnect_max),
                reconnect_on_close: args.reconnect == Some(ReconnectWhen::Always),
                exec,
            },
            view,
            lines,
            ui: args.ui.ui,
            recv_only: args.end.recv_only,
            explain: args.explain,
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

/// With `-v`, a note when the wait after the input's end closes the
/// session (it may have cut a slow reply short).
fn wait_note(cfg: &ConnectRun) -> Option<Box<dyn crate::event::bus::Sink>> {
    let datagram = !cfg.engine.endpoint.kind().is_connection_oriented();
    let wait = cfg
        .engine
        .session
        .wait
        .or(datagram.then_some(DEFAULT_DATAGRAM_WAIT))?;
    if cfg.view.verbosity != crate::view::status::Verbosity::Normal || wait.is_zero() {
        return None;
    }
    let after = match cfg.engine.sends.has_sends() {
        true => "the sends ended",
        false => "stdin ended",
    };
    Some(Box::new(crate::cli::wait_note::WaitNote::new(wait, after)))
}

/// Connects and runs the session until both directions have ended (and,
/// with `--reconnect`, again whenever the peer goes away).
pub async fn run(cfg: ConnectRun, shutdown: Shutdown) -> anyhow::Result<()> {
    let single = cfg.engine.reconnect.is_none();
    let engine = Engine::new(shutdown);
    let narration = cfg.explain.sink(
        Role::Connect(cfg.engine.endpoint.clone()),
        &cfg.engine.socket,
    );
    let note = wait_note(&cfg);
    let sinks = output::start_with(
        &cfg.view,
        single,
        &engine,
        narration.into_iter().chain(note),
    )?;
    let input = if cfg.recv_only || cfg.engine.exec.is_some() {
        crate::session::Input::Nothing
    } else {
        session_input(
            &cfg.engine.sends,
            cfg.lines,
            stdin_chunk(cfg.engine.endpoint.kind()),
            Some(sinks.slot()),
        )
    };
    let endpoint = cfg.engine.endpoint.clone();
    let page = match cfg.ui {
        true => Some(
            CliUi::start(
                &engine,
                crate::ui::Kind::Client,
                &endpoint.to_string(),
                "",
                cfg.view.text_encoding(),
            )
            .await?,
        ),
        false => None,
    };
    let started = engine.connect(cfg.engine, input).await;
    if let Err(crate::engine::StartError::Net(e)) = &started {
        cfg.explain.failure(&endpoint, true, e);
        // Scripts reading --json see the failure as an event too (the
        // status line is on stderr as always).
        if cfg.view.json {
            let _ = engine
                .events()
                .emit(crate::event::EventKind::Failed {
                    peer: endpoint.to_string(),
                    message: format!("{e}"),
                    kind: e.kind,
                })
                .await;
        }
    }
    if let (Some(page), Ok(handle)) = (&page, &started) {
        page.started(handle, &endpoint.to_string());
    }
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
