//! Standard output for the views: an unbuffered handle, and a way to
//! *close* stdout while the program runs, so a reader downstream sees
//! end-of-file when the peer ends its writes (half-close carried to the
//! pipe).

use std::fs::File;
use std::io;
use std::os::fd::AsFd;

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
