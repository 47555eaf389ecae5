//! [`Proxied`]: what a client of sockmate's proxy server (`--serve socks5`,
//! `--serve http-proxy`) asked for, carried by its `open` event (`"proxy"`
//! in `--json`) and shown on its `connected:` line.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One proxied connection's request: the protocol, the request, the
/// target as the client named it and the address we reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proxied {
    /// `socks5` or `http`.
    pub protocol: String,
    /// `CONNECT`, or the method of a forwarded HTTP request (`GET`, `POST`).
    pub request: String,
    /// The target as the client named it, e.g. `localhost:8080`.
    pub target: String,
    /// The address we connected to, e.g. `127.0.0.1:8080`.
    pub addr: String,
}

impl fmt::Display for Proxied {
    /// `socks5 CONNECT localhost:8080 (127.0.0.1:8080)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ({})",
            self.protocol, self.request, self.target, self.addr
        )
    }
}
