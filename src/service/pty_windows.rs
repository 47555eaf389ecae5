//! `--pty` does not exist on Windows (it is refused when the flags are
//! read there): uninhabited stand-ins keep `--exec`'s code the same on
//! every platform.

use std::io;
use std::process::Stdio;

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

crate::sys::absent::absent_async_io!(read: Leader; write: LeaderInput);
