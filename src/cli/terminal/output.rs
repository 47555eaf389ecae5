//! What the terminal shows: the sinks for a command's view options (status
//! lines on stderr; raw bytes, decoded text, a transcript or JSON on
//! stdout; a log file; stats), started on the engine's event stream, and
//! the loopback hint on a terminal.

use std::io::IsTerminal;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::sys::signals::StatsSignal;

use crate::cli::live_stats::{self, ClosedSink, ClosedTotals};
use crate::endpoint::{Endpoint, Host};
use crate::engine::{Engine, Handle, Remote, StartError};
use crate::view::{build_sinks, Sink, SinkThread, ViewOptions};

/// Where the running handle's [`Remote`] appears once the command has
/// started (for the console, which starts before it).
pub type RemoteSlot = Arc<OnceLock<(Remote, ClosedTotals)>>;

/// The attached sinks and what the front-end runs beside them while the
/// command goes on (live counters, the console's view of the handle).
pub struct Sinks {
    thread: SinkThread,
    closed: ClosedTotals,
    stats_interval: Option<Duration>,
    slot: RemoteSlot,
    /// SIGUSR1, listened for from before the command starts so that no
    /// signal sent after its first status line is missed.
    usr1: Option<StatsSignal>,
    /// A Windows console set to UTF-8 while text views write to it.
    console: crate::sys::stdio::Utf8Console,
}

impl Sinks {
    /// Sinks attached elsewhere, with the live-counter sink already in
    /// them (see [`live_sink`]).
    pub fn new(thread: SinkThread, closed: ClosedTotals, opts: &ViewOptions) -> Self {
        Sinks {
            thread,
            closed,
            stats_interval: opts.stats_interval,
            slot: RemoteSlot::default(),
            usr1: StatsSignal::listen(),
            console: crate::sys::stdio::Utf8Console::when(shows_text(opts)),
        }
    }

    /// The slot the console reads the handle's [`Remote`] from.
    pub fn slot(&self) -> RemoteSlot {
        Arc::clone(&self.slot)
    }
}

/// The sink that adds up closed connections for the live counters.
pub fn live_sink() -> (Box<dyn Sink>, ClosedTotals) {
    let closed = ClosedTotals::default();
    (Box::new(ClosedSink(closed.clone())), closed)
}

/// Attaches the sinks for `opts` to the engine. `single_session` lets the
/// raw and decoded views close stdout when the peer ends its writes. A
/// broken stdout stops the engine.
pub fn start(opts: &ViewOptions, single_session: bool, engine: &Engine) -> anyhow::Result<Sinks> {
    start_with(opts, single_session, engine, None)
}

/// [`start`] plus more sinks (`--explain`'s narration, notes).
pub fn start_with(
    opts: &ViewOptions,
    single_session: bool,
    engine: &Engine,
    extra: impl IntoIterator<Item = Box<dyn Sink>>,
) -> anyhow::Result<Sinks> {
    let mut sinks = build_sinks(opts, single_session)?;
    sinks.extend(extra);
    let (live, closed) = live_sink();
    sinks.push(live);
    Ok(Sinks::new(engine.attach(sinks)?, closed, opts))
}

/// [`start_with`] for a proxy server: status lines, and the tunnelled
/// traffic on stdout only with `--dump` (as `relay` shows it).
pub fn start_dump(
    opts: &ViewOptions,
    dump: Option<crate::view::dump::DumpFormat>,
    engine: &Engine,
    extra: impl IntoIterator<Item = Box<dyn Sink>>,
) -> anyhow::Result<Sinks> {
    let mut sinks = crate::view::dump::relay_sinks(opts, dump)?;
    sinks.extend(extra);
    let (live, closed) = live_sink();
    sinks.push(live);
    Ok(Sinks::new(engine.attach(sinks)?, closed, opts))
}

/// Waits for what the engine `started` (a connect, listener or relay) to
/// finish, then for the sinks to render every event it reported. Meanwhile
/// the live counters print every `--stats-interval` and on SIGUSR1.
pub async fn finish(
    engine: Engine,
    sinks: Sinks,
    started: Result<Handle, StartError>,
) -> anyhow::Result<()> {
    let Sinks {
        thread: sinks,
        closed,
        stats_interval,
        slot,
        usr1,
        console,
    } = sinks;
    let result = match started {
        Ok(handle) => {
            let _ = slot.set((handle.remote(), closed.clone()));
            let reporter = live_stats::spawn(handle.remote(), closed, stats_interval, usr1);
            let result = handle.finished().await.map_err(anyhow::Error::new);
            reporter.abort();
            result
        }
        Err(e) => Err(anyhow::Error::new(e)),
    };
    // The sink thread ends once the engine's last event sender is gone.
    drop(engine);
    sinks.join().await;
    drop(console);
    result
}

/// True when stdout gets text that sockmate made (decoded, hex, JSON,
/// timestamps), which a Windows console must read as UTF-8; raw bytes go
/// out untouched, as nc writes them.
fn shows_text(opts: &ViewOptions) -> bool {
    opts.encoding.is_some() || opts.hex || opts.timestamps || opts.json
}

/// On a terminal, says how to accept other hosts when listening on loopback.
pub fn loopback_hint(real: &Endpoint) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    if let Some((Host::Ip(ip), port)) = real.host_port() {
        if ip.is_loopback() {
            errln!(
                "(loopback only: listen on 0.0.0.0:{port} or [::]:{port} to accept other hosts)"
            );
        }
    }
}
