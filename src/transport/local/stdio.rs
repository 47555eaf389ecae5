//! `-` / `stdio:`: our stdin and stdout as a side. Stdin is read on a
//! thread of its own (a blocking read never holds up the runtime or its
//! exit); ending our writes closes stdout, so a reader downstream sees
//! its end. One session per process may use them. Stdin is handed on a
//! line at a time (binary input without newlines in chunks), so each line
//! is one WebSocket message or datagram on the other side.

use std::io::{self, Read};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use super::{Opened, Parts};
use crate::transport::PeerAddr;

/// Bytes per read from stdin.
const STDIN_CHUNK: usize = 64 * 1024;

/// Chunks of stdin that may wait for the other side.
const STDIN_QUEUE: usize = 4;

/// Set once a session has taken stdin and stdout.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Takes stdin and stdout, once per process.
pub(super) fn open() -> io::Result<Opened> {
    if TAKEN.swap(true, Ordering::SeqCst) {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "stdin/stdout (-) already serve another connection; one session at a time can use them (relay to exec:, file: or a socket for more)",
        ));
    }
    let stdout = crate::sys::stdio::stdout_file()?;
    let reader = ChunkReader {
        rx: spawn_stdin_reader(STDIN_CHUNK),
        pending: Bytes::new(),
    };
    let mut parts = Parts::new(
        Box::pin(reader),
        Box::pin(tokio::fs::File::from_std(stdout)),
    );
    parts.after_end = Some(release_stdout);
    Ok(Opened {
        stream: parts.build(),
        local: "stdio".into(),
        peer: PeerAddr::Device("stdin/stdout".into()),
        note: None,
    })
}

/// With our copy closed, points stdout at the null device: its reader
/// sees the end.
fn release_stdout() {
    let _ = crate::sys::stdio::release_stdout();
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// The size asked of a pipe on stdin: room for several reads, so the
/// program feeding it keeps writing while we send.
const STDIN_PIPE: usize = 1024 * 1024;

/// Read buffers the reader takes turns with: the queue's, one being
/// written, one being read. A buffer comes back for another read once the
/// chunk cut from it has been sent and dropped, so bulk input reuses warm
/// memory instead of asking the allocator for fresh pages per read (a
/// 128 KiB allocation is an mmap: page faults and zeroing on every chunk).
const READ_BUFFERS: usize = STDIN_QUEUE + 2;

/// Starts a thread that reads stdin in chunks of up to `chunk` bytes and
/// sends them on the returned channel, so a session that cannot send
/// stops reading stdin; the channel closes at end of input (a read error
/// counts as the end, and is logged). The one stdin reader: this side's
/// and the command line's (`connect`, `listen`).
pub fn spawn_stdin_reader(chunk: usize) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(STDIN_QUEUE);
    let file = crate::sys::stdio::stdin_file();
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut file = match file {
                Ok(file) => file,
                Err(e) => {
                    tracing::warn!("cannot read stdin: {e}");
                    return;
                }
            };
            crate::sys::stdio::widen_if_pipe(&file, STDIN_PIPE);
            let mut buffers: Vec<BytesMut> = (0..READ_BUFFERS).map(|_| BytesMut::new()).collect();
            for turn in (0..READ_BUFFERS).cycle() {
                let buf = &mut buffers[turn];
                if !buf.try_reclaim(chunk) {
                    // Its last chunk is still queued or being written.
                    *buf = BytesMut::with_capacity(chunk);
                }
                buf.resize(chunk, 0);
                match file.read(&mut buf[..]) {
                    Ok(0) => return,
                    Ok(n) => {
                        buf.truncate(n);
                        if tx.blocking_send(buf.split().freeze()).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.clear(),
                    Err(e) => {
                        tracing::warn!("stdin read failed, treating it as end of input: {e}");
                        return;
                    }
                }
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!("cannot start stdin thread: {e}"));
    rx
}

/// Chunks from a channel as a byte stream that ends when the channel
/// closes.
struct ChunkReader {
    rx: mpsc::Receiver<Bytes>,
    pending: Bytes,
}

impl AsyncRead for ChunkReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_empty() {
            match std::task::ready!(this.rx.poll_recv(cx)) {
                Some(chunk) => this.pending = chunk,
                None => return Poll::Ready(Ok(())),
            }
        }
        // A line at a time: each line is one message to a WebSocket or
        // one datagram.
        let line = memchr_newline(&this.pending).map_or(this.pending.len(), |at| at + 1);
        let n = line.min(buf.remaining());
        buf.put_slice(&this.pending.split_to(n));
        Poll::Ready(Ok(()))
    }
}
