//! The serving accept loop: limits (`--max-conns` permits, `--allow` /
//! `--deny`), accept-error backoff, one task per connection running its
//! service, and graceful shutdown (stop accepting, let replies in flight go
//! out, close within a deadline).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::broadcast;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::fanout::Fanout;
use super::{broker, chargen, chat, exec, message, server_full_line, Link, Serve, ServiceConfig};
use crate::command::listen::spawn_line_broadcaster;
use crate::command::{stdin_is_terminal, Context};
use crate::event::{CloseReason, ConnInfo, EventKind, EventTx};
use crate::session::describe_io;
use crate::session::{self, Input, SessionConfig};
use crate::stdio::{spawn_stdin_reader, STDIN_CHUNK};
use crate::transport::{PeerAddr, Stream, StreamListener};

/// How long connections get to finish after a shutdown signal.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(2);

/// Refusal lines being written at once; beyond it refused clients are
/// just closed.
const REFUSALS_AT_ONCE: usize = 64;

/// How long a refused client gets to take its refusal line.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// After we decide to close, how long we read and drop what the client is
/// still sending (so the kernel does not reset the connection and throw
/// away our last reply), and at most how much.
const CLOSE_DRAIN: (Duration, usize) = (Duration::from_millis(500), 1024 * 1024);

/// Where a plain session's outgoing data comes from (only limits are set:
/// clients get what is typed, as without them).
enum PlainInput {
    /// `-k`: stdin lines broadcast to every client.
    Lines(broadcast::Sender<Bytes>),
    /// One client: stdin itself, with half-close at its end.
    Stdin,
}

/// What every connection task shares.
struct Shared {
    cfg: Arc<ServiceConfig>,
    plain: Option<PlainInput>,
    room: Fanout,
    hub: Fanout,
    events: EventTx,
    shutdown: CancellationToken,
}

/// Accepts and serves clients until shutdown (or, without `keep_open`,
/// until the first allowed client is done).
pub async fn serve_streams(
    listener: StreamListener,
    cfg: Arc<ServiceConfig>,
    keep_open: bool,
    events: &EventTx,
    ctx: &Context,
) -> anyhow::Result<()> {
    let plain = cfg.is_plain().then(|| {
        if keep_open {
            PlainInput::Lines(spawn_line_broadcaster(Default::default(), None))
        } else {
            PlainInput::Stdin
        }
    });
    let shared = Arc::new(Shared {
        cfg: Arc::clone(&cfg),
        plain,
        room: Fanout::default(),
        hub: Fanout::default(),
        events: events.clone(),
        shutdown: ctx.shutdown.clone(),
    });
    let permits = cfg.max_conns.map(|n| Arc::new(Semaphore::new(n)));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let tracker = TaskTracker::new();
    let mut next_id = 1u64;
    let mut acceptor = crate::accept::Acceptor::new();
    loop {
        // The permit is taken before accepting, so a full server does not
        // take on work it cannot serve.
        let mut permit = take_permit(&permits);
        let Some((stream, peer)) = acceptor.next(&listener, events, &ctx.shutdown).await else {
            break;
        };
        if !cfg.access.permits(&peer) {
            let _ = events
                .emit(EventKind::Notice {
                    message: format!("refused: {peer} (not allowed by --allow/--deny)"),
                })
                .await;
            continue;
        }
        if permit.is_none() {
            // A slot may have freed while we waited in accept.
            permit = take_permit(&permits);
        }
        if let (Some(max), None) = (cfg.max_conns, &permit) {
            refuse(stream, peer, max, &refusals, &tracker, events).await;
            continue;
        }
        let id = next_id;
        next_id += 1;
        if !keep_open {
            drop(listener);
            serve_connection(stream, peer, id, Arc::clone(&shared), permit).await;
            return Ok(());
        }
        tracker.spawn(serve_connection(
            stream,
            peer,
            id,
            Arc::clone(&shared),
            permit,
        ));
    }
    drop(listener);
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_DEADLINE, tracker.wait())
        .await
        .is_err()
    {
        let _ = events
            .emit(EventKind::Notice {
                message: format!(
                    "{} connections still busy after {SHUTDOWN_DEADLINE:?}; closing them",
                    tracker.len()
                ),
            })
            .await;
    }
    Ok(())
}

fn take_permit(permits: &Option<Arc<Semaphore>>) -> Option<OwnedSemaphorePermit> {
    permits
        .as_ref()
        .and_then(|p| Arc::clone(p).try_acquire_owned().ok())
}

/// Sends a client beyond `--max-conns` one line and closes it, without
/// holding up the accept loop.
async fn refuse(
    stream: Stream,
    peer: PeerAddr,
    max: usize,
    refusals: &Arc<Semaphore>,
    tracker: &TaskTracker,
    events: &EventTx,
) {
    let _ = events
        .emit(EventKind::Notice {
            message: format!("refused: {peer} (--max-conns {max} reached)"),
        })
        .await;
    let Ok(slot) = Arc::clone(refusals).try_acquire_owned() else {
        return;
    };
    tracker.spawn(async move {
        let line = server_full_line(max);
        let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
            if stream.write_all_shared(line.as_bytes()).await.is_ok() {
                close_gracefully(&stream).await;
            }
        })
        .await;
        drop(slot);
    });
}

/// Runs one connection's service and reports it opening and closing.
async fn serve_connection(
    stream: Stream,
    peer: PeerAddr,
    id: u64,
    shared: Arc<Shared>,
    _permit: Option<OwnedSemaphorePermit>,
) {
    let conn = ConnInfo::new(id, &peer);
    let events = &shared.events;
    let _ = events
        .emit(EventKind::Open {
            conn: conn.clone(),
            local: String::new(),
        })
        .await;
    if let Some(plain) = &shared.plain {
        // Boxed, like the other rarely used services, so an idle message
        // connection's task stays small.
        Box::pin(serve_plain(&stream, conn, plain, &shared)).await;
        return;
    }
    let link = Link::new(
        &stream,
        &conn,
        events,
        &shared.shutdown,
        shared.cfg.idle_timeout,
    );
    let reason = match run_service(&link, &shared).await {
        Ok(reason) => reason,
        Err(e) => CloseReason::Error(crate::error::NetError::new(
            crate::error::NetErrorKind::of(&e),
            describe_io(&e),
        )),
    };
    if !matches!(reason, CloseReason::PeerClosed | CloseReason::Error(_)) {
        close_gracefully(&stream).await;
    }
    let counters = link.counters();
    let _ = events
        .emit(EventKind::Close {
            conn,
            reason,
            counters,
        })
        .await;
}

/// Runs the stdin session for a client when only limits are configured.
async fn serve_plain(stream: &Stream, conn: ConnInfo, plain: &PlainInput, shared: &Shared) {
    let events = &shared.events;
    let (mut input, end_on_peer_eof) = match plain {
        PlainInput::Lines(lines) => (Input::Broadcast(lines.subscribe()), true),
        PlainInput::Stdin => (
            Input::Stdin(spawn_stdin_reader(STDIN_CHUNK)),
            stdin_is_terminal(),
        ),
    };
    let session_cfg = SessionConfig {
        wait: None,
        idle_timeout: shared.cfg.idle_timeout,
        end_on_peer_eof,
    };
    let outcome = session::run_stream(
        stream,
        &conn,
        &mut input,
        events,
        &session_cfg,
        &shared.shutdown,
    )
    .await;
    outcome.report_close(conn, events).await;
}

/// Runs the configured service. Services other than the message one are
/// boxed so that the common case (echo, reply, respond) keeps a small task.
async fn run_service(link: &Link<'_>, shared: &Shared) -> io::Result<CloseReason> {
    let cfg = &shared.cfg;
    if let Some(spec) = &cfg.exec {
        if let Some(banner) = &cfg.banner {
            link.send(banner).await?;
        }
        return Box::pin(exec::run(link, spec)).await;
    }
    match cfg.serve {
        Some(Serve::Chat) => {
            if let Some(banner) = &cfg.banner {
                link.send(banner).await?;
            }
            Box::pin(chat::run(link, &shared.room, &cfg.frame, cfg.max_frame)).await
        }
        Some(Serve::Broker) => {
            Box::pin(broker::run(link, &shared.hub, cfg.banner.as_deref())).await
        }
        Some(Serve::Chargen) => {
            if let Some(banner) = &cfg.banner {
                link.send(banner).await?;
            }
            Box::pin(chargen::run(link)).await
        }
        _ => message::run(link, cfg).await,
    }
}

/// Ends our writes, then reads and drops what the client still sends for
/// a moment, so our last bytes are delivered rather than reset away.
async fn close_gracefully(stream: &Stream) {
    if stream.shutdown_write().is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_DRAIN.0, async {
        let mut buf = BytesMut::new();
        let mut drained = 0;
        while drained < CLOSE_DRAIN.1 {
            match stream.read_some(&mut buf, 16 * 1024).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    drained += n;
                    buf.clear();
                }
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each connection's task holds this future; with 10,000 idle clients
    /// its size is most of the memory per connection, so keep it small.
    const MAX_CONNECTION_FUTURE: usize = 2048;

    #[tokio::test]
    async fn a_connection_task_stays_small() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = tokio::net::TcpStream::connect(l.local_addr().unwrap())
            .await
            .unwrap();
        let peer = PeerAddr::Ip(l.local_addr().unwrap());
        let (events, _rx) = EventTx::channel(false);
        let shared = Arc::new(Shared {
            cfg: Arc::new(ServiceConfig::default()),
            plain: None,
            room: Fanout::default(),
            hub: Fanout::default(),
            events,
            shutdown: CancellationToken::new(),
        });
        let task = serve_connection(Stream::Tcp(c), peer, 1, shared, None);
        let size = std::mem::size_of_val(&task);
        assert!(size <= MAX_CONNECTION_FUTURE, "{size} bytes");
    }
}
