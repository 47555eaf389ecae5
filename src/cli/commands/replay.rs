//! `sockmate replay SESSION ENDPOINT --as server|client`: a recorded
//! `--json`/`--log` session played back as one of its sides. As a server it
//! is `listen` with the replay service (every view works as for listen);
//! as a client it is `connect` with the recorded requests on a timed
//! schedule.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::cli::args::{parse_duration, parse_max_conns, CommonArgs, LineMode, ViewArgs};
use crate::cli::listen::ListenRun;
use crate::cli::output;
use crate::endpoint::Endpoint;
use crate::engine::{ConnectConfig, Engine, ListenConfig};
use crate::error::ConfigError;
use crate::frame::{FrameSpec, DEFAULT_MAX_FRAME};
use crate::replay::{Conversation, Pace, ReadOptions, Recording, Side};
use crate::send::{Eol, SendPlan};
use crate::service::config::DEFAULT_SERVICE_MAX_CONNS;
use crate::service::replay::{IgnoreRange, MatchMode, ReplayTable};
use crate::service::ServiceConfig;
use crate::session::accept::Admission;
use crate::session::{Input, SessionConfig, DEFAULT_DATAGRAM_WAIT};
use crate::shutdown::Shutdown;
use crate::view::ViewOptions;

/// `sockmate replay`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub struct ReplayArgs {
    /// The recorded session: a --json transcript or a --log file of connect, listen or relay (--log with --hex keeps every byte; a text log drops line endings, see --eol), or a .pcap/.pcapng capture (TCP and UDP payloads).
    #[arg(value_name = "SESSION")]
    pub session: PathBuf,
    /// With --as server where to listen (PORT = tcp://127.0.0.1:PORT, HOST:PORT, udp://…, unix:///path); with --as client where to connect.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// Which side to play: server (listen, answer each message with the recorded reply) or client (connect, send the recorded requests with their timing).
    #[arg(long = "as", value_enum, value_name = "SIDE", required = true)]
    pub role: Side,
    /// How a request finds its reply: exact (its bytes), loose (its bytes outside the --ignore ranges) or order (the Nth request gets the Nth reply).
    #[arg(
        long = "match",
        value_enum,
        value_name = "HOW",
        default_value = "exact",
        help_heading = "Services"
    )]
    pub match_mode: MatchMode,
    /// Bytes to ignore with --match loose: offsets from 0, end excluded (0..2 for a Modbus TCP transaction id, 7 for one byte, 6.. for the rest); repeatable or comma-separated. A reply that repeated an ignored field repeats the new request's.
    #[arg(
        long,
        value_name = "RANGE",
        value_delimiter = ',',
        help_heading = "Services"
    )]
    pub ignore: Vec<IgnoreRange>,
    /// The answer to a request that is not in the recording (text with escapes, or hex:01 02); default: no answer. Either way a line says so.
    #[arg(long, value_name = "REPLY", help_heading = "Services")]
    pub unmatched_reply: Option<String>,
    /// --as client: play the recorded timing this many times faster (2 = twice as fast, 0.5 = half speed).
    #[arg(long, value_name = "FACTOR", help_heading = "Sending")]
    pub speed: Option<f64>,
    /// --as client: send the recorded requests one after the other without the recorded pauses.
    #[arg(long, conflicts_with = "speed", help_heading = "Sending")]
    pub no_timing: bool,
    /// Start over after the last recorded message (client: send the session again; server: after the last reply, the first again).
    #[arg(long = "loop", help_heading = "Sending")]
    pub looped: bool,
    /// Replay only this recorded connection (#ID of a --json transcript, or a --log's peer label); --as client defaults to the first one.
    #[arg(long, value_name = "ID", help_heading = "Sending")]
    pub conn: Option<String>,
    /// Which side wrote the transcript (default: server when it has a `listening` line, i.e. listen or relay; else client, i.e. connect).
    #[arg(long, value_enum, value_name = "SIDE", help_heading = "Sending")]
    pub recorded_at: Option<Side>,
    /// The line ending put back on the messages of a text --log, which drops them: lf, crlf or none (default: a reply ends like the request it answers; a client sends lf).
    #[arg(long, value_enum, value_name = "EOL", help_heading = "Sending")]
    pub eol: Option<Eol>,
    /// --as client: after the last send, exit this long after the last byte received (default 1s).
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
    pub wait: Option<Duration>,
    /// --as server: serve at most N clients at once.
    #[arg(long, value_name = "N", value_parser = parse_max_conns, help_heading = "Limits")]
    pub max_conns: Option<usize>,
    /// Socket and status options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// How traffic is shown.
    #[command(flatten)]
    pub view: ViewArgs,
}

/// What a validated `replay` runs.
#[derive(Debug, Clone)]
pub enum ReplayRun {
    /// `--as server`: listen with the replay service.
    Server {
        /// The listen it is.
        listen: Box<ListenRun>,
        /// Its startup line.
        summary: String,
    },
    /// `--as client`: connect and send the recorded requests.
    Client {
        /// Where and how to connect.
        engine: Box<ConnectConfig>,
        /// The recorded conversation it plays.
        conversation: Conversation,
        /// How fast.
        pace: Pace,
        /// Again and again.
        looped: bool,
        /// What the terminal shows.
        view: ViewOptions,
        /// Its startup line.
        summary: String,
    },
}

impl TryFrom<ReplayArgs> for ReplayRun {
    type Error = ConfigError;

    fn try_from(args: ReplayArgs) -> Result<Self, ConfigError> {
        let server = args.role == Side::Server;
        let view = args.view.options(args.common.verbosity(server))?;
        let encoding = view.text_encoding();
        let pace = match (args.no_timing, args.speed) {
            (true, _) => Pace::NoTiming,
            (false, None) => Pace::Speed(1.0),
            (false, Some(speed)) if speed.is_finite() && speed > 0.0 => Pace::Speed(speed),
            (false, Some(speed)) => {
                return Err(ConfigError::new(format!(
                    "invalid --speed {speed}: give a factor above 0 (2 = twice as fast, 0.5 = half speed)"
                )))
            }
        };
        let mode = match (args.match_mode, args.ignore.is_empty()) {
            (MatchMode::Loose, true) => {
                return Err(ConfigError::new(
                    "--match loose needs the fields to ignore: add --ignore RANGE (e.g. --ignore 0..2 for a Modbus TCP transaction id)".into(),
                ))
            }
            (MatchMode::Order, false) => {
                return Err(ConfigError::new(
                    "--ignore is for --match loose (order matching looks at no bytes); drop it"
                        .into(),
                ))
            }
            // --ignore alone means loose matching.
            (_, false) => MatchMode::Loose,
            (mode, true) => mode,
        };
        if !server {
            let server_only = [
                (
                    "--match",
                    args.match_mode != MatchMode::Exact || !args.ignore.is_empty(),
                ),
                ("--unmatched-reply", args.unmatched_reply.is_some()),
                ("--max-conns", args.max_conns.is_some()),
            ];
            if let Some((flag, _)) = server_only.iter().find(|(_, given)| *given) {
                return Err(ConfigError::new(format!(
                    "{flag} is for --as server (a replaying client sends the recorded requests as they are); drop it"
                )));
            }
        } else {
            let client_only = [
                ("--speed", args.speed.is_some()),
                ("--no-timing", args.no_timing),
                ("--wait", args.wait.is_some()),
            ];
            if let Some((flag, _)) = client_only.iter().find(|(_, given)| *given) {
                return Err(ConfigError::new(format!(
                    "{flag} is for --as client (a replaying server answers when asked); drop it"
                )));
            }
        }
        let unmatched_reply = args
            .unmatched_reply
            .as_deref()
            .map(|text| match text.strip_prefix("hex:") {
                Some(hex) => crate::hexinput::parse_hex(hex)
                    .map_err(|e| format!("invalid --unmatched-reply \"{text}\": {e}")),
                None => crate::escape::unescape_in(text, encoding)
                    .map_err(|e| format!("invalid --unmatched-reply \"{text}\": {e}")),
            })
            .transpose()
            .map_err(ConfigError::new)?;
        let recording = read_recording(&args.session, encoding, args.recorded_at, args.eol)?;
        let recording = match &args.conn {
            Some(id) => recording.clone().only(id).ok_or_else(|| {
                ConfigError::new(format!(
                    "--conn {id}: the transcript has no such connection (it has {})",
                    recording.labels().join(", ")
                ))
            })?,
            None => recording,
        };
        let file = args.session.display();
        if server {
            let endpoint = Endpoint::parse_listen(&args.endpoint)?;
            crate::cli::zone::require_zone(&endpoint)?;
            let table = ReplayTable {
                mode,
                ignore: args.ignore,
                unmatched_reply,
                looped: args.looped,
                ..ReplayTable::from_conversations(&recording.conversations)
            };
            let summary = format!(
                "replaying {file} as the server: {} recorded request(s) from {} connection(s), {} matching",
                table.exchanges.len(),
                recording.conversations.len(),
                mode_name(mode)
            );
            let service = ServiceConfig {
                frame: FrameSpec::Raw,
                max_frame: DEFAULT_MAX_FRAME,
                banner: (!table.banner.is_empty()).then(|| table.banner.clone()),
                idle_timeout: args.common.idle_timeout,
                encoding,
                time_format: crate::template::CTIME_FORMAT.into(),
                replay: Some(Arc::new(table)),
                ..ServiceConfig::default()
            };
            let mut view = view;
            view.end_messages_on_terminal(endpoint.kind());
            let listen = ListenRun {
                engine: ListenConfig {
                    endpoint,
                    socket: args.common.socket_options(),
                    session: SessionConfig {
                        idle_timeout: args.common.idle_timeout,
                        ..SessionConfig::default()
                    },
                    keep_open: true,
                    sends: SendPlan::default(),
                    service: Some(service),
                    admission: Admission {
                        max_conns: Some(args.max_conns.unwrap_or(DEFAULT_SERVICE_MAX_CONNS)),
                        ..Admission::default()
                    },
                },
                view,
                lines: LineMode::default(),
                ui: false,
                recv_only: true,
                explain: Default::default(),
                proxy_dump: None,
            };
            return Ok(ReplayRun::Server {
                listen: Box::new(listen),
                summary,
            });
        }
        let endpoint: Endpoint = args.endpoint.parse()?;
        crate::cli::zone::require_zone(&endpoint)?;
        let count = recording.conversations.len();
        let Some(conversation) = recording.conversations.into_iter().next() else {
            return Err(ConfigError::new(format!(
                "{file} holds no messages to replay"
            )));
        };
        let sends = conversation.sent_by(Side::Client).count();
        let mut summary = format!(
            "replaying {file} as the client: {sends} recorded message(s) of connection {}",
            conversation.label
        );
        if count > 1 {
            summary.push_str(&format!(
                " (the transcript has {count} connections; pick another with --conn ID)"
            ));
        }
        let mut view = view;
        view.end_messages_on_terminal(endpoint.kind());
        let engine = ConnectConfig {
            endpoint,
            socket: args.common.socket_options(),
            session: SessionConfig {
                wait: Some(args.wait.unwrap_or(DEFAULT_DATAGRAM_WAIT)),
                idle_timeout: args.common.idle_timeout,
                end_on_peer_eof: true,
                ..SessionConfig::default()
            },
            sends: SendPlan::default(),
            reconnect: None,
            reconnect_on_close: false,
            exec: None,
        };
        Ok(ReplayRun::Client {
            engine: Box::new(engine),
            conversation,
            pace,
            looped: args.looped,
            view,
            summary,
        })
    }
}

fn mode_name(mode: MatchMode) -> &'static str {
    match mode {
        MatchMode::Exact => "exact",
        MatchMode::Loose => "loose",
        MatchMode::Order => "order",
    }
}

/// Reads and parses the transcript; a usage error names the file and line.
fn read_recording(
    path: &std::path::Path,
    encoding: crate::encoding::TextEncoding,
    recorded_at: Option<Side>,
    eol: Option<Eol>,
) -> Result<Recording, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::new(format!(
            "cannot read the session {}: {e} (give a file written with --log FILE or --json, or a .pcap/.pcapng capture)",
            path.display()
        ))
    })?;
    let opts = ReadOptions {
        encoding,
        recorded_at,
        eol,
    };
    let recording = Recording::read(&bytes, opts)
        .map_err(|e| ConfigError::new(format!("{}: {e}", path.display())))?;
    if recording.conversations.is_empty() {
        return Err(ConfigError::new(format!(
            "{}: no messages to replay (record one with --log FILE or --json on connect, listen or relay)",
            path.display()
        )));
    }
    Ok(recording)
}

/// Plays the chosen side until done (client) or stopped (server).
pub async fn run(cfg: ReplayRun, shutdown: Shutdown) -> anyhow::Result<()> {
    match cfg {
        ReplayRun::Server { listen, summary } => {
            if listen.view.verbosity != crate::view::status::Verbosity::Quiet {
                errln!("{summary}");
            }
            crate::cli::listen::run(*listen, shutdown).await
        }
        ReplayRun::Client {
            engine: cfg,
            conversation,
            pace,
            looped,
            view,
            summary,
        } => {
            if view.verbosity != crate::view::status::Verbosity::Quiet {
                errln!("{summary}");
            }
            let engine = Engine::new(shutdown);
            let sinks = output::start(&view, true, &engine)?;
            let input = Input::Scripted {
                schedule: conversation.schedule(pace, looped),
                also: None,
            };
            let started = engine.connect(*cfg, input).await;
            output::finish(engine, sinks, started).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn replay(args: &[&str]) -> Result<ReplayRun, String> {
        let dir = std::env::temp_dir().join(format!("sockmate-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let file = dir.join("s.log");
        std::fs::write(
            &file,
            "[10:00:00.000] listening on tcp://127.0.0.1:1\n[10:00:00.100] #1 a:1 < ping\n[10:00:00.200] #1 a:1 > pong\n",
        )
        .map_err(|e| e.to_string())?;
        let file = file.to_string_lossy().into_owned();
        let mut all = vec!["sockmate", "replay", &file];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| e.to_string())?;
        let Command::Replay(a) = cli.command else {
            return Err("not replay".into());
        };
        ReplayRun::try_from(a).map_err(|e| e.to_string())
    }

    #[test]
    fn flags_belong_to_their_side() {
        assert!(matches!(
            replay(&["0", "--as", "server"]),
            Ok(ReplayRun::Server { .. })
        ));
        assert!(matches!(
            replay(&["127.0.0.1:9", "--as", "client", "--speed", "2"]),
            Ok(ReplayRun::Client { .. })
        ));
        for (args, want) in [
            (
                &["0", "--as", "server", "--speed", "2"][..],
                "--speed is for --as client",
            ),
            (
                &["x:1", "--as", "client", "--match", "order"],
                "--match is for --as server",
            ),
            (
                &["0", "--as", "server", "--match", "loose"],
                "needs the fields to ignore",
            ),
            (
                &[
                    "0", "--as", "server", "--match", "order", "--ignore", "0..2",
                ],
                "--ignore is for --match loose",
            ),
            (
                &["x:1", "--as", "client", "--speed", "0"],
                "invalid --speed 0",
            ),
            (
                &["0", "--as", "server", "--ignore", "4..2"],
                "invalid --ignore",
            ),
            (
                &["0", "--as", "server", "--conn", "7"],
                "no such connection (it has #1 a:1)",
            ),
            (
                &["0", "--as", "server", "--unmatched-reply", "hex:zz"],
                "invalid --unmatched-reply",
            ),
        ] {
            let e = replay(args).err().unwrap_or_default();
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }
}
