//! [`Fanout`]: the members of a chat room or broker and a bounded queue to
//! each. Sending never waits: a member whose queue is full skips the
//! message and is told how many it missed, so one slow client never slows
//! the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::mpsc;

/// Messages queued for one member before it starts skipping.
pub const MEMBER_QUEUE: usize = 256;

/// One member's receiving end.
#[derive(Debug)]
pub struct Inbox {
    /// Messages for this member.
    pub rx: mpsc::Receiver<Bytes>,
    skipped: Arc<AtomicU64>,
}

impl Inbox {
    /// How many messages were skipped since the last call (and resets it).
    pub fn take_skipped(&self) -> u64 {
        self.skipped.swap(0, Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct Member {
    name: String,
    tx: mpsc::Sender<Bytes>,
    skipped: Arc<AtomicU64>,
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

    /// Adds a member and returns its inbox.
    pub fn join(&self, id: u64, name: String) -> Inbox {
        let (tx, rx) = mpsc::channel(MEMBER_QUEUE);
        let skipped = Arc::new(AtomicU64::new(0));
        self.lock().insert(
            id,
            Member {
                name,
                tx,
                skipped: Arc::clone(&skipped),
            },
        );
        Inbox { rx, skipped }
    }

    /// Removes a member; returns its name.
    pub fn leave(&self, id: u64) -> Option<String> {
        self.lock().remove(&id).map(|m| m.name)
    }

    /// Sends to every member except `from`; returns how many skipped it.
    pub fn send_to_others(&self, from: u64, message: &Bytes) -> usize {
        let members = self.lock();
        let mut skipped = 0;
        for (id, member) in members.iter() {
            if *id == from {
                continue;
            }
            if let Err(mpsc::error::TrySendError::Full(_)) = member.tx.try_send(message.clone()) {
                member.skipped.fetch_add(1, Ordering::Relaxed);
                skipped += 1;
            }
        }
        skipped
    }

    /// Sends to one member.
    pub fn send_to(&self, id: u64, message: Bytes) {
        if let Some(member) = self.lock().get(&id) {
            if member.tx.try_send(message).is_err() {
                member.skipped.fetch_add(1, Ordering::Relaxed);
            }
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
        let mut a = f.join(1, "a".into());
        let _b = f.join(2, "b".into());
        for _ in 0..MEMBER_QUEUE + 5 {
            f.send_to_others(2, &Bytes::from_static(b"x"));
        }
        assert_eq!(a.take_skipped(), 5);
        assert_eq!(a.take_skipped(), 0);
        assert_eq!(a.rx.recv().await.unwrap().as_ref(), b"x");
        assert!(f.rename(1, "b").is_err());
        assert_eq!(f.rename(1, "z").unwrap(), "a");
        assert_eq!(f.names(), vec!["b", "z"]);
        assert_eq!(f.leave(1).as_deref(), Some("z"));
    }
}
