//! Terminal policy: reading stdin (raw chunks, or lines when typed or with
//! `--lines`), broadcasting its lines to every client, and asking whether a
//! person is typing. Only the command-line front-end touches fd 0.

use std::io::IsTerminal;

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};

use crate::cli::args::LineMode;
use crate::cli::output::RemoteSlot;
use crate::cli::stdin_reader::{spawn_stdin_reader, STDIN_CHUNK};
use crate::encoding::TextEncoding;
use crate::engine::InputFactory;
use crate::send::{line_message, SendPlan};
use crate::session::Input;

/// Stdin lines waiting to be broadcast; a client further behind skips lines.
const BROADCAST_QUEUE: usize = 1024;

/// Lines waiting to be sent.
const LINE_QUEUE: usize = 64;

/// True when a person is typing on stdin.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Reads stdin as lines: each line becomes one message, its text encoded
/// with the mode's encoding (stdin is taken as UTF-8) and its ending
/// replaced by the mode's `eol` (kept as typed when `None`).
pub fn spawn_line_input(mode: LineMode) -> tokio::sync::mpsc::Receiver<Bytes> {
    let mut raw = spawn_stdin_reader(STDIN_CHUNK);
    let (tx, rx) = tokio::sync::mpsc::channel(LINE_QUEUE);
    tokio::spawn(async move {
        let mut pending = bytes::BytesMut::new();
        let mut first = true;
        while let Some(chunk) = raw.recv().await {
            pending.extend_from_slice(&chunk);
            while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let line = pending.split_to(pos + 1);
                if let (Some(delay), false) = (mode.delay, first) {
                    tokio::time::sleep(delay).await;
                }
                first = false;
                if tx
                    .send(line_message(&line, mode.encoding, mode.eol))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        if !pending.is_empty() {
            let _ = tx
                .send(line_message(&pending, mode.encoding, mode.eol))
                .await;
        }
    });
    rx
}

/// Typed lines: the console on a terminal (when the command has a slot for
/// its handle), else stdin read line by line.
fn line_source(mode: LineMode, console: Option<RemoteSlot>) -> tokio::sync::mpsc::Receiver<Bytes> {
    match console {
        Some(slot) if stdin_is_terminal() => crate::cli::console::spawn(mode, slot),
        _ => spawn_line_input(mode),
    }
}

/// True when stdin is read line by line. `--delay` asks for lines only
/// when stdin is what is sent; with sends it spaces them instead.
fn line_mode(mode: LineMode, plan: &SendPlan) -> bool {
    mode.lines || (mode.delay.is_some() && !plan.has_sends()) || stdin_is_terminal()
}

/// The input of one session: stdin (raw chunks of up to `chunk` bytes, or
/// lines when typed or with `--lines`). With sends and stdin not a
/// terminal, stdin is not read unless `--lines` is given, so a stdin that
/// never closes cannot hang a command that only sends.
pub fn session_input(
    plan: &SendPlan,
    mode: LineMode,
    chunk: usize,
    console: Option<RemoteSlot>,
) -> Input {
    if plan.has_sends() && !line_mode(mode, plan) {
        return Input::Nothing;
    }
    if line_mode(mode, plan) {
        Input::Channel(line_source(mode, console))
    } else if mode.encoding.is_utf8() || mode.raw_stdin {
        Input::Channel(spawn_stdin_reader(chunk))
    } else {
        Input::Channel(transcoded(spawn_stdin_reader(chunk), mode.encoding))
    }
}

/// Piped stdin with a non-UTF-8 `--encoding`: its text re-encoded chunk by
/// chunk, a character split across two reads kept whole.
fn transcoded(mut raw: mpsc::Receiver<Bytes>, encoding: TextEncoding) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(LINE_QUEUE);
    tokio::spawn(async move {
        let mut transcoder = encoding.transcoder();
        while let Some(chunk) = raw.recv().await {
            let out = transcoder.push(&chunk, false);
            if !out.is_empty() && tx.send(out.into()).await.is_err() {
                return;
            }
        }
        let tail = transcoder.push(b"", true);
        if !tail.is_empty() {
            let _ = tx.send(tail.into()).await;
        }
    });
    rx
}

/// Reads stdin and broadcasts it line by line (a final unterminated piece
/// at end of input goes too).
pub fn spawn_line_broadcaster(
    mode: LineMode,
    console: Option<RemoteSlot>,
) -> broadcast::Sender<Bytes> {
    let (tx, _) = broadcast::channel(BROADCAST_QUEUE);
    let sender = tx.clone();
    let mut lines = line_source(mode, console);
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            let _ = sender.send(line);
        }
    });
    tx
}

/// Where a listener's clients get their input: with `-k`, stdin lines
/// broadcast to all; otherwise stdin for the one client (for datagrams,
/// for the last peer heard from).
pub fn listen_input(
    plan: &SendPlan,
    mode: LineMode,
    keep_open: bool,
    chunk: usize,
    console: Option<RemoteSlot>,
) -> InputFactory {
    if keep_open {
        InputFactory::Broadcast(spawn_line_broadcaster(mode, console))
    } else {
        InputFactory::first(session_input(plan, mode, chunk, console))
    }
}
