//! The relay engine behind `sockmate relay LISTEN TARGET`: every client of
//! LISTEN gets its own connection to TARGET and bytes are carried both
//! ways, each direction independently.
//!
//! - [`pump`]: one direction's copy loop and the pair runner (half-close,
//!   `--close-both`, idle timeout).
//! - [`splice`]: the Linux zero-copy path for stream pairs.
//! - [`streams`]: the accept loop for stream listeners (TCP, Unix).
//! - [`flows`]: datagram listeners, one flow per client address.
//! - [`framing`]: datagram boundaries on a stream (`--frame`).
//! - [`dump`]: a compact renderer of relayed traffic (`--dump`).
//!
//! Dump convention: each relayed connection is labelled `#ID CLIENT`
//! (see [`relay_conn`]). Bytes from the client toward the target are [`Direction::In`]
//! (`<`, "received by the relay from the client"); bytes from the target
//! back to the client are [`Direction::Out`] (`>`, "sent to the client").
//!
//! [`Direction::In`]: crate::event::Direction::In
//! [`Direction::Out`]: crate::event::Direction::Out

pub mod dump;
pub mod flows;
pub mod framing;
pub mod pump;
pub mod splice;
pub mod streams;

use crate::event::ConnInfo;
use crate::transport::PeerAddr;

/// The label of relayed connection `id` from `client` in events, status
/// lines and dumps: `#3 127.0.0.1:51234`.
pub fn relay_conn(id: u64, client: &PeerAddr) -> ConnInfo {
    ConnInfo::new(id, format!("#{id} {client}"))
}
