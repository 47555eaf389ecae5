//! Standard output for the views: an unbuffered handle, and a way to
//! *close* stdout while the program runs, so a reader downstream sees
//! end-of-file when the peer ends its writes (half-close carried to the
//! pipe).

use std::fs::File;
use std::io;

/// A handle on stdout that writes unbuffered and can be closed early.
pub fn stdout_file() -> io::Result<File> {
    crate::sys::stdio::stdout_file()
}

/// Makes stdout point at the null device. With our own duplicate dropped
/// as well, the pipe or file behind stdout is released and its reader sees
/// EOF, while stdout stays valid (a stray print can never reach a reused
/// descriptor).
pub fn release_stdout() -> io::Result<()> {
    crate::sys::stdio::release_stdout()
}
