//! Services: what a server does with what its clients send.
//!
//! A service sees messages (cut by [`crate::frame`]) and a [`Link`] to reply
//! on; it does not know which transport it runs on. The accept loop with
//! its limits lives in [`server`], datagram serving in [`datagram`], and
//! each ready-made service in its own module:
//!
//! - [`message`]: banner, `--reply` templates, `--respond` rules,
//!   `--quit-word`, and the `echo`, `time` and `discard` services;
//! - [`chargen`]: an endless RFC 864 character pattern;
//! - [`chat`] and [`broker`]: clients talking to each other through a
//!   bounded [`fanout::Fanout`];
//! - [`exec`]: a command per connection with the socket as its stdin/stdout.

pub mod broker;
pub mod chargen;
pub mod chat;
pub mod datagram;
pub mod exec;
pub mod fanout;
pub mod message;
pub mod respond;
pub mod server;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cli::UsageError;
use crate::event::{ConnInfo, Counters, Direction, EventTx};
use crate::frame::FrameSpec;
use crate::limits::AccessList;
use crate::template::Template;
use crate::transport::Stream;

pub use exec::ExecSpec;

/// Serves a bound listener with the configured service until shutdown:
/// streams through the accept loop in [`server`], datagrams through
/// [`datagram`].
pub async fn serve_listener(
    listener: crate::transport::Listener,
    cfg: ServiceConfig,
    keep_open: bool,
    events: &EventTx,
    ctx: &crate::command::Context,
) -> anyhow::Result<()> {
    let cfg = std::sync::Arc::new(cfg);
    match listener {
        crate::transport::Listener::Stream(listener) => {
            server::serve_streams(listener, cfg, keep_open, events, ctx).await
        }
        crate::transport::Listener::Datagram(socket) => {
            datagram::serve(socket, cfg, events, ctx).await
        }
    }
}
pub use respond::Rules;

/// Bytes reserved for one socket read in a service (and only once the
/// socket is readable, so idle connections hold no buffer).
pub const SERVICE_READ_SIZE: usize = 64 * 1024;

/// The reply template of `--serve time` (the tutorials' timestamp server).
pub const TIME_REPLY: &str = "[{time}] {text}";

/// The line sent to a client whose message is over `--max-frame`.
pub fn frame_too_long_line(max: usize) -> String {
    format!("sockmate: message longer than --max-frame {max} bytes; closing\n")
}

/// The line sent to a client beyond `--max-conns`.
pub fn server_full_line(max: usize) -> String {
    format!("sockmate: server full (limit {max} connections); try again later\n")
}

/// A ready-made service (`--serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// Send back every byte.
    Echo,
    /// Read and drop everything.
    Discard,
    /// Answer each message with `[{time}] {text}`.
    Time,
    /// Send the RFC 864 character pattern until the client goes.
    Chargen,
    /// A chat room: lines relayed to the others as `[nick] text`.
    Chat,
    /// Raw bytes relayed to every other client.
    Broker,
    /// Run `--exec`/`--sh-exec` per connection.
    Exec,
}

impl FromStr for Serve {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "echo" => Serve::Echo,
            "discard" => Serve::Discard,
            "time" | "daytime" => Serve::Time,
            "chargen" => Serve::Chargen,
            "chat" => Serve::Chat,
            "broker" => Serve::Broker,
            "exec" => Serve::Exec,
            _ => {
                return Err(format!(
                "invalid --serve \"{s}\" (use echo, discard, time, chargen, chat, broker or exec)"
            ))
            }
        })
    }
}

impl fmt::Display for Serve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Serve::Echo => "echo",
            Serve::Discard => "discard",
            Serve::Time => "time",
            Serve::Chargen => "chargen",
            Serve::Chat => "chat",
            Serve::Broker => "broker",
            Serve::Exec => "exec",
        })
    }
}

/// Everything a serving listener does, validated.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfig {
    /// How streams are cut into messages.
    pub frame: FrameSpec,
    /// Longest message.
    pub max_frame: usize,
    /// Sent to each client on connect (each new datagram peer).
    pub banner: Option<Vec<u8>>,
    /// Reply to each message (`--reply`, or `time`'s `[{time}] {text}`).
    pub reply: Option<Template>,
    /// `--respond` rules and default.
    pub rules: Rules,
    /// A message equal to this (line ending trimmed) closes the connection.
    pub quit_word: Option<Vec<u8>>,
    /// A ready-made service.
    pub serve: Option<Serve>,
    /// The command for `exec`.
    pub exec: Option<ExecSpec>,
    /// Most connections (and exec children) at once.
    pub max_conns: Option<usize>,
    /// Who may connect.
    pub access: AccessList,
    /// Close a connection after this long without traffic.
    pub idle_timeout: Option<Duration>,
    /// `--respond-file`, loaded when the server starts.
    pub respond_file: Option<PathBuf>,
    /// strftime layout for `{time}` in rules loaded from the file.
    pub time_format: String,
}

impl ServiceConfig {
    /// True for `--serve echo` with nothing else answering (raw frames, no
    /// reply template, no respond rules, no quit word).
    pub fn is_pure_echo(&self) -> bool {
        self.serve == Some(Serve::Echo)
            && self.frame.is_raw()
            && self.reply.is_none()
            && self.rules.is_empty()
            && self.quit_word.is_none()
    }

    /// Loads `--respond-file` rules after the `--respond` ones. A missing
    /// file or a bad rule is a usage error naming the file and line.
    pub fn load_rules_file(&mut self) -> Result<(), UsageError> {
        let Some(path) = self.respond_file.take() else {
            return Ok(());
        };
        let content = std::fs::read_to_string(&path).map_err(|e| {
            UsageError::Invalid(format!(
                "cannot read --respond-file {}: {e}",
                path.display()
            ))
        })?;
        let time_format = if self.time_format.is_empty() {
            crate::template::CTIME_FORMAT
        } else {
            &self.time_format
        };
        let rules = respond::parse_rules_file(&content, time_format)
            .map_err(|e| UsageError::Invalid(format!("--respond-file {}: {e}", path.display())))?;
        self.rules.rules.extend(rules);
        Ok(())
    }

    /// Words for the startup line, e.g. a warning that exec is on.
    pub fn startup_note(&self) -> Option<String> {
        self.exec.as_ref().map(|exec| {
            format!(
                "(warning: --exec is on: every client runs `{}`)",
                exec.display
            )
        })
    }

    /// True when the config changes nothing about what a client gets: only
    /// limits are set, and the stdin session serves clients.
    pub fn is_plain(&self) -> bool {
        self.serve.is_none()
            && self.reply.is_none()
            && self.rules.is_empty()
            && self.banner.is_none()
            && self.quit_word.is_none()
            && self.exec.is_none()
    }
}

/// How a read ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes arrived.
    Data(usize),
    /// The client ended its writes.
    Eof,
    /// `--idle-timeout` passed.
    Idle,
    /// The server is shutting down.
    Shutdown,
}

/// One client connection as a service sees it: the stream, counters, the
/// idle clock and the event stream. Methods take `&self` so a service can
/// read and write at once.
pub struct Link<'a> {
    /// The socket.
    pub stream: &'a Stream,
    /// Who, for events.
    pub conn: &'a ConnInfo,
    /// Where events go.
    pub events: &'a EventTx,
    /// Cancelled on shutdown.
    pub shutdown: &'a CancellationToken,
    idle_timeout: Option<Duration>,
    start: Instant,
    last_activity_ms: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    msgs_in: AtomicU64,
    msgs_out: AtomicU64,
}

impl<'a> Link<'a> {
    /// A link for one accepted connection.
    pub fn new(
        stream: &'a Stream,
        conn: &'a ConnInfo,
        events: &'a EventTx,
        shutdown: &'a CancellationToken,
        idle_timeout: Option<Duration>,
    ) -> Self {
        Link {
            stream,
            conn,
            events,
            shutdown,
            idle_timeout,
            start: Instant::now(),
            last_activity_ms: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            msgs_in: AtomicU64::new(0),
            msgs_out: AtomicU64::new(0),
        }
    }

    /// What moved so far.
    pub fn counters(&self) -> Counters {
        Counters {
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            msgs_in: self.msgs_in.load(Ordering::Relaxed),
            msgs_out: self.msgs_out.load(Ordering::Relaxed),
        }
    }

    fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last_activity_ms.store(now, Ordering::Relaxed);
    }

    /// Resolves once `--idle-timeout` has passed with no traffic either
    /// way; never without an idle timeout.
    pub async fn idle(&self) {
        let Some(quiet) = self.idle_timeout else {
            return std::future::pending().await;
        };
        loop {
            let last = self.last_activity_ms.load(Ordering::Relaxed);
            tokio::time::sleep_until(self.start + Duration::from_millis(last) + quiet).await;
            if self.last_activity_ms.load(Ordering::Relaxed) == last {
                return;
            }
        }
    }

    /// Reads what the client sent into `buf` (reserving `reserve` bytes
    /// only once data is ready), or reports end, idleness or shutdown.
    pub async fn read(&self, buf: &mut BytesMut, reserve: usize) -> io::Result<ReadOutcome> {
        tokio::select! {
            read = self.stream.read_some(buf, reserve) => {
                let n = read?;
                if n == 0 {
                    return Ok(ReadOutcome::Eof);
                }
                self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                self.touch();
                Ok(ReadOutcome::Data(n))
            }
            () = self.idle() => Ok(ReadOutcome::Idle),
            () = self.shutdown.cancelled() => Ok(ReadOutcome::Shutdown),
        }
    }

    /// Reports received bytes (one message) to the views.
    pub async fn received(&self, bytes: Bytes) {
        self.msgs_in.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.data(self.conn, Direction::In, bytes).await;
    }

    /// Counts bytes echoed outside [`Link::read`]/[`Link::send`] (the
    /// splice path): `bytes` in and out, in `msgs` moves each way.
    pub fn count_echoed(&self, bytes: u64, msgs: u64) {
        self.bytes_in.fetch_add(bytes, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes, Ordering::Relaxed);
        self.msgs_in.fetch_add(msgs, Ordering::Relaxed);
        self.msgs_out.fetch_add(msgs, Ordering::Relaxed);
        self.touch();
    }

    /// `--idle-timeout`, if set.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle_timeout
    }

    /// Counts bytes that arrived outside [`Link::read`] (exec's pump).
    pub fn count_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        self.touch();
    }

    /// Sends bytes to the client and reports them.
    pub async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.stream.write_all_shared(bytes).await?;
        self.sent(bytes).await;
        Ok(())
    }

    /// Sends shared bytes to the client and reports them without copying.
    pub async fn send_bytes(&self, bytes: Bytes) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.stream.write_all_shared(&bytes).await?;
        self.bytes_out
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.msgs_out.fetch_add(1, Ordering::Relaxed);
        self.touch();
        let _ = self.events.data(self.conn, Direction::Out, bytes).await;
        Ok(())
    }

    /// Counts and reports bytes that were written to the client.
    pub async fn sent(&self, bytes: &[u8]) {
        self.bytes_out
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.msgs_out.fetch_add(1, Ordering::Relaxed);
        self.touch();
        if self.events.wants_sent() {
            let _ = self
                .events
                .data(self.conn, Direction::Out, Bytes::copy_from_slice(bytes))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn serve_names_round_trip() {
        for name in [
            "echo", "discard", "time", "chargen", "chat", "broker", "exec",
        ] {
            assert_eq!(name.parse::<Serve>().unwrap().to_string(), name);
        }
        assert!("ECHO".parse::<Serve>().is_ok());
        assert!("nope".parse::<Serve>().unwrap_err().contains("use echo"));
    }

    proptest! {
        #[test]
        fn serve_parser_never_panics(s in "\\PC{0,12}") {
            if let Ok(serve) = s.parse::<Serve>() {
                prop_assert_eq!(serve.to_string().parse::<Serve>().unwrap(), serve);
            }
        }
    }
}
