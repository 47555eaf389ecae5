//! `--pty`: a pseudo-terminal for an `--exec` command (socat's
//! `EXEC:…,pty,setsid,ctty`). The command gets the terminal's follower
//! side as stdin, stdout and stderr and, through util-linux `setsid
//! --ctty` when it is installed, its own session with that terminal as its
//! controlling terminal (job control, interactive shells). We keep the
//! leader side, non-blocking, in the runtime's reactor (as a pipe's two
//! ends): no unsafe code.

use std::io;
use std::os::fd::OwnedFd;
use std::process::Stdio;

use tokio::net::unix::pipe;

/// Our side of the terminal, read for the command's output.
pub type Leader = pipe::Receiver;

/// Our side of the terminal, written with the command's input.
pub type LeaderInput = pipe::Sender;

/// The byte a terminal in canonical mode reads as end of input (Ctrl-D).
pub const EOF_CHAR: u8 = 0x04;

/// A new pseudo-terminal: our leader side (to write to, to read from) and
/// the follower's three stdio handles for the child.
pub fn open() -> io::Result<(LeaderInput, Leader, [Stdio; 3])> {
    let (leader, follower, _) = crate::transport::local::pty::open_pair()?;
    let follower: OwnedFd = follower.into();
    let stdio = [
        Stdio::from(follower.try_clone()?),
        Stdio::from(follower.try_clone()?),
        Stdio::from(follower),
    ];
    let writer = pipe::Sender::from_owned_fd_unchecked(leader.try_clone()?)?;
    let reader = pipe::Receiver::from_owned_fd_unchecked(leader)?;
    Ok((writer, reader, stdio))
}

/// Linux reports the end of a terminal's output (every follower handle
/// closed) as EIO: that is an end of stream, not an error.
pub fn read_result(result: io::Result<usize>) -> io::Result<usize> {
    match result {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) => Ok(0),
        other => other,
    }
}

/// The command line that runs `program args` in its own session with the
/// terminal as controlling terminal, when util-linux `setsid` is there.
pub fn in_new_session(program: &str, args: &[String]) -> (String, Vec<String>) {
    let setsid = ["/usr/bin/setsid", "/bin/setsid"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    match setsid {
        Some(setsid) => {
            let mut all = vec!["--ctty".to_string(), program.to_string()];
            all.extend(args.iter().cloned());
            (setsid.to_string(), all)
        }
        None => (program.to_string(), args.to_vec()),
    }
}
