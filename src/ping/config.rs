//! What a ping run does, validated and buildable without clap.

use std::time::Duration;

use crate::endpoint::Host;
use crate::sys::icmp_kind::IcmpKind;

/// Payload bytes per request unless `--size` says otherwise (ping(8)'s 56,
/// which makes 64 bytes of ICMP and 84 of IPv4).
pub const DEFAULT_SIZE: usize = 56;

/// Largest payload: what fits in one IPv4 packet (65535 − 20 − 8).
pub const MAX_SIZE: usize = 65_507;

/// Shortest `--interval` (ping(8)'s limit for users: 2 ms).
pub const MIN_INTERVAL: Duration = Duration::from_millis(2);

/// Everything `ping` needs, validated.
#[derive(Debug, Clone)]
pub struct PingConfig {
    /// The host to ping.
    pub host: Host,
    /// The host as the user wrote it, for display.
    pub host_text: String,
    /// Requests to send; 0 means until stopped.
    pub count: u64,
    /// Time between requests.
    pub interval: Duration,
    /// Payload bytes per request.
    pub size: usize,
    /// How long to wait for each reply.
    pub timeout: Duration,
    /// `-4`/`-6`: `Some(true)` for IPv6 only, `Some(false)` for IPv4 only.
    pub ipv6: Option<bool>,
    /// `--socket-type`: only this kind (default: datagram, else raw).
    pub socket_type: Option<IcmpKind>,
}

impl PingConfig {
    /// A config for `host` with ping(8)'s defaults: forever, once a
    /// second, 56 bytes, a 1 s wait per reply.
    pub fn new(host: Host, host_text: impl Into<String>) -> Self {
        PingConfig {
            host,
            host_text: host_text.into(),
            count: 0,
            interval: Duration::from_secs(1),
            size: DEFAULT_SIZE,
            timeout: Duration::from_secs(1),
            ipv6: None,
            socket_type: None,
        }
    }
}
