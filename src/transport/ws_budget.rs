//! A server's byte budget for unfinished WebSocket messages: [`Budgeted`]
//! counts the bytes read from a client since its last complete message
//! (what the WebSocket layer holds while it reassembles fragments or
//! waits for the rest of a frame) against the server-wide
//! [`BufferBudget`](crate::budget::BufferBudget), and fails the read with
//! [`OverBudget`] (close 1009) once the server would go past it.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::budget::{BufferBudget, OwnedShare};

/// A server's [`BufferBudget`] as the WebSocket options carry it (two are
/// equal when they are the same budget).
#[derive(Debug, Clone)]
pub struct SharedBudget(pub Arc<BufferBudget>);

impl PartialEq for SharedBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedBudget {}

/// Why a read was refused: the server's budget for unfinished messages
/// is spent.
#[derive(Debug)]
pub struct OverBudget {
    /// The budget in bytes.
    pub limit: usize,
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the server's {} MiB for unfinished messages is spent",
            self.limit >> 20
        )
    }
}

impl std::error::Error for OverBudget {}

/// True when `error` is an [`OverBudget`] refusal.
pub fn is_over_budget(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<OverBudget>())
}

/// A stream whose reads since the last complete message count against a
/// budget. The reader of messages resets the count ([`Budgeted::counter`])
/// at each complete message.
#[derive(Debug)]
pub struct Budgeted<T> {
    inner: T,
    share: OwnedShare,
    since: Arc<AtomicUsize>,
}

impl<T> Budgeted<T> {
    /// `inner`, its reads counted against `budget`.
    pub fn new(inner: T, budget: &Arc<BufferBudget>) -> Self {
        Budgeted {
            inner,
            share: budget.owned_share(),
            since: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The count of bytes read since the last complete message, for the
    /// message reader to reset.
    pub fn counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.since)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Budgeted<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // A message completed since the last read gives its bytes back.
        this.share.hold(this.since.load(Ordering::Relaxed));
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let n = buf.filled().len() - before;
        let now = this.since.fetch_add(n, Ordering::Relaxed) + n;
        if !this.share.hold(now) {
            return Poll::Ready(Err(io::Error::other(OverBudget {
                limit: this.share.limit(),
            })));
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Budgeted<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_past_the_budget_fail_and_a_reset_gives_bytes_back() {
        let budget = Arc::new(BufferBudget::new(10));
        let (mut a, b) = tokio::io::duplex(64);
        let mut r = Budgeted::new(b, &budget);
        let since = r.counter();
        let mut buf = [0u8; 8];
        a.write_all(b"12345678").await.unwrap();
        assert_eq!(r.read(&mut buf).await.unwrap(), 8);
        since.store(0, Ordering::Relaxed);
        a.write_all(b"12345678").await.unwrap();
        assert_eq!(r.read(&mut buf).await.unwrap(), 8, "the reset gave 8 back");
        a.write_all(b"123").await.unwrap();
        let err = r.read(&mut buf).await.unwrap_err();
        assert!(is_over_budget(&err), "{err}");
    }
}
