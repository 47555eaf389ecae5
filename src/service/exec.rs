//! `--exec CMD` / `--sh-exec CMD`: run a command per connection with the
//! socket as its stdin and stdout (and stderr with `--exec-stderr`).
//!
//! The child is killed when the client goes (at once on an error, or
//! [`EXEC_DRAIN_AFTER_EOF`] after the client ends its writes, so a last
//! answer can still go out) and always reaped: no zombies. Each child leads
//! its own process group, and the whole group is killed with it, so what
//! the command started (a shell's background jobs) goes too, also when the
//! connection's task is dropped at exit.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::pty;
use super::{Link, ReadOutcome};
use crate::event::CloseReason;
use crate::sys::process::{describe_status, output_pipe, OutputReader, ProcessTree};

/// How long the command may go on writing after the client ended its
/// writes, before it is killed.
pub const EXEC_DRAIN_AFTER_EOF: Duration = Duration::from_secs(2);

/// Bytes per read from the socket or the command.
const EXEC_READ_SIZE: usize = 16 * 1024;

/// Live children when `--exec` is given without `--max-conns`.
pub const DEFAULT_EXEC_MAX_CONNS: usize = 64;

/// A command to run per connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSpec {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Send its stderr to the client too.
    pub stderr: bool,
    /// The command as the user wrote it, for messages.
    pub display: String,
    /// Run it on a pseudo-terminal in its own session (`--pty`).
    pub pty: bool,
}

/// Where the command's output is read from.
enum ChildOut {
    Pipe(OutputReader),
    Pty(pty::Leader),
}

/// Where input for the command is written.
enum ChildIn {
    Pipe(tokio::process::ChildStdin),
    Pty(pty::LeaderInput),
}

impl ChildOut {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ChildOut::Pipe(p) => p.read(buf).await,
            ChildOut::Pty(t) => pty::read_result(t.read(buf).await),
        }
    }
}

impl ChildIn {
    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            ChildIn::Pipe(p) => p.write_all(data).await,
            ChildIn::Pty(t) => t.write_all(data).await,
        }
    }

    /// The client's end: close the pipe, or type Ctrl-D on the terminal.
    async fn finish(self) {
        if let ChildIn::Pty(mut t) = self {
            let _ = t.write_all(&[pty::EOF_CHAR]).await;
        }
    }
}

impl ExecSpec {
    /// `--exec CMD`: split on whitespace, no shell (quotes are not
    /// interpreted: use `--sh-exec` for shell syntax).
    pub fn direct(cmd: &str, stderr: bool) -> Result<ExecSpec, String> {
        let mut words = cmd.split_whitespace().map(str::to_string);
        let Some(program) = words.next() else {
            return Err(
                "--exec needs a command, e.g. --exec 'cat' or --sh-exec 'ls | wc -l'".into(),
            );
        };
        Ok(ExecSpec {
            program,
            args: words.collect(),
            stderr,
            display: cmd.trim().to_string(),
            pty: false,
        })
    }

    /// The same command on a pseudo-terminal when `pty`.
    pub fn with_pty(self, pty: bool) -> ExecSpec {
        ExecSpec { pty, ..self }
    }

    /// `--sh-exec CMD`: `sh -c CMD` (on Windows `cmd /C CMD`).
    pub fn shell(cmd: &str, stderr: bool) -> Result<ExecSpec, String> {
        if cmd.trim().is_empty() {
            return Err("--sh-exec needs a command, e.g. --sh-exec 'ls | wc -l'".into());
        }
        let (program, args) = crate::sys::process::shell(cmd);
        Ok(ExecSpec {
            display: format!("{program} {} {cmd}", args[0]),
            program,
            args,
            stderr,
            pty: false,
        })
    }

    fn spawn(&self) -> io::Result<(Child, ChildIn, ChildOut)> {
        if self.pty {
            let (to_child, from_child, [stdin, stdout, stderr]) = pty::open()?;
            let (program, args) = pty::in_new_session(&self.program, &self.args);
            let child = Command::new(program)
                .args(args)
                .stdin(stdin)
                .stdout(stdout)
                .stderr(stderr)
                .kill_on_drop(true)
                .spawn()?;
            // The Command and its copies of the follower are gone: the
            // leader reads end of input once the command's are closed.
            return Ok((child, ChildIn::Pty(to_child), ChildOut::Pty(from_child)));
        }
        let (output, writer) = output_pipe()?;
        let stderr = if self.stderr {
            writer.stdio_clone()?
        } else {
            Stdio::inherit()
        };
        let child = {
            let mut cmd = Command::new(&self.program);
            cmd.args(&self.args)
                .stdin(Stdio::piped())
                .stdout(writer.into_stdio())
                .stderr(stderr)
                .kill_on_drop(true);
            ProcessTree::prepare(&mut cmd);
            cmd.spawn()
            // `cmd` drops here, closing our copies of the pipe's write end,
            // so the reader sees end of stream when the child is done.
        }?;
        let mut child = child;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| io::Error::other("the command has no stdin"))?;
        Ok((child, ChildIn::Pipe(stdin), ChildOut::Pipe(output)))
    }
}

/// Runs the command for one connection and pumps both ways until either
/// side is done; then the child is killed if still running, and reaped.
pub async fn run(link: &Link<'_>, spec: &ExecSpec) -> io::Result<CloseReason> {
    let (mut child, stdin, mut output) = spec
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run `{}`: {e}", spec.display)))?;
    let mut group = ProcessTree::of(&child);
    let mut stdin = Some(stdin);
    let to_child = async {
        let mut buf = BytesMut::new();
        loop {
            match link.read(&mut buf, EXEC_READ_SIZE).await? {
                ReadOutcome::Data(..) => {
                    let chunk = buf.split().freeze();
                    if let Some(input) = stdin.as_mut() {
                        if input.write_all(&chunk).await.is_err() {
                            // The command stopped reading; keep draining the socket.
                            stdin = None;
                        }
                    }
                    link.received(chunk).await;
                }
                ReadOutcome::Eof => {
                    if let Some(input) = stdin.take() {
                        input.finish().await;
                    }
                    return Ok::<_, io::Error>(ReadOutcome::Eof);
                }
                other => return Ok(other),
            }
        }
    };
    let from_child = async {
        let mut buf = vec![0u8; EXEC_READ_SIZE];
        loop {
            let n = output.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, io::Error>(());
            }
            link.send(&buf[..n]).await?;
        }
    };
    tokio::pin!(to_child, from_child);
    let reason = tokio::select! {
        done = &mut from_child => {
            done?;
            let _ = link.shutdown_write().await;
            None
        }
        ended = &mut to_child => match ended? {
            ReadOutcome::Eof => {
                match tokio::time::timeout(EXEC_DRAIN_AFTER_EOF, &mut from_child).await {
                    Ok(done) => { done?; None }
                    Err(_) => Some(CloseReason::Service("client left; command killed".into())),
                }
            }
            ReadOutcome::Idle => Some(CloseReason::IdleTimeout),
            _ => Some(CloseReason::Shutdown),
        },
    };
    let status = reap(&mut child, &mut group).await;
    Ok(reason.unwrap_or_else(|| {
        CloseReason::Service(match status {
            Ok(status) => format!("command {}", describe_status(status)),
            Err(e) => format!("command wait failed: {e}"),
        })
    }))
}

/// Kills the child's process group (the child is not reaped yet, so its id
/// cannot have been reused), then the child if still running, then waits
/// for it (always, so it never lingers as a zombie).
async fn reap(child: &mut Child, group: &mut ProcessTree) -> io::Result<ExitStatus> {
    group.kill();
    if let Ok(Some(status)) = child.try_wait() {
        return Ok(status);
    }
    let _ = child.start_kill();
    child.wait().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commands_split_without_a_shell() {
        let e = ExecSpec::direct("  cat -u  ", false).unwrap();
        assert_eq!(
            (e.program.as_str(), e.args.clone()),
            ("cat", vec!["-u".to_string()])
        );
        assert!(ExecSpec::direct("  ", false).is_err());
        let s = ExecSpec::shell("ls | wc -l", true).unwrap();
        let flag = if cfg!(windows) { "/C" } else { "-c" };
        assert_eq!(s.args, vec![flag, "ls | wc -l"]);
        assert!(s.stderr);
    }

    proptest! {
        #[test]
        fn splitting_keeps_every_word(words in proptest::collection::vec("[a-z0-9-]{1,8}", 1..6)) {
            let e = ExecSpec::direct(&words.join("  "), false).unwrap();
            prop_assert_eq!(&e.program, &words[0]);
            prop_assert_eq!(&e.args[..], &words[1..]);
        }
    }
}
