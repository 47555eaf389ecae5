//! `sockmate scan HOST PORTS`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;

use crate::encoding::TextEncoding;
use crate::engine::Engine;
use crate::event::bus::Sink;
use crate::event::{Event, EventKind, ScanPort, ScanTotals};
use crate::scan::config::ScanConfig;
use crate::shutdown::Shutdown;
use crate::view::json::JsonLines;

use clap::Args;

use crate::cli::args::parse_duration;
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

/// Runs the scan on an engine and shows its events: a line per port (or
/// JSON lines), then the summary on stderr.
pub async fn run(cfg: ScanConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let proto = if cfg.udp { "udp" } else { "tcp" };
    let total = cfg.ports.len();
    let host_text = cfg.host_text.clone();
    let (quiet, udp) = (cfg.quiet, cfg.udp);
    let engine = Engine::new(shutdown.clone());
    let totals = Arc::new(Mutex::new(None));
    let sink: Box<dyn Sink> = match cfg.json {
        true => Box::new(JsonLines::new(
            std::io::BufWriter::new(std::io::stdout()),
            TextEncoding::default(),
        )),
        false => Box::new(ScanLines {
            out: std::io::BufWriter::new(std::io::stdout()),
            progress: Progress::start(&cfg, total, proto),
            ports: cfg.ports.clone(),
        }),
    };
    let keeper: Box<dyn Sink> = Box::new(KeepTotals(Arc::clone(&totals)));
    let sinks = engine.attach(vec![sink, keeper])?;
    let started = engine.scan(cfg).await;
    let result = match started {
        Ok(handle) => handle.finished().await.map_err(anyhow::Error::new),
        Err(e) => Err(anyhow::Error::new(e)),
    };
    drop(engine);
    sinks.join().await;
    result?;
    let Some(totals) = totals.lock().ok().and_then(|mut t| t.take()) else {
        bail!("scan interrupted before all {total} ports were probed");
    };
    if !quiet {
        let mut summary = format!(
            "scanned {total} {proto} ports on {host_text} in {:.2}s: {} open, {} closed, {} filtered",
            totals.duration_s, totals.open, totals.closed, totals.filtered
        );
        if udp {
            summary.push_str(&format!(", {} open|filtered", totals.open_filtered));
        }
        if totals.errors > 0 {
            summary.push_str(&format!(", {} errors", totals.errors));
        }
        errln!("{summary}");
    }
    if totals.open == 0 {
        bail!("no open {proto} port among the {total} scanned on {host_text}");
    }
    Ok(())
}

/// The text view of a scan: `22/tcp      open`, one line per reported
/// port, with the progress bar on a terminal.
struct ScanLines<W: Write + Send> {
    out: W,
    progress: Progress,
    ports: Vec<u16>,
}

impl<W: Write + Send> Sink for ScanLines<W> {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        match &event.kind {
            EventKind::ScanPort(result) => {
                let done = self.ports.partition_point(|p| *p <= result.port);
                self.progress.reached(done, result);
                let line = format!(
                    "{:<11} {}",
                    format!("{}/{}", result.port, result.proto),
                    result.state
                );
                let out = &mut self.out;
                let shown = self.progress.shown();
                self.progress.suspended(|| {
                    writeln!(out, "{line}")?;
                    if shown {
                        out.flush()?;
                    }
                    Ok(())
                })
            }
            EventKind::ScanDone(_) => {
                self.progress.finish();
                self.out.flush()
            }
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.progress.finish();
        self.out.flush()
    }
}

/// Keeps the totals of the scan for the summary and the exit status.
struct KeepTotals(Arc<Mutex<Option<ScanTotals>>>);

impl Sink for KeepTotals {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        if let (EventKind::ScanDone(totals), Ok(mut kept)) = (&event.kind, self.0.lock()) {
            *kept = Some(totals.as_ref().clone());
        }
        Ok(())
    }
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

    /// The ports up to `done` (of all) are known; `result` is the last.
    fn reached(&self, done: usize, result: &ScanPort) {
        let Some(bar) = &self.bar else { return };
        bar.set_position(done as u64);
        if result.state == "open" {
            let mut open = self.open.borrow_mut();
            open.push(result.port);
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
