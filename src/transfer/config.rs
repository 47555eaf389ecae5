//! What `send` and `receive` do, validated and buildable without clap.

use std::path::PathBuf;
use std::time::Duration;

use super::digest::DigestKind;
use super::receiver::ReceiveOptions;
use crate::endpoint::Endpoint;
use crate::transport::SocketOptions;

/// Everything `send` needs, validated.
#[derive(Debug, Clone)]
pub struct SendFilesConfig {
    /// Where to connect (or listen, with `listen`).
    pub endpoint: Endpoint,
    /// Files and directories to send.
    pub files: Vec<PathBuf>,
    /// Wait for receivers instead of connecting.
    pub listen: bool,
    /// With `listen`: serve every receiver that connects, concurrently.
    pub keep_open: bool,
    /// Send directories with their contents.
    pub recursive: bool,
    /// Bare bytes, no header (one file).
    pub raw: bool,
    /// The digest to offer the receiver (BLAKE3 when `None`); with `raw`,
    /// the digest of what is sent to show in the summary (nothing hashed
    /// when `None`).
    pub digest: Option<DigestKind>,
    /// Display options.
    pub display: TransferDisplay,
    /// Socket options.
    pub socket: SocketOptions,
    /// Deadlines for a silent receiver.
    pub timeouts: Timeouts,
}

/// Everything `receive` needs, validated.
#[derive(Debug, Clone)]
pub struct ReceiveConfig {
    /// Where to listen (or connect, with `connect`).
    pub endpoint: Endpoint,
    /// Storage options.
    pub store: ReceiveOptions,
    /// With `raw`: the file to write.
    pub output: Option<PathBuf>,
    /// Connect to a `send --listen` instead of listening.
    pub connect: bool,
    /// Serve many senders at once and keep running.
    pub keep_open: bool,
    /// Bare bytes, no header.
    pub raw: bool,
    /// With `raw`: the digest of what arrives to show in the summary
    /// (nothing hashed when `None`). Without `raw` the choice is in
    /// `store.digest`.
    pub raw_digest: Option<DigestKind>,
    /// Display options.
    pub display: TransferDisplay,
    /// Socket options.
    pub socket: SocketOptions,
}

/// How a transfer command shows progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct TransferDisplay {
    /// JSON events on stdout.
    pub json: bool,
    /// No status or summary lines.
    pub quiet: bool,
}

/// How long a transfer waits for a silent peer before giving up on it, so
/// a peer that connects and says nothing cannot hold a session forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// For the peer's hello and for each file header or answer.
    pub handshake: Duration,
    /// For the next bytes of a file (either way) and the final answers.
    pub idle: Duration,
}

/// Default [`Timeouts::handshake`].
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`Timeouts::idle`].
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: HANDSHAKE_TIMEOUT,
            idle: IDLE_TIMEOUT,
        }
    }
}
