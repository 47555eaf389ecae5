//! Message services: a banner on connect, then for each message (cut by
//! `--frame`) the quit word, the first matching `--respond` rule, the
//! `--reply` template, or the `echo` / `time` / `discard` service.

use std::io;

use bytes::{Bytes, BytesMut};

use super::{frame_too_long_line, Link, ReadOutcome, Serve, ServiceConfig, SERVICE_READ_SIZE};
use crate::event::CloseReason;
use crate::frame::{trim_line_ending, Decoder, FrameError, FrameSpec};
use crate::template::Message;

/// What to do after a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the bytes now in the output buffer (maybe none).
    Reply,
    /// Send the message itself back (echo, without copying it).
    Echo,
    /// Close the connection (the quit word).
    Quit,
    /// Nothing recorded matches (a replay): say so, then send the bytes
    /// now in the output buffer (the `--unmatched-reply`, maybe none).
    Unmatched,
}

/// True when `msg` is the `--quit-word` (line ending trimmed).
fn is_quit(cfg: &ServiceConfig, msg: &Message<'_>) -> bool {
    cfg.quit_word
        .as_deref()
        .is_some_and(|word| trim_line_ending(msg.bytes) == word)
}

/// Decides the answer to one message, writing any reply into `out`
/// (cleared first; `scratch` is reused for length-prefixed replies).
pub fn answer(
    cfg: &ServiceConfig,
    frame: &FrameSpec,
    msg: &Message<'_>,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Action {
    out.clear();
    if is_quit(cfg, msg) {
        return Action::Quit;
    }
    if let Some(table) = &cfg.replay {
        return match table.answer(msg.bytes, msg.number, out) {
            super::replay::Lookup::Matched(_) => Action::Reply,
            super::replay::Lookup::Unmatched => Action::Unmatched,
        };
    }
    let prefixed = matches!(frame, FrameSpec::Len16 | FrameSpec::Len32);
    let target: &mut Vec<u8> = if prefixed {
        scratch.clear();
        scratch
    } else {
        out
    };
    let answered = cfg.rules.answer(msg, target)
        || match &cfg.reply {
            Some(template) => {
                template.render(msg, target);
                true
            }
            None => false,
        };
    if !answered {
        return match cfg.serve {
            Some(Serve::Echo) => Action::Echo,
            _ => Action::Reply,
        };
    }
    if prefixed && frame.encode(scratch, out).is_err() {
        // A reply too long for its header is not sent.
        out.clear();
    }
    Action::Reply
}

/// Plain echo with no view showing the bytes, outside the message loop,
/// until the client ends, the connection idles out or the server stops:
/// with splice(2) where the stream can (socket → pipe → the same socket,
/// the data never in user space; the pipe is made on the first byte, so an
/// idle connection holds none), otherwise through one buffer (TLS; TCP
/// where the system has no splice), boxed so that only those connections
/// carry its state.
async fn direct_echo(link: &Link<'_>, zero_copy: bool) -> io::Result<CloseReason> {
    let meter = link.wiring.meter;
    let both_ways = move |n: usize| {
        meter.received(n);
        meter.sent(n);
    };
    let copied = async {
        if zero_copy {
            link.splice_echo(both_ways).await
        } else {
            Box::pin(link.copy_echo(MIN_READ_SIZE, both_ways)).await
        }
    };
    tokio::select! {
        copied = copied => copied.map(|_| CloseReason::PeerClosed),
        () = link.idle() => Ok(CloseReason::IdleTimeout),
        () = link.stopped() => Ok(CloseReason::Shutdown),
    }
}

/// Smallest read reservation (an interactive client's messages are small).
pub const MIN_READ_SIZE: usize = 4 * 1024;

/// Read size that adapts to the traffic: it doubles (up to
/// [`SERVICE_READ_SIZE`]) while reads fill it and halves when they do not,
/// so bulk transfers reuse one large buffer and a quiet connection holds
/// none.
#[derive(Debug, Clone, Copy)]
pub struct ReadSize {
    /// Bytes to reserve for the next read.
    pub reserve: usize,
    /// The last read did not fill its reservation: the socket is drained.
    pub drained: bool,
}

impl Default for ReadSize {
    fn default() -> Self {
        ReadSize {
            reserve: MIN_READ_SIZE,
            drained: true,
        }
    }
}

impl ReadSize {
    /// Adjusts after a read of `n` bytes.
    pub fn update(&mut self, n: usize) {
        self.drained = n < self.reserve;
        if !self.drained {
            self.reserve = (self.reserve * 2).min(SERVICE_READ_SIZE);
        } else if n < self.reserve / 4 {
            self.reserve = (self.reserve / 2).max(MIN_READ_SIZE);
        }
    }
}

/// The line a client gets when its unfinished message would take the
/// server past its buffer budget.
fn over_budget_line(limit: usize) -> String {
    format!(
        "error: server busy: its {} for unfinished messages is spent; finish your message sooner or try later\n",
        size_text(limit)
    )
}

/// The capacity `buf` has after reserving `reserve` more bytes (a
/// buffer that must grow at least doubles, as `Vec` does).
fn grown_capacity(buf: &BytesMut, reserve: usize) -> usize {
    let needed = buf.len().saturating_add(reserve);
    if needed <= buf.capacity() {
        buf.capacity()
    } else {
        needed.max(buf.capacity().saturating_mul(2))
    }
}

/// Tells the client the server's buffer budget is spent; the connection
/// then closes.
async fn over_budget(
    link: &Link<'_>,
    buffers: &super::budget::BufferBudget,
) -> io::Result<CloseReason> {
    link.send(over_budget_line(buffers.limit()).as_bytes())
        .await?;
    Ok(CloseReason::Service(format!(
        "the server's {} for unfinished messages is spent",
        size_text(buffers.limit())
    )))
}

/// `134217728` as `128 MiB`, `65536` as `64 KiB`.
fn size_text(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// A replay's request that matched nothing: the `unmatched:` line, then
/// the `--unmatched-reply` in `out` (maybe none).
async fn unmatched(
    link: &Link<'_>,
    cfg: &ServiceConfig,
    number: u64,
    msg: &[u8],
    out: &[u8],
    kind: Option<crate::transport::MessageKind>,
) -> io::Result<()> {
    if let Some(table) = &cfg.replay {
        let message = table.unmatched_line(&link.wiring.conn.peer, number, msg);
        let _ = link
            .wiring
            .events
            .emit(crate::event::EventKind::Notice { message })
            .await;
    }
    link.send_as(out, kind).await
}

/// Serves one connection with message behaviours until it ends.
pub async fn run(
    link: &Link<'_>,
    cfg: &ServiceConfig,
    buffers: &super::budget::BufferBudget,
) -> io::Result<CloseReason> {
    if let Some(banner) = &cfg.banner {
        link.send(banner).await?;
    }
    let nobody_watches = !link.wiring.events.wants_received() && !link.wiring.events.wants_sent();
    let caps = link.capabilities();
    if cfg.is_pure_echo() && nobody_watches && (caps.zero_copy || !caps.message_boundaries) {
        return direct_echo(link, caps.zero_copy).await;
    }
    // A function of its own: the message loop's locals do not then pad
    // the direct echo's state (every connection's task is as large as its
    // largest state; measured with -Zprint-type-sizes: this future 1,248
    // -> 1,200 bytes, a connection's task 2,064 -> 2,016).
    serve_messages(link, cfg, buffers).await
}

/// The message loop: reads, frames, answers, until the client leaves.
async fn serve_messages(
    link: &Link<'_>,
    cfg: &ServiceConfig,
    buffers: &super::budget::BufferBudget,
) -> io::Result<CloseReason> {
    let frame = cfg.frame.clone();
    let raw = frame.is_raw() && !link.capabilities().message_boundaries;
    // On a message transport (WebSocket) without `--frame`, each read is
    // one whole message, empty or not, never cut at `--max-frame`.
    let whole = frame.is_raw() && link.capabilities().message_boundaries;
    let mut decoder = Decoder::new(frame.clone(), cfg.max_frame);
    let mut buf = BytesMut::new();
    let (mut out, mut scratch) = (Vec::new(), Vec::new());
    let mut number = 0u64;
    let peer: &str = &link.wiring.conn.peer;
    let mut reads = ReadSize::default();
    let mut share = buffers.share();
    loop {
        let before = buf.len();
        // An unfinished message grows its buffer on the next read: the
        // larger buffer is taken from the budget before it is allocated.
        if !buf.is_empty() {
            let planned = grown_capacity(&buf, reads.reserve) + buf.len();
            if !share.hold(planned + out.capacity() + scratch.capacity()) {
                return over_budget(link, buffers).await;
            }
        }
        let mut unread = false;
        // Text or binary, where the transport keeps kinds: an echo and a
        // reply go out in the kind of the message they answer.
        let mut kind = None;
        let at_eof = match link.read(&mut buf, reads.reserve).await? {
            ReadOutcome::Data(n, read_kind) => {
                reads.update(n);
                unread = whole;
                kind = read_kind;
                false
            }
            ReadOutcome::Eof => true,
            ReadOutcome::Idle => return Ok(CloseReason::IdleTimeout),
            ReadOutcome::Shutdown => return Ok(CloseReason::Shutdown),
        };
        // A message the transport delivered whole goes to the views and to
        // the service as one shared buffer, no copy.
        let mut whole_message = None;
        if unread {
            let message = buf.split().freeze();
            if !share.hold(message.len() + out.capacity() + scratch.capacity()) {
                return over_budget(link, buffers).await;
            }
            link.received_as(message.clone(), kind).await;
            whole_message = Some(message);
        } else if !raw && buf.len() > before {
            // The copy for the views is held until the bus takes it (a
            // slow view makes every connection wait with one): count it,
            // and the bytes once more: read through small buffers, they
            // leave memory the allocator keeps.
            let copy = buf.len() - before;
            if !share.hold(buf.capacity() + buf.len() + out.capacity() + scratch.capacity() + copy)
            {
                return over_budget(link, buffers).await;
            }
            link.received(Bytes::copy_from_slice(&buf[before..])).await;
        }
        loop {
            let next = if whole {
                match whole_message.take() {
                    Some(message) if message.len() > cfg.max_frame => {
                        Err(FrameError::TooLong { max: cfg.max_frame })
                    }
                    Some(message) => Ok(Some(message)),
                    None => Ok(None),
                }
            } else if at_eof {
                decoder.decode_eof(&mut buf)
            } else {
                decoder.decode(&mut buf)
            };
            let message = match next {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(FrameError::TooLong { max }) => {
                    link.send(frame_too_long_line(max).as_bytes()).await?;
                    return Ok(CloseReason::Service(format!(
                        "message over --max-frame {max} bytes"
                    )));
                }
                Err(FrameError::Truncated { have, want }) => {
                    return Ok(CloseReason::Service(format!(
                        "stream ended inside a message ({have} of {want} bytes)"
                    )));
                }
                Err(FrameError::Io(e)) => return Err(e),
            };
            if raw {
                link.received(message.clone()).await;
            }
            number += 1;
            // With line framing a message is the line: `{text}` is what the
            // client typed, as Python's `readline().rstrip()` gives it.
            let text = if matches!(frame, FrameSpec::Line | FrameSpec::Crlf) {
                trim_line_ending(&message)
            } else {
                &message
            };
            let msg = Message {
                bytes: text,
                peer,
                number,
            };
            let action = match (&cfg.exec, cfg.exec_per_message) {
                (Some(spec), true) if !is_quit(cfg, &msg) => {
                    // Boxed: a child process's future would make every
                    // connection's task larger.
                    let run = Box::pin(super::exec_message::run_once(spec, msg.bytes));
                    tokio::select! {
                        reply = run => {
                            out = reply;
                            Action::Reply
                        }
                        // Dropping the run ends its process tree.
                        () = link.stopped() => return Ok(CloseReason::Shutdown),
                    }
                }
                _ => answer(cfg, &frame, &msg, &mut out, &mut scratch),
            };
            match action {
                Action::Quit => return Ok(CloseReason::Service("quit word".into())),
                Action::Reply => link.send_as(&out, kind).await?,
                // Boxed: rare, and the connection's future stays small.
                Action::Unmatched => {
                    Box::pin(unmatched(link, cfg, number, msg.bytes, &out, kind)).await?
                }
                Action::Echo if frame.is_raw() => link.echo(message, kind).await?,
                Action::Echo => {
                    out.clear();
                    if frame.encode(&message, &mut out).is_ok() {
                        link.send_as(&out, kind).await?;
                    }
                }
            }
        }
        if at_eof {
            return Ok(CloseReason::PeerClosed);
        }
        // Every buffer this connection keeps counts at its capacity (the
        // read buffer and the reply buffers), and the unfinished bytes once
        // more: they were read through smaller buffers and copied for the
        // views, memory the allocator keeps for the process (measured: a
        // client holding 7,000 bytes costs ~19 KiB, its buffer 12 KiB).
        if !share.hold(buf.capacity() + buf.len() + out.capacity() + scratch.capacity()) {
            return over_budget(link, buffers).await;
        }
        if buf.is_empty() && reads.drained {
            // The socket had no more to give: do not hold a read buffer
            // while the client is quiet.
            buf = BytesMut::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::respond::parse_rule;
    use crate::template::{Template, CTIME_FORMAT};

    fn msg(bytes: &[u8]) -> Message<'_> {
        Message {
            bytes,
            peer: "p",
            number: 1,
        }
    }

    #[test]
    fn quit_word_then_rules_then_reply_then_echo() {
        let cfg = ServiceConfig {
            quit_word: Some(b"exit".to_vec()),
            reply: Some(Template::parse("R:{text}", CTIME_FORMAT).unwrap()),
            rules: crate::service::Rules {
                rules: vec![parse_rule("ping=>pong", CTIME_FORMAT).unwrap()],
                default: None,
                encoding: Default::default(),
            },
            serve: Some(Serve::Echo),
            ..ServiceConfig::default()
        };
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        let raw = FrameSpec::Raw;
        assert_eq!(
            answer(&cfg, &raw, &msg(b"exit\r\n"), &mut out, &mut scratch),
            Action::Quit
        );
        assert_eq!(
            answer(&cfg, &raw, &msg(b"ping"), &mut out, &mut scratch),
            Action::Reply
        );
        assert_eq!(out, b"pong");
        answer(&cfg, &raw, &msg(b"x"), &mut out, &mut scratch);
        assert_eq!(out, b"R:x");
        let echo = ServiceConfig {
            serve: Some(Serve::Echo),
            ..ServiceConfig::default()
        };
        assert_eq!(
            answer(&echo, &raw, &msg(b"x"), &mut out, &mut scratch),
            Action::Echo
        );
    }

    #[test]
    fn length_prefixed_replies_get_a_header() {
        let cfg = ServiceConfig {
            reply: Some(Template::parse("ok {text}", CTIME_FORMAT).unwrap()),
            ..ServiceConfig::default()
        };
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        answer(&cfg, &FrameSpec::Len16, &msg(b"ab"), &mut out, &mut scratch);
        assert_eq!(out, b"\x00\x05ok ab");
    }
}
