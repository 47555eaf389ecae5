//! `--pty` does not exist on Windows (it is refused when the flags are
//! read there): uninhabited stand-ins keep `--exec`'s code the same on
//! every platform.

use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Our side of a terminal (none on Windows).
pub enum Leader {}

/// Our side of a terminal, for writing (none on Windows).
pub enum LeaderInput {}

/// The byte a terminal in canonical mode reads as end of input (Ctrl-D).
pub const EOF_CHAR: u8 = 0x04;

/// Always refused on Windows.
pub fn open() -> io::Result<(LeaderInput, Leader, [Stdio; 3])> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        crate::sys::unsupported::refusal("--pty", "run the command without it"),
    ))
}

/// A read's result as it is.
pub fn read_result(result: io::Result<usize>) -> io::Result<usize> {
    result
}

/// The command line as it is.
pub fn in_new_session(program: &str, args: &[String]) -> (String, Vec<String>) {
    (program.to_string(), args.to_vec())
}

impl AsyncRead for Leader {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match *self {}
    }
}

impl AsyncWrite for LeaderInput {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        match *self {}
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        match *self {}
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        match *self {}
    }
}
