//! Where splice(2) and sendfile(2) do not exist (everywhere but Linux):
//! the same functions, reporting that the zero-copy path is unavailable,
//! so callers take their portable path (a read into a buffer and a write)
//! with the same behaviour. [`Capabilities::zero_copy`](super::Capabilities)
//! is never set here, so the callers never ask.

use std::io;

use super::stream::{Stream, StreamReader, StreamWriter};

/// Whether this platform has the zero-copy path.
pub const AVAILABLE: bool = false;

/// The most bytes in flight per direction (unused without splice).
pub const PIPE_CAPACITY: usize = 1024 * 1024;

fn unavailable() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "zero-copy (splice, sendfile) is only available on Linux",
    )
}

/// Never: no splice here.
pub fn supports(_: &StreamReader, _: &StreamWriter) -> bool {
    false
}

/// Fails with `Unsupported`.
pub async fn copy(_: &StreamReader, _: &StreamWriter, _: impl Fn(usize)) -> io::Result<u64> {
    Err(unavailable())
}

/// Fails with `Unsupported`.
pub async fn echo(_: &Stream, _: impl Fn(usize)) -> io::Result<u64> {
    Err(unavailable())
}

/// Never: no splice here.
pub fn can_copy_to_file(_: &StreamReader) -> bool {
    false
}

/// Fails with `Unsupported`.
pub async fn copy_to_file(
    _: &StreamReader,
    _: &std::fs::File,
    _: impl FnMut(usize),
) -> io::Result<u64> {
    Err(unavailable())
}

/// Never: no sendfile here.
pub fn can_send_file(_: &StreamWriter) -> bool {
    false
}

/// Fails with `Unsupported`.
pub async fn send_file(_: &StreamWriter, _: &std::fs::File, _: u64, _: usize) -> io::Result<()> {
    Err(unavailable())
}

/// Fails with `Unsupported`.
pub async fn send_file_some(
    _: &StreamWriter,
    _: &std::fs::File,
    _: u64,
    _: usize,
) -> io::Result<usize> {
    Err(unavailable())
}
