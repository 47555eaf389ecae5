//! The events of `send` and `receive`: a file starts, moves on, is done
//! (`transfer_start`, `transfer_progress`, `transfer_done` in `--json`).

use serde::{Deserialize, Serialize};

/// A file starts moving (`transfer_start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferStart {
    /// The file's name (its path relative to the receiving directory).
    pub file: String,
    /// Its length, when known (not for a pipe sent with `--raw`).
    pub size: Option<u64>,
    /// Where a resumed transfer starts.
    pub offset: u64,
    /// The peer as an endpoint URL.
    pub peer: String,
    /// `sent` or `received`.
    pub verb: String,
}

/// How far a file is (`transfer_progress`), at most every
/// [`PROGRESS_INTERVAL`](crate::transfer::observer::PROGRESS_INTERVAL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferProgress {
    /// The file's name.
    pub file: String,
    /// Bytes so far (a resumed prefix included).
    pub bytes: u64,
    /// Its length, when known.
    pub size: Option<u64>,
}

/// A file arrived or was confirmed (`transfer_done`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferDone {
    /// The file's name.
    pub file: String,
    /// Its bytes (a resumed prefix included).
    pub bytes: u64,
    /// Bytes received (a receiver's `bytes`, 0 for a sender).
    pub bytes_in: u64,
    /// Bytes sent (a sender's `bytes`, 0 for a receiver).
    pub bytes_out: u64,
    /// Where a resumed transfer started (0: from the start).
    pub resumed_at: u64,
    /// How long it took.
    pub duration_s: f64,
    /// Bytes moved (after `resumed_at`) per second, rounded.
    pub bytes_per_s: f64,
    /// The file's digest in hex (none for `--raw` without a digest).
    pub digest: Option<String>,
    /// `blake3` or `sha256`.
    pub digest_alg: Option<String>,
    /// Whether the digest was compared with the peer's (not with `--raw`).
    pub digest_ok: bool,
    /// The digest when it is SHA-256, for scripts written before BLAKE3.
    pub sha256: Option<String>,
}

impl Eq for TransferDone {}
