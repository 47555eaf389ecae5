//! `--exec-per-message`: each message (cut by `--frame`) runs the `--exec`
//! / `--sh-exec` command once with the message as its stdin, and the reply
//! is what it printed (stdout and stderr, in the order written). The
//! tutorials' remote-command server is `--exec sh --exec-per-message`: a
//! client that sends `ls` (with or without a newline) gets the listing back,
//! and a bad command's error goes to the client, not the server's terminal.
//!
//! Each run is a process tree of its own (a process group on POSIX, a Job
//! Object on Windows): what the command started in the background ends
//! with the run (when its output is done, or at the time limit), and a run
//! cut short (the server stopping) ends the whole tree at once.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::ExecSpec;
use crate::sys::process::ProcessTree;

/// Longest one run may take before it is killed (and the client told).
pub const EXEC_MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// Most output kept from one run; the rest is dropped with a note.
pub const EXEC_MESSAGE_MAX_OUTPUT: usize = 1 << 20;

/// Runs `spec` once with `input` as its stdin and returns what it wrote on
/// stdout and stderr. Failures (cannot start, too slow, output cut) become
/// a line of the reply, so the client learns what happened.
pub async fn run_once(spec: &ExecSpec, input: &[u8]) -> Vec<u8> {
    match tokio::time::timeout(EXEC_MESSAGE_TIMEOUT, run(spec, input)).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => format!("sockmate: cannot run `{}`: {e}\n", spec.display).into_bytes(),
        Err(_) => format!(
            "sockmate: `{}` took longer than {}s and was stopped\n",
            spec.display,
            EXEC_MESSAGE_TIMEOUT.as_secs()
        )
        .into_bytes(),
    }
}

async fn run(spec: &ExecSpec, input: &[u8]) -> std::io::Result<Vec<u8>> {
    let (mut output, writer) = crate::sys::process::output_pipe()?;
    let mut child = {
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .stdin(Stdio::piped())
            .stdout(writer.stdio_clone()?)
            .stderr(writer.into_stdio())
            .kill_on_drop(true);
        ProcessTree::prepare(&mut cmd);
        cmd.spawn()?
        // `cmd` drops here with our copies of the write end: the pipe ends
        // when the child (and anything it started) is done.
    };
    // Declared after `child`, so dropped first (this future cancelled, or
    // the time limit reached): the tree is ended while its leader is not
    // yet reaped, and its id cannot name another process.
    let mut tree = ProcessTree::of(&child);
    let mut stdin = child.stdin.take();
    let feed = async {
        if let Some(pipe) = stdin.as_mut() {
            // A command that does not read its input is not an error.
            let _ = pipe.write_all(input).await;
        }
        drop(stdin.take());
    };
    let collect = async {
        let mut out = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = output.read(&mut chunk).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(out);
            }
            let room = EXEC_MESSAGE_MAX_OUTPUT.saturating_sub(out.len());
            out.extend_from_slice(&chunk[..n.min(room)]);
            if n > room {
                out.extend_from_slice(
                    format!("\nsockmate: output cut at {EXEC_MESSAGE_MAX_OUTPUT} bytes\n")
                        .as_bytes(),
                );
                return Ok(out);
            }
        }
    };
    let ((), out) = tokio::join!(feed, collect);
    // The run is over: what it left in the background ends with it.
    tree.kill();
    let _ = child.start_kill();
    let _ = child.wait().await;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_message_is_the_stdin_and_both_outputs_are_the_reply() {
        let sh = ExecSpec::direct("sh", false).unwrap();
        let out = run_once(&sh, b"echo out; echo err >&2").await;
        assert_eq!(out, b"out\nerr\n");
        let out = run_once(&sh, b"no-such-command-here").await;
        assert!(String::from_utf8_lossy(&out).contains("not found"));
        let missing = ExecSpec::direct("/no/such/program", false).unwrap();
        let out = run_once(&missing, b"x").await;
        assert!(
            String::from_utf8_lossy(&out).starts_with("sockmate: cannot run `/no/such/program`")
        );
    }
}
