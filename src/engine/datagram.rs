//! The datagram half of the one listen path: one loop receives from
//! anyone, keeps a bounded table of peers (each one a connection in events
//! and in the registry), answers with the service if there is one, and
//! sends the input (stdin, auto-send) to the last peer heard from and
//! `handle.send` bytes to the peer they name.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::listen::{InputFactory, Served};
use crate::error::{describe_io, NetError, NetErrorKind};
use crate::event::leg::{Leg, Wire};
use crate::event::{CloseReason, ConnInfo, Direction, EventKind};
use crate::service::datagram::DatagramService;
use crate::session::accept::next_datagram;
use crate::session::input::Next;
use crate::session::registry::{PeerCommand, Registration, CONTROL_QUEUE};
use crate::session::{Meter, MAX_DATAGRAM};
use crate::transport::{DatagramSocket, PeerAddr};

/// Most datagram peers remembered at once (for banners, message numbers
/// and counters); beyond it the oldest peer is forgotten.
pub const MAX_DATAGRAM_PEERS: usize = 4096;

struct Peer {
    conn: ConnInfo,
    meter: Arc<Meter>,
    messages: u64,
    _registration: Registration,
}

/// The peers of one datagram server, by address and by id.
struct Peers {
    by_addr: HashMap<PeerAddr, Peer>,
    by_id: HashMap<u64, PeerAddr>,
}

impl Peers {
    fn forget(&mut self, addr: &PeerAddr) -> Option<Peer> {
        let peer = self.by_addr.remove(addr)?;
        self.by_id.remove(&peer.conn.id);
        Some(peer)
    }
}

/// Receives datagrams until stopped (or `--idle-timeout` of silence).
pub(super) async fn serve_datagrams(
    socket: DatagramSocket,
    mut input: InputFactory,
    served: Arc<Served>,
) -> Result<(), NetError> {
    let events = &served.events;
    let cfg = &served.cfg;
    let stop = served.stop.token().clone();
    let mut input = input.for_client();
    let mut input_open = true;
    let mut schedule = served.schedule.clone();
    let (outbox, mut commands) = mpsc::channel::<PeerCommand>(CONTROL_QUEUE);
    let mut peers = Peers {
        by_addr: HashMap::new(),
        by_id: HashMap::new(),
    };
    let mut last_peer: Option<PeerAddr> = None;
    let mut service = DatagramService::default();
    let activity = Meter::new();
    // One receive buffer for every datagram; each message is copied out at
    // its own size.
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let have_peer = last_peer.is_some();
        let scheduled = schedule.as_ref().is_some_and(|s| have_peer && !s.is_done());
        let (to, bytes) = tokio::select! {
            received = next_datagram(&socket, &mut buf, events, &stop) => {
                let Some((n, addr)) = received else { break };
                activity.touch();
                if !cfg.admission.access.permits(&addr) {
                    continue;
                }
                let datagram = Bytes::copy_from_slice(&buf[..n]);
                let fresh = !peers.by_addr.contains_key(&addr);
                if fresh {
                    if peers.by_addr.len() >= MAX_DATAGRAM_PEERS {
                        forget_oldest(&mut peers, &served).await;
                    }
                    let peer = open_peer(&addr, &outbox, &served).await;
                    peers.by_id.insert(peer.conn.id, addr.clone());
                    peers.by_addr.insert(addr.clone(), peer);
                }
                last_peer = Some(addr.clone());
                let Some(peer) = peers.by_addr.get_mut(&addr) else { continue };
                if fresh {
                    if let Some(banner) = cfg.service.as_ref().and_then(|s| s.banner.clone()) {
                        send_to(&socket, &addr, peer, Bytes::from(banner), &served).await;
                    }
                }
                peer.meter.received(n);
                peer.messages += 1;
                if events.data(&peer.conn, Direction::In, datagram.clone()).await.is_err() {
                    break;
                }
                let Some(svc) = cfg.service.as_ref() else { continue };
                let reply = service.reply(svc, &datagram, &peer.conn.peer, peer.messages);
                if let Some(message) = service.take_notice() {
                    let _ = events.emit(EventKind::Notice { message }).await;
                }
                match reply {
                    Some(reply) => (addr, reply),
                    None => continue,
                }
            }
            next = input.next(), if input_open => match next {
                Next::Data(bytes) => match &last_peer {
                    Some(addr) => (addr.clone(), bytes),
                    None => {
                        let _ = events.emit(EventKind::Notice {
                            message: format!("no peer has sent anything yet: dropped {} bytes of input", bytes.len()),
                        }).await;
                        continue;
                    }
                },
                Next::End { .. } => {
                    input_open = false;
                    continue;
                }
            },
            message = next_scheduled(&mut schedule), if scheduled => match (message, &last_peer) {
                (Some(bytes), Some(addr)) => (addr.clone(), bytes),
                _ => continue,
            },
            command = commands.recv() => match command {
                Some(PeerCommand::Send(id, bytes)) => match peers.by_id.get(&id) {
                    Some(addr) => (addr.clone(), bytes),
                    None => continue,
                },
                Some(PeerCommand::Close(id)) => {
                    if let Some(addr) = peers.by_id.get(&id).cloned() {
                        if let Some(peer) = peers.forget(&addr) {
                            close_peer(peer, CloseReason::Service("closed by the user".into()), &served).await;
                        }
                    }
                    continue;
                }
                None => continue,
            },
            () = activity.idle(cfg.session.idle_timeout) => break,
            () = stop.cancelled() => break,
        };
        activity.touch();
        match peers.by_addr.get(&to) {
            Some(peer) => send_to(&socket, &to, peer, bytes, &served).await,
            None => {
                // A peer forgotten (table full) still gets its answer.
                let _ = socket.send_to(&bytes, &to).await;
            }
        }
    }
    let mut closing: Vec<Peer> = peers.by_addr.into_values().collect();
    closing.sort_by_key(|p| p.conn.id);
    for peer in closing {
        close_peer(peer, CloseReason::Shutdown, &served).await;
    }
    Ok(())
}

async fn next_scheduled(schedule: &mut Option<crate::send::Schedule>) -> Option<Bytes> {
    match schedule {
        Some(s) => s.next().await,
        None => None,
    }
}

async fn open_peer(addr: &PeerAddr, outbox: &mpsc::Sender<PeerCommand>, served: &Served) -> Peer {
    let conn = ConnInfo::new(served.registry.next_id(), addr)
        .with_url(addr.url(served.cfg.endpoint.kind()));
    let meter = Arc::new(Meter::new());
    let registration =
        served
            .registry
            .register_datagram_peer(&conn, Arc::clone(&meter), outbox.clone());
    let _ = served
        .events
        .emit(EventKind::Open {
            conn: conn.clone(),
            local: served.cfg.endpoint.kind().url_of(&served.local),
            tls: None,
            proxy: None,
            wire: Some(Box::new(Wire {
                near: Leg::new(served.cfg.endpoint.kind(), &served.local, addr, false),
                far: None,
            })),
        })
        .await;
    Peer {
        conn,
        meter,
        messages: 0,
        _registration: registration,
    }
}

async fn send_to(
    socket: &DatagramSocket,
    addr: &PeerAddr,
    peer: &Peer,
    bytes: Bytes,
    served: &Served,
) {
    match socket.send_to(&bytes, addr).await {
        Ok(_) => {
            peer.meter.sent(bytes.len());
            let _ = served.events.data(&peer.conn, Direction::Out, bytes).await;
        }
        Err(e) => {
            let _ = served
                .events
                .emit(EventKind::Error {
                    conn: Some(peer.conn.clone()),
                    message: format!("send to {addr} failed: {}", describe_io(&e)),
                    kind: Some(NetErrorKind::of(&e)),
                })
                .await;
        }
    }
}

async fn close_peer(peer: Peer, reason: CloseReason, served: &Served) {
    let Peer {
        conn,
        meter,
        _registration: registration,
        ..
    } = peer;
    // Out of the registry before its close is reported.
    drop(registration);
    let _ = served
        .events
        .emit(EventKind::Close {
            conn,
            reason,
            counters: meter.counters(),
        })
        .await;
}

async fn forget_oldest(peers: &mut Peers, served: &Served) {
    let oldest = peers
        .by_addr
        .iter()
        .min_by_key(|(_, p)| p.conn.id)
        .map(|(addr, _)| addr.clone());
    if let Some(peer) = oldest.and_then(|addr| peers.forget(&addr)) {
        close_peer(
            peer,
            CloseReason::Service("forgotten: too many datagram peers".into()),
            served,
        )
        .await;
    }
}
