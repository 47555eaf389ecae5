//! The load generator behind `sockmate bench ENDPOINT`.
//!
//! - [`config`]: what a run does ([`RunConfig`]) or a merge.
//! - [`plan`]: the time plan (warmup, hard end, open-loop due times).
//! - [`pacer`]: waits for those due times with sub-millisecond precision
//!   (one timerfd per worker thread); [`spin`]: how each wait is split
//!   between sleeping and yielding.
//! - [`stream`], [`datagram`], [`connect`]: one worker per connection for
//!   each kind of socket and mode; [`pingpong`]: one in flight on a
//!   connection alone on its thread, in blocking calls; [`icmp`]: an ICMP echo socket seen as a
//!   datagram socket (`bench icmp://HOST`).
//! - [`latency`]: the HDR histogram and its mergeable text form.
//! - [`timeline`]: the counts of each second of the run.
//! - [`report`]: the human table, `--json`, and `merge`; [`html`] and
//!   [`chart`]: the `--report` page.
//!
//! Every worker owns its counters and histogram; they are added up once at
//! the end, so measuring never contends on shared state.

#[doc(hidden)]
pub mod chart;
pub mod config;
#[doc(hidden)]
pub mod connect;
#[doc(hidden)]
pub mod datagram;
pub mod error;
#[doc(hidden)]
pub mod html;
#[doc(hidden)]
pub mod icmp;
#[doc(hidden)]
pub mod latency;
#[doc(hidden)]
pub mod live;
#[doc(hidden)]
pub mod pacer;
#[doc(hidden)]
pub mod pingpong;
#[doc(hidden)]
pub mod plan;
pub mod report;
#[doc(hidden)]
pub mod spin;
#[doc(hidden)]
pub mod stream;
#[doc(hidden)]
pub mod timeline;
#[cfg_attr(not(target_os = "linux"), path = "timer_portable.rs")]
mod timer;

use std::path::PathBuf;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::transport;
pub use config::{BenchConfig, Mode, RunConfig, Target};
pub use error::BenchError;
use latency::Latency;
use pacer::Pacer;
use plan::Plan;
pub use report::Report;
use report::REPORT_TOOL;
use tokio_util::sync::CancellationToken;

/// Per-connection settings the workers need.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// What to do.
    pub mode: Mode,
    /// Message size.
    pub size: usize,
    /// Requests in flight (closed loop).
    pub pipeline: usize,
}

/// What one worker measured.
#[derive(Debug, Default)]
pub struct Tally {
    /// Latencies of measured messages.
    pub latency: Latency,
    /// Messages completed in the measured window.
    pub messages: u64,
    /// Payload bytes sent in the window.
    pub bytes_sent: u64,
    /// Payload bytes received in the window.
    pub bytes_received: u64,
    /// Failures.
    pub errors: u64,
    /// The live line's share of these counts.
    pub live: live::LiveFeed,
    /// The counts per interval of the run.
    pub timeline: timeline::Recorder,
}

impl Tally {
    /// A tally that also feeds `live` (if any) and records its timeline
    /// into `timeline`.
    pub fn new(live: Option<Arc<live::Live>>, timeline: timeline::Recorder) -> Self {
        Tally {
            live: live::LiveFeed::new(live),
            timeline,
            ..Tally::default()
        }
    }

    /// Counts one measured message that took `latency`, completed at `now`.
    pub fn measured(&mut self, latency: Duration, now: Instant) {
        self.latency.record(latency);
        self.messages += 1;
        self.timeline.at(now).messages += 1;
        self.live.message(Some(latency), now);
    }

    /// Counts `n` failures at `at`.
    pub fn failed(&mut self, n: u64, at: Instant) {
        self.errors += n;
        self.timeline.at(at).errors += n;
        self.live.failed(n, at);
    }

    fn add(&mut self, other: &Tally) {
        self.latency.add(&other.latency);
        self.messages += other.messages;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.errors += other.errors;
        self.timeline.add(&other.timeline);
    }
}

/// A message of `size` bytes with a recognisable pattern.
pub fn payload(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| b'a' + ((i + seed as usize) % 26) as u8)
        .collect()
}

/// Reads `--json` reports from files and adds them up.
pub fn merge_files(files: &[PathBuf]) -> Result<Report, BenchError> {
    Ok(Report::merge(&read_reports(files)?)?)
}

/// Reads `--json` reports from files, each checked.
pub fn read_reports(files: &[PathBuf]) -> Result<Vec<Report>, BenchError> {
    let mut reports = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|cause| BenchError::Read {
            file: file.display().to_string(),
            cause,
        })?;
        reports.push(Report::parse(&file.display().to_string(), &text)?);
    }
    Ok(reports)
}

/// What one worker thread brings back.
#[derive(Debug, Default)]
struct ThreadResult {
    tally: Tally,
    connected: usize,
    first_error: Option<String>,
}

/// The start line all worker threads wait at: once every thread has
/// connected, the coordinator fixes the common start time.
#[derive(Debug)]
struct StartLine {
    connected: Barrier,
    go: Barrier,
    start: Mutex<Option<Instant>>,
}

/// Runs the bench on worker threads, each with its own single-threaded
/// runtime (as many threads as cores, connections spread over them): a
/// reply wakes its connection on the thread that polled the socket, with no
/// hop between threads, which keeps the generator's own latency low.
pub async fn drive(cfg: &RunConfig, shutdown: &CancellationToken) -> Result<Report, BenchError> {
    let job = Job {
        mode: cfg.mode,
        size: cfg.size,
        pipeline: cfg.pipeline,
    };
    // An ICMP target is resolved once, before the workers open their
    // sockets.
    let icmp_to = match &cfg.target {
        Target::Icmp(host) => Some(icmp::resolve(host).await?),
        Target::Endpoint(_) => None,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cfg.connections.min(cores).max(1);
    let line = Arc::new(StartLine {
        connected: Barrier::new(threads + 1),
        go: Barrier::new(threads + 1),
        start: Mutex::new(None),
    });
    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        let indices: Vec<usize> = (t..cfg.connections).step_by(threads).collect();
        let (cfg, line, shutdown) = (cfg.clone(), Arc::clone(&line), shutdown.clone());
        let handle = std::thread::Builder::new()
            .name(format!("bench-{t}"))
            .spawn(move || worker_thread(&cfg, icmp_to, job, &indices, &line, &shutdown))
            .map_err(|e| BenchError::threads("cannot start a bench thread", e))?;
        handles.push(handle);
    }
    let coordinator = Arc::clone(&line);
    let (live, warmup) = (cfg.live.clone(), cfg.warmup);
    let start = tokio::task::spawn_blocking(move || {
        coordinator.connected.wait();
        let start = Instant::now();
        if let Some(live) = live {
            let _ = live.measuring_from.set(start + warmup);
        }
        if let Ok(mut slot) = coordinator.start.lock() {
            *slot = Some(start);
        }
        coordinator.go.wait();
        start
    })
    .await
    .map_err(|e| BenchError::threads("bench coordinator failed", e))?;
    let results = tokio::task::spawn_blocking(move || {
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect::<Vec<ThreadResult>>()
    })
    .await
    .map_err(|e| BenchError::threads("bench threads failed", e))?;
    let mut total = Tally::new(None, recorder_for(cfg, start));
    let mut connected = 0;
    let mut first_error = None;
    for r in results {
        total.add(&r.tally);
        connected += r.connected;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    if connected == 0 && cfg.mode != Mode::Connect {
        return Err(BenchError::NoConnection(
            first_error.unwrap_or_else(|| format!("could not connect to {}", cfg.target)),
        ));
    }
    let plan = Plan::new(start, cfg.warmup, cfg.duration, None, 1, 0);
    let measured = plan.window(Instant::now());
    let window = measured.as_secs_f64().max(1e-9);
    let mut timeline = total
        .timeline
        .finish(timeline::intervals_in(measured, interval_of(cfg)));
    timeline.reconcile_errors(total.errors);
    let bytes = if cfg.mode == Mode::Send {
        total.bytes_sent
    } else {
        total.bytes_received
    };
    Ok(Report {
        tool: REPORT_TOOL.into(),
        endpoint: cfg.target.to_string(),
        mode: cfg.mode.as_str().into(),
        connections: cfg.connections as u64,
        size: if cfg.mode == Mode::Connect {
            0
        } else {
            cfg.size as u64
        },
        pipeline: cfg.pipeline as u64,
        rate: cfg.rate,
        duration_s: window,
        messages: total.messages,
        msgs_per_s: total.messages as f64 / window,
        bytes_sent: total.bytes_sent,
        bytes_received: total.bytes_received,
        bytes_per_s: bytes as f64 / window,
        errors: total.errors,
        latency_us: total.latency.percentiles(),
        histogram: total.latency.encode(),
        sources: 1,
        timeline,
    })
}

/// The timeline's interval for this run.
fn interval_of(cfg: &RunConfig) -> Duration {
    timeline::interval_for(cfg.duration.saturating_sub(cfg.warmup), cfg.connections)
}

/// An empty timeline of this run, started at `start`.
fn recorder_for(cfg: &RunConfig, start: Instant) -> timeline::Recorder {
    let interval = interval_of(cfg);
    let window = cfg.duration.saturating_sub(cfg.warmup);
    timeline::Recorder::new(
        start + cfg.warmup,
        interval,
        timeline::intervals_in(window, interval),
    )
}

/// One worker thread: connects its share of connections, waits at the start
/// line, then drives them until the plan ends.
fn worker_thread(
    cfg: &RunConfig,
    icmp_to: Option<std::net::SocketAddr>,
    job: Job,
    indices: &[usize],
    line: &StartLine,
    shutdown: &tokio_util::sync::CancellationToken,
) -> ThreadResult {
    let mut result = ThreadResult::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(rt) => Some(rt),
        Err(e) => {
            result.tally.errors += indices.len() as u64;
            result.first_error = Some(format!("cannot start a runtime: {e}"));
            None
        }
    };
    let mut sockets = Vec::new();
    let mut echoers = Vec::new();
    if let (Some(rt), true) = (&runtime, cfg.mode != Mode::Connect) {
        rt.block_on(async {
            for &index in indices {
                let opened = match (&cfg.target, icmp_to) {
                    (Target::Icmp(_), Some(to)) => icmp::IcmpEcho::open(to, index)
                        .map(|echo| echoers.push((index, echo)))
                        .map_err(|e| e.to_string()),
                    (Target::Endpoint(endpoint), _) => transport::connect(endpoint, &cfg.socket)
                        .await
                        .map(|connected| sockets.push((index, connected.connection)))
                        .map_err(|e| e.to_string()),
                    (Target::Icmp(host), None) => Err(format!("icmp://{host} was not resolved")),
                };
                if let Err(e) = opened {
                    result.tally.errors += 1;
                    result.first_error.get_or_insert(e);
                }
            }
        });
    }
    result.connected = sockets.len() + echoers.len();
    if let Some(live) = &cfg.live {
        live.connected
            .fetch_add(result.connected, std::sync::atomic::Ordering::Relaxed);
    }
    // Every thread reaches both waits, whatever happened, or the others
    // would wait forever.
    line.connected.wait();
    line.go.wait();
    let start = line
        .start
        .lock()
        .ok()
        .and_then(|s| *s)
        .unwrap_or_else(Instant::now);
    let recorder = recorder_for(cfg, start);
    // Connections that failed before the start count in the first second.
    let early = result.tally.errors;
    result.tally.timeline = recorder.clone();
    result.tally.timeline.nth(0).errors += early;
    let Some(rt) = runtime else { return result };
    let n = cfg.connections;
    // A thread with one connection and no ICMP socket may run it blocking.
    let blocking = if echoers.is_empty() {
        pingpong::take(
            cfg,
            &rt,
            &mut sockets,
            &mut result.tally,
            &mut result.first_error,
        )
    } else {
        None
    };
    if let Some((index, io)) = blocking {
        let plan = Plan::new(start, cfg.warmup, cfg.duration, cfg.rate, n, index);
        let tally = Tally::new(cfg.live.clone(), recorder.clone());
        result
            .tally
            .add(&pingpong::run(io, plan, job, shutdown, tally));
        return result;
    }
    let tallies = rt.block_on(async {
        // One precise timer for all of this thread's connections, in open
        // loop only (closed loop never waits for a due time).
        let pacer = if cfg.rate.is_some() {
            Pacer::start()
        } else {
            Pacer::coarse()
        };
        let mut tasks = Vec::new();
        match &cfg.target {
            Target::Endpoint(endpoint) if cfg.mode == Mode::Connect => {
                for &index in indices {
                    let plan = Plan::new(start, cfg.warmup, cfg.duration, cfg.rate, n, index);
                    let (endpoint, opts, shutdown, pacer, live, recorder) = (
                        endpoint.clone(),
                        cfg.socket.clone(),
                        shutdown.clone(),
                        pacer.clone(),
                        cfg.live.clone(),
                        recorder.clone(),
                    );
                    tasks.push(tokio::spawn(async move {
                        let tally = Tally::new(live, recorder);
                        connect::run(&endpoint, &opts, plan, &pacer, &shutdown, tally).await
                    }));
                }
            }
            _ => {
                for (index, socket) in sockets {
                    let plan = Plan::new(start, cfg.warmup, cfg.duration, cfg.rate, n, index);
                    let (shutdown, pacer) = (shutdown.clone(), pacer.clone());
                    let tally = Tally::new(cfg.live.clone(), recorder.clone());
                    tasks.push(tokio::spawn(async move {
                        match socket.into_stream() {
                            Ok(s) => stream::run(s, plan, job, &pacer, &shutdown, tally).await,
                            Err(d) => datagram::run(d, plan, job, &pacer, &shutdown, tally).await,
                        }
                    }));
                }
                for (index, echo) in echoers {
                    let plan = Plan::new(start, cfg.warmup, cfg.duration, cfg.rate, n, index);
                    let (shutdown, pacer) = (shutdown.clone(), pacer.clone());
                    let tally = Tally::new(cfg.live.clone(), recorder.clone());
                    tasks.push(tokio::spawn(async move {
                        datagram::run(echo, plan, job, &pacer, &shutdown, tally).await
                    }));
                }
            }
        }
        let mut tallies = Vec::with_capacity(tasks.len());
        for task in tasks {
            tallies.push(task.await.unwrap_or_else(|_| {
                let mut failed = Tally::new(None, recorder.clone());
                failed.failed(1, Instant::now());
                failed
            }));
        }
        tallies
    });
    for tally in &tallies {
        result.tally.add(tally);
    }
    result
}
