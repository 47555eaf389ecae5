//! What the terminal shows: the sinks for a command's view options (status
//! lines on stderr; raw bytes, decoded text, a transcript or JSON on
//! stdout; a log file; stats), started on the engine's event stream, and
//! the loopback hint on a terminal.

use std::io::IsTerminal;

use crate::endpoint::{Endpoint, Host};
use crate::event::EventTx;
use crate::shutdown::Shutdown;
use crate::view::{build_sinks, spawn_sinks, Sink, SinkThread, ViewOptions};

/// Starts the sinks for `opts`. `single_session` lets the raw and decoded
/// views close stdout when the peer ends its writes. A broken stdout stops
/// the command (`shutdown` is cancelled).
pub fn start(
    opts: &ViewOptions,
    single_session: bool,
    shutdown: &Shutdown,
) -> anyhow::Result<(EventTx, SinkThread)> {
    let sinks = build_sinks(opts, single_session)?;
    start_sinks(sinks, shutdown)
}

/// Starts the given sinks.
pub fn start_sinks(
    sinks: Vec<Box<dyn Sink>>,
    shutdown: &Shutdown,
) -> anyhow::Result<(EventTx, SinkThread)> {
    Ok(spawn_sinks(sinks, shutdown.token().clone())?)
}

/// On a terminal, says how to accept other hosts when listening on loopback.
pub fn loopback_hint(real: &Endpoint) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    if let Some((Host::Ip(ip), port)) = real.host_port() {
        if ip.is_loopback() {
            eprintln!(
                "(loopback only: listen on 0.0.0.0:{port} or [::]:{port} to accept other hosts)"
            );
        }
    }
}
