//! Reading frames and file data from a stream: a buffer that hands out
//! parsed frames and large zero-copy chunks of file bytes.

use std::io;
use std::time::Duration;

use bytes::BytesMut;

use super::header::{HeaderError, Parsed};
use super::stages::{Chunk, CHUNK};
use tokio::io::AsyncReadExt;

use crate::transport::StreamReader;

/// Most bytes buffered while waiting for one frame to complete (frames are
/// small; a peer sending more without completing one is broken).
const MAX_FRAME_BUFFER: usize = 64 * 1024;

/// Bytes read at a time while looking for a frame (file data is read
/// straight into chunks instead, see [`WireReader::fill_chunk`]).
const FRAME_READ: usize = 16 * 1024;

/// What can go wrong reading from the peer.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The bytes are not a valid frame.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The socket failed.
    #[error("{}", crate::session::describe_io(.0))]
    Io(#[from] io::Error),
    /// The peer closed in the middle of something.
    #[error("the connection closed {0}")]
    Closed(&'static str),
    /// The peer stayed silent past a deadline.
    #[error("{0}")]
    Silent(String),
}

/// A duration for messages (`1s`, `10s`, `1m 30s`).
fn shown(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(d)
}

/// Runs a write (`write`), failing with `TimedOut` when it is not done
/// within `limit` (a peer that stops reading cannot hold us).
pub async fn within(
    limit: Duration,
    write: impl std::future::Future<Output = io::Result<()>>,
) -> io::Result<()> {
    match tokio::time::timeout(limit, write).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the peer took no data for {}", shown(limit)),
        )),
    }
}

/// A stream's reading half with a read buffer in front.
pub struct WireReader {
    stream: StreamReader,
    buf: BytesMut,
    idle: Option<Duration>,
}

impl WireReader {
    /// Reads from `stream`.
    pub fn new(stream: StreamReader) -> Self {
        WireReader {
            stream,
            buf: BytesMut::new(),
            idle: None,
        }
    }

    /// File data that stops arriving for `limit` is an error
    /// ([`WireError::Silent`]).
    pub fn idle_timeout(mut self, limit: Duration) -> Self {
        self.idle = Some(limit);
        self
    }

    /// Like [`WireReader::frame`], but a frame (`what`, for the message)
    /// that is not complete within `limit` is an error
    /// ([`WireError::Silent`]).
    pub async fn frame_within<T>(
        &mut self,
        what: &'static str,
        limit: Duration,
        parse: impl Fn(&[u8]) -> Parsed<T>,
    ) -> Result<Option<T>, WireError> {
        match tokio::time::timeout(limit, self.frame(parse)).await {
            Ok(result) => result,
            Err(_) => Err(WireError::Silent(format!(
                "no {what} within {}",
                shown(limit)
            ))),
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.stream.read_some(&mut self.buf, FRAME_READ).await
    }
    /// The next frame; `Ok(None)` when the peer closed cleanly between
    /// frames.
    pub async fn frame<T>(
        &mut self,
        parse: impl Fn(&[u8]) -> Parsed<T>,
    ) -> Result<Option<T>, WireError> {
        loop {
            if let Some((frame, used)) = parse(&self.buf)? {
                let _ = self.buf.split_to(used);
                return Ok(Some(frame));
            }
            if self.buf.len() > MAX_FRAME_BUFFER {
                return Err(WireError::Closed("while a frame was over its size bound"));
            }
            if self.fill().await? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(WireError::Closed("in the middle of a frame"));
            }
        }
    }

    /// Fills `chunk` with up to `want` (at most [`CHUNK`]) bytes of file
    /// data: what is buffered first, then straight from the socket, never
    /// past `want` (so the frame after the data stays unread). Returns true
    /// when the stream ended first; the chunk then holds what did arrive.
    pub async fn fill_chunk(&mut self, chunk: &mut Chunk, want: usize) -> Result<bool, WireError> {
        let want = want.min(CHUNK);
        let from_buffer = self.buf.len().min(want);
        chunk.space()[..from_buffer].copy_from_slice(&self.buf[..from_buffer]);
        let _ = self.buf.split_to(from_buffer);
        let mut filled = from_buffer;
        let mut ended = false;
        while filled < want {
            let read = read_into(&mut self.stream, &mut chunk.space()[filled..want]);
            let n = match self.idle {
                Some(limit) => match tokio::time::timeout(limit, read).await {
                    Ok(n) => n?,
                    Err(_) => {
                        chunk.set_len(filled);
                        return Err(WireError::Silent(format!("no data for {}", shown(limit))));
                    }
                },
                None => read.await?,
            };
            if n == 0 {
                ended = true;
                break;
            }
            filled += n;
        }
        chunk.set_len(filled);
        Ok(ended)
    }
}

/// One read from the socket into `buf`, waiting until it is readable.
async fn read_into(stream: &mut StreamReader, buf: &mut [u8]) -> io::Result<usize> {
    if stream.capabilities().message_boundaries {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "file transfer needs a byte stream, not seqpacket",
        ));
    }
    stream.read(buf).await
}
