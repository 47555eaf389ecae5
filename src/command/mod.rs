//! Commands: thin wiring of endpoints, transports, sessions and sinks.
//! `main.rs` parses the command line and calls exactly one of these.

pub mod bench;
pub mod connect;
pub mod listen;
pub mod relay;
pub mod scan;
pub mod transfer;

use std::io::IsTerminal;

use tokio_util::sync::CancellationToken;

use crate::cli::SendConfig;
use crate::event::EventTx;
use crate::send::Schedule;
use crate::session::Input;
use crate::stdio::spawn_stdin_reader;
use crate::view::encoding::TextEncoding;
use crate::view::{build_sinks, spawn_sinks, SinkThread, ViewOptions};

/// What every command gets from `main`.
#[derive(Debug, Clone)]
pub struct Context {
    /// Cancelled on SIGINT/SIGTERM, and when stdout is gone (broken pipe).
    pub shutdown: CancellationToken,
}

/// How a command shows what happens (the views).
pub type OutputOptions = ViewOptions;

/// Starts the sinks for a command. `single_session` closes stdout when the
/// peer ends its writes (raw and decoded views).
pub fn start_output(
    opts: &OutputOptions,
    single_session: bool,
    ctx: &Context,
) -> anyhow::Result<(EventTx, SinkThread)> {
    let sinks = build_sinks(opts, single_session)?;
    Ok(spawn_sinks(sinks, ctx.shutdown.clone())?)
}

/// Builds a session's input: stdin (raw chunks, or lines when typed or with
/// `--lines`), and the auto-send schedule when there are sends.
pub fn build_input(
    send: &SendConfig,
    encoding: TextEncoding,
    chunk: usize,
) -> anyhow::Result<Input> {
    let line_mode = send.lines || stdin_is_terminal();
    let stdin = || {
        if line_mode {
            Input::Stdin(crate::send::spawn_line_input(encoding, send.eol))
        } else {
            Input::Stdin(spawn_stdin_reader(chunk))
        }
    };
    if !send.has_sends() {
        return Ok(stdin());
    }
    let messages = crate::send::load(&send.payloads)?;
    Ok(Input::Scripted {
        schedule: Schedule::new(messages, send.interval, send.rounds),
        also: line_mode.then(|| Box::new(stdin())),
    })
}

/// True when a person is typing on stdin.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}
