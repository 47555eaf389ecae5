//! `sockmate scan HOST PORTS`.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;

use crate::engine::Engine;
use crate::scan::config::ScanConfig;
use crate::scan::probe::PortState;
use crate::shutdown::Shutdown;

use clap::Args;

use super::args::parse_duration;
use crate::error::ConfigError;

/// `sockmate scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The host to probe, a name or an IP (probe only hosts you are allowed to probe).
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Ports: 22,80,8000-8100; 1024- (to 65535); -1024 (from 1); - (all, 1-65535).
    #[arg(value_name = "PORTS", allow_hyphen_values = true)]
    pub ports: String,
    /// How long to wait for each probe before calling the port filtered (TCP) or open|filtered (UDP).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, help_heading = "Limits")]
    pub timeout: Duration,
    /// Probes in flight at once (default: 1000, lowered to fit the open-file limit).
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub concurrency: Option<usize>,
    /// Show only open ports.
    #[arg(long, help_heading = "Views")]
    pub open: bool,
    /// One JSON object per port on stdout ({"host","port","proto","state"}).
    #[arg(long, help_heading = "Views")]
    pub json: bool,
    /// Probe UDP ports instead of TCP: open on a reply, closed on ICMP port unreachable, else open|filtered.
    #[arg(long, help_heading = "Endpoint and socket")]
    pub udp: bool,
    /// With --udp: the datagram to send (default: an empty datagram).
    #[arg(long, value_name = "TEXT", requires = "udp", help_heading = "Sending")]
    pub send: Option<String>,
    /// No summary line on stderr.
    #[arg(short, long, help_heading = "Views")]
    pub quiet: bool,
}

impl TryFrom<ScanArgs> for ScanConfig {
    type Error = ConfigError;

    fn try_from(args: ScanArgs) -> Result<Self, ConfigError> {
        let host = crate::scan::parse_host(&args.host).map_err(ConfigError::new)?;
        let ports = crate::scan::ports::parse_ports(&args.ports)
            .map_err(|e| ConfigError::new(e.to_string()))?;
        if args.concurrency == Some(0) {
            return Err(ConfigError::new(
                "invalid --concurrency 0 (give at least 1, e.g. --concurrency 500)".into(),
            ));
        }
        if args.timeout.is_zero() {
            return Err(ConfigError::new(
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

/// Runs the scan.
pub async fn run(cfg: ScanConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let ip = crate::transport::resolve(&cfg.host, 0).await?[0].ip();
    let proto = if cfg.udp { "udp" } else { "tcp" };
    let started = Instant::now();
    let ports = cfg.ports.clone();
    let engine = Engine::new(shutdown.clone());
    let mut rx = engine.scan(&cfg, ip);

    // Print in port order: hold results until every lower port is known.
    let mut pending: Vec<Option<PortState>> = vec![None; ports.len()];
    let mut printed = 0;
    let mut counts = [0usize; 5];
    let envelope = crate::view::json::Envelope::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let progress = Progress::start(&cfg, ports.len(), proto);
    while let Some((index, state)) = rx.recv().await {
        progress.probed(ports[index], &state);
        pending[index] = Some(state);
        while let Some(state) = pending.get_mut(printed).and_then(Option::take) {
            let port = ports[printed];
            counts[state_slot(&state)] += 1;
            if !cfg.only_open || state == PortState::Open {
                let line = if cfg.json {
                    let mut value = json!({"host": cfg.host_text, "ip": ip.to_string(), "port": port, "proto": proto, "state": state.as_str(), "peer": format!("{proto}://{}", std::net::SocketAddr::new(ip, port))});
                    if let PortState::Error(message) = &state {
                        value["error"] = json!(message);
                    }
                    envelope.line("scan_port", value).to_string()
                } else {
                    format!("{:<11} {state}", format!("{port}/{proto}"))
                };
                let written = progress.suspended(|| {
                    writeln!(out, "{line}")?;
                    match progress.shown() {
                        true => out.flush(),
                        false => Ok(()),
                    }
                });
                if written.is_err() {
                    shutdown.cancel();
                }
            }
            printed += 1;
        }
        if rx.is_empty() {
            let _ = out.flush();
        }
    }
    let _ = out.flush();
    drop(out);
    progress.finish();
    if shutdown.is_cancelled() && printed < ports.len() {
        bail!("scan interrupted after {printed} of {} ports", ports.len());
    }
    let [open, closed, filtered, open_filtered, errors] = counts;
    if cfg.json {
        let value = envelope.line(
            "scan_done",
            json!({"host": cfg.host_text, "ip": ip.to_string(), "proto": proto, "ports": ports.len(),
                "open": open, "closed": closed, "filtered": filtered, "open_filtered": open_filtered,
                "errors": errors, "duration_s": started.elapsed().as_secs_f64()}),
        );
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}").and_then(|()| out.flush());
    }
    if !cfg.quiet {
        let mut summary = format!(
            "scanned {} {proto} ports on {} in {:.2}s: {open} open, {closed} closed, {filtered} filtered",
            ports.len(),
            cfg.host_text,
            started.elapsed().as_secs_f64()
        );
        if cfg.udp {
            summary.push_str(&format!(", {open_filtered} open|filtered"));
        }
        if errors > 0 {
            summary.push_str(&format!(", {errors} errors"));
        }
        errln!("{summary}");
    }
    if open == 0 {
        bail!(
            "no open {proto} port among the {} scanned on {}",
            ports.len(),
            cfg.host_text
        );
    }
    Ok(())
}

/// The progress bar on a terminal's stderr (never with `--json` or `-q`,
/// never in a pipe): ports probed so far and the open ones as they are
/// found.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    open: std::cell::RefCell<Vec<u16>>,
}

impl Progress {
    fn start(cfg: &ScanConfig, total: usize, proto: &str) -> Self {
        use std::io::IsTerminal;
        let wanted = !cfg.json && !cfg.quiet && std::io::stderr().is_terminal();
        let bar = wanted.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let template = "{prefix} [{bar:30}] {pos}/{len} ports  {msg}";
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(format!("scanning {} {proto}", cfg.host_text));
            bar.set_message("open: none yet");
            bar
        });
        Progress {
            bar,
            open: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn shown(&self) -> bool {
        self.bar.is_some()
    }

    /// Counts a probed port (in completion order).
    fn probed(&self, port: u16, state: &PortState) {
        let Some(bar) = &self.bar else { return };
        bar.inc(1);
        if *state == PortState::Open {
            let mut open = self.open.borrow_mut();
            open.push(port);
            open.sort_unstable();
            const SHOWN: usize = 12;
            let mut list: Vec<String> = open.iter().take(SHOWN).map(u16::to_string).collect();
            if open.len() > SHOWN {
                list.push(format!("… ({} in all)", open.len()));
            }
            bar.set_message(format!("open: {}", list.join(", ")));
        }
    }

    /// Runs `write` with the bar taken off the screen.
    fn suspended<T>(&self, write: impl FnOnce() -> T) -> T {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn state_slot(state: &PortState) -> usize {
    match state {
        PortState::Open => 0,
        PortState::Closed => 1,
        PortState::Filtered => 2,
        PortState::OpenFiltered => 3,
        PortState::Error(_) => 4,
    }
}
