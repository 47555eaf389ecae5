//! `sockmate ping HOST`: ICMP echo over an unprivileged datagram socket or
//! a raw one, printed as ping(8) prints it (or as JSON events), with
//! `--explain` narrating the socket calls.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Args;
use serde_json::{json, Value};

use crate::cli::args::parse_duration;
use crate::cli::explain::ExplainArgs;
use crate::cli::ping_explain;
use crate::endpoint::icmp::parse_icmp_host;
use crate::error::ConfigError;
use crate::ping::config::{MAX_SIZE, MIN_INTERVAL};
use crate::ping::packet::{ICMP_HEADER, IPV4_HEADER};
use crate::ping::run::PingEvent;
use crate::ping::stats::{format_rtt, Stats};
use crate::ping::{raw_ident, IcmpKind, IcmpSocket, PingConfig};
use crate::shutdown::Shutdown;

/// `sockmate ping`.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// The host to ping: an IP (127.0.0.1, ::1) or a name, or icmp://HOST.
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Send this many echo requests, then print the summary (default: until Ctrl-C).
    #[arg(short, long, value_name = "N", help_heading = "Sending")]
    pub count: Option<u64>,
    /// Time between requests (at least 2ms).
    #[arg(short, long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, help_heading = "Sending")]
    pub interval: Duration,
    /// Payload bytes per request (ping's 56 makes 64 bytes of ICMP).
    #[arg(short, long, value_name = "BYTES", default_value_t = crate::ping::config::DEFAULT_SIZE, help_heading = "Sending")]
    pub size: usize,
    /// How long to wait for each reply before it counts as lost.
    #[arg(short = 'W', long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, help_heading = "Limits")]
    pub timeout: Duration,
    /// Use IPv4 only (for a name).
    #[arg(
        short = '4',
        conflicts_with = "ipv6",
        help_heading = "Endpoint and socket"
    )]
    pub ipv4: bool,
    /// Use IPv6 only (for a name).
    #[arg(short = '6', help_heading = "Endpoint and socket")]
    pub ipv6: bool,
    /// Only this kind of ICMP socket: dgram (unprivileged, where net.ipv4.ping_group_range allows) or raw (root or CAP_NET_RAW); default: dgram, else raw.
    #[arg(long, value_name = "TYPE", value_parser = parse_socket_type, help_heading = "Endpoint and socket")]
    pub socket_type: Option<IcmpKind>,
    /// One JSON object per event on stdout (ping_start, ping_reply, ping_timeout, ping_summary).
    #[arg(long, help_heading = "Views")]
    pub json: bool,
    /// Only the start line and the summary, no line per reply.
    #[arg(short, long, help_heading = "Views")]
    pub quiet: bool,
    /// `--explain`, `--lang`.
    #[command(flatten)]
    pub explain: ExplainArgs,
}

fn parse_socket_type(text: &str) -> Result<IcmpKind, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "dgram" | "datagram" | "sock_dgram" => Ok(IcmpKind::Datagram),
        "raw" | "sock_raw" => Ok(IcmpKind::Raw),
        _ => Err(format!(
            "invalid --socket-type \"{text}\" (give dgram or raw, e.g. --socket-type raw)"
        )),
    }
}

/// A validated `ping` with how to show it.
#[derive(Debug, Clone)]
pub struct PingRun {
    /// What to do.
    pub ping: PingConfig,
    /// JSON events instead of ping(8)'s lines.
    pub json: bool,
    /// No line per reply.
    pub quiet: bool,
    /// `--explain`, `--lang`.
    pub explain: ExplainArgs,
}

impl TryFrom<PingArgs> for PingRun {
    type Error = ConfigError;

    fn try_from(args: PingArgs) -> Result<Self, ConfigError> {
        if !crate::sys::unsupported::ICMP_SOCKETS {
            return Err(ConfigError::new(crate::sys::unsupported::refusal(
                "sockmate ping",
                "Windows has no unprivileged ICMP sockets and sockmate does not use its IcmpSendEcho2 API yet; use Windows' own ping",
            )));
        }
        let host = parse_icmp_host(&args.host).map_err(|e| ConfigError::new(e.to_string()))?;
        if args.count == Some(0) {
            return Err(ConfigError::new(
                "invalid --count 0 (give at least 1, or leave --count out to ping until Ctrl-C)"
                    .into(),
            ));
        }
        if args.interval < MIN_INTERVAL {
            return Err(ConfigError::new(format!(
                "invalid --interval {} (give at least 2ms, e.g. --interval 200ms)",
                humantime::format_duration(args.interval)
            )));
        }
        if args.size > MAX_SIZE {
            return Err(ConfigError::new(format!(
                "invalid --size {} (give 0 to {MAX_SIZE} bytes: what fits in one IP packet)",
                args.size
            )));
        }
        if args.timeout.is_zero() {
            return Err(ConfigError::new(
                "invalid --timeout 0 (give e.g. --timeout 500ms)".into(),
            ));
        }
        let mut ping = PingConfig::new(host, display_host(args.host.trim()));
        ping.count = args.count.unwrap_or(0);
        ping.interval = args.interval;
        ping.size = args.size;
        ping.timeout = args.timeout;
        ping.ipv6 = match (args.ipv4, args.ipv6) {
            (true, _) => Some(false),
            (_, true) => Some(true),
            _ => None,
        };
        ping.socket_type = args.socket_type;
        Ok(PingRun {
            ping,
            json: args.json,
            quiet: args.quiet,
            explain: args.explain,
        })
    }
}

/// The host as ping(8) names it: without `icmp://`, brackets or a
/// trailing slash.
fn display_host(text: &str) -> String {
    let text = match text.split_once("://") {
        Some((_, rest)) => rest,
        None => text,
    };
    let text = text.strip_suffix('/').unwrap_or(text);
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text)
        .to_string()
}

/// Resolves the host to one address of the wanted family.
async fn resolve(cfg: &PingConfig) -> anyhow::Result<SocketAddr> {
    let addrs = crate::transport::resolve(&cfg.host, 0).await?;
    let wanted = |a: &&SocketAddr| cfg.ipv6.is_none_or(|v6| a.is_ipv6() == v6);
    match addrs.iter().find(wanted) {
        Some(addr) => Ok(*addr),
        None => bail!(
            "{} has no IPv{} address (drop -{} or give an address)",
            cfg.host_text,
            if cfg.ipv6 == Some(true) { 6 } else { 4 },
            if cfg.ipv6 == Some(true) { 6 } else { 4 },
        ),
    }
}

/// Runs the ping and prints it.
pub async fn run(cfg: PingRun, shutdown: Shutdown) -> anyhow::Result<()> {
    let to = resolve(&cfg.ping).await?;
    let v6 = to.is_ipv6();
    let mut explainer = ping_explain::on_stderr(cfg.explain.explain, cfg.explain.lang, v6, to);
    let socket = match IcmpSocket::open(v6, cfg.ping.socket_type, raw_ident(0)) {
        Ok(socket) => socket,
        Err(e) => {
            if let Some(x) = explainer.as_mut() {
                x.failed(&e);
            }
            return Err(e.into());
        }
    };
    if let (Some(x), Some(why)) = (explainer.as_mut(), socket.fell_back_from()) {
        x.fell_back(why);
    }
    if let Some(x) = explainer.as_mut() {
        x.opened(socket.kind(), socket.ident());
    }
    let mut out = Output::new(&cfg, to, &socket);
    out.start();
    let started = tokio::time::Instant::now();
    let stop = shutdown.token().clone();
    let engine = crate::engine::Engine::new(shutdown);
    let stats = engine
        .ping(&cfg.ping, &socket, to, |event| {
            if let Some(x) = explainer.as_mut() {
                match event {
                    PingEvent::Sent { seq, bytes } => x.sent(*seq, *bytes),
                    PingEvent::Reply { seq, bytes, .. } => x.reply(*seq, *bytes),
                    _ => {}
                }
            }
            out.event(event);
        })
        .await;
    if let Some(x) = explainer.as_mut() {
        x.close();
    }
    out.summary(&stats, started.elapsed());
    out.flush()?;
    if stats.received == 0 && !stop.is_cancelled() {
        bail!("no reply from {}", cfg.ping.host_text);
    }
    Ok(())
}

/// A number rounded to three decimals (microseconds of a time in
/// milliseconds), so JSON shows `0.149`, not `0.14863300000000002`.
fn ms(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// What stdout shows: ping(8)'s lines or JSON events.
struct Output {
    out: std::io::BufWriter<std::io::Stdout>,
    json: bool,
    quiet: bool,
    host: String,
    to: SocketAddr,
    size: usize,
    kind: IcmpKind,
    ident: u16,
    broken: bool,
    envelope: crate::view::json::Envelope,
}

impl Output {
    fn new(cfg: &PingRun, to: SocketAddr, socket: &IcmpSocket) -> Self {
        Output {
            out: std::io::BufWriter::new(std::io::stdout()),
            json: cfg.json,
            quiet: cfg.quiet,
            host: cfg.ping.host_text.clone(),
            to,
            size: cfg.ping.size,
            kind: socket.kind(),
            ident: socket.ident(),
            broken: false,
            envelope: crate::view::json::Envelope::new(),
        }
    }

    fn line(&mut self, text: &str) {
        if self.broken {
            return;
        }
        let written = writeln!(self.out, "{text}").and_then(|()| self.out.flush());
        // A reader that went away (`| head`) ends the output, not the ping.
        if written.is_err() {
            self.broken = true;
        }
    }

    fn json_line(&mut self, kind: &str, value: Value) {
        let value = self.envelope.line(kind, value);
        self.line(&value.to_string());
    }

    fn start(&mut self) {
        let ip = self.to.ip();
        if self.json {
            let value = json!({
                "host": self.host,
                "ip": ip.to_string(),
                "socket": self.kind.as_str(),
                "ident": self.ident,
                "size": self.size,
            });
            self.json_line("ping_start", value);
            return;
        }
        let text = match ip {
            std::net::IpAddr::V4(_) => format!(
                "PING {} ({ip}) {}({}) bytes of data.",
                self.host,
                self.size,
                self.size + ICMP_HEADER + IPV4_HEADER
            ),
            std::net::IpAddr::V6(_) => {
                format!("PING {} ({ip}) {} data bytes", self.host, self.size)
            }
        };
        self.line(&text);
    }

    fn event(&mut self, event: &PingEvent) {
        match event {
            PingEvent::Sent { .. } => {}
            PingEvent::Reply {
                seq,
                bytes,
                from,
                ttl,
                rtt,
                duplicate,
            } => {
                if self.json {
                    let mut value = json!({
                        "seq": seq,
                        "bytes": bytes,
                        "from": from.to_string(),
                        "rtt_ms": ms(rtt.as_secs_f64() * 1000.0),
                        "dup": duplicate,
                    });
                    if let Some(ttl) = ttl {
                        value["ttl"] = json!(ttl);
                    }
                    self.json_line("ping_reply", value);
                } else if !self.quiet {
                    let ttl = ttl.map(|t| format!(" ttl={t}")).unwrap_or_default();
                    let dup = if *duplicate { " (DUP!)" } else { "" };
                    let line = format!(
                        "{bytes} bytes from {from}: icmp_seq={seq}{ttl} time={} ms{dup}",
                        format_rtt(*rtt)
                    );
                    self.line(&line);
                }
            }
            PingEvent::Timeout { seq } => {
                if self.json {
                    self.json_line("ping_timeout", json!({ "seq": seq }));
                } else if !self.quiet {
                    self.line(&format!("no answer yet for icmp_seq={seq}"));
                }
            }
            PingEvent::ReceiveFailed { error } => {
                if self.json {
                    let value = json!({ "message": format!("recvmsg: {error}") });
                    self.json_line("error", value);
                } else {
                    errln!("receiving failed, stopping: {error}");
                }
            }
            PingEvent::SendFailed { seq, error } => {
                if self.json {
                    let value = json!({ "seq": seq, "message": format!("sendto: {error}") });
                    self.json_line("error", value);
                } else {
                    errln!("sendto failed for icmp_seq={seq}: {error}");
                }
            }
        }
    }

    fn summary(&mut self, stats: &Stats, elapsed: Duration) {
        if self.json {
            let mut value = json!({
                "host": self.host,
                "transmitted": stats.transmitted,
                "received": stats.received,
                "duplicates": stats.duplicates,
                "errors": stats.errors,
                "loss_percent": ms(stats.loss_percent()),
                "duration_s": ms(elapsed.as_secs_f64()),
            });
            if let Some(rtt) = stats.rtt() {
                value["rtt_min_ms"] = json!(ms(rtt.min_ms));
                value["rtt_avg_ms"] = json!(ms(rtt.avg_ms));
                value["rtt_max_ms"] = json!(ms(rtt.max_ms));
                value["rtt_mdev_ms"] = json!(ms(rtt.mdev_ms));
            }
            self.json_line("ping_summary", value);
            return;
        }
        self.line("");
        self.line(&format!("--- {} ping statistics ---", self.host));
        for line in stats.lines(elapsed) {
            self.line(&line);
        }
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.broken {
            return Ok(());
        }
        self.out.flush().context("cannot write to stdout")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn ping(args: &[&str]) -> Result<PingRun, String> {
        let mut all = vec!["sockmate", "ping"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| e.to_string())?;
        let Command::Ping(a) = cli.command else {
            return Err("not ping".into());
        };
        PingRun::try_from(a).map_err(|e| e.to_string())
    }

    #[test]
    fn flags_defaults_and_bounds() {
        let run = ping(&["icmp://[::1]/"]).unwrap();
        assert_eq!(run.ping.host_text, "::1");
        assert_eq!((run.ping.count, run.ping.size), (0, 56));
        assert_eq!(run.ping.interval, Duration::from_secs(1));
        let run = ping(&[
            "127.0.0.1",
            "-c",
            "3",
            "-i",
            "200ms",
            "-s",
            "0",
            "--socket-type",
            "raw",
            "-4",
        ])
        .unwrap();
        assert_eq!((run.ping.count, run.ping.size), (3, 0));
        assert_eq!(
            (run.ping.socket_type, run.ping.ipv6),
            (Some(IcmpKind::Raw), Some(false))
        );
        assert!(ping(&["127.0.0.1", "-c", "0"])
            .unwrap_err()
            .contains("--count 0"));
        assert!(ping(&["127.0.0.1", "-i", "1ms"])
            .unwrap_err()
            .contains("at least 2ms"));
        assert!(ping(&["127.0.0.1", "-s", "70000"])
            .unwrap_err()
            .contains("--size 70000"));
        assert!(ping(&["127.0.0.1:80"]).unwrap_err().contains("no ports"));
        assert!(ping(&["x", "--socket-type", "stream"])
            .unwrap_err()
            .contains("dgram or raw"));
    }
}
