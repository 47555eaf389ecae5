//! What `send` and `receive` do, validated and buildable without clap.

use std::path::PathBuf;

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
    /// Display options.
    pub display: TransferDisplay,
    /// Socket options.
    pub socket: SocketOptions,
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
