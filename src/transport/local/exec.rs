//! `exec:PROGRAM ARGS` and `sh:COMMAND`: a child's stdin and stdout as a
//! side. The end of its stdout is the side's end; ending our writes closes
//! its stdin; its exit status is the side's end note. Its stderr is ours.
//! The child leads its own process group (a Job Object on Windows); the
//! group is killed and the child reaped when the side is dropped before
//! the child ended: no zombies.

use std::io;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::process::{Child, Command};

use super::{EndNote, Opened, Parts};
use crate::sys::process::{describe_status, output_pipe, ProcessTree};
use crate::transport::PeerAddr;

/// How long the end of a command's output waits for the command to exit,
/// so its status is known when the end is reported (a command that goes
/// on running without its stdout is left running until the side closes).
const EXIT_AFTER_EOF: Duration = Duration::from_millis(500);

/// A running command: killed with its process group and reaped when the
/// last half of its side goes, if it has not ended by then.
pub(super) struct ChildGuard {
    child: tokio::sync::Mutex<Option<Child>>,
    tree: Mutex<ProcessTree>,
    pub(super) note: EndNote,
    /// Its stdout has ended.
    ended: AtomicBool,
}

impl ChildGuard {
    /// Notes that the command's output has ended.
    pub(super) fn output_ended(&self) {
        self.ended.store(true, Ordering::Relaxed);
    }

    /// True once the command's output has ended.
    pub(super) fn has_output_ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    /// Waits at most [`EXIT_AFTER_EOF`] for the command to exit and, when
    /// it has, notes its status and ends what it left in its group.
    pub(super) async fn settle(&self) {
        let mut slot = self.child.lock().await;
        let Some(child) = slot.as_mut() else {
            return;
        };
        if let Ok(Ok(status)) = tokio::time::timeout(EXIT_AFTER_EOF, child.wait()).await {
            self.note
                .set(format!("command {}", describe_status(status)));
            // Background jobs it left in its group end with it (killed
            // right after the reap: the group id is not reused that fast).
            if let Ok(mut tree) = self.tree.lock() {
                tree.kill();
            }
            *slot = None;
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // The group first (the child is not reaped, so its id is still
        // ours), then the child: `kill_on_drop` kills it and tokio reaps
        // it in the background.
        if let Ok(mut tree) = self.tree.lock() {
            tree.kill();
        }
    }
}

/// Starts `program args` with its stdin and stdout as the side.
pub(super) fn open(program: &str, args: &[String], shown: &str) -> io::Result<Opened> {
    let fail = |e: io::Error| io::Error::new(e.kind(), format!("cannot run `{shown}`: {e}"));
    let (output, writer) = output_pipe().map_err(fail)?;
    let mut child = {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(writer.into_stdio())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        ProcessTree::prepare(&mut cmd);
        // `cmd` drops here with our copy of the pipe's write end: the
        // reader sees the end once the command's copies are closed.
        cmd.spawn().map_err(fail)?
    };
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("the command has no stdin"))?;
    let pid = child.id().unwrap_or(0);
    let guard = Arc::new(ChildGuard {
        tree: Mutex::new(ProcessTree::of(&child)),
        child: tokio::sync::Mutex::new(Some(child)),
        note: EndNote::default(),
        ended: AtomicBool::new(false),
    });
    let mut parts = Parts::new(Box::pin(output), Box::pin(stdin));
    parts.child = Some(Arc::clone(&guard));
    parts.keep = Some(guard);
    Ok(Opened {
        stream: parts.build(),
        local: format!("pid {pid}"),
        peer: PeerAddr::Device(format!("`{}` (pid {pid})", shown.trim()).into()),
        note: None,
    })
}
