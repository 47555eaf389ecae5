//! Services over datagrams (UDP, Unix datagram): every datagram is a
//! message and replies go to its sender. A new peer gets the banner first.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::message::{answer, Action};
use super::{chargen, Serve, ServiceConfig};
use crate::command::Context;
use crate::event::{CloseReason, ConnInfo, Counters, Direction, EventKind, EventTx};
use crate::frame::FrameSpec;
use crate::session::{describe_io, MAX_DATAGRAM};
use crate::template::Message;
use crate::transport::{DatagramSocket, PeerAddr};

/// Most datagram peers remembered at once (for banners, message numbers
/// and counters); beyond it the oldest-numbered peers are forgotten.
pub const MAX_DATAGRAM_PEERS: usize = 4096;

struct PeerState {
    conn: ConnInfo,
    counters: Counters,
    messages: u64,
}

/// Answers datagrams until shutdown.
pub async fn serve(
    socket: DatagramSocket,
    cfg: Arc<ServiceConfig>,
    events: &EventTx,
    ctx: &Context,
) -> anyhow::Result<()> {
    let mut peers: HashMap<PeerAddr, PeerState> = HashMap::new();
    let mut next_id = 1u64;
    // One receive buffer for every datagram; each message is copied out at
    // its own size.
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let (mut out, mut scratch) = (Vec::new(), Vec::new());
    let mut chargen_offset = 0usize;
    loop {
        let Some((n, peer)) =
            crate::accept::next_datagram(&socket, &mut buf, events, &ctx.shutdown).await
        else {
            break;
        };
        if !cfg.access.permits(&peer) {
            continue;
        }
        let datagram = Bytes::copy_from_slice(&buf[..n]);
        if !peers.contains_key(&peer) {
            if peers.len() >= MAX_DATAGRAM_PEERS {
                forget_oldest(&mut peers, events).await;
            }
            let conn = ConnInfo::new(next_id, &peer);
            next_id += 1;
            let _ = events
                .emit(EventKind::Open {
                    conn: conn.clone(),
                    local: String::new(),
                })
                .await;
            peers.insert(
                peer.clone(),
                PeerState {
                    conn,
                    counters: Counters::default(),
                    messages: 0,
                },
            );
            if let Some(banner) = &cfg.banner {
                send(
                    &socket,
                    &peer,
                    &mut peers,
                    Bytes::copy_from_slice(banner),
                    events,
                )
                .await;
            }
        }
        let Some(state) = peers.get_mut(&peer) else {
            continue;
        };
        state.counters.bytes_in += n as u64;
        state.counters.msgs_in += 1;
        state.messages += 1;
        let number = state.messages;
        let conn = state.conn.clone();
        let _ = events.data(&conn, Direction::In, datagram.clone()).await;
        let reply = match cfg.serve {
            Some(Serve::Chargen) => {
                let mut line = Vec::new();
                chargen::line(chargen_offset, &mut line);
                chargen_offset += 1;
                Some(Bytes::from(line))
            }
            _ => {
                let msg = Message {
                    bytes: &datagram,
                    peer: &conn.peer,
                    number,
                };
                match answer(&cfg, &FrameSpec::Raw, &msg, &mut out, &mut scratch) {
                    Action::Echo => Some(datagram),
                    Action::Reply if !out.is_empty() => Some(Bytes::copy_from_slice(&out)),
                    _ => None,
                }
            }
        };
        if let Some(reply) = reply {
            send(&socket, &peer, &mut peers, reply, events).await;
        }
    }
    let mut closing: Vec<PeerState> = peers.into_values().collect();
    closing.sort_by_key(|p| p.conn.id);
    for p in closing {
        let _ = events
            .emit(EventKind::Close {
                conn: p.conn,
                reason: CloseReason::Shutdown,
                counters: p.counters,
            })
            .await;
    }
    Ok(())
}

async fn send(
    socket: &DatagramSocket,
    peer: &PeerAddr,
    peers: &mut HashMap<PeerAddr, PeerState>,
    bytes: Bytes,
    events: &EventTx,
) {
    let Some(state) = peers.get_mut(peer) else {
        return;
    };
    match socket.send_to(&bytes, peer).await {
        Ok(_) => {
            state.counters.bytes_out += bytes.len() as u64;
            state.counters.msgs_out += 1;
            let _ = events.data(&state.conn, Direction::Out, bytes).await;
        }
        Err(e) => {
            let _ = events
                .emit(EventKind::Error {
                    conn: Some(state.conn.clone()),
                    message: format!("reply failed: {}", describe_io(&e)),
                    kind: Some(crate::error::NetErrorKind::of(&e)),
                })
                .await;
        }
    }
}

async fn forget_oldest(peers: &mut HashMap<PeerAddr, PeerState>, events: &EventTx) {
    let oldest = peers
        .iter()
        .min_by_key(|(_, p)| p.conn.id)
        .map(|(addr, _)| addr.clone());
    if let Some(state) = oldest.and_then(|addr| peers.remove(&addr)) {
        let _ = events
            .emit(EventKind::Close {
                conn: state.conn,
                reason: CloseReason::Service("forgotten: too many datagram peers".into()),
                counters: state.counters,
            })
            .await;
    }
}
