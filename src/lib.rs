//! # sockmate
//!
//! One fast, safe, friendly tool for sockets: `connect` and `listen` on TCP,
//! UDP and Unix sockets (stream, datagram, seqpacket), with views of the
//! traffic, ready-made server behaviours, relays, file transfer, port scans
//! and a load generator.
//!
//! ## The pipeline
//!
//! Data flows one way through small parts, each in its own module:
//!
//! ```text
//!   command line ──> Endpoint ──> Transport ──> Session ──> Events ──> sinks
//!   (cli)            (endpoint)   (transport)   (session)   (event)    (view)
//! ```
//!
//! - [`endpoint`]: an [`endpoint::Endpoint`] is a parsed, validated address
//!   (`tcp://HOST:PORT`, `udp://…`, `unix:///path`, `unix-dgram://…`,
//!   `unix-seqpacket://…`, `unix://@abstract`). Parsing is pure; errors name
//!   the bad part and show a correct form.
//! - [`transport`]: turns an endpoint into a connected [`transport::Stream`],
//!   a [`transport::StreamListener`], or a [`transport::DatagramSocket`],
//!   with socket options applied through `socket2`. The only module that
//!   knows about address families.
//! - [`session`]: moves bytes between an input (stdin, broadcast lines) and
//!   one socket, both directions at once and independently, with exact
//!   half-close semantics.
//! - [`event`]: sessions report everything (`Open`, `Data`, `Eof`, `Close`,
//!   `Error`) as events on a bounded channel; they never print.
//! - [`view`]: sinks render the event stream: raw bytes to stdout, status
//!   lines to stderr (and, built on the same stream, text/hex/JSON views).
//! - [`frame`]: cuts a stream into messages (`--frame raw|line|crlf|len16|
//!   len32|delim:HEX`) with a size bound; pure, generic over `AsyncRead`.
//! - [`service`]: what a server does with messages (`--reply` [`template`]s
//!   with [`escape`]s, `--respond` rules, echo, time, chargen, chat, broker,
//!   exec) and its accept loop with [`limits`] and graceful shutdown.
//! - [`command`]: thin wiring of the parts above, one module per subcommand;
//!   [`cli`] parses flags into validated configurations without I/O.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod accept;
pub mod bench;
pub mod cli;
pub mod command;
pub mod endpoint;
pub mod error;
pub mod escape;
pub mod event;
pub mod frame;
pub mod hexinput;
pub mod limits;
pub mod relay;
pub mod scan;
pub mod send;
pub mod service;
pub mod session;
pub mod stdio;
pub mod template;
pub mod transfer;
pub mod transport;
pub mod view;
