//! Standard input and output as byte channels, on threads of their own.
//!
//! stdin is read by a dedicated thread into a bounded channel (so a session
//! that cannot send stops reading stdin), and stdout can be *closed* while
//! the program runs, so a reader downstream sees end-of-file when the peer
//! ends its writes (half-close carried to the pipe).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;

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
    let file = io::stdin().as_fd().try_clone_to_owned().map(File::from);
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

/// A handle on stdout that writes unbuffered and can be closed early.
pub fn stdout_file() -> io::Result<File> {
    io::stdout().as_fd().try_clone_to_owned().map(File::from)
}

/// Makes fd 1 point at `/dev/null`. With our own duplicate dropped as well,
/// the pipe or file behind stdout is released and its reader sees EOF, while
/// fd 1 stays valid (a stray print can never reach a reused descriptor).
pub fn release_stdout() -> io::Result<()> {
    let null = File::options().write(true).open("/dev/null")?;
    rustix::stdio::dup2_stdout(&null)?;
    Ok(())
}
