//! How a file's chunks reach the socket, shared by the file protocol and
//! `--raw`: a regular file on a plain TCP or Unix socket is sent from the
//! page cache with sendfile (the reading stage still reads, and hashes,
//! each chunk; the socket side sends the same range of the file without
//! copying it again), anything else is written from the chunk.

use std::fs::File;
use std::io;

use crate::transport::splice::{can_send_file, send_file};
use crate::transport::StreamWriter;

/// Where [`Outgoing::send`] takes the bytes from.
#[derive(Debug)]
pub enum Outgoing {
    /// From the page cache, through this second descriptor of the file.
    Direct(File),
    /// From the chunk (a pipe or other non-regular file, or a stream that
    /// must see the bytes: TLS, WebSocket, seqpacket).
    Buffered,
}

impl Outgoing {
    /// The way for `file` to `stream`. Only a regular file can be sent at
    /// an offset (sendfile cannot read a pipe that way).
    pub fn for_file(file: &File, stream: &StreamWriter) -> io::Result<Outgoing> {
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        if regular && can_send_file(stream) {
            return file.try_clone().map(Outgoing::Direct);
        }
        Ok(Outgoing::Buffered)
    }

    /// Sends `data`, which is the file's bytes from offset `at`.
    pub async fn send(&self, stream: &mut StreamWriter, at: u64, data: &[u8]) -> io::Result<()> {
        match self {
            Outgoing::Direct(file) => send_file(stream, file, at, data.len()).await,
            Outgoing::Buffered => stream.write_all(data).await,
        }
    }
}
