//! A connection's control channel: bytes a program asked to send on it
//! (`handle.send(id, bytes)`), read by the connection's own task.
//!
//! The channel's queue is made on the first send. Most connections are
//! never sent to, and a queue costs about 1.5 KiB (tokio's first block of
//! slots), which would more than double what an idle service connection
//! holds (measured with heaptrack at 2,000 idle echo clients).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use tokio::sync::{mpsc, Notify};

/// Bytes queued for one connection before the sender waits.
pub const CONTROL_QUEUE: usize = 16;

/// Where a connection's sender and its [`Control`] meet: the queue, once a
/// first send has made it.
#[derive(Debug, Default)]
pub(crate) struct ControlSlot {
    sender: OnceLock<mpsc::Sender<Bytes>>,
    /// The receiving end, until the connection's task takes it.
    receiver: Mutex<Option<mpsc::Receiver<Bytes>>>,
    /// Wakes the connection's task when the queue is made.
    made: Notify,
    /// The connection's task no longer reads (its [`Control`] is gone).
    closed: AtomicBool,
}

impl ControlSlot {
    /// The queue's sending end, made on first use; None once the
    /// connection's task has stopped reading.
    pub(crate) fn sender(&self) -> Option<mpsc::Sender<Bytes>> {
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::channel(CONTROL_QUEUE);
            *self.receiver.lock().unwrap_or_else(PoisonError::into_inner) = Some(rx);
            self.made.notify_one();
            tx
        });
        Some(sender.clone())
    }

    fn take_receiver(&self) -> Option<mpsc::Receiver<Bytes>> {
        self.receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The reading end of a connection's control channel. Never ends the
/// session: once the senders are gone it waits forever.
#[derive(Debug)]
pub struct Control {
    /// Where the queue will appear (None: no control channel).
    slot: Option<Arc<ControlSlot>>,
    rx: Option<mpsc::Receiver<Bytes>>,
}

impl Control {
    /// The reading end for `slot`.
    pub(crate) fn of(slot: Arc<ControlSlot>) -> Self {
        Control {
            slot: Some(slot),
            rx: None,
        }
    }

    /// No control channel.
    pub fn none() -> Self {
        Control {
            slot: None,
            rx: None,
        }
    }

    /// The next bytes to send; pends forever once the channel is closed.
    pub async fn next(&mut self) -> Bytes {
        loop {
            if let Some(rx) = self.rx.as_mut() {
                match rx.recv().await {
                    Some(bytes) => return bytes,
                    None => {
                        self.rx = None;
                        self.slot = None;
                    }
                }
                continue;
            }
            let Some(slot) = self.slot.as_ref() else {
                return std::future::pending().await;
            };
            match slot.take_receiver() {
                Some(rx) => self.rx = Some(rx),
                // A send between the check and this wait leaves a permit:
                // the wait then ends at once.
                None => slot.made.notified().await,
            }
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            slot.closed.store(true, Ordering::Release);
            drop(slot.take_receiver());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_queue_is_made_by_the_first_send_and_wakes_a_waiting_reader() {
        let slot = Arc::new(ControlSlot::default());
        let mut control = Control::of(Arc::clone(&slot));
        assert!(slot.sender.get().is_none(), "no queue before a send");
        let reader = tokio::spawn(async move {
            let first = control.next().await;
            let second = control.next().await;
            (first, second, control)
        });
        tokio::task::yield_now().await;
        let tx = slot.sender().expect("the reader is alive");
        tx.send(Bytes::from_static(b"a")).await.unwrap();
        slot.sender()
            .unwrap()
            .send(Bytes::from_static(b"b"))
            .await
            .unwrap();
        let (first, second, control) = reader.await.unwrap();
        assert_eq!((&first[..], &second[..]), (&b"a"[..], &b"b"[..]));
        drop(control);
        assert!(slot.sender().is_none(), "a gone reader takes no more");
    }

    #[tokio::test]
    async fn a_send_before_the_reader_waits_is_not_lost() {
        let slot = Arc::new(ControlSlot::default());
        let mut control = Control::of(Arc::clone(&slot));
        slot.sender()
            .unwrap()
            .send(Bytes::from_static(b"early"))
            .await
            .unwrap();
        assert_eq!(&control.next().await[..], b"early");
    }
}
