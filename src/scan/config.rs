//! What a scan does, validated and buildable without clap.

use std::time::Duration;

use crate::endpoint::Host;

/// Probes in flight at once unless `--concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 1000;

/// File descriptors kept free for everything else when the default
/// concurrency is fitted under the open-file limit.
pub const RESERVED_FDS: u64 = 64;

/// Everything `scan` needs, validated: start from [`ScanConfig::new`] and
/// change what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScanConfig {
    /// The host to probe.
    pub host: Host,
    /// The host as the user wrote it, for display.
    pub host_text: String,
    /// Ports to probe, sorted and distinct.
    pub ports: Vec<u16>,
    /// Per-probe timeout.
    pub timeout: Duration,
    /// Probes at once; `None` for the default fitted to the fd limit.
    pub concurrency: Option<usize>,
    /// Show only open ports.
    pub only_open: bool,
    /// JSON lines instead of text.
    pub json: bool,
    /// UDP probes instead of TCP.
    pub udp: bool,
    /// The UDP probe datagram.
    pub payload: Vec<u8>,
    /// No summary line.
    pub quiet: bool,
}

impl ScanConfig {
    /// Probes `ports` of `host` (written `host_text`) over TCP with the
    /// defaults of `sockmate scan`: 1 s per probe, the default
    /// concurrency, every port reported.
    pub fn new(host: Host, host_text: &str, ports: Vec<u16>) -> Self {
        ScanConfig {
            host,
            host_text: host_text.to_string(),
            ports,
            timeout: Duration::from_secs(1),
            concurrency: None,
            only_open: false,
            json: false,
            udp: false,
            payload: Vec::new(),
            quiet: false,
        }
    }

    /// Waits this long for each probe.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Probes UDP ports, sending `payload` to each.
    pub fn udp(mut self, payload: Vec<u8>) -> Self {
        self.udp = true;
        self.payload = payload;
        self
    }
}

/// The default concurrency: [`DEFAULT_CONCURRENCY`], lowered so that the
/// probes fit under the soft open-file limit.
pub fn default_concurrency() -> usize {
    let limit = open_file_limit().unwrap_or(1024);
    let fit = limit.saturating_sub(RESERVED_FDS).max(1);
    DEFAULT_CONCURRENCY.min(usize::try_from(fit).unwrap_or(usize::MAX))
}

fn open_file_limit() -> Option<u64> {
    crate::sys::limits::open_file_limit()
}
