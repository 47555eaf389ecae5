//! Standard input as a byte channel, on a thread of its own: read into a
//! bounded channel, so a session that cannot send stops reading stdin.

use std::io::{self, Read};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

/// Size of one stdin read: at least 64 KiB so bulk data moves in big chunks.
pub const STDIN_CHUNK: usize = 128 * 1024;

/// How many stdin chunks may wait for the socket.
const STDIN_QUEUE: usize = 4;

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
            let mut buf = BytesMut::new();
            loop {
                buf.resize(chunk, 0);
                match file.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        buf.truncate(n);
                        if tx.blocking_send(buf.split().freeze()).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
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
