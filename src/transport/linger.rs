//! Lingering close: before a server closes a connection it has failed
//! (a WebSocket protocol error answered with a close frame), it reads and
//! drops what the peer is still sending. Closing a socket that holds
//! unread bytes makes the kernel send a reset instead of a clean end, and
//! the reset can destroy the bytes we sent last (the close frame) before
//! the peer reads them.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The longest a lingering close waits in all.
const LINGER_AT_MOST: Duration = Duration::from_millis(500);

/// A peer silent this long has sent all it meant to (its answering close
/// frame arrives within a round trip of ours).
const LINGER_QUIET: Duration = Duration::from_millis(100);

/// The most bytes a lingering close reads and drops.
const LINGER_MAX_BYTES: usize = 1024 * 1024;

/// Reads and drops what `io` delivers until it ends or fails, stays quiet
/// for [`LINGER_QUIET`], or [`LINGER_AT_MOST`] or [`LINGER_MAX_BYTES`]
/// run out. Returns the bytes dropped.
pub async fn drain_until_quiet(io: &mut (impl AsyncRead + Unpin)) -> usize {
    let mut buf = vec![0u8; 16 * 1024];
    let mut dropped = 0;
    let _ = tokio::time::timeout(LINGER_AT_MOST, async {
        while dropped < LINGER_MAX_BYTES {
            match tokio::time::timeout(LINGER_QUIET, io.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => dropped += n,
                _ => break,
            }
        }
    })
    .await;
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn drains_what_was_sent_and_stops_at_the_end() {
        let (mut a, mut b) = tokio::io::duplex(64 * 1024);
        a.write_all(&[7u8; 40_000]).await.expect("write");
        drop(a);
        assert_eq!(drain_until_quiet(&mut b).await, 40_000);
    }

    #[tokio::test(start_paused = true)]
    async fn stops_when_the_peer_goes_quiet() {
        let (mut a, mut b) = tokio::io::duplex(64 * 1024);
        a.write_all(b"close frame").await.expect("write");
        // `a` stays open and silent: the drain ends on the quiet period.
        assert_eq!(drain_until_quiet(&mut b).await, 11);
        drop(a);
    }
}
