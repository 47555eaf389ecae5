//! `sockmate listen ENDPOINT`: a server. One client like `nc -l` by default;
//! with `-k`, many at once, stdin lines broadcast to all of them.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{broadcast, mpsc};
use tokio_util::task::TaskTracker;

use super::connect::NetworkError;
use super::{build_input, start_output, stdin_is_terminal, Context, OutputOptions};
use crate::cli::SendConfig;
use crate::endpoint::{Endpoint, Host};
use crate::event::{ConnInfo, Counters, Direction, EventKind, EventTx};
use crate::send::Schedule;
use crate::session::{self, describe_io, Input, SessionConfig, MAX_DATAGRAM};
use crate::stdio::{spawn_stdin_reader, STDIN_CHUNK};
use crate::transport::{self, DatagramSocket, Listener, PeerAddr, SocketOptions, StreamListener};

/// Stdin lines waiting to be broadcast; a client further behind skips lines.
const BROADCAST_QUEUE: usize = 1024;

/// Most datagram peers tracked for counters at once (a flood of source
/// addresses cannot grow memory without bound).
const MAX_DATAGRAM_PEERS: usize = 4096;

/// How long connections get to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Everything `listen` needs, validated.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// Where to listen.
    pub endpoint: Endpoint,
    /// Socket options.
    pub socket: SocketOptions,
    /// Session ends.
    pub session: SessionConfig,
    /// Serve many clients at once and keep running.
    pub keep_open: bool,
    /// Views and status lines.
    pub output: OutputOptions,
    /// `--send` and auto-send, to each client.
    pub send: SendConfig,
    /// Server behaviours and limits (`--serve`, `--reply`, `--max-conns`…).
    pub service: Option<crate::service::ServiceConfig>,
}

/// Binds, announces the real address, and serves.
pub async fn run(mut cfg: ListenConfig, ctx: &Context) -> anyhow::Result<()> {
    if let Some(service) = cfg.service.as_mut() {
        service.load_rules_file()?;
    }
    if let Err(e) = crate::limits::raise_nofile_limit() {
        tracing::debug!("cannot raise the open-file limit: {e}");
    }
    let (listener, real) = transport::listen(&cfg.endpoint, &cfg.socket).await?;
    let single = !cfg.keep_open && matches!(listener, Listener::Stream(_));
    let (events, sinks) = start_output(&cfg.output, single, ctx)?;
    let _ = events
        .emit(EventKind::Listening {
            endpoint: real.to_string(),
            note: cfg.service.as_ref().and_then(|s| s.startup_note()),
        })
        .await;
    if std::io::stderr().is_terminal() {
        if let Some((Host::Ip(ip), port)) = real.host_port() {
            if ip.is_loopback() {
                eprintln!("(loopback only: listen on 0.0.0.0:{port} or [::]:{port} to accept other hosts)");
            }
        }
    }
    let result = match listener {
        listener if cfg.service.is_some() => {
            let service = cfg.service.clone().unwrap_or_default();
            crate::service::serve_listener(listener, service, cfg.keep_open, &events, ctx).await
        }
        Listener::Stream(listener) if cfg.keep_open => {
            serve_many(listener, &cfg, &events, ctx).await
        }
        Listener::Stream(listener) => serve_one(listener, &cfg, &events, ctx).await,
        Listener::Datagram(socket) => serve_datagrams(socket, &cfg, &events, ctx).await,
    };
    drop(events);
    sinks.join().await;
    result
}

/// Accepts one client, stops listening, and runs a full-duplex session.
async fn serve_one(
    listener: StreamListener,
    cfg: &ListenConfig,
    events: &EventTx,
    ctx: &Context,
) -> anyhow::Result<()> {
    let (stream, peer) = tokio::select! {
        accepted = listener.accept() => accepted.map_err(|e| anyhow::anyhow!("accept failed on {}: {}", cfg.endpoint, describe_io(&e)))?,
        () = ctx.shutdown.cancelled() => return Ok(()),
    };
    drop(listener);
    let conn = ConnInfo::new(1, &peer);
    let _ = events
        .emit(EventKind::Open {
            conn: conn.clone(),
            local: cfg.endpoint.to_string(),
        })
        .await;
    let mut input = build_input(&cfg.send, cfg.output.text_encoding(), STDIN_CHUNK)?;
    let session_cfg = SessionConfig {
        end_on_peer_eof: cfg.session.end_on_peer_eof || stdin_is_terminal(),
        ..cfg.session.clone()
    };
    let outcome = session::run_stream(
        &stream,
        &conn,
        &mut input,
        events,
        &session_cfg,
        &ctx.shutdown,
    )
    .await;
    outcome.report_close(conn, events).await;
    match outcome.error {
        Some(error) => Err(NetworkError {
            endpoint: peer.to_string(),
            detail: describe_io(&error),
        }
        .into()),
        None => Ok(()),
    }
}

/// Serves clients concurrently until shutdown; stdin lines go to all.
async fn serve_many(
    listener: StreamListener,
    cfg: &ListenConfig,
    events: &EventTx,
    ctx: &Context,
) -> anyhow::Result<()> {
    let lines = spawn_line_broadcaster(cfg.output.text_encoding(), cfg.send.eol);
    let schedule = load_schedule(&cfg.send)?;
    let tracker = TaskTracker::new();
    let next_id = AtomicU64::new(1);
    let session_cfg = Arc::new(SessionConfig {
        end_on_peer_eof: true,
        ..cfg.session.clone()
    });
    let mut acceptor = crate::accept::Acceptor::new();
    loop {
        let Some((stream, peer)) = acceptor.next(&listener, events, &ctx.shutdown).await else {
            break;
        };
        let conn = ConnInfo::new(next_id.fetch_add(1, Ordering::Relaxed), &peer);
        let broadcast = Input::Broadcast(lines.subscribe());
        let mut input = match &schedule {
            Some(schedule) => Input::Scripted {
                schedule: schedule.clone(),
                also: Some(Box::new(broadcast)),
            },
            None => broadcast,
        };
        let events = events.clone();
        let session_cfg = Arc::clone(&session_cfg);
        let shutdown = ctx.shutdown.clone();
        tracker.spawn(async move {
            let _ = events
                .emit(EventKind::Open {
                    conn: conn.clone(),
                    local: String::new(),
                })
                .await;
            let outcome =
                session::run_stream(&stream, &conn, &mut input, &events, &session_cfg, &shutdown)
                    .await;
            outcome.report_close(conn, &events).await;
        });
    }
    drop(listener);
    tracker.close();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await;
    Ok(())
}

/// The auto-send schedule for each client, if there are sends.
fn load_schedule(send: &SendConfig) -> anyhow::Result<Option<Schedule>> {
    if !send.has_sends() {
        return Ok(None);
    }
    let messages = crate::send::load(&send.payloads)?;
    Ok(Some(Schedule::new(messages, send.interval, send.rounds)))
}

/// Reads stdin and broadcasts it line by line (a final unterminated piece
/// at end of input goes too), encoded with `--encoding`.
pub(crate) fn spawn_line_broadcaster(
    encoding: crate::view::encoding::TextEncoding,
    eol: Option<crate::send::Eol>,
) -> broadcast::Sender<Bytes> {
    let (tx, _) = broadcast::channel(BROADCAST_QUEUE);
    let sender = tx.clone();
    let mut lines = crate::send::spawn_line_input(encoding, eol);
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            let _ = sender.send(line);
        }
    });
    tx
}

/// Receives datagrams from anyone; stdin goes to the last peer heard from.
async fn serve_datagrams(
    socket: DatagramSocket,
    cfg: &ListenConfig,
    events: &EventTx,
    ctx: &Context,
) -> anyhow::Result<()> {
    let mut stdin: mpsc::Receiver<Bytes> = if cfg.send.lines || stdin_is_terminal() {
        crate::send::spawn_line_input(cfg.output.text_encoding(), cfg.send.eol)
    } else {
        spawn_stdin_reader(MAX_DATAGRAM - 29)
    };
    let mut stdin_open = true;
    let mut schedule = load_schedule(&cfg.send)?;
    let mut peers: HashMap<PeerAddr, (ConnInfo, Counters)> = HashMap::new();
    let mut last_peer: Option<PeerAddr> = None;
    let mut buf = BytesMut::new();
    let idle = cfg.session.idle_timeout;
    loop {
        buf.resize(MAX_DATAGRAM, 0);
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let (n, peer) = match received {
                    Ok(pair) => pair,
                    Err(e) => {
                        let _ = events.emit(EventKind::Error { conn: None, message: format!("receive failed: {}", describe_io(&e)), kind: Some(crate::error::NetErrorKind::of(&e)) }).await;
                        continue;
                    }
                };
                buf.truncate(n);
                let conn = match peers.get_mut(&peer) {
                    Some((conn, counters)) => {
                        counters.bytes_in += n as u64;
                        counters.msgs_in += 1;
                        conn.clone()
                    }
                    None => {
                        let conn = ConnInfo::new(peers.len() as u64 + 1, &peer);
                        if peers.len() < MAX_DATAGRAM_PEERS {
                            let counters = Counters { bytes_in: n as u64, msgs_in: 1, ..Counters::default() };
                            peers.insert(peer.clone(), (conn.clone(), counters));
                        }
                        let _ = events.emit(EventKind::Open { conn: conn.clone(), local: String::new() }).await;
                        conn
                    }
                };
                last_peer = Some(peer);
                if events.data(&conn, Direction::In, buf.split().freeze()).await.is_err() {
                    break;
                }
            }
            chunk = next_outgoing(&mut stdin, stdin_open, &mut schedule, last_peer.is_some()) => {
                let Some(chunk) = chunk else {
                    stdin_open = false;
                    continue;
                };
                let Some(peer) = &last_peer else {
                    let _ = events.emit(EventKind::Notice { message: format!("no peer has sent anything yet: dropped {} bytes of input", chunk.len()) }).await;
                    continue;
                };
                match socket.send_to(&chunk, peer).await {
                    Ok(_) => {
                        let conn = match peers.get_mut(peer) {
                            Some((conn, counters)) => {
                                counters.bytes_out += chunk.len() as u64;
                                counters.msgs_out += 1;
                                conn.clone()
                            }
                            None => ConnInfo::new(0, peer),
                        };
                        let _ = events.data(&conn, Direction::Out, chunk).await;
                    }
                    Err(e) => {
                        let _ = events.emit(EventKind::Error { conn: None, message: format!("send to {peer} failed: {}", describe_io(&e)), kind: Some(crate::error::NetErrorKind::of(&e)) }).await;
                    }
                }
            }
            () = sleep_or_forever(idle) => break,
            () = ctx.shutdown.cancelled() => break,
        }
    }
    let mut closing: Vec<_> = peers.into_values().collect();
    closing.sort_by_key(|(conn, _)| conn.id);
    for (conn, counters) in closing {
        let _ = events
            .emit(EventKind::Close {
                conn,
                reason: crate::event::CloseReason::Shutdown,
                counters,
            })
            .await;
    }
    Ok(())
}

/// The next datagram to send: from the schedule (once there is a peer to
/// send to) or from stdin.
/// Resolves to `None` once when stdin ends; never resolves when there is
/// nothing left to send.
async fn next_outgoing(
    stdin: &mut mpsc::Receiver<Bytes>,
    stdin_open: bool,
    schedule: &mut Option<Schedule>,
    have_peer: bool,
) -> Option<Bytes> {
    let scheduled = async {
        match schedule {
            Some(s) if have_peer && !s.is_done() => s.next().await,
            _ => std::future::pending().await,
        }
    };
    let typed = async {
        if stdin_open {
            stdin.recv().await
        } else {
            std::future::pending().await
        }
    };
    tokio::select! {
        message = scheduled => message,
        chunk = typed => chunk,
    }
}

async fn sleep_or_forever(duration: Option<Duration>) {
    match duration {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
