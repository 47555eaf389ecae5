//! Reading frames and file data from a stream: a buffer that hands out
//! parsed frames and large zero-copy chunks of file bytes.

use std::io;

use bytes::{Bytes, BytesMut};

use super::header::{HeaderError, Parsed};
use super::stages::CHUNK;
use crate::transport::Stream;

/// Most bytes buffered while waiting for one frame to complete (frames are
/// small; a peer sending more without completing one is broken).
const MAX_FRAME_BUFFER: usize = 64 * 1024;

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
}

/// A stream with a read buffer in front.
pub struct WireReader<'a> {
    stream: &'a Stream,
    buf: BytesMut,
}

impl<'a> WireReader<'a> {
    /// Reads from `stream`.
    pub fn new(stream: &'a Stream) -> Self {
        WireReader {
            stream,
            buf: BytesMut::new(),
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.stream.read_some(&mut self.buf, CHUNK).await
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

    /// Up to `max` bytes of file data (at least one); waits until a large
    /// chunk is ready so later stages see few, big chunks.
    pub async fn data(&mut self, max: u64) -> Result<Bytes, WireError> {
        let want = max.min(CHUNK as u64) as usize;
        while self.buf.len() < want {
            if self.fill().await? == 0 {
                if self.buf.is_empty() {
                    return Err(WireError::Closed("before all of the file arrived"));
                }
                break;
            }
        }
        let take = self.buf.len().min(want);
        Ok(self.buf.split_to(take).freeze())
    }

    /// Any bytes until end of stream (raw mode); `None` at the end.
    pub async fn raw(&mut self) -> Result<Option<Bytes>, WireError> {
        while self.buf.len() < CHUNK {
            if self.fill().await? == 0 {
                break;
            }
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.buf.split().freeze()))
    }
}
