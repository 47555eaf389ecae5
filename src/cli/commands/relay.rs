//! `sockmate relay LISTEN TARGET`.

use std::time::Duration;

use clap::Args;

use crate::cli::args::{parse_duration, CommonArgs, ProxyArgs, ViewArgs};
use crate::cli::explain::{ExplainArgs, Role};
use crate::cli::output;
use crate::endpoint::Endpoint;
use crate::engine::Engine;
use crate::error::ConfigError;
use crate::limits::{parse_cidr, AccessList};
use crate::relay::framing::RelayFrame;
use crate::relay::pump::PairRules;
use crate::relay::{RelayConfig, Sides};
use crate::shutdown::Shutdown;
use crate::transport::SocketOptions;
use crate::ui::CliUi;
use crate::view::dump::{relay_sinks, DumpFormat};
use crate::view::ViewOptions;

/// `sockmate relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where clients connect: PORT (= tcp://127.0.0.1:PORT), HOST:PORT, tcp://…, udp://…, unix:///path, unix-dgram:///path, unix-seqpacket:///path; or one local side that is the only client: - (stdio), exec:…, sh:…, file:…, pty:[?link=PATH].
    #[arg(value_name = "LISTEN")]
    pub listen: String,
    /// Where each client is forwarded: tcp://HOST:PORT (or HOST:PORT), udp://…, unix:///path, serial:///dev/ttyUSB0?baud=9600, …; or a local side opened per client: - (stdio), exec:'PROGRAM ARGS', sh:'COMMAND', file:PATH[?append|?read], pty:[?link=PATH][&raw].
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Show the traffic both ways on stdout: text, hex or json; each message is tagged `#ID CLIENT <` (client to target) or `>` (target to client). Turns off splice.
    #[arg(long, value_name = "FORMAT", help_heading = "Views")]
    pub dump: Option<String>,
    /// Between a stream and datagrams: how datagram boundaries appear on the stream (raw, line, len16, len32).
    #[arg(long, value_name = "FRAME", help_heading = "Endpoint and socket")]
    pub frame: Option<String>,
    /// Tear the whole connection down as soon as either side ends (default: carry each half-close across and keep the other way flowing).
    #[arg(long, help_heading = "Endpoint and socket")]
    pub close_both: bool,
    /// Serve at most N clients (or datagram flows) at once; beyond it new clients are refused.
    #[arg(long, value_name = "N", value_parser = crate::cli::args::parse_max_conns, help_heading = "Limits")]
    pub max_conns: Option<usize>,
    /// Give up connecting to TARGET after this long (that client is closed; default 10s). A client that leaves first cancels its connect.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
    pub connect_timeout: Option<Duration>,
    /// Serve only clients in this network (CIDR like 192.168.1.0/24 or one address; repeatable).
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr, help_heading = "Limits")]
    pub allow: Vec<ipnet::IpNet>,
    /// Refuse clients in this network (repeatable; wins over --allow).
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr, help_heading = "Limits")]
    pub deny: Vec<ipnet::IpNet>,
    /// Dial both sides instead of listening on LISTEN: LISTEN first, then TARGET; one session, then exit.
    #[arg(
        long,
        help_heading = "Endpoint and socket",
        conflicts_with = "listen_both"
    )]
    pub connect_first: bool,
    /// Listen on both sides (a rendezvous): accept one client on each, relay them to each other, then exit; later clients are refused.
    #[arg(
        long,
        visible_alias = "rendezvous",
        help_heading = "Endpoint and socket"
    )]
    pub listen_both: bool,
    /// Always copy through a buffer instead of splice(2) (for measuring).
    #[arg(long, help_heading = "Endpoint and socket")]
    pub no_splice: bool,
    /// Set SO_REUSEPORT on LISTEN.
    #[arg(long, help_heading = "Endpoint and socket")]
    pub reuseport: bool,
    /// Length of the kernel's queue of connections waiting to be accepted [default: 1024].
    #[arg(long, value_name = "N", help_heading = "Endpoint and socket")]
    pub backlog: Option<u32>,
    /// Socket and status options (--idle-timeout also ends datagram flows; default 60s for them).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `--proxy` for the target side.
    #[command(flatten)]
    pub proxy: ProxyArgs,
    /// How the dump looks (--hex, --json or -t alone imply --dump hex, json or text).
    #[command(flatten)]
    pub view: ViewArgs,
    /// `--explain`, `--lang`.
    #[command(flatten)]
    pub explain: ExplainArgs,
    /// The browser UI (connections and counters; the traffic too with --dump).
    #[command(flatten)]
    pub ui: crate::cli::ui_cmd::UiFlag,
}

/// A validated `relay`: the engine's config and what the dump looks like.
#[derive(Debug, Clone)]
pub struct RelayRun {
    /// What the engine does.
    pub engine: RelayConfig,
    /// How the traffic is shown (`--dump`), if it is.
    pub dump: Option<DumpFormat>,
    /// Status lines and the dump's view options.
    pub view: ViewOptions,
    /// `--explain`, `--lang`.
    pub explain: ExplainArgs,
    /// Also show the relay in the browser (`--ui`).
    pub ui: bool,
}

impl TryFrom<RelayArgs> for RelayRun {
    type Error = ConfigError;

    fn try_from(args: RelayArgs) -> Result<Self, ConfigError> {
        let listen = Endpoint::parse_listen(&args.listen)?;
        let target: Endpoint = match args.listen_both {
            true => Endpoint::parse_listen(&args.target)?,
            false => args.target.parse()?,
        };
        let sides = match (args.connect_first, args.listen_both) {
            (true, _) => Sides::ConnectFirst,
            (_, true) => Sides::ListenBoth,
            _ => Sides::ListenFirst,
        };
        let mut frame = args
            .frame
            .as_deref()
            .map(str::parse::<RelayFrame>)
            .transpose()
            .map_err(ConfigError::new)?;
        let mixed =
            listen.kind().keeps_message_boundaries() != target.kind().keeps_message_boundaries();
        // A local side (a file, a command, stdio) takes each datagram's
        // payload as it is, and each of its reads is one datagram.
        let local = [&listen, &target].map(|e| e.kind() == crate::endpoint::Kind::Local);
        if mixed && frame.is_none() && local.contains(&true) {
            frame = Some(RelayFrame::Raw);
        }
        let stdio = [&listen, &target]
            .iter()
            .any(|e| matches!(e, Endpoint::Local(crate::endpoint::LocalSpec::Stdio)));
        let dumps = args.dump.is_some()
            || args.view.json
            || args.view.hex.is_some()
            || args.view.timestamps;
        if stdio && dumps {
            return Err(ConfigError::new(
                "--dump writes to stdout, which the - side uses for its data (drop --dump, --json, --hex or -t here)".into(),
            ));
        }
        if mixed && frame.is_none() {
            return Err(ConfigError::new(format!(
                "relaying {} to {} needs --frame to mark datagram boundaries on the stream side (raw, line, len16 or len32, e.g. --frame line)",
                listen.kind().scheme(),
                target.kind().scheme()
            )));
        }
        if !mixed && frame.is_some() {
            return Err(ConfigError::new(
                "--frame is only for a relay between a stream and datagrams (e.g. tcp:// to udp://); drop it here".into(),
            ));
        }
        if args.max_conns == Some(0) {
            return Err(ConfigError::new(
                "invalid --max-conns 0 (give at least 1, e.g. --max-conns 100)".into(),
            ));
        }
        if args.backlog == Some(0) {
            return Err(ConfigError::new(
                "invalid --backlog 0 (give at least 1, e.g. --backlog 128)".into(),
            ));
        }
        let access = AccessList {
            allow: args.allow,
            deny: args.deny,
        };
        let view = args.view.options(args.common.verbosity(true))?;
        let dump = DumpFormat::chosen(args.dump.as_deref(), &view).map_err(ConfigError::new)?;
        if dump.is_none() && view.log.is_some() {
            return Err(ConfigError::new(
                "--log records relayed traffic: add --dump text, hex or json".into(),
            ));
        }
        let capture = view.pcap.is_some();
        Ok(RelayRun {
            explain: args.explain.clone(),
            ui: args.ui.ui,
            view,
            dump,
            engine: RelayConfig {
                listen,
                target,
                listen_socket: SocketOptions {
                    reuseport: args.reuseport,
                    backlog: args.backlog,
                    ..args.common.socket_options()
                },
                target_socket: SocketOptions {
                    connect_timeout: Some(
                        args.connect_timeout
                            .unwrap_or(crate::relay::DEFAULT_CONNECT_TIMEOUT),
                    ),
                    proxy: args.proxy.proxy()?,
                    ..args.common.socket_options()
                },
                frame,
                rules: PairRules {
                    close_both: args.close_both,
                    idle_timeout: args.common.idle_timeout,
                },
                max_conns: args.max_conns,
                access,
                // --explain counts the relayed reads and writes; --pcap
                // writes them.
                dump: dump.is_some() || args.explain.explain || capture,
                splice: !args.no_splice,
                sides,
                rendezvous: Default::default(),
            },
        })
    }
}

/// Binds LISTEN, announces it, and relays until stopped.
pub async fn run(cfg: RelayRun, shutdown: Shutdown) -> anyhow::Result<()> {
    let mut sinks = relay_sinks(&cfg.view, cfg.dump)?;
    sinks.extend(cfg.explain.sink(
        Role::Relay {
            target: cfg.engine.target.clone(),
            backlog: cfg.engine.listen_socket.backlog,
            reuseport: cfg.engine.listen_socket.reuseport,
        },
        &cfg.engine.listen_socket,
    ));
    let (live, closed) = output::live_sink();
    sinks.push(live);
    let engine = Engine::new(shutdown);
    let sink_thread = output::Sinks::new(engine.attach(sinks)?, closed, &cfg.view);
    let page = match cfg.ui {
        true => {
            let rest = format!(" → {}", cfg.engine.target);
            let listen = cfg.engine.listen.to_string();
            let encoding = cfg.view.text_encoding();
            Some(CliUi::start(&engine, crate::ui::Kind::Relay, &listen, &rest, encoding).await?)
        }
        false => None,
    };
    let started = engine.relay(cfg.engine).await;
    if let (Some(page), Ok(handle)) = (&page, &started) {
        page.started(handle, "");
    }
    output::finish(engine, sink_thread, started).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn relay(args: &[&str]) -> Result<RelayRun, String> {
        let mut all = vec!["sockmate", "relay"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| e.to_string())?;
        let Command::Relay(a) = cli.command else {
            return Err("not relay".into());
        };
        RelayRun::try_from(a).map_err(|e| e.to_string())
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
    fn local_sides_relay_datagrams_raw_and_keep_stdout_for_data() {
        let cfg = relay(&["udp://127.0.0.1:0", "file:capture.bin"]).unwrap();
        assert_eq!(cfg.engine.frame, Some(RelayFrame::Raw));
        let cfg = relay(&["udp://127.0.0.1:0", "exec:cat", "--frame", "line"]).unwrap();
        assert_eq!(cfg.engine.frame, Some(RelayFrame::Line));
        assert!(relay(&["-", "ws://127.0.0.1:1/", "--dump", "text"])
            .unwrap_err()
            .contains("the - side uses for its data"));
        assert!(relay(&["0", "-", "--json"]).is_err());
        let cfg = relay(&["--connect-first", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2"]).unwrap();
        assert_eq!(cfg.engine.sides, Sides::ConnectFirst);
        let cfg = relay(&["--rendezvous", "0", "0"]).unwrap();
        assert_eq!(cfg.engine.sides, Sides::ListenBoth);
        assert!(relay(&["--connect-first", "--listen-both", "0", "0"]).is_err());
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
            .contains("--max-conns"));
        assert!(relay(&["0", "x:1", "--log", "/tmp/x"])
            .unwrap_err()
            .contains("add --dump"));
        let cfg = relay(&["0", "x:1", "--dump", "hex", "--encoding", "gbk", "-t"]).unwrap();
        assert!(cfg.dump == Some(DumpFormat::Hex) && cfg.engine.dump && cfg.engine.splice);
        let cfg = relay(&["0", "x:1", "--json"]).unwrap();
        assert_eq!(cfg.dump, Some(DumpFormat::Json));
    }
}
