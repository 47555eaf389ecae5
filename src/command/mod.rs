//! Commands: thin wiring of endpoints, transports, sessions and sinks.
//! `main.rs` parses the command line and calls exactly one of these.

pub mod bench;
pub mod connect;
pub mod listen;
pub mod relay;

use std::io::IsTerminal;

use tokio_util::sync::CancellationToken;

use crate::event::EventTx;
use crate::view::raw::RawStdout;
use crate::view::status::{StatusLines, Verbosity};
use crate::view::{spawn_sinks, Sink, SinkThread};

/// What every command gets from `main`.
#[derive(Debug, Clone)]
pub struct Context {
    /// Cancelled on SIGINT/SIGTERM, and when stdout is gone (broken pipe).
    pub shutdown: CancellationToken,
}

/// How a command shows what happens.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    /// Status-line detail on stderr.
    pub verbosity: Verbosity,
}

/// Starts the sinks for a command: raw data to stdout and status lines to
/// stderr. `single_session` closes stdout when the peer ends its writes.
pub fn start_output(
    opts: &OutputOptions,
    single_session: bool,
    ctx: &Context,
) -> anyhow::Result<(EventTx, SinkThread)> {
    let sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(StatusLines::new(opts.verbosity)),
        Box::new(RawStdout::new(single_session)?),
    ];
    Ok(spawn_sinks(sinks, ctx.shutdown.clone())?)
}

/// True when a person is typing on stdin.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}
