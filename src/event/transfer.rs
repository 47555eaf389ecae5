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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventKind};
    use std::time::SystemTime;

    fn keys(kind: EventKind) -> String {
        let value = serde_json::to_value(Event {
            time: SystemTime::UNIX_EPOCH,
            kind,
        })
        .unwrap();
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        format!("{} {}", value["type"].as_str().unwrap(), keys.join(","))
    }

    #[test]
    fn transfer_events_have_the_json_lines_of_send_and_receive() {
        let done = TransferDone {
            file: "a.bin".into(),
            bytes: 5,
            bytes_in: 5,
            bytes_out: 0,
            resumed_at: 0,
            duration_s: 0.5,
            bytes_per_s: 10.0,
            digest: None,
            digest_alg: None,
            digest_ok: false,
            sha256: None,
        };
        assert_eq!(
            keys(EventKind::TransferDone(Box::new(done))),
            "transfer_done bytes,bytes_in,bytes_out,bytes_per_s,digest,digest_alg,digest_ok,duration_s,file,resumed_at,sha256,time,type"
        );
        let start = TransferStart {
            file: "a.bin".into(),
            size: None,
            offset: 0,
            peer: "tcp://127.0.0.1:9".into(),
            verb: "sent".into(),
        };
        assert_eq!(
            keys(EventKind::TransferStart(Box::new(start))),
            "transfer_start file,offset,peer,size,time,type,verb"
        );
        let failed = EventKind::TransferFailed {
            file: None,
            message: "skipped".into(),
        };
        assert_eq!(keys(failed), "error file,message,time,type");
    }
}
