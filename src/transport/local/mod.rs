//! Sides that are not sockets: stdio (`-`), a command (`exec:`, `sh:`), a
//! file (`file:`) and a pseudo-terminal (`pty:`). Each is a reader and a
//! writer ([`LocalStream`]) that plugs into [`Stream`](super::Stream) as
//! one variant, so relay, connect, the views and the pump use it like a
//! socket. Opening one is what connecting is for a socket ([`open`]).
//!
//! One file per side: `stdio.rs`, `exec.rs`, `file.rs`, `pty.rs`
//! (`pty_windows.rs` refuses).

mod exec;
mod file;
#[cfg_attr(windows, path = "pty_windows.rs")]
pub(crate) mod pty;
pub(crate) mod stdio;

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::oneshot;

use super::stream::Capabilities;
use super::PeerAddr;
use crate::endpoint::LocalSpec;

/// What a side that can end its writes alone can do (a command's stdin,
/// our stdout, a file).
const HALF_CLOSE: Capabilities = Capabilities {
    half_close: true,
    message_boundaries: false,
    zero_copy: false,
};

/// What a pseudo-terminal can do: no half-close (a terminal has no end of
/// input that does not also end a program's session on it).
#[cfg_attr(windows, allow(dead_code))]
const NO_HALF_CLOSE: Capabilities = Capabilities {
    half_close: false,
    message_boundaries: false,
    zero_copy: false,
};

type Reader = Pin<Box<dyn AsyncRead + Send + Sync>>;
type Writer = Pin<Box<dyn AsyncWrite + Send + Sync>>;

/// How a side ended, once it has: a command's exit status
/// (`command exited with status 3`). Shared by the stream's halves, so it
/// can be read after they are gone.
#[derive(Debug, Clone, Default)]
pub struct EndNote(Arc<OnceLock<String>>);

impl EndNote {
    /// The note, once there is one.
    pub fn get(&self) -> Option<String> {
        self.0.get().cloned()
    }

    fn set(&self, note: String) {
        let _ = self.0.set(note);
    }
}

/// What stays alive as long as either half does (a child process, a
/// symlink, the terminal's follower): dropped with the last half.
type Keep = Arc<dyn Send + Sync>;

/// A side that is not a socket: a reader, a writer and what they keep
/// alive.
pub struct LocalStream {
    reader: LocalReader,
    writer: LocalWriter,
}

impl fmt::Debug for LocalStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalStream")
            .field("caps", &self.reader.caps)
            .finish_non_exhaustive()
    }
}

/// The reading half of a [`LocalStream`].
pub struct LocalReader {
    inner: Reader,
    caps: Capabilities,
    note: EndNote,
    /// A command to wait for at the end of its output, for its status.
    child: Option<Arc<exec::ChildGuard>>,
    _keep: Option<Keep>,
}

/// The writing half of a [`LocalStream`].
pub struct LocalWriter {
    /// `None` once our writes have ended.
    inner: Option<Writer>,
    caps: Capabilities,
    /// Dropped when our writes end: a write-only side's reader then ends.
    ended: Option<oneshot::Sender<()>>,
    /// Run once our writes have ended (stdout: release it).
    after_end: Option<fn()>,
    /// A command whose stdin this is: once its output has ended too, its
    /// exit is waited for here.
    child: Option<Arc<exec::ChildGuard>>,
    _keep: Option<Keep>,
}

impl fmt::Debug for LocalReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalReader").finish_non_exhaustive()
    }
}

impl fmt::Debug for LocalWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalWriter").finish_non_exhaustive()
    }
}

/// An opened local side: the stream and how to show it.
#[derive(Debug)]
pub struct Opened {
    /// The stream.
    pub stream: LocalStream,
    /// Our end, for display (`pty /dev/pts/5`).
    pub local: String,
    /// The other end (the command, the file, the terminal).
    pub peer: PeerAddr,
    /// What a start line adds (the terminal's path and link).
    pub note: Option<String>,
}

/// Opens `spec`: starts the command, opens the file or the terminal,
/// takes stdin and stdout.
pub async fn open(spec: &LocalSpec) -> io::Result<Opened> {
    match spec {
        LocalSpec::Stdio => stdio::open(),
        LocalSpec::Exec { words, line } => exec::open(&words[0], &words[1..], line),
        LocalSpec::Shell(command) => {
            let (program, args) = crate::sys::process::shell(command);
            exec::open(&program, &args, command)
        }
        LocalSpec::File { path, mode } => file::open(path, *mode).await,
        LocalSpec::Pty { link, raw } => pty::open(link.as_deref(), *raw),
    }
}

/// The parts a side is built from.
struct Parts {
    reader: Reader,
    writer: Writer,
    caps: Capabilities,
    child: Option<Arc<exec::ChildGuard>>,
    ended: Option<oneshot::Sender<()>>,
    after_end: Option<fn()>,
    keep: Option<Keep>,
}

impl Parts {
    fn new(reader: Reader, writer: Writer) -> Parts {
        Parts {
            reader,
            writer,
            caps: HALF_CLOSE,
            child: None,
            ended: None,
            after_end: None,
            keep: None,
        }
    }

    fn build(self) -> LocalStream {
        let note = self
            .child
            .as_ref()
            .map(|c| c.note.clone())
            .unwrap_or_default();
        LocalStream {
            reader: LocalReader {
                inner: self.reader,
                caps: self.caps,
                note,
                child: self.child.clone(),
                _keep: self.keep.clone(),
            },
            writer: LocalWriter {
                inner: Some(self.writer),
                caps: self.caps,
                ended: self.ended,
                after_end: self.after_end,
                child: self.child,
                _keep: self.keep,
            },
        }
    }
}

impl LocalStream {
    /// What this side can do.
    pub fn capabilities(&self) -> Capabilities {
        self.reader.caps
    }

    /// How the side ended, readable after its halves are gone.
    pub fn end_note(&self) -> EndNote {
        self.reader.note.clone()
    }

    /// The two halves.
    pub fn into_split(self) -> (LocalReader, LocalWriter) {
        (self.reader, self.writer)
    }
}

impl LocalReader {
    /// What the side can do.
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    /// How the side ended (a command's exit status), once known.
    pub fn end_note(&self) -> Option<String> {
        self.note.get()
    }

    /// Waits for data and reads it into `buf`; 0 at the end. At the end
    /// of a command's output, waits a moment for it to exit, so its status
    /// is known when the end is reported.
    pub async fn read_some(&mut self, buf: &mut BytesMut, reserve: usize) -> io::Result<usize> {
        buf.reserve(reserve.max(1));
        let n = self.inner.read_buf(buf).await?;
        if n == 0 {
            if let Some(child) = &self.child {
                child.output_ended();
                child.settle().await;
            }
        }
        Ok(n)
    }
}

fn ended() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "this side's writes have ended")
}

impl LocalWriter {
    /// What the side can do.
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    /// Writes all of `data` and flushes it. What comes for a command
    /// that stopped reading (its stdin closed) is dropped, as `--exec`
    /// does: its output may still be on its way.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if self.inner.is_none() && self.child.is_some() {
            return Ok(());
        }
        let inner = self.inner.as_mut().ok_or_else(ended)?;
        let written = match inner.write_all(data).await {
            Ok(()) => inner.flush().await,
            Err(e) => Err(e),
        };
        match written {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe && self.child.is_some() => {
                self.inner = None;
                Ok(())
            }
            other => other,
        }
    }

    /// Ends our writes: closes the command's stdin, our stdout or the
    /// file. Nothing on a terminal (no half-close).
    pub async fn shutdown_write(&mut self) -> io::Result<()> {
        if !self.caps.half_close {
            return Ok(());
        }
        if let Some(mut inner) = self.inner.take() {
            let result = inner.shutdown().await;
            drop(inner);
            self.ended.take();
            if let Some(after) = self.after_end.take() {
                after();
            }
            // A command that closed its stdout before its input ended
            // exits now: its status is for the close.
            if let Some(child) = self.child.as_ref().filter(|c| c.has_output_ended()) {
                child.settle().await;
            }
            return match result {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            };
        }
        Ok(())
    }
}

impl AsyncRead for LocalReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().inner.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for LocalWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().inner.as_mut() {
            Some(inner) => inner.as_mut().poll_write(cx, buf),
            None => Poll::Ready(Err(ended())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().inner.as_mut() {
            Some(inner) => inner.as_mut().poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.caps.half_close {
            return Poll::Ready(Ok(()));
        }
        let result = match this.inner.as_mut() {
            Some(inner) => std::task::ready!(inner.as_mut().poll_shutdown(cx)),
            None => Ok(()),
        };
        this.inner = None;
        this.ended.take();
        if let Some(after) = this.after_end.take() {
            after();
        }
        Poll::Ready(result)
    }
}

/// A reader that sends nothing and ends when the side's writes end (a
/// file being written): the side then closes like a socket whose peer
/// answered nothing.
struct EndsWithWrites(oneshot::Receiver<()>);

impl AsyncRead for EndsWithWrites {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Only a dropped sender ever resolves it: that is the end.
        Pin::new(&mut self.get_mut().0).poll(cx).map(|_| Ok(()))
    }
}

/// A writer that refuses every byte with `why` (a file being read).
struct Refuses(String);

impl AsyncWrite for Refuses {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            self.0.clone(),
        )))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
