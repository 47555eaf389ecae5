//! What a relay does, validated and buildable without clap.

use std::time::Duration;

use super::framing::RelayFrame;
use super::pump::PairRules;
use crate::endpoint::Endpoint;
use crate::limits::AccessList;
use crate::transport::SocketOptions;

/// How long a datagram flow lives without traffic when `--idle-timeout` is
/// not given.
pub const DEFAULT_FLOW_IDLE: Duration = Duration::from_secs(60);

/// How long a stream client's connection to a datagram target stays open
/// for replies after the client ends its writes, when `--idle-timeout` is
/// not given.
pub const DEFAULT_REPLY_LINGER: Duration = Duration::from_secs(2);

/// How long `relay` waits for the target to accept a connection when
/// `--connect-timeout` is not given (the kernel alone would wait ~127 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything `relay` needs, validated: start from [`RelayConfig::new`] and
/// change what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RelayConfig {
    /// Where clients come from.
    pub listen: Endpoint,
    /// Where each client is forwarded.
    pub target: Endpoint,
    /// Options for the listening socket.
    pub listen_socket: SocketOptions,
    /// Options for connections to the target (connect timeout, nodelay).
    pub target_socket: SocketOptions,
    /// Datagram boundaries on the stream side of a stream ↔ datagram relay.
    pub frame: Option<RelayFrame>,
    /// Half-close, `--close-both` and `--idle-timeout`.
    pub rules: PairRules,
    /// Most clients served at once.
    pub max_conns: Option<usize>,
    /// Which clients are served.
    pub access: AccessList,
    /// Report every relayed message as a data event (`--dump`); turns off
    /// splice, since the bytes must pass through us.
    pub dump: bool,
    /// Use splice(2) for stream pairs when possible.
    pub splice: bool,
}

impl RelayConfig {
    /// Relays each client of `listen` to its own connection to `target`,
    /// with the defaults of `sockmate relay`: splice where both sides allow
    /// it, half-close passed on, no limits, everyone admitted.
    pub fn new(listen: Endpoint, target: Endpoint) -> Self {
        RelayConfig {
            listen,
            target,
            listen_socket: SocketOptions::default(),
            target_socket: SocketOptions::default(),
            frame: None,
            rules: PairRules::default(),
            max_conns: None,
            access: AccessList::default(),
            dump: false,
            splice: true,
        }
    }

    /// Reports every relayed message as a data event (`--dump`; no splice).
    pub fn dump(mut self, dump: bool) -> Self {
        self.dump = dump;
        self
    }
}
