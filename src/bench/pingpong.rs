//! Closed-loop ping-pong with one message in flight on a connection that
//! has its worker thread to itself, in blocking calls: write the message,
//! sleep in `read` until the whole reply is in, as a C client (sockperf,
//! `bench/echo_rr.c`) does. Two system calls per round trip instead of the
//! runtime's three (write, readiness wait, read), and no task wake-ups.
//!
//! Chosen ([`take`]) only where it measures the same
//! thing as [`super::stream`]: echo mode, one in flight, no `--rate`, a
//! message small enough that its echo cannot fill our receive buffer
//! while we are still writing it ([`MAX_SIZE`]).

use std::io::{self, Read, Write};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::plan::Plan;
use super::{payload, Job, Mode, RunConfig, Tally};
use crate::transport::stream::{timed_out, BlockingIo};
use crate::transport::Connection;

/// The largest message sent this way: its echo fits in our socket's
/// receive buffer (Linux starts it at 128 KiB, Windows at 64 KiB) even
/// before we read, so writing the message whole first cannot deadlock
/// against a server that echoes while it reads.
pub const MAX_SIZE: usize = 16 * 1024;

/// How long one blocked call waits before the deadline and the cancel are
/// looked at again.
pub const POLL_EVERY: Duration = Duration::from_millis(50);

/// Why a round trip did not complete.
enum Stop {
    /// The plan's end or a cancel.
    Done,
    /// The connection failed.
    Failed(io::Error),
}

/// Drives one connection until the plan ends; returns what it measured.
pub fn run(
    mut io: Box<dyn BlockingIo>,
    plan: Plan,
    job: Job,
    shutdown: &CancellationToken,
    mut tally: Tally,
) -> Tally {
    let message = payload(job.size, 0);
    let mut reply = vec![0u8; job.size];
    let size = job.size as u64;
    let over = || Instant::now() >= plan.end || shutdown.is_cancelled();
    while !over() {
        let at = Instant::now();
        let trip = write_whole(&mut io, &message, &over).and_then(|()| {
            if plan.measured(at) {
                tally.bytes_sent += size;
                tally.timeline.at(at).bytes_sent += size;
            }
            read_whole(&mut io, &mut reply, &over)
        });
        match trip {
            Ok(()) => {
                if plan.measured(at) {
                    let now = Instant::now();
                    tally.measured(now.saturating_duration_since(at), now);
                    tally.bytes_received += size;
                    tally.timeline.at(now).bytes_received += size;
                }
            }
            Err(Stop::Done) => break,
            Err(Stop::Failed(e)) => {
                tracing::debug!("bench connection failed: {e}");
                tally.failed(1, Instant::now());
                break;
            }
        }
    }
    tally
}

/// Writes all of `data` (and pushes it out of a TLS layer's buffer).
fn write_whole(
    io: &mut Box<dyn BlockingIo>,
    mut data: &[u8],
    over: &impl Fn() -> bool,
) -> Result<(), Stop> {
    while !data.is_empty() {
        match io.write(data) {
            Ok(0) => return Err(Stop::Failed(io::ErrorKind::WriteZero.into())),
            Ok(n) => data = &data[n..],
            Err(e) if timed_out(&e) => check(over)?,
            Err(e) => return Err(Stop::Failed(e)),
        }
    }
    loop {
        match io.flush() {
            Ok(()) => return Ok(()),
            Err(e) if timed_out(&e) => check(over)?,
            Err(e) => return Err(Stop::Failed(e)),
        }
    }
}

/// Reads exactly `buf.len()` bytes.
fn read_whole(
    io: &mut Box<dyn BlockingIo>,
    buf: &mut [u8],
    over: &impl Fn() -> bool,
) -> Result<(), Stop> {
    let mut filled = 0;
    while filled < buf.len() {
        match io.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(Stop::Failed(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                )))
            }
            Ok(n) => filled += n,
            Err(e) if timed_out(&e) => check(over)?,
            Err(e) => return Err(Stop::Failed(e)),
        }
    }
    Ok(())
}

/// `Done` once the run is over, else go on waiting.
fn check(over: &impl Fn() -> bool) -> Result<(), Stop> {
    if over() {
        Err(Stop::Done)
    } else {
        Ok(())
    }
}

/// The one connection of a thread, made blocking, when the run keeps one
/// message in flight without a rate on a stream that has a blocking form;
/// `None` leaves `sockets` as it was (or empty, with the failure counted
/// in `tally` and `first_error`, if the socket could not be taken).
pub fn take(
    cfg: &RunConfig,
    rt: &tokio::runtime::Runtime,
    sockets: &mut Vec<(usize, Connection)>,
    tally: &mut Tally,
    first_error: &mut Option<String>,
) -> Option<(usize, Box<dyn BlockingIo>)> {
    if sockets.len() != 1
        || cfg.mode != Mode::Echo
        || cfg.pipeline != 1
        || cfg.rate.is_some()
        || cfg.size > MAX_SIZE
    {
        return None;
    }
    let (index, connection) = sockets.pop()?;
    let stream = match connection.into_stream() {
        Ok(stream) => stream,
        Err(datagram) => {
            sockets.push((index, Connection::Datagram(datagram)));
            return None;
        }
    };
    // Taking a socket out of the runtime deregisters it there.
    let _inside = rt.enter();
    match stream.into_blocking(POLL_EVERY) {
        Ok(Ok(io)) => Some((index, io)),
        Ok(Err(e)) => {
            tally.failed(1, Instant::now());
            first_error.get_or_insert(e.to_string());
            None
        }
        Err(stream) => {
            sockets.push((index, Connection::Stream(stream)));
            None
        }
    }
}
