//! What a bench run does, validated and buildable without clap:
//! [`RunConfig`] (built with [`RunConfig::new`] and setters), its
//! [`Mode`] and [`Target`], and [`BenchConfig`] (a run or a merge).

use std::path::PathBuf;
use std::time::Duration;

use super::live;
use crate::endpoint::{Endpoint, Host};
use crate::transport::SocketOptions;

/// What the generator does on each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Request/response: send a message, wait for it to come back.
    Echo,
    /// One-way bulk: write as fast as allowed.
    Send,
    /// Open and close connections.
    Connect,
}

impl Mode {
    /// The mode's name, as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Send => "send",
            Mode::Connect => "connect",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "echo" => Ok(Mode::Echo),
            "send" => Ok(Mode::Send),
            "connect" => Ok(Mode::Connect),
            _ => Err(format!(
                "invalid --mode \"{s}\" (give echo, send or connect, e.g. --mode echo)"
            )),
        }
    }
}

/// What a bench drives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A socket endpoint (`tcp://`, `udp://`, `unix://`, …).
    Endpoint(Endpoint),
    /// `icmp://HOST`: echo requests, one ICMP socket per connection.
    Icmp(Host),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Endpoint(endpoint) => endpoint.fmt(f),
            Target::Icmp(host) => write!(f, "icmp://{host}"),
        }
    }
}

/// A validated bench run. Built with [`RunConfig::new`] and its setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunConfig {
    /// What to drive.
    pub target: Target,
    /// What to do.
    pub mode: Mode,
    /// Connections (or connect workers).
    pub connections: usize,
    /// Total run time, warmup included: a hard bound.
    pub duration: Duration,
    /// Time at the start that is not measured.
    pub warmup: Duration,
    /// Message size in bytes.
    pub size: usize,
    /// Open loop: total messages per second over all connections.
    pub rate: Option<f64>,
    /// Closed loop: requests in flight per connection.
    pub pipeline: usize,
    /// Socket options (connect timeout).
    pub socket: SocketOptions,
    /// Print JSON instead of the table.
    pub json: bool,
    /// Also write the HTML report (`--report FILE.html`) here.
    pub report: Option<PathBuf>,
    /// Where the workers hand over their counts for a live line (a
    /// terminal's); none: no live counting.
    pub live: Option<std::sync::Arc<live::Live>>,
}

impl RunConfig {
    /// Echoes 64-byte messages on one connection for 10 s to `target`,
    /// as `sockmate bench` does by default.
    pub fn new(target: Target) -> Self {
        RunConfig {
            target,
            mode: Mode::Echo,
            connections: 1,
            duration: Duration::from_secs(10),
            warmup: Duration::ZERO,
            size: 64,
            rate: None,
            pipeline: 1,
            socket: SocketOptions::default(),
            json: false,
            report: None,
            live: None,
        }
    }

    /// What to do on each connection.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How many connections (at least one).
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = connections.max(1);
        self
    }

    /// The whole run time and, within it, the unmeasured start.
    pub fn duration(mut self, duration: Duration, warmup: Duration) -> Self {
        self.duration = duration;
        self.warmup = warmup.min(duration);
        self
    }

    /// The message size in bytes.
    pub fn size(mut self, size: usize) -> Self {
        self.size = size;
        self
    }
}

/// `sockmate bench`: a run, or merging saved reports.
#[derive(Debug, Clone)]
pub enum BenchConfig {
    /// Drive an endpoint.
    Run(Box<RunConfig>),
    /// Merge `--json` reports.
    Merge {
        /// The report files.
        files: Vec<PathBuf>,
        /// Print JSON instead of the table.
        json: bool,
        /// Also write the HTML report here.
        report: Option<PathBuf>,
        /// Draw the runs side by side (`--compare`) instead of adding them.
        compare: bool,
    },
}
