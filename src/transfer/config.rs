//! What `send` and `receive` do, validated and buildable without clap.

use std::path::PathBuf;
use std::time::Duration;

use super::digest::DigestKind;
use super::receiver::ReceiveOptions;
use crate::endpoint::Endpoint;
use crate::transport::SocketOptions;

/// Everything `send` needs, validated. Built with
/// [`SendFilesConfig::new`] and its setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
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

/// Everything `receive` needs, validated. Built with
/// [`ReceiveConfig::new`] and its setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
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

impl SendFilesConfig {
    /// Sends `files` (regular files) to the receiver at `endpoint`, with
    /// the default digest (BLAKE3) and deadlines.
    pub fn new(endpoint: Endpoint, files: Vec<PathBuf>) -> Self {
        SendFilesConfig {
            endpoint,
            files,
            listen: false,
            keep_open: false,
            recursive: false,
            raw: false,
            digest: None,
            display: TransferDisplay::default(),
            socket: SocketOptions::default(),
            timeouts: Timeouts::default(),
        }
    }

    /// Waits for receivers at the endpoint instead of connecting; with
    /// `keep_open`, serves every one that comes.
    pub fn listen(mut self, keep_open: bool) -> Self {
        self.listen = true;
        self.keep_open = keep_open;
        self
    }

    /// Sends directories with everything in them.
    pub fn recursive(mut self) -> Self {
        self.recursive = true;
        self
    }

    /// The digest to offer (`--digest`).
    pub fn digest(mut self, digest: DigestKind) -> Self {
        self.digest = Some(digest);
        self
    }

    /// Deadlines for a silent receiver.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
}

impl ReceiveConfig {
    /// Waits for senders at `endpoint` (one session) and stores what they
    /// send inside `dir`, keeping files that exist.
    pub fn new(endpoint: Endpoint, dir: PathBuf) -> Self {
        ReceiveConfig {
            endpoint,
            store: ReceiveOptions {
                dir,
                overwrite: false,
                resume: false,
                digest: None,
                timeouts: Timeouts::default(),
            },
            output: None,
            connect: false,
            keep_open: false,
            raw: false,
            raw_digest: None,
            display: TransferDisplay::default(),
            socket: SocketOptions::default(),
        }
    }

    /// Serves every sender that comes, many at once, until stopped.
    pub fn keep_open(mut self) -> Self {
        self.keep_open = true;
        self
    }

    /// Connects to a `send --listen` instead of listening.
    pub fn connect(mut self) -> Self {
        self.connect = true;
        self
    }

    /// Replaces files that exist.
    pub fn overwrite(mut self) -> Self {
        self.store.overwrite = true;
        self
    }

    /// Deadlines for a silent sender.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.store.timeouts = timeouts;
        self
    }
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
