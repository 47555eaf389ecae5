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

use bytes::Bytes;
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
        rx: spawn_stdin_reader(),
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

/// Reads stdin on a thread into a bounded channel that closes at its end.
fn spawn_stdin_reader() -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(STDIN_QUEUE);
    let file = crate::sys::stdio::stdin_file();
    let spawned = std::thread::Builder::new()
        .name("stdin-side".into())
        .spawn(move || {
            let Ok(mut file) = file else {
                return;
            };
            let mut buf = vec![0u8; STDIN_CHUNK];
            loop {
                match file.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        if tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        tracing::warn!("cannot read stdin: {e}");
                        return;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the stdin reader: {e}");
    }
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
