//! The ping loop: one echo request every interval, each reply matched to
//! its request by identifier and sequence number, a duplicate counted as
//! one, a request unanswered after the timeout reported once.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::PingConfig;
use super::packet::{echo_request, parse_reply, pattern, ICMP_HEADER};
use super::stats::Stats;
use crate::sys::icmp::IcmpSocket;

/// The receive buffer: the largest IP packet.
pub const RECV_BUFFER: usize = 65_536;

/// Receive errors in a row after which the socket counts as broken and the
/// run ends (one error, e.g. an ICMP error queued on the socket, is
/// skipped).
pub const MAX_RECV_ERRORS: u32 = 64;

/// What happened during a run, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum PingEvent {
    /// An echo request went out.
    Sent {
        /// Its sequence number.
        seq: u16,
        /// Its ICMP bytes (header and payload).
        bytes: usize,
    },
    /// An echo reply came back.
    Reply {
        /// The sequence number it answers.
        seq: u16,
        /// Its ICMP bytes (header and payload), as ping(8) counts them.
        bytes: usize,
        /// Who answered.
        from: IpAddr,
        /// Its TTL (hop limit), when the socket can tell.
        ttl: Option<u8>,
        /// Round-trip time.
        rtt: Duration,
        /// The request had been answered already.
        duplicate: bool,
    },
    /// No reply to this request within the timeout.
    Timeout {
        /// Its sequence number.
        seq: u16,
    },
    /// Receiving kept failing; the run ends.
    ReceiveFailed {
        /// The last error.
        error: String,
    },
    /// The kernel refused to send a request.
    SendFailed {
        /// Its sequence number.
        seq: u16,
        /// The error.
        error: String,
    },
}

/// A request sent and not forgotten yet.
#[derive(Debug, Clone, Copy)]
struct Outstanding {
    sent_at: Instant,
    answered: bool,
}

/// Pings `to` on `socket` as `cfg` says until the count is done (every
/// request answered or timed out) or `stop` is cancelled; reports each
/// event to `on_event` and returns the statistics.
pub async fn run(
    cfg: &PingConfig,
    socket: &IcmpSocket,
    to: SocketAddr,
    stop: &CancellationToken,
    mut on_event: impl FnMut(&PingEvent),
) -> Stats {
    let mut stats = Stats::default();
    let payload = pattern(cfg.size);
    let mut buf = vec![0u8; RECV_BUFFER];
    // Every request still remembered, by sequence number (at most 65536:
    // the sequence space), for matching replies and spotting duplicates.
    let mut requests: HashMap<u16, Outstanding> = HashMap::new();
    // Requests waiting for a reply, oldest first (their deadlines are in
    // send order: one timeout for all).
    let mut waiting: VecDeque<(u16, Instant)> = VecDeque::new();
    let mut next_send = Instant::now();
    let mut sent: u64 = 0;
    let mut recv_errors: u32 = 0;
    loop {
        let more = cfg.count == 0 || sent < cfg.count;
        if !more && waiting.is_empty() {
            break;
        }
        let deadline = waiting.front().map(|(_, at)| *at);
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            () = tokio::time::sleep_until(deadline.unwrap_or(next_send)), if deadline.is_some() => {
                let now = Instant::now();
                while let Some(&(seq, at)) = waiting.front() {
                    if at > now {
                        break;
                    }
                    waiting.pop_front();
                    if requests.get(&seq).is_some_and(|r| !r.answered) {
                        on_event(&PingEvent::Timeout { seq });
                    }
                }
            }
            received = socket.recv(&mut buf) => {
                let received = match received {
                    Ok(received) => {
                        recv_errors = 0;
                        received
                    }
                    Err(e) => {
                        recv_errors += 1;
                        if recv_errors >= MAX_RECV_ERRORS {
                            on_event(&PingEvent::ReceiveFailed { error: e.to_string() });
                            break;
                        }
                        continue;
                    }
                };
                let now = Instant::now();
                let packet = buf.get(..received.len).unwrap_or_default();
                let Some(reply) = parse_reply(socket.is_v6(), socket.header_included(), packet) else {
                    continue;
                };
                if reply.ident != socket.ident() {
                    continue;
                }
                let Some(request) = requests.get_mut(&reply.seq) else { continue };
                let duplicate = request.answered;
                request.answered = true;
                let rtt = now.saturating_duration_since(request.sent_at);
                stats.reply(rtt, duplicate);
                if !duplicate {
                    waiting.retain(|(seq, _)| *seq != reply.seq);
                }
                on_event(&PingEvent::Reply {
                    seq: reply.seq,
                    bytes: reply.icmp_len,
                    from: received.from.unwrap_or(to.ip()),
                    ttl: reply.ttl.or(received.ttl),
                    rtt,
                    duplicate,
                });
            }
            () = tokio::time::sleep_until(next_send), if more => {
                sent += 1;
                // ping(8) counts from 1; the wire's 16 bits wrap.
                let seq = (sent & 0xffff) as u16;
                let packet = echo_request(socket.is_v6(), socket.ident(), seq, &payload);
                let sent_at = Instant::now();
                stats.transmitted += 1;
                match socket.send_to(&packet, to).await {
                    Ok(()) => {
                        requests.insert(seq, Outstanding { sent_at, answered: false });
                        waiting.retain(|(s, _)| *s != seq);
                        waiting.push_back((seq, sent_at + cfg.timeout));
                        on_event(&PingEvent::Sent { seq, bytes: ICMP_HEADER + payload.len() });
                    }
                    Err(e) => {
                        stats.errors += 1;
                        requests.remove(&seq);
                        on_event(&PingEvent::SendFailed { seq, error: e.to_string() });
                    }
                }
                next_send += cfg.interval;
                if next_send < sent_at {
                    // Fell behind (a stalled machine): keep the interval
                    // from now on instead of sending a burst.
                    next_send = sent_at + cfg.interval;
                }
            }
        }
    }
    stats
}
