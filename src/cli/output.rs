//! What the terminal shows: the sinks for a command's view options (status
//! lines on stderr; raw bytes, decoded text, a transcript or JSON on
//! stdout; a log file; stats), started on the engine's event stream, and
//! the loopback hint on a terminal.

use std::io::IsTerminal;

use crate::endpoint::{Endpoint, Host};
use crate::engine::{Engine, Handle, StartError};
use crate::event::bus::Sink;
use crate::view::{build_sinks, SinkThread, ViewOptions};

/// Attaches the sinks for `opts` to the engine. `single_session` lets the
/// raw and decoded views close stdout when the peer ends its writes. A
/// broken stdout stops the engine.
pub fn start(
    opts: &ViewOptions,
    single_session: bool,
    engine: &Engine,
) -> anyhow::Result<SinkThread> {
    start_with(opts, single_session, engine, None)
}

/// [`start`] plus one more sink (`--explain`'s narration).
pub fn start_with(
    opts: &ViewOptions,
    single_session: bool,
    engine: &Engine,
    extra: Option<Box<dyn Sink>>,
) -> anyhow::Result<SinkThread> {
    let mut sinks = build_sinks(opts, single_session)?;
    sinks.extend(extra);
    Ok(engine.attach(sinks)?)
}

/// Waits for what the engine `started` (a connect, listener or relay) to
/// finish, then for the sinks to render every event it reported.
pub async fn finish(
    engine: Engine,
    sinks: SinkThread,
    started: Result<Handle, StartError>,
) -> anyhow::Result<()> {
    let result = match started {
        Ok(handle) => handle.finished().await.map_err(anyhow::Error::new),
        Err(e) => Err(anyhow::Error::new(e)),
    };
    // The sink thread ends once the engine's last event sender is gone.
    drop(engine);
    sinks.join().await;
    result
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
