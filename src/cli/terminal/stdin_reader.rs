//! Standard input as a byte channel, on a thread of its own: read into a
//! bounded channel, so a session that cannot send stops reading stdin.

use std::io::{self, Read};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

/// Size of one stdin read: at least 64 KiB so bulk data moves in big chunks.
pub const STDIN_CHUNK: usize = 128 * 1024;

/// How many stdin chunks may wait for the socket.
const STDIN_QUEUE: usize = 4;

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
/// sends them on the returned channel; the channel closes at end of input
/// (a read error counts as the end, and is logged).
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
