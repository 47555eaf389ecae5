//! `sockmate listen ENDPOINT`: a server. One client like `nc -l` by default;
//! with `-k`, many at once, stdin lines broadcast to all of them; services
//! and limits from the flags in [`crate::cli::serve_args`].

use std::time::Duration;

use clap::Args;

use crate::cli::args::LineMode;
use crate::cli::args::{parse_duration, CommonArgs, SendArgs, ViewArgs};
use crate::cli::end_args::EndArgs;
use crate::cli::explain::{ExplainArgs, Role};
use crate::cli::output;
use crate::cli::proxy_serve_args::ProxyServeArgs;
use crate::cli::serve_args::ServiceArgs;
use crate::cli::stdin::{listen_input, session_input, stdin_is_terminal};
use crate::cli::stdin_reader::STDIN_CHUNK;
use crate::endpoint::Endpoint;
use crate::engine::{Engine, InputFactory, ListenConfig};
use crate::error::ConfigError;
use crate::session::{SessionConfig, MAX_DATAGRAM};
use crate::shutdown::Shutdown;
use crate::transport::SocketOptions;
use crate::ui::CliUi;
use crate::view::dump::DumpFormat;
use crate::view::ViewOptions;

/// `sockmate listen`.
#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub struct ListenArgs {
    /// Where to listen: PORT (= tcp://127.0.0.1:PORT), HOST:PORT, tcp://…, udp://…, unix:///path, unix-dgram:///path, unix-seqpacket:///path, unix://@abstract. Port 0 picks a free port.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// Keep listening after a client leaves and serve many clients at once.
    #[arg(short = 'k', long, help_heading = "Endpoint and socket")]
    pub keep_open: bool,
    /// Set SO_REUSEPORT so several processes can share the port.
    #[arg(long, help_heading = "Endpoint and socket")]
    pub reuseport: bool,
    /// Length of the kernel's queue of connections waiting to be accepted [default: 1024].
    #[arg(long, value_name = "N", help_heading = "Endpoint and socket")]
    pub backlog: Option<u32>,
    /// After stdin ends, end the session this long after the last byte instead of waiting for the client to close.
    #[arg(short, long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Limits")]
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
    /// Proxy server settings (`--serve socks5|http-proxy`).
    #[command(flatten)]
    pub proxy_serve: ProxyServeArgs,
    /// The browser UI.
    #[command(flatten)]
    pub ui: crate::cli::ui_cmd::UiFlag,
    /// When the session ends (nc's EOF switches).
    #[command(flatten)]
    pub end: EndArgs,
    /// Saved settings and packets.
    #[command(flatten)]
    pub profile: crate::cli::profile::ProfileArgs,
    /// `--explain`, `--lang`.
    #[command(flatten)]
    pub explain: ExplainArgs,
}

/// A validated `listen`: the engine's config and the terminal's side
/// (views, how stdin becomes messages).
#[derive(Debug, Clone)]
pub struct ListenRun {
    /// What the engine does.
    pub engine: ListenConfig,
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
    /// For a proxy server (`--serve socks5|http-proxy`): its sinks are a
    /// relay's, and this is its `--dump` (`Some(None)`: no dump).
    pub proxy_dump: Option<Option<DumpFormat>>,
}

impl TryFrom<ListenArgs> for ListenRun {
    type Error = ConfigError;

    fn try_from(args: ListenArgs) -> Result<Self, ConfigError> {
        let endpoint = Endpoint::parse_listen(&args.endpoint)?;
        crate::cli::zone::require_zone(&endpoint)?;
        let view = args.view.options(args.common.verbosity(true))?;
        let time_format = args.service.time_format.clone();
        let dump = DumpFormat::chosen(args.proxy_serve.dump.as_deref(), &view)
            .map_err(ConfigError::new)?;
        let service_flags = args.service.clone();
        let (mut service, admission) =
            args.service
                .into_config(&endpoint, args.common.idle_timeout, view.text_encoding())?;
        args.proxy_serve.apply(
            service.as_mut(),
            &service_flags,
            &endpoint,
            &admission,
            dump,
            view.pcap.is_some(),
        )?;
        let proxy_dump = service
            .as_ref()
            .and_then(|s| s.proxy.as_ref())
            .map(|_| dump);
        if args.backlog == Some(0) {
            return Err(ConfigError::new(
                "invalid --backlog 0 (give at least 1, e.g. --backlog 128)".into(),
            ));
        }
        let (mut sends, mut lines) = args.send.plan(view.text_encoding(), &time_format)?;
        lines.delay = args.end.delay;
        sends.gap = args.end.delay;
        let lines = args.common.ws.line_mode(lines);
        if args.end.recv_only && sends.has_sends() {
            return Err(ConfigError::new(
                "--recv-only sends nothing: drop it or the --send* flags".into(),
            ));
        }
        if args.reuseport && !crate::sys::unsupported::REUSEPORT {
            return Err(ConfigError::new(crate::sys::unsupported::refusal(
                "--reuseport",
                "run one listener per port",
            )));
        }
        let mut session = SessionConfig {
            wait: args.wait,
            idle_timeout: args.common.idle_timeout,
            end_on_peer_eof: stdin_is_terminal(),
            ..SessionConfig::default()
        };
        args.end.apply(&mut session)?;
        let mut view = view;
        view.hide_received = args.end.send_only;
        view.sent_as_hex = args.send.binary_sends();
        view.end_messages_on_terminal(endpoint.kind());
        Ok(ListenRun {
            engine: ListenConfig {
                endpoint,
                socket: SocketOptions {
                    reuseport: args.reuseport,
                    backlog: args.backlog,
                    ..args.common.socket_options()
                },
                session,
                // A proxy serves client after client, as with -k.
                keep_open: args.keep_open || proxy_dump.is_some(),
                sends,
                service,
                admission,
            },
            view,
            lines,
            ui: args.ui.ui,
            recv_only: args.end.recv_only,
            explain: args.explain,
            proxy_dump,
        })
    }
}

/// Binds, announces the real address, and serves until done or stopped.
pub async fn run(cfg: ListenRun, shutdown: Shutdown) -> anyhow::Result<()> {
    let datagram = !cfg.engine.endpoint.kind().is_connection_oriented();
    let single = !cfg.engine.keep_open && !datagram;
    let engine = Engine::new(shutdown);
    let narration = cfg.explain.sink(
        Role::Listen {
            backlog: cfg.engine.socket.backlog,
            reuseport: cfg.engine.socket.reuseport,
        },
        &cfg.engine.socket,
    );
    let sinks = match cfg.proxy_dump {
        Some(dump) => output::start_dump(&cfg.view, dump, &engine, narration)?,
        None => output::start_with(&cfg.view, single, &engine, narration)?,
    };
    let input = if cfg.engine.service.is_some() || cfg.recv_only {
        InputFactory::Nothing
    } else if datagram {
        InputFactory::first(session_input(
            &cfg.engine.sends,
            cfg.lines,
            MAX_DATAGRAM - 29,
            Some(sinks.slot()),
        ))
    } else {
        listen_input(
            &cfg.engine.sends,
            cfg.lines,
            cfg.engine.keep_open,
            STDIN_CHUNK,
            Some(sinks.slot()),
        )
    };
    let endpoint = cfg.engine.endpoint.clone();
    let page = match cfg.ui {
        true => Some(
            CliUi::start(
                &engine,
                crate::ui::Kind::Server,
                &endpoint.to_string(),
                "",
                cfg.view.text_encoding(),
            )
            .await?,
        ),
        false => None,
    };
    let started = engine.listen(cfg.engine, input).await;
    if let Err(crate::engine::StartError::Net(e)) = &started {
        cfg.explain.failure(&endpoint, false, e);
    }
    if let Ok(handle) = &started {
        output::loopback_hint(handle.local_addr());
        if let Some(page) = &page {
            page.started(handle, &endpoint.to_string());
        }
    }
    output::finish(engine, sinks, started).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn listen_bare_port_is_loopback() {
        let cli = Cli::try_parse_from(["sockmate", "listen", "9999", "-k"]).unwrap();
        let Command::Listen(args) = cli.command else {
            panic!()
        };
        let cfg = ListenRun::try_from(args).unwrap().engine;
        assert_eq!(cfg.endpoint.to_string(), "tcp://127.0.0.1:9999");
        assert!(cfg.keep_open);
    }
}
