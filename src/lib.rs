//! # sockmate
//!
//! One fast, safe, friendly tool for sockets: `connect` and `listen` on TCP,
//! UDP and Unix sockets (stream, datagram, seqpacket), with views of the
//! traffic, ready-made server behaviours, relays, file transfer, port scans
//! and a load generator — as a command line and as a library.
//!
//! ## The layers
//!
//! ```text
//!  front-ends     cli/ (terminal: flags, stdin, what stdout shows)
//!       │
//!  engine         engine/ — Engine::connect / listen / relay → Handle
//!       │           (send(id, bytes), close(id), connections(), stop())
//!  servers        service/  relay/  transfer/  scan/  bench/  ping/
//!       │
//!  session        session/ (input, meter, the one accept path)
//!       │
//!  parts          transport/  event/  frame  send  template  view/ (sinks)
//!                 pcap/ (packets and files for the --pcap sink)
//!       │
//!  bottom         endpoint  error  shutdown
//! ```
//!
//! Dependencies point down only: nothing below `cli/` imports `cli/`, and
//! nothing below `engine/` imports `engine/`. Views are sinks that see only
//! events. The engine never reads fd 0, writes fd 1 or asks whether a
//! terminal is attached: inputs arrive as channels
//! ([`session::Input`]), output leaves as [`event::Event`]s.
//!
//! - [`endpoint`]: a parsed, validated address (`tcp://HOST:PORT`,
//!   `udp://…`, `unix:///path`, `unix-dgram://…`, `unix-seqpacket://…`,
//!   `unix://@abstract`). Parsing is pure; errors name the bad part.
//! - [`sys`]: the platform differences (POSIX, Linux, Windows), each behind
//!   one function or type, and what a platform lacks, refused when parsed.
//! - [`error`]: [`error::ConfigError`] (exit 2) and [`error::NetError`],
//!   which keeps its kind (refused, timed out, reset, in use…).
//! - [`shutdown`]: one stop signal, task tracker and grace period.
//! - [`transport`]: turns an endpoint into a connection, a listener or a
//!   datagram socket; the only module that knows socket kinds.
//! - [`event`]: what sessions report (`Open`, `Data`, `Eof`, `Close`,
//!   `Error`…); sessions never print.
//! - [`session`]: moves bytes between an input and one connection, both
//!   directions independently, with exact half-close.
//! - [`service`], [`relay`], [`transfer`], [`scan`], [`bench`](mod@bench), [`ping`]:
//!   what servers and tools do.
//! - [`replay`]: a recorded `--json`/`--log` session read back, for
//!   `sockmate replay` (served by [`service::replay`]).
//! - [`engine`]: the front door that starts all of it.
//! - [`view`]: sinks that render events (raw, text, hex, JSON, log, stats,
//!   the `--pcap` capture).
//! - [`pcap`]: synthesised packets and the pcapng file behind `--pcap`.
//! - [`cli`]: the command-line front-end.
//! - [`ui`]: the browser front-end (`sockmate ui`, `--ui`).

//! ## Using it from a program
//!
//! Build a config (each has `new` with the command line's defaults), start
//! it on an [`Engine`], and read what happens from the engine's events.
//! Without the front-ends (`default-features = false`) neither clap nor
//! axum is compiled. An echo server, a relay in front of it, one client,
//! and the relay's events:
//!
//! ```
//! use sockmate::service::{Serve, ServiceConfig};
//! use sockmate::{Endpoint, Engine, EventKind, InputFactory, ListenConfig, RelayConfig, Shutdown};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let engine = Engine::new(Shutdown::new());
//!     let mut events = engine.subscribe();
//!     let echo = ListenConfig::new(Endpoint::parse_listen("127.0.0.1:0")?)
//!         .keep_open(true)
//!         .service(ServiceConfig::serving(Serve::Echo));
//!     let server = engine.listen(echo, InputFactory::Nothing).await?;
//!     let front = Endpoint::parse_listen("127.0.0.1:0")?;
//!     let relay = engine.relay(RelayConfig::new(front, server.local_addr().clone())).await?;
//!     let to = relay.local_addr().socket_addr().ok_or("not an IP address")?;
//!     let mut client = tokio::net::TcpStream::connect(to).await?;
//!     client.write_all(b"hello").await?;
//!     client.shutdown().await?;
//!     let mut back = Vec::new();
//!     client.read_to_end(&mut back).await?;
//!     assert_eq!(back, b"hello");
//!     while let Some(event) = events.recv().await {
//!         println!("{}", serde_json::to_string(&event)?);
//!         if matches!(event.kind, EventKind::Close { .. }) {
//!             return Ok(());
//!         }
//!     }
//!     Ok(())
//! }
//! ```

// `unsafe` only in `sys/win.rs` (the Windows system calls); none at all
// elsewhere, and none on Unix.
#![cfg_attr(not(windows), forbid(unsafe_code))]
#![cfg_attr(windows, deny(unsafe_code))]
#![warn(missing_docs)]

pub mod bench;
#[doc(hidden)]
pub mod budget;
#[doc(hidden)]
pub mod checksum;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
pub mod encoding;
pub mod endpoint;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod escape;
pub mod event;
pub mod frame;
#[doc(hidden)]
pub mod hexinput;
pub mod limits;
#[doc(hidden)]
pub mod messages;
#[doc(hidden)]
pub mod pcap;
pub mod ping;
pub mod relay;
#[doc(hidden)]
pub mod replay;
pub mod scan;
pub mod send;
pub mod service;
pub mod session;
pub mod shutdown;
#[doc(hidden)]
pub mod sys;
pub mod template;
pub mod transfer;
pub mod transport;
#[cfg(feature = "ui")]
pub mod ui;
pub mod view;

pub use endpoint::Endpoint;
pub use engine::{ConnectConfig, Engine, Handle, InputFactory, ListenConfig};
pub use error::{ConfigError, NetError, NetErrorKind};
pub use event::{Event, EventKind};
pub use relay::RelayConfig;
pub use session::Input;
pub use shutdown::Shutdown;
