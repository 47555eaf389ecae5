//! Bench workers on one connected datagram socket (UDP, Unix datagram).
//! Each message carries its sequence number in its first 8 bytes, so
//! replies are matched even when some are lost or reordered. Anything
//! that sends and receives whole messages ([`Datagrams`]) can be driven:
//! UDP and Unix datagram sockets, and ICMP echo ([`super::icmp`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::pacer::Pacer;
use super::plan::Plan;
use super::{payload, Job, Mode, Tally};
use crate::session::MAX_DATAGRAM;
use crate::transport::DatagramSocket;

/// Closed loop: with no reply for this long, the messages in flight count
/// as lost and new ones are sent.
pub const LOSS_TIMEOUT: Duration = Duration::from_millis(200);

/// Bytes at the start of each message holding its sequence number.
pub const SEQ_BYTES: usize = 8;

/// A socket that sends and receives whole messages.
pub trait Datagrams {
    /// Sends one message.
    fn send(&self, buf: &[u8]) -> impl std::future::Future<Output = std::io::Result<usize>> + Send;
    /// Receives one message into `buf`, returning its length.
    fn recv(
        &self,
        buf: &mut [u8],
    ) -> impl std::future::Future<Output = std::io::Result<usize>> + Send;
}

impl Datagrams for DatagramSocket {
    fn send(&self, buf: &[u8]) -> impl std::future::Future<Output = std::io::Result<usize>> + Send {
        DatagramSocket::send(self, buf)
    }

    fn recv(
        &self,
        buf: &mut [u8],
    ) -> impl std::future::Future<Output = std::io::Result<usize>> + Send {
        DatagramSocket::recv(self, buf)
    }
}

/// Drives one socket until the plan ends; returns what it measured.
/// Open-loop sends wait for their due times on `pacer`.
pub async fn run(
    socket: impl Datagrams,
    plan: Plan,
    job: Job,
    pacer: &Pacer,
    shutdown: &CancellationToken,
    tally: Tally,
) -> Tally {
    let echo = job.mode == Mode::Echo;
    let closed_loop = plan.interval.is_none();
    let in_flight: Mutex<HashMap<u64, Instant>> = Mutex::new(HashMap::new());
    let slots = Semaphore::new(job.pipeline.max(1));
    let mut tally = tally;
    let mut sent = (0u64, 0u64, 0u64); // (bytes, messages, send errors) measured
                                       // What was sent, and (open loop) what was answered, by the interval
                                       // each message was due in.
    let mut sent_line = tally.timeline.clone();
    let mut answered_line = tally.timeline.clone();
    {
        let sender = async {
            let mut message = payload(job.size, 0);
            let mut seq = 0u64;
            loop {
                let at = match plan.due(seq) {
                    Some(due) => {
                        if due >= plan.end {
                            return;
                        }
                        pacer.until(due).await;
                        due
                    }
                    None => {
                        if echo {
                            if let Ok(permit) = slots.acquire().await {
                                permit.forget();
                            }
                        }
                        let now = Instant::now();
                        if now >= plan.end {
                            return;
                        }
                        now
                    }
                };
                if message.len() >= SEQ_BYTES {
                    message[..SEQ_BYTES].copy_from_slice(&seq.to_le_bytes());
                }
                if echo && closed_loop {
                    if let Ok(mut map) = in_flight.lock() {
                        map.insert(seq, at);
                    }
                }
                let ok = socket.send(&message).await.is_ok();
                if plan.measured(at) {
                    let sample = sent_line.at(at);
                    if ok {
                        sent.0 += message.len() as u64;
                        sent.1 += 1;
                        sample.bytes_sent += message.len() as u64;
                        sample.messages += 1;
                    } else {
                        sent.2 += 1;
                        sample.errors += 1;
                    }
                }
                seq += 1;
            }
        };
        let tally = &mut tally;
        let answered_line = &mut answered_line;
        let (socket, in_flight, slots) = (&socket, &in_flight, &slots);
        let receiver = async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                let received = tokio::time::timeout(LOSS_TIMEOUT, socket.recv(&mut buf)).await;
                let n = match received {
                    Err(_) => {
                        if echo && closed_loop {
                            let lost = in_flight.lock().map(|mut m| m.drain().count()).unwrap_or(0);
                            tally.failed(lost as u64, Instant::now());
                            slots.add_permits(lost);
                        }
                        continue;
                    }
                    Ok(Err(_)) => {
                        // e.g. ECONNREFUSED from an earlier send: counted
                        // as that message's loss by the timeout.
                        continue;
                    }
                    Ok(Ok(n)) => n,
                };
                let now = Instant::now();
                if !echo {
                    if plan.measured(now) {
                        tally.bytes_received += n as u64;
                        tally.timeline.at(now).bytes_received += n as u64;
                    }
                    continue;
                }
                if n < SEQ_BYTES {
                    continue;
                }
                let mut seq_bytes = [0u8; SEQ_BYTES];
                seq_bytes.copy_from_slice(&buf[..SEQ_BYTES]);
                let seq = u64::from_le_bytes(seq_bytes);
                let at = if closed_loop {
                    in_flight.lock().ok().and_then(|mut m| m.remove(&seq))
                } else {
                    plan.due(seq)
                };
                let Some(at) = at else { continue };
                if plan.measured(at) {
                    tally.measured(now.saturating_duration_since(at), now);
                    tally.bytes_received += n as u64;
                    tally.timeline.at(now).bytes_received += n as u64;
                    answered_line.at(at).messages += 1;
                }
                if closed_loop {
                    slots.add_permits(1);
                }
            }
        };
        tokio::select! {
            _ = async { tokio::join!(sender, receiver) } => {}
            () = tokio::time::sleep_until(plan.end) => {}
            () = shutdown.cancelled() => {}
        }
    }
    tally.bytes_sent = sent.0;
    tally.errors += sent.2;
    // Send errors count where they happened; sends are the messages of
    // `--mode send` only.
    tally.timeline.add_sent(&sent_line, !echo);
    if echo {
        if !closed_loop {
            // Open loop: whatever was sent in the window and not answered,
            // in the interval it was due in.
            let (sent, answered) = (sent_line.samples(), answered_line.samples());
            for (i, s) in sent.iter().enumerate() {
                let answered = answered.get(i).map_or(0, |a| a.messages);
                let lost = s.messages.saturating_sub(answered);
                tally.errors += lost;
                tally.timeline.nth(i).errors += lost;
            }
        }
    } else {
        tally.messages = sent.1;
    }
    tally
}
