//! Child processes for `--exec`: one pipe that the command's stdout (and
//! stderr) write to, ending a whole process tree, and saying how a command
//! ended.
//!
//! On POSIX the command leads its own process group and the group is sent
//! `SIGKILL`; on Windows the command is put in a Job Object that is
//! terminated (and that ends with our handle: `KILL_ON_JOB_CLOSE`), the
//! equivalent of killing the process group. `--sh-exec` runs `sh -c` on
//! POSIX and `cmd /C` on Windows ([`shell`]).

use std::io;
use std::process::{ExitStatus, Stdio};

use tokio::process::{Child, Command};

/// The reading end of a command's output pipe, read asynchronously.
#[cfg(unix)]
pub type OutputReader = tokio::net::unix::pipe::Receiver;

/// The reading end of a command's output pipe, read asynchronously (an
/// anonymous pipe is read on tokio's blocking pool on Windows).
#[cfg(windows)]
pub type OutputReader = tokio::fs::File;

/// The writing end of a command's output pipe, handed to the child as its
/// stdout and, cloned, its stderr.
pub struct OutputWriter(WriterEnd);

#[cfg(unix)]
type WriterEnd = std::os::fd::OwnedFd;

#[cfg(windows)]
type WriterEnd = std::io::PipeWriter;

impl OutputWriter {
    /// One more handle on the same pipe (for stderr).
    pub fn stdio_clone(&self) -> io::Result<Stdio> {
        Ok(Stdio::from(self.0.try_clone()?))
    }

    /// This handle as the child's stdout or stderr.
    pub fn into_stdio(self) -> Stdio {
        Stdio::from(self.0)
    }
}

/// A pipe for a command's output: we read the one end, the command writes
/// the other (which we must drop once the command has it, so the reader
/// sees the end).
#[cfg(unix)]
pub fn output_pipe() -> io::Result<(OutputReader, OutputWriter)> {
    let (writer, reader) = tokio::net::unix::pipe::pipe()?;
    Ok((reader, OutputWriter(writer.into_blocking_fd()?)))
}

/// A pipe for a command's output: we read the one end, the command writes
/// the other (which we must drop once the command has it, so the reader
/// sees the end).
#[cfg(windows)]
pub fn output_pipe() -> io::Result<(OutputReader, OutputWriter)> {
    let (reader, writer) = std::io::pipe()?;
    let reader = std::fs::File::from(std::os::windows::io::OwnedHandle::from(reader));
    Ok((tokio::fs::File::from_std(reader), OutputWriter(writer)))
}

/// The program and arguments that run `cmd` through the system shell:
/// `sh -c CMD` on POSIX, `cmd /C CMD` on Windows.
pub fn shell(cmd: &str) -> (String, Vec<String>) {
    if cfg!(windows) {
        ("cmd".into(), vec!["/C".into(), cmd.to_string()])
    } else {
        ("sh".into(), vec!["-c".into(), cmd.to_string()])
    }
}

/// A command and everything it starts, ended together: a process group
/// on POSIX, a Job Object on Windows. Ended when dropped, whatever way the
/// connection ended.
#[derive(Debug)]
pub struct ProcessTree {
    #[cfg(unix)]
    leader: Option<u32>,
    #[cfg(windows)]
    job: Option<super::win::Job>,
}

impl ProcessTree {
    /// Prepares `cmd` so that what it starts can be ended with it (its own
    /// process group on POSIX; nothing to do before the spawn on Windows).
    pub fn prepare(cmd: &mut Command) {
        #[cfg(unix)]
        cmd.process_group(0);
        #[cfg(windows)]
        let _ = cmd;
    }

    /// The tree of `child`, spawned from a command that [`prepare`]d.
    ///
    /// [`prepare`]: ProcessTree::prepare
    pub fn of(child: &Child) -> ProcessTree {
        #[cfg(unix)]
        {
            ProcessTree { leader: child.id() }
        }
        #[cfg(windows)]
        {
            // A job that cannot be made (or a child already gone) leaves
            // the child alone to be killed as one process.
            let job = child
                .raw_handle()
                .and_then(|handle| super::win::Job::with_process(handle).ok());
            ProcessTree { job }
        }
    }

    /// Ends every process of the tree (once: after the child is reaped its
    /// id may belong to another process).
    pub fn kill(&mut self) {
        #[cfg(unix)]
        {
            let pid = self.leader.take().and_then(|id| i32::try_from(id).ok());
            if let Some(pid) = pid.and_then(rustix::process::Pid::from_raw) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
        }
        #[cfg(windows)]
        if let Some(job) = self.job.take() {
            job.terminate();
        }
    }
}

impl Drop for ProcessTree {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How a command ended, for messages: `exited`, `exited with status 3`,
/// `killed by signal 9`.
pub fn describe_status(status: ExitStatus) -> String {
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(windows)]
    let signal: Option<i32> = None;
    match (status.code(), signal) {
        (Some(0), _) => "exited".into(),
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "ended".into(),
    }
}
