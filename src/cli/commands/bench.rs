//! `sockmate bench ENDPOINT` and `sockmate bench merge A.json B.json…`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cli::args::{parse_duration, ProxyArgs};
use anyhow::Context as _;

use crate::bench::html::Run;
use crate::bench::Report;
use crate::bench::{BenchConfig, Mode as BenchMode, RunConfig as BenchRunConfig, Target};
use crate::cli::bench_view::{KeepReport, LiveLine, ReportJson};
use crate::endpoint::Endpoint;
use crate::engine::Engine;
use crate::error::ConfigError;
use crate::event::bus::Sink;
use crate::relay::framing::MAX_RELAY_FRAME;
use crate::shutdown::Shutdown;
use crate::transport::SocketOptions;

/// Most connections `bench` opens (one process holds at most `ulimit -n`
/// sockets).
pub const MAX_BENCH_CONNECTIONS: usize = 16_384;

/// Largest `bench --size` on a stream.
pub const MAX_BENCH_SIZE: usize = 16 * 1024 * 1024;

/// Most requests in flight per connection (`bench --pipeline`).
pub const MAX_BENCH_PIPELINE: usize = 4096;

/// `sockmate bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The endpoint to drive (an echo service for --mode echo): tcp://HOST:PORT (or HOST:PORT), udp://…, unix:///path, …; or `merge` followed by --json report files.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: String,
    /// With `merge`: the report files to add up.
    #[arg(value_name = "REPORT")]
    pub reports: Vec<std::path::PathBuf>,
    /// echo (request/response), send (one-way bulk) or connect (connections per second).
    #[arg(
        short,
        long,
        value_name = "MODE",
        default_value = "echo",
        help_heading = "Sending"
    )]
    pub mode: String,
    /// Connections used at once (connect mode: parallel connectors).
    #[arg(
        short,
        long,
        value_name = "N",
        default_value_t = 1,
        help_heading = "Limits"
    )]
    pub connections: usize,
    /// Total run time, warmup included; the run never goes beyond it.
    #[arg(short, long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration, help_heading = "Limits")]
    pub duration: Duration,
    /// Time at the start that is run but not measured.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration, help_heading = "Limits")]
    pub warmup: Duration,
    /// Message size in bytes (default 64 for echo, 131072 for send, like iperf3).
    #[arg(short, long, value_name = "BYTES", help_heading = "Sending")]
    pub size: Option<usize>,
    /// Open loop: send this many messages per second in total, on schedule; latency counts from the scheduled time.
    #[arg(short, long, value_name = "MSGS/S", help_heading = "Sending")]
    pub rate: Option<f64>,
    /// Closed loop: requests in flight per connection.
    #[arg(
        short,
        long,
        value_name = "K",
        default_value_t = 1,
        help_heading = "Sending"
    )]
    pub pipeline: usize,
    /// Print one JSON object (mergeable with `bench merge`) instead of the table.
    #[arg(long, help_heading = "Views")]
    pub json: bool,
    /// Also write an HTML page with charts; one self-contained file (nothing loaded from the network) with the figures, the parameters, the latency percentile curve and histogram, and throughput and errors per second. With `merge`, of the merged runs (or of each run, with --compare).
    #[arg(long, value_name = "FILE.html", help_heading = "Views")]
    pub report: Option<std::path::PathBuf>,
    /// With `merge --report`: draw the runs side by side in the page (one colour each, up to 6) instead of adding them up.
    #[arg(long, visible_alias = "overlay", help_heading = "Views")]
    pub compare: bool,
    /// Give up connecting after this long.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration, help_heading = "Limits")]
    pub connect_timeout: Duration,
    /// TLS (`tls://`, `wss://`).
    #[command(flatten)]
    pub tls: crate::cli::tls_args::TlsArgs,
    /// WebSocket (`ws://`, `wss://`).
    #[command(flatten)]
    pub ws: crate::cli::tls_args::WsArgs,
    /// `--proxy`.
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

impl TryFrom<BenchArgs> for BenchConfig {
    type Error = ConfigError;

    fn try_from(args: BenchArgs) -> Result<Self, ConfigError> {
        let invalid = |m: String| Err(ConfigError::new(m));
        if args.endpoint == "merge" {
            if args.reports.is_empty() {
                return invalid(
                    "bench merge needs report files, e.g. sockmate bench merge a.json b.json"
                        .into(),
                );
            }
            if args.compare {
                if args.report.is_none() {
                    return invalid(
                        "--compare draws the runs in a page: add --report FILE.html, e.g. sockmate bench merge --compare a.json b.json --report cmp.html"
                            .into(),
                    );
                }
                if !(2..=crate::bench::html::MAX_RUNS).contains(&args.reports.len()) {
                    return invalid(format!(
                        "--compare takes 2 to {} reports, not {}",
                        crate::bench::html::MAX_RUNS,
                        args.reports.len()
                    ));
                }
            }
            return Ok(BenchConfig::Merge {
                files: args.reports,
                json: args.json,
                report: args.report,
                compare: args.compare,
            });
        }
        if args.compare {
            return invalid(
                "--compare is for saved reports: sockmate bench merge --compare a.json b.json --report cmp.html"
                    .into(),
            );
        }
        if let Some(extra) = args.reports.first() {
            return invalid(format!(
                "unexpected argument \"{}\" (bench takes one ENDPOINT; to merge reports write: sockmate bench merge a.json b.json)",
                extra.display()
            ));
        }
        let icmp = crate::endpoint::icmp::is_icmp(&args.endpoint);
        let mode: BenchMode = args.mode.parse().map_err(ConfigError::new)?;
        let target = if icmp {
            if !crate::sys::unsupported::ICMP_SOCKETS {
                return invalid(crate::sys::unsupported::refusal(
                    "bench icmp://",
                    "Windows has no unprivileged ICMP sockets and sockmate does not use its IcmpSendEcho2 API yet",
                ));
            }
            if mode != BenchMode::Echo {
                return invalid(format!(
                    "--mode {} does not apply to icmp:// (ICMP only echoes: leave --mode out, or use udp:// or tcp:// for {})",
                    mode.as_str(),
                    mode.as_str()
                ));
            }
            if args.proxy.proxy()?.is_some() {
                return invalid(
                    "--proxy does not apply to icmp:// (a proxy relays TCP, not ICMP)".into(),
                );
            }
            let host = crate::endpoint::icmp::parse_icmp_host(&args.endpoint)
                .map_err(|e| ConfigError::new(e.to_string()))?;
            Target::Icmp(host)
        } else {
            Target::Endpoint(args.endpoint.parse::<Endpoint>()?)
        };
        let (scheme, datagram, connection_oriented) = match &target {
            Target::Endpoint(endpoint) => (
                endpoint.kind().scheme(),
                !endpoint.kind().is_connection_oriented(),
                endpoint.kind().is_connection_oriented(),
            ),
            Target::Icmp(_) => (crate::endpoint::icmp::SCHEME, true, false),
        };
        if args.connections == 0 || args.connections > MAX_BENCH_CONNECTIONS {
            return invalid(format!(
                "invalid --connections {} (give 1 to {MAX_BENCH_CONNECTIONS}, e.g. --connections 4)",
                args.connections
            ));
        }
        if args.duration.is_zero() {
            return invalid(
                "invalid --duration 0 (give a positive time, e.g. --duration 10s)".into(),
            );
        }
        if args.warmup >= args.duration {
            return invalid(format!(
                "--warmup {} leaves nothing to measure in --duration {} (the duration includes the warmup)",
                humantime::format_duration(args.warmup),
                humantime::format_duration(args.duration)
            ));
        }
        if args.pipeline == 0 || args.pipeline > MAX_BENCH_PIPELINE {
            return invalid(format!(
                "invalid --pipeline {} (give 1 to {MAX_BENCH_PIPELINE})",
                args.pipeline
            ));
        }
        if let Some(rate) = args.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return invalid(format!(
                    "invalid --rate {rate} (give messages per second, e.g. --rate 1000)"
                ));
            }
        }
        let size = args
            .size
            .unwrap_or(if mode == BenchMode::Send && !datagram {
                131_072
            } else {
                64
            });
        let max = if icmp {
            crate::ping::config::MAX_SIZE
        } else if datagram {
            MAX_RELAY_FRAME
        } else {
            MAX_BENCH_SIZE
        };
        let min = if datagram && mode == BenchMode::Echo {
            crate::bench::datagram::SEQ_BYTES
        } else {
            1
        };
        if mode != BenchMode::Connect && !(min..=max).contains(&size) {
            return invalid(format!(
                "invalid --size {size} (give {min} to {max} bytes for {}{})",
                scheme,
                if min > 1 {
                    ": each datagram carries an 8-byte sequence number"
                } else {
                    ""
                }
            ));
        }
        if mode == BenchMode::Connect && !connection_oriented {
            return invalid(format!(
                "--mode connect needs a connection-oriented endpoint (tcp://, unix://), not {scheme}",
            ));
        }
        Ok(BenchConfig::Run(Box::new(BenchRunConfig {
            target,
            mode,
            connections: args.connections,
            duration: args.duration,
            warmup: args.warmup,
            size,
            rate: args.rate,
            pipeline: args.pipeline,
            socket: SocketOptions {
                connect_timeout: Some(args.connect_timeout),
                nodelay: true,
                tls: std::sync::Arc::new(args.tls.options()),
                ws: std::sync::Arc::new(args.ws.options()),
                proxy: args.proxy.proxy()?,
                ..SocketOptions::default()
            },
            json: args.json,
            report: args.report,
            // The live line: on a terminal, never with --json.
            live: (!args.json && std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .then(Default::default),
        })))
    }
}

/// Runs the bench (or the merge) and prints the report.
pub async fn run(cfg: BenchConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    match cfg {
        BenchConfig::Merge {
            files,
            json,
            report,
            compare,
        } => {
            let reports = crate::bench::read_reports(&files)?;
            let page = open_report(report)?;
            if compare {
                for (file, r) in files.iter().zip(&reports) {
                    if !json {
                        print_text(&format!("{}:\n", file.display()))?;
                    }
                    print(r, json)?;
                }
                let runs: Vec<Run<'_>> = labels(&files)
                    .into_iter()
                    .zip(&reports)
                    .map(|(label, report)| Run { label, report })
                    .collect();
                return write_page(page, &runs);
            }
            let merged = Report::merge(&reports)?;
            print(&merged, json)?;
            let label = if merged.sources > 1 {
                format!("merged ({} runs)", merged.sources)
            } else {
                "run".into()
            };
            write_page(
                page,
                &[Run {
                    label,
                    report: &merged,
                }],
            )
        }
        BenchConfig::Run(cfg) => {
            // A path that cannot be written is refused before the run.
            let page = open_report(cfg.report.clone())?;
            let json = cfg.json;
            let kept = KeepReport::default();
            let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(kept.clone())];
            if cfg.live.is_some() {
                sinks.push(Box::new(LiveLine));
            }
            if json {
                sinks.push(Box::new(ReportJson::default()));
            }
            let engine = Engine::new(shutdown);
            let sink_thread = engine.attach(sinks)?;
            let result = match engine.bench(*cfg).await {
                Ok(handle) => handle.finished().await.map_err(anyhow::Error::from),
                Err(e) => Err(e.into()),
            };
            drop(engine);
            sink_thread.join().await;
            result?;
            let report = kept.0.lock().ok().and_then(|mut r| r.take());
            let report = report.context("the bench ended without a report")?;
            if !json {
                print(&report, false)?;
            }
            write_page(
                page,
                &[Run {
                    label: "run".into(),
                    report: &report,
                }],
            )
        }
    }
}

/// The names of compared runs: their file names, or the paths as given
/// when two share a file name.
fn labels(files: &[PathBuf]) -> Vec<String> {
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_name()
                .map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into())
        })
        .collect();
    let unique = names.iter().collect::<std::collections::HashSet<_>>().len() == names.len();
    if unique {
        names
    } else {
        files.iter().map(|f| f.display().to_string()).collect()
    }
}

/// The `--report` file, created (empty) now so that a bad path fails
/// before anything runs.
fn open_report(path: Option<PathBuf>) -> anyhow::Result<Option<(std::fs::File, PathBuf)>> {
    let Some(path) = path else { return Ok(None) };
    match std::fs::File::create(&path) {
        Ok(file) => Ok(Some((file, path))),
        Err(e) => anyhow::bail!(
            "cannot write --report {}: {e} (give a file in a folder that exists and you may write to)",
            path.display()
        ),
    }
}

/// Writes the page of `runs` into the `--report` file, if any.
fn write_page(page: Option<(std::fs::File, PathBuf)>, runs: &[Run<'_>]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let Some((mut file, path)) = page else {
        return Ok(());
    };
    file.write_all(crate::bench::html::page(runs).as_bytes())
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write --report {}", path.display()))?;
    errln!("report written to {}", path.display());
    Ok(())
}

fn print(report: &Report, json: bool) -> anyhow::Result<()> {
    let text = if json {
        let mut value = serde_json::to_value(report)?;
        // The names every command's JSON uses for the same counts.
        if let serde_json::Value::Object(object) = &mut value {
            for (alias, name) in [("bytes_out", "bytes_sent"), ("bytes_in", "bytes_received")] {
                if let Some(count) = object.get(name).cloned() {
                    object.insert(alias.into(), count);
                }
            }
        }
        let line = crate::view::json::Envelope::new().line("bench_report", value);
        format!("{line}\n")
    } else {
        report.table()
    };
    print_text(&text)
}

fn print_text(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A reader that went away (`| head`) is not a failure.
        Err(e) if crate::sys::os_error::is_broken_pipe(&e) => Ok(()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn bench(args: &[&str]) -> Result<BenchConfig, String> {
        let mut all = vec!["sockmate", "bench"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| e.to_string())?;
        let Command::Bench(a) = cli.command else {
            return Err("not bench".into());
        };
        BenchConfig::try_from(a).map_err(|e| e.to_string())
    }

    #[test]
    fn bench_defaults_and_bounds() {
        let BenchConfig::Run(cfg) = bench(&["127.0.0.1:9"]).unwrap() else {
            panic!()
        };
        assert_eq!((cfg.size, cfg.connections, cfg.pipeline), (64, 1, 1));
        let BenchConfig::Run(cfg) = bench(&["127.0.0.1:9", "-m", "send"]).unwrap() else {
            panic!()
        };
        assert_eq!(cfg.size, 131_072);
        assert!(bench(&["127.0.0.1:9", "-c", "0"])
            .unwrap_err()
            .contains("--connections 0"));
        assert!(bench(&["127.0.0.1:9", "-d", "1s", "--warmup", "2s"])
            .unwrap_err()
            .contains("--warmup"));
        assert!(bench(&["udp://127.0.0.1:9", "-s", "4"])
            .unwrap_err()
            .contains("sequence number"));
        assert!(bench(&["udp://127.0.0.1:9", "-m", "connect"])
            .unwrap_err()
            .contains("connection-oriented"));
        assert!(bench(&["127.0.0.1:9", "--rate", "0"])
            .unwrap_err()
            .contains("--rate"));
        assert!(bench(&["127.0.0.1:9", "a.json"])
            .unwrap_err()
            .contains("bench merge"));
        assert!(
            matches!(bench(&["merge", "a.json", "b.json"]).unwrap(), BenchConfig::Merge { ref files, .. } if files.len() == 2)
        );
        assert!(bench(&["merge"]).unwrap_err().contains("report files"));
        let BenchConfig::Run(cfg) = bench(&["icmp://127.0.0.1"]).unwrap() else {
            panic!()
        };
        assert_eq!(
            (cfg.target.to_string(), cfg.size),
            ("icmp://127.0.0.1".into(), 64)
        );
        assert!(bench(&["icmp://127.0.0.1", "-m", "send"])
            .unwrap_err()
            .contains("ICMP only echoes"));
        assert!(bench(&["icmp://127.0.0.1", "-s", "4"])
            .unwrap_err()
            .contains("sequence number"));
        assert!(bench(&["icmp://127.0.0.1:7"])
            .unwrap_err()
            .contains("no ports"));
    }
}
