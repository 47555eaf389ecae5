//! [`Fanout`]: the members of a chat room or broker and a bounded queue to
//! each, bounded in messages and in bytes. Sending never waits: a member
//! whose queue is full skips the message and is told how many it missed,
//! so one slow client never slows the others; a member whose queue stays
//! full (it skipped [`DROP_AFTER_SKIPPED`] messages in a row) is dropped:
//! its connection is stopped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::transport::MessageKind;

/// A queued message and its kind (text or binary) where the sender's
/// transport keeps kinds.
type Queued = (Bytes, Option<MessageKind>);

/// Messages queued for one member before it starts skipping.
pub const MEMBER_QUEUE: usize = 256;

/// Bytes queued for one member before it starts skipping (one message
/// larger than this still goes to an empty queue).
pub const MEMBER_QUEUE_BYTES: usize = 1024 * 1024;

/// Messages a member may skip in a row (it took none meanwhile) before it
/// is dropped.
pub const DROP_AFTER_SKIPPED: u64 = 1024;

/// Bytes a member may skip in a row before it is dropped.
pub const DROP_AFTER_SKIPPED_BYTES: u64 = 16 * 1024 * 1024;

/// One member's receiving end.
#[derive(Debug)]
pub struct Inbox {
    rx: mpsc::Receiver<Queued>,
    queued: Arc<AtomicUsize>,
    skipped: Arc<AtomicU64>,
    streak: Arc<AtomicU64>,
    streak_bytes: Arc<AtomicU64>,
    dropped: Arc<AtomicBool>,
}

impl Inbox {
    /// The next message for this member.
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.recv_kind().await.map(|(message, _)| message)
    }

    /// The next message for this member, with its kind where the sender's
    /// transport keeps kinds.
    pub async fn recv_kind(&mut self) -> Option<(Bytes, Option<MessageKind>)> {
        let (message, kind) = self.rx.recv().await?;
        self.queued.fetch_sub(message.len(), Ordering::Relaxed);
        self.streak.store(0, Ordering::Relaxed);
        self.streak_bytes.store(0, Ordering::Relaxed);
        Some((message, kind))
    }

    /// True once the member was dropped for not keeping up.
    pub fn was_dropped(&self) -> bool {
        self.dropped.load(Ordering::Relaxed)
    }

    /// How many messages were skipped since the last call (and resets it).
    pub fn take_skipped(&self) -> u64 {
        self.skipped.swap(0, Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct Member {
    name: String,
    tx: mpsc::Sender<Queued>,
    queued: Arc<AtomicUsize>,
    skipped: Arc<AtomicU64>,
    streak: Arc<AtomicU64>,
    streak_bytes: Arc<AtomicU64>,
    dropped: Arc<AtomicBool>,
    stop: CancellationToken,
}

impl Member {
    /// Queues `message` within the member's budgets; false when skipped.
    /// A member that skipped [`DROP_AFTER_SKIPPED`] in a row is stopped.
    fn offer(&self, message: &Bytes, kind: Option<MessageKind>) -> bool {
        let queued = self.queued.load(Ordering::Relaxed);
        let fits = queued == 0 || queued + message.len() <= MEMBER_QUEUE_BYTES;
        if fits && self.tx.try_send((message.clone(), kind)).is_ok() {
            self.queued.fetch_add(message.len(), Ordering::Relaxed);
            return true;
        }
        self.skipped.fetch_add(1, Ordering::Relaxed);
        let in_a_row = self.streak.fetch_add(1, Ordering::Relaxed) + 1;
        let bytes_in_a_row = self
            .streak_bytes
            .fetch_add(message.len() as u64, Ordering::Relaxed)
            + message.len() as u64;
        if in_a_row >= DROP_AFTER_SKIPPED || bytes_in_a_row >= DROP_AFTER_SKIPPED_BYTES {
            self.dropped.store(true, Ordering::Relaxed);
            self.stop.cancel();
        }
        false
    }
}

/// A set of members addressed by connection id, each with a name.
#[derive(Debug, Default)]
pub struct Fanout {
    members: Mutex<HashMap<u64, Member>>,
}

impl Fanout {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Member>> {
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a member and returns its inbox; `stop` is cancelled if the
    /// member is dropped for not keeping up.
    pub fn join(&self, id: u64, name: String, stop: &CancellationToken) -> Inbox {
        let (tx, rx) = mpsc::channel(MEMBER_QUEUE);
        let inbox = Inbox {
            rx,
            queued: Arc::default(),
            skipped: Arc::default(),
            streak: Arc::default(),
            streak_bytes: Arc::default(),
            dropped: Arc::default(),
        };
        self.lock().insert(
            id,
            Member {
                name,
                tx,
                queued: Arc::clone(&inbox.queued),
                skipped: Arc::clone(&inbox.skipped),
                streak: Arc::clone(&inbox.streak),
                streak_bytes: Arc::clone(&inbox.streak_bytes),
                dropped: Arc::clone(&inbox.dropped),
                stop: stop.clone(),
            },
        );
        inbox
    }

    /// Removes a member; returns its name.
    pub fn leave(&self, id: u64) -> Option<String> {
        self.lock().remove(&id).map(|m| m.name)
    }

    /// Sends to every member except `from`; returns how many skipped it.
    pub fn send_to_others(&self, from: u64, message: &Bytes) -> usize {
        self.send_kind_to_others(from, message, None)
    }

    /// [`Fanout::send_to_others`] with the message's kind (a broker keeps
    /// text text from one WebSocket client to the others).
    pub fn send_kind_to_others(
        &self,
        from: u64,
        message: &Bytes,
        kind: Option<MessageKind>,
    ) -> usize {
        let members = self.lock();
        let mut skipped = 0;
        for (id, member) in members.iter() {
            if *id == from {
                continue;
            }
            if !member.tx.is_closed() && !member.offer(message, kind) {
                skipped += 1;
            }
        }
        skipped
    }

    /// Sends to one member.
    pub fn send_to(&self, id: u64, message: Bytes) {
        if let Some(member) = self.lock().get(&id) {
            member.offer(&message, None);
        }
    }

    /// Renames a member unless another has the name; returns the old name.
    pub fn rename(&self, id: u64, name: &str) -> Result<String, String> {
        let mut members = self.lock();
        if members
            .iter()
            .any(|(other, m)| *other != id && m.name == name)
        {
            return Err(format!("{name} is taken"));
        }
        match members.get_mut(&id) {
            Some(member) => Ok(std::mem::replace(&mut member.name, name.to_string())),
            None => Err("not in the room".into()),
        }
    }

    /// Member names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().values().map(|m| m.name.clone()).collect();
        names.sort();
        names
    }

    /// A member's name.
    pub fn name_of(&self, id: u64) -> Option<String> {
        self.lock().get(&id).map(|m| m.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_skips_instead_of_waiting() {
        let f = Fanout::default();
        let stop = CancellationToken::new();
        let mut a = f.join(1, "a".into(), &stop);
        let _b = f.join(2, "b".into(), &stop);
        for _ in 0..MEMBER_QUEUE + 5 {
            f.send_to_others(2, &Bytes::from_static(b"x"));
        }
        assert_eq!(a.take_skipped(), 5);
        assert_eq!(a.take_skipped(), 0);
        assert_eq!(a.recv().await.unwrap().as_ref(), b"x");
        assert!(f.rename(1, "b").is_err());
        assert_eq!(f.rename(1, "z").unwrap(), "a");
        assert_eq!(f.names(), vec!["b", "z"]);
        assert_eq!(f.leave(1).as_deref(), Some("z"));
    }

    #[tokio::test]
    async fn a_member_queue_is_bounded_in_bytes_and_a_stalled_member_is_dropped() {
        let f = Fanout::default();
        let (a_stop, b_stop) = (CancellationToken::new(), CancellationToken::new());
        let mut a = f.join(1, "a".into(), &a_stop);
        let _b = f.join(2, "b".into(), &b_stop);
        let big = Bytes::from(vec![b'x'; 600 * 1024]);
        assert_eq!(
            f.send_to_others(2, &big),
            0,
            "an empty queue takes a big message"
        );
        assert_eq!(
            f.send_to_others(2, &big),
            1,
            "a second one is over the byte budget"
        );
        assert_eq!(a.recv().await.map(|m| m.len()), Some(big.len()));
        assert_eq!(f.send_to_others(2, &big), 0, "taking it frees the budget");
        // Skipped bytes in a row: 600 KiB each, dropped at 16 MiB.
        let until_dropped = (DROP_AFTER_SKIPPED_BYTES / big.len() as u64) + 1;
        for _ in 0..until_dropped - 1 {
            f.send_to_others(2, &big);
        }
        assert!(!a.was_dropped());
        f.send_to_others(2, &big);
        assert!(
            a.was_dropped() && a_stop.is_cancelled(),
            "a queue that stays full is dropped"
        );
        assert!(!b_stop.is_cancelled());

        // Skipped messages in a row.
        let c_stop = CancellationToken::new();
        let c = f.join(3, "c".into(), &c_stop);
        let small = Bytes::from_static(b"y");
        for _ in 0..MEMBER_QUEUE as u64 + DROP_AFTER_SKIPPED - 1 {
            f.send_to(3, small.clone());
        }
        assert!(!c.was_dropped());
        f.send_to(3, small);
        assert!(c.was_dropped() && c_stop.is_cancelled());
    }
}
