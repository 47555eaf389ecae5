//! `--serve broker`: raw bytes from each client go to every other client.
//! A client too slow to keep up skips data (reported as a notice on the
//! server) instead of slowing the others.

use std::io;

use bytes::BytesMut;

use super::fanout::Fanout;
use super::message::ReadSize;
use super::{Link, ReadOutcome};
use crate::event::{CloseReason, EventKind};

/// Serves one broker client until it leaves. The banner, if any, is sent
/// once the client is in the hub, so it receives everything sent after it.
pub async fn run(link: &Link<'_>, hub: &Fanout, banner: Option<&[u8]>) -> io::Result<CloseReason> {
    let id = link.wiring.conn.id;
    let mut inbox = hub.join(id, link.wiring.conn.peer.to_string(), link.wiring.stop);
    let result = match banner {
        Some(banner) => match link.send(banner).await {
            Ok(()) => pump(link, hub, &mut inbox).await,
            Err(e) => Err(e),
        },
        None => pump(link, hub, &mut inbox).await,
    };
    hub.leave(id);
    if inbox.was_dropped() {
        return Ok(CloseReason::Service(super::chat::DROPPED.into()));
    }
    result
}

async fn pump(
    link: &Link<'_>,
    hub: &Fanout,
    inbox: &mut super::fanout::Inbox,
) -> io::Result<CloseReason> {
    let mut buf = BytesMut::new();
    let mut reads = ReadSize::default();
    loop {
        tokio::select! {
            read = link.read(&mut buf, reads.reserve) => match read? {
                ReadOutcome::Data(n, kind) => {
                    reads.update(n);
                    let chunk = buf.split().freeze();
                    // The members get a copy at its size: a split of the read
                    // buffer would pin all of it while queued; its kind
                    // (text, binary) goes along.
                    let copy = bytes::Bytes::copy_from_slice(&chunk);
                    hub.send_kind_to_others(link.wiring.conn.id, &copy, kind);
                    link.received_as(chunk, kind).await;
                    if reads.drained {
                        buf = BytesMut::new();
                    }
                }
                ReadOutcome::Eof => return Ok(CloseReason::PeerClosed),
                ReadOutcome::Idle => return Ok(CloseReason::IdleTimeout),
                ReadOutcome::Shutdown => return Ok(CloseReason::Shutdown),
            },
            Some((data, kind)) = inbox.recv_kind() => {
                let skipped = inbox.take_skipped();
                if skipped > 0 {
                    let _ = link.wiring.events.emit(EventKind::Notice {
                        message: format!("{}: too slow, skipped {skipped} broker messages", link.wiring.conn.peer),
                    }).await;
                }
                link.send_bytes_as(data, kind).await?;
            }
        }
    }
}
