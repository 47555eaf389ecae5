//! The limits of a side that serves many peers (`receive -k`, `send
//! --listen -k`): a connection that has not finished its hello waits among
//! the pending ones (a large budget, each bounded by the hello deadline) and
//! takes one of the transfer places only once its hello is done, so idle
//! sockets cannot keep a legitimate peer out.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A peer refused because every transfer place is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("busy: serving {0} transfers already; try again later")]
pub struct Busy(pub usize);

/// One connection's way through the limits: its pending place until the
/// hello is done ([`HelloGate::pass`]), then its transfer place, both
/// given back when the gate is dropped (the session ended).
#[derive(Debug, Default)]
pub struct HelloGate {
    /// The place among connections still in their hello.
    pending: Option<OwnedSemaphorePermit>,
    /// The transfer places to take one of, and their number.
    sessions: Option<(Arc<Semaphore>, usize)>,
    /// The transfer place, once taken.
    held: Option<OwnedSemaphorePermit>,
}

impl HelloGate {
    /// A gate with no limits (one peer, or a dialled one).
    pub fn open() -> HelloGate {
        HelloGate::default()
    }

    /// A gate holding `pending` until its hello is done, then one of the
    /// `limit` places of `sessions`.
    pub fn new(pending: OwnedSemaphorePermit, sessions: Arc<Semaphore>, limit: usize) -> HelloGate {
        HelloGate {
            pending: Some(pending),
            sessions: Some((sessions, limit)),
            held: None,
        }
    }

    /// The hello is done: takes a transfer place (giving the pending one
    /// back), or refuses when all are taken. Passing twice is harmless.
    pub fn pass(&mut self) -> Result<(), Busy> {
        if self.held.is_some() {
            return Ok(());
        }
        if let Some((sessions, limit)) = &self.sessions {
            let place = Arc::clone(sessions)
                .try_acquire_owned()
                .map_err(|_| Busy(*limit))?;
            self.held = Some(place);
        }
        self.pending = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_taken_at_the_hello_and_given_back_at_the_end() {
        let pending = Arc::new(Semaphore::new(4));
        let sessions = Arc::new(Semaphore::new(1));
        let gate = |p: &Arc<Semaphore>| {
            HelloGate::new(
                Arc::clone(p).try_acquire_owned().unwrap(),
                Arc::clone(&sessions),
                1,
            )
        };
        let (mut a, mut b) = (gate(&pending), gate(&pending));
        assert_eq!(pending.available_permits(), 2);
        // Waiting in the hello takes no transfer place.
        assert_eq!(sessions.available_permits(), 1);
        a.pass().unwrap();
        assert_eq!(pending.available_permits(), 3);
        assert_eq!(b.pass(), Err(Busy(1)));
        assert_eq!(
            Busy(64).to_string(),
            "busy: serving 64 transfers already; try again later"
        );
        drop(a);
        b.pass().unwrap();
        b.pass().unwrap();
        assert!(HelloGate::open().pass().is_ok());
    }
}
