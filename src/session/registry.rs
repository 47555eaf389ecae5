//! The registry of one handle's live connections: from a connection id to
//! where bytes for it go (its control channel), its meter and its stop
//! token. `handle.send(id, …)`, `handle.close(id)` and
//! `handle.connections()` read it; each connection's task registers itself
//! and is removed when its [`Registration`] drops.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::control::ControlSlot;
use super::{Control, Meter};
use crate::event::{ConnInfo, Counters};

pub use super::control::CONTROL_QUEUE;

/// Why `send` or `close` could not act on a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No live connection has this id.
    #[error("no connection #{0} (it closed, or never existed)")]
    UnknownConnection(u64),
    /// The connection is closing and takes no more bytes.
    #[error("connection #{0} is closing and takes no more bytes")]
    Closing(u64),
}

/// One live connection as a program sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnSummary {
    /// The connection's id (as in events).
    pub id: u64,
    /// The peer, as printed.
    pub peer: String,
    /// What moved so far.
    pub counters: Counters,
    /// How long it has been open.
    pub age: Duration,
}

/// Where bytes for a connection go.
#[derive(Debug, Clone)]
enum Outbox {
    /// The connection's own task reads them (streams, datagram clients),
    /// from a queue made on the first send.
    Task(Arc<ControlSlot>),
    /// A datagram server's loop sends them to this peer.
    Datagram(mpsc::Sender<PeerCommand>),
}

/// What a handle asks of a datagram server about one of its peers.
#[derive(Debug)]
pub enum PeerCommand {
    /// Send these bytes to peer `id`.
    Send(u64, Bytes),
    /// Forget peer `id` (report it closed).
    Close(u64),
}

#[derive(Debug)]
struct Entry {
    peer: Arc<str>,
    meter: Arc<Meter>,
    outbox: Outbox,
    stop: CancellationToken,
}

/// The connections of one listener, connect or relay.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    entries: Arc<Mutex<BTreeMap<u64, Entry>>>,
    next_id: Arc<AtomicU64>,
}

/// Removes its connection from the registry when dropped.
#[derive(Debug)]
pub struct Registration {
    registry: Registry,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Entry>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next connection id (from 1).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers a connection whose task reads its own control channel.
    pub fn register(
        &self,
        conn: &ConnInfo,
        meter: Arc<Meter>,
        stop: CancellationToken,
    ) -> (Control, Registration) {
        let slot = Arc::new(ControlSlot::default());
        self.insert(conn, meter, Outbox::Task(Arc::clone(&slot)), stop);
        (
            Control::of(slot),
            Registration {
                registry: self.clone(),
                id: conn.id,
            },
        )
    }

    /// Registers a datagram peer whose bytes the server loop sends from
    /// `outbox` (tagged with the id).
    pub fn register_datagram_peer(
        &self,
        conn: &ConnInfo,
        meter: Arc<Meter>,
        outbox: mpsc::Sender<PeerCommand>,
    ) -> Registration {
        self.insert(
            conn,
            meter,
            Outbox::Datagram(outbox),
            CancellationToken::new(),
        );
        Registration {
            registry: self.clone(),
            id: conn.id,
        }
    }

    fn insert(&self, conn: &ConnInfo, meter: Arc<Meter>, outbox: Outbox, stop: CancellationToken) {
        self.lock().insert(
            conn.id,
            Entry {
                peer: Arc::clone(&conn.peer),
                meter,
                outbox,
                stop,
            },
        );
    }

    /// The live connections, by id.
    pub fn connections(&self) -> Vec<ConnSummary> {
        self.lock()
            .iter()
            .map(|(id, e)| ConnSummary {
                id: *id,
                peer: e.peer.to_string(),
                counters: e.meter.counters(),
                age: e.meter.age(),
            })
            .collect()
    }

    /// Queues `bytes` for connection `id` (waiting while its queue is full).
    pub async fn send(&self, id: u64, bytes: Bytes) -> Result<(), ControlError> {
        let outbox = self
            .lock()
            .get(&id)
            .map(|e| e.outbox.clone())
            .ok_or(ControlError::UnknownConnection(id))?;
        let sent = match outbox {
            Outbox::Task(slot) => match slot.sender() {
                Some(tx) => tx.send(bytes).await.is_ok(),
                None => false,
            },
            Outbox::Datagram(tx) => tx.send(PeerCommand::Send(id, bytes)).await.is_ok(),
        };
        sent.then_some(()).ok_or(ControlError::Closing(id))
    }

    /// Asks connection `id` to close (it reports its `close` event).
    pub fn close(&self, id: u64) -> Result<(), ControlError> {
        let entries = self.lock();
        let entry = entries
            .get(&id)
            .ok_or(ControlError::UnknownConnection(id))?;
        entry.stop.cancel();
        if let Outbox::Datagram(tx) = &entry.outbox {
            tx.try_send(PeerCommand::Close(id))
                .map_err(|_| ControlError::Closing(id))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn send_reaches_only_the_named_connection_and_close_cancels_it() {
        let registry = Registry::default();
        let (a, b) = (registry.next_id(), registry.next_id());
        assert_eq!((a, b), (1, 2));
        let stop_a = CancellationToken::new();
        let (mut ctl_a, reg_a) = registry.register(
            &ConnInfo::new(a, "peer-a"),
            Arc::new(Meter::new()),
            stop_a.clone(),
        );
        let (_ctl_b, _reg_b) = registry.register(
            &ConnInfo::new(b, "peer-b"),
            Arc::new(Meter::new()),
            CancellationToken::new(),
        );
        registry.send(a, Bytes::from_static(b"hi")).await.unwrap();
        assert_eq!(ctl_a.next().await, Bytes::from_static(b"hi"));
        assert_eq!(registry.connections().len(), 2);
        registry.close(a).unwrap();
        assert!(stop_a.is_cancelled());
        drop(reg_a);
        assert_eq!(
            registry.send(a, Bytes::new()).await,
            Err(ControlError::UnknownConnection(a))
        );
        assert_eq!(registry.connections()[0].peer, "peer-b");
    }
}
