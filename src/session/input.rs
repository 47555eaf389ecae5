//! Where a session's outgoing data comes from: an [`Input`] (stdin chunks,
//! lines broadcast to every client, the auto-send schedule, or nothing),
//! given by the front-end; the engine adds each connection's own control
//! channel (`handle.send(id, bytes)`) beside it.

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};

use crate::send::Schedule;

/// Where a session's outgoing data comes from.
#[derive(Debug)]
pub enum Input {
    /// Chunks from one producer (stdin, a UI's send box). Its end shuts
    /// down our write side (half-close).
    Channel(mpsc::Receiver<Bytes>),
    /// Lines broadcast to every client (`listen -k`). Its end does not close
    /// the connection; a client too slow to keep up skips lines.
    Broadcast(broadcast::Receiver<Bytes>),
    /// Nothing to send.
    Nothing,
    /// Bytes a closed connection did not deliver, sent first on the next
    /// one, then the input they came from.
    Replay {
        /// What to send first, in order.
        first: std::collections::VecDeque<Bytes>,
        /// The input after them.
        then: Box<Input>,
    },
    /// Nothing to send, and an input that never ends: the session lives
    /// until it is stopped, closed or its peer ends it (a page's session,
    /// which sends through each connection's control channel). A datagram
    /// client or a WebSocket never starts its after-input `--wait`.
    Open,
    /// The auto-send schedule (`--send`, `--interval`, `--count`), with
    /// another input (typed lines, broadcast lines) interleaved. When the
    /// schedule is done the other input goes on; the end of both does not
    /// close the connection.
    Scripted {
        /// The messages to send and when.
        schedule: Schedule,
        /// Another input read at the same time, if any.
        also: Option<Box<Input>>,
    },
}

/// What an input gives next.
pub(crate) enum Next {
    /// Bytes to send.
    Data(Bytes),
    /// The input ended; `half_close` when that should end our writes.
    End {
        /// Shut down our write side (stdin's end), or just stop (schedule).
        half_close: bool,
    },
}

impl Input {
    /// `input` with the auto-send `schedule` in front of it (when there is
    /// one): the schedule's messages interleave with what `input` gives.
    pub fn scripted(schedule: Option<Schedule>, input: Input) -> Input {
        match (schedule, input) {
            (None, input) => input,
            (Some(schedule), Input::Nothing) => Input::Scripted {
                schedule,
                also: None,
            },
            (Some(schedule), other) => Input::Scripted {
                schedule,
                also: Some(Box::new(other)),
            },
        }
    }

    /// Names the peer that `{peer}` in scheduled templates renders as.
    pub fn set_peer(&mut self, peer: &str) {
        if let Input::Scripted { schedule, .. } = self {
            schedule.set_peer(peer);
        }
    }

    /// True once a channel input has ended and all of it was taken: a
    /// session started after that has nothing of the user's to send.
    /// Other inputs (broadcast lines, auto-send, nothing) never end a
    /// reconnecting client.
    pub fn ended(&self) -> bool {
        match self {
            Input::Channel(rx) => rx.is_closed() && rx.is_empty(),
            Input::Replay { first, then } => first.is_empty() && then.ended(),
            Input::Broadcast(_) | Input::Nothing | Input::Open | Input::Scripted { .. } => false,
        }
    }

    /// Puts `bytes` (what a closed connection did not deliver) in front of
    /// what this input gives next.
    pub fn replay_first(&mut self, bytes: Vec<Bytes>) {
        if bytes.is_empty() {
            return;
        }
        let then = std::mem::replace(self, Input::Nothing);
        *self = Input::Replay {
            first: bytes.into(),
            then: Box::new(then),
        };
    }

    pub(crate) async fn next(&mut self) -> Next {
        match self {
            Input::Channel(rx) => match rx.recv().await {
                Some(bytes) => Next::Data(bytes),
                None => Next::End { half_close: true },
            },
            Input::Broadcast(rx) => loop {
                match rx.recv().await {
                    Ok(bytes) => return Next::Data(bytes),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("a client fell behind and skipped {n} input lines");
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return Next::End { half_close: false }
                    }
                }
            },
            Input::Nothing => Next::End { half_close: false },
            Input::Replay { first, then } => match first.pop_front() {
                Some(bytes) => Next::Data(bytes),
                None => Box::pin(then.next()).await,
            },
            Input::Open => std::future::pending().await,
            Input::Scripted { schedule, also } => loop {
                let Some(other) = also.as_mut() else {
                    return match schedule.next().await {
                        Some(bytes) => Next::Data(bytes),
                        None => Next::End { half_close: false },
                    };
                };
                if schedule.is_done() {
                    return match Box::pin(other.next()).await {
                        Next::Data(bytes) => Next::Data(bytes),
                        Next::End { .. } => Next::End { half_close: false },
                    };
                }
                tokio::select! {
                    message = schedule.next() => {
                        if let Some(bytes) = message {
                            return Next::Data(bytes);
                        }
                    }
                    next = Box::pin(other.next()) => match next {
                        Next::Data(bytes) => return Next::Data(bytes),
                        Next::End { .. } => *also = None,
                    },
                }
            },
        }
    }
}
