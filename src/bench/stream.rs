//! Bench workers on one stream connection (TCP, Unix): `echo` matches
//! replies to requests in order; `send` writes as fast as allowed and reads
//! whatever comes back (so an echo server never stalls).

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::BytesMut;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::pacer::Pacer;
use super::plan::Plan;
use super::{payload, Job, Mode, Tally};
use crate::transport::Stream;

/// Bytes reserved for one read.
const READ_SIZE: usize = 256 * 1024;

/// Drives one connection until the plan ends; returns what it measured.
/// Open-loop sends wait for their due times on `pacer`.
pub async fn run(
    stream: Stream,
    plan: Plan,
    job: Job,
    pacer: &Pacer,
    shutdown: &CancellationToken,
    tally: Tally,
) -> Tally {
    let echo = job.mode == Mode::Echo;
    let message = payload(job.size, 0);
    let sent_at: Mutex<VecDeque<Instant>> = Mutex::new(VecDeque::new());
    let slots = Semaphore::new(job.pipeline.max(1));
    let mut tally = tally;
    let mut sent = (0u64, 0u64); // (bytes, messages) measured
    let mut sent_line = tally.timeline.clone();
    let mut failed = None;
    let (mut reader, mut writer) = stream.into_split();
    {
        let sender = async {
            let mut seq = 0u64;
            loop {
                let at = match plan.due(seq) {
                    Some(due) => {
                        if due >= plan.end {
                            return Ok(());
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
                            return Ok(());
                        }
                        now
                    }
                };
                if echo {
                    if let Ok(mut queue) = sent_at.lock() {
                        queue.push_back(at);
                    }
                }
                writer.write_all(&message).await?;
                if plan.measured(at) {
                    sent.0 += message.len() as u64;
                    sent.1 += 1;
                    let sample = sent_line.at(at);
                    sample.bytes_sent += message.len() as u64;
                    sample.messages += 1;
                }
                seq += 1;
            }
        };
        let tally = &mut tally;
        let (sent_at, slots) = (&sent_at, &slots);
        let receiver = async move {
            let mut buf = BytesMut::with_capacity(READ_SIZE);
            let mut partial = 0usize;
            loop {
                buf.clear();
                let n = reader.read_some(&mut buf, READ_SIZE).await?;
                if n == 0 {
                    return Err::<(), _>(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    ));
                }
                let now = Instant::now();
                if !echo {
                    if plan.measured(now) {
                        tally.bytes_received += n as u64;
                        tally.timeline.at(now).bytes_received += n as u64;
                    }
                    continue;
                }
                partial += n;
                while partial >= job.size {
                    partial -= job.size;
                    let Some(at) = sent_at.lock().ok().and_then(|mut q| q.pop_front()) else {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "the server sent more than it was sent (not an echo service?)",
                        ));
                    };
                    if plan.measured(at) {
                        tally.measured(now.saturating_duration_since(at), now);
                        tally.bytes_received += job.size as u64;
                        tally.timeline.at(now).bytes_received += job.size as u64;
                    }
                    if plan.interval.is_none() {
                        slots.add_permits(1);
                    }
                }
            }
        };
        let work = async { tokio::try_join!(sender, receiver) };
        tokio::select! {
            result = work => {
                if let Err(e) = result {
                    tracing::debug!("bench connection failed: {e}");
                    failed = Some(Instant::now());
                }
            }
            () = tokio::time::sleep_until(plan.end) => {}
            () = shutdown.cancelled() => {}
        }
    }
    tally.bytes_sent = sent.0;
    tally.timeline.add_sent(&sent_line, !echo);
    if !echo {
        tally.messages = sent.1;
    }
    if let Some(at) = failed {
        tally.failed(1, at);
    }
    tally
}
