//! The library's two kinds of failure, at the bottom of the module tree:
//!
//! - [`ConfigError`]: a configuration that cannot work (a bad endpoint,
//!   flag or value). Front-ends map it to exit code 2.
//! - [`NetError`]: a network failure that keeps its [`NetErrorKind`]
//!   (refused, timed out, reset, address in use…), so a UI and the JSON
//!   event stream can tell failures apart without parsing words.
//!
//! Both carry their whole message in one line and have no `source()`:
//! the cause is said once, inside the message, so printing the error with
//! its chain (`{:#}`) never repeats it.

use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};

/// A configuration that cannot work: one line naming the bad part and a
/// fix. Front-ends exit with code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// The whole line.
    pub message: String,
}

impl ConfigError {
    /// A configuration error saying `message`.
    pub fn new(message: String) -> Self {
        ConfigError { message }
    }
}

/// What kind of network failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetErrorKind {
    /// Nothing listens there (`ECONNREFUSED`).
    Refused,
    /// A deadline passed (connect timeout, `ETIMEDOUT`).
    TimedOut,
    /// The peer reset the connection (`ECONNRESET`).
    Reset,
    /// The peer went away while we were sending (`EPIPE`).
    BrokenPipe,
    /// The address is taken (`EADDRINUSE`).
    AddrInUse,
    /// The address is not on this machine (`EADDRNOTAVAIL`).
    AddrNotAvailable,
    /// No such socket file or path (`ENOENT`).
    NotFound,
    /// Not allowed (`EACCES`, `EPERM`).
    PermissionDenied,
    /// No route to the host or network (`EHOSTUNREACH`, `ENETUNREACH`).
    Unreachable,
    /// A host name did not resolve.
    Resolve,
    /// Out of file descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`).
    Exhausted,
    /// The peer broke the protocol (bad frame, bad header).
    Protocol,
    /// Anything else.
    Other,
}

impl NetErrorKind {
    /// The kind of an I/O error.
    pub fn of(error: &io::Error) -> Self {
        use io::ErrorKind as K;
        match error.kind() {
            K::ConnectionRefused => NetErrorKind::Refused,
            K::TimedOut => NetErrorKind::TimedOut,
            K::ConnectionReset | K::ConnectionAborted => NetErrorKind::Reset,
            K::BrokenPipe => NetErrorKind::BrokenPipe,
            K::AddrInUse => NetErrorKind::AddrInUse,
            K::AddrNotAvailable => NetErrorKind::AddrNotAvailable,
            K::NotFound => NetErrorKind::NotFound,
            K::PermissionDenied => NetErrorKind::PermissionDenied,
            K::HostUnreachable | K::NetworkUnreachable | K::NetworkDown => {
                NetErrorKind::Unreachable
            }
            K::OutOfMemory => NetErrorKind::Exhausted,
            K::InvalidData => NetErrorKind::Protocol,
            _ if crate::sys::os_error::is_exhausted(error) => NetErrorKind::Exhausted,
            _ => NetErrorKind::Other,
        }
    }

    /// The snake_case name used in JSON (`refused`, `timed_out`…).
    pub fn as_str(self) -> &'static str {
        match self {
            NetErrorKind::Refused => "refused",
            NetErrorKind::TimedOut => "timed_out",
            NetErrorKind::Reset => "reset",
            NetErrorKind::BrokenPipe => "broken_pipe",
            NetErrorKind::AddrInUse => "addr_in_use",
            NetErrorKind::AddrNotAvailable => "addr_not_available",
            NetErrorKind::NotFound => "not_found",
            NetErrorKind::PermissionDenied => "permission_denied",
            NetErrorKind::Unreachable => "unreachable",
            NetErrorKind::Resolve => "resolve",
            NetErrorKind::Exhausted => "exhausted",
            NetErrorKind::Protocol => "protocol",
            NetErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for NetErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A network failure: its kind and one line saying what was being done and
/// what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NetError {
    /// What kind of failure.
    pub kind: NetErrorKind,
    /// The whole line, e.g. `cannot listen on tcp://127.0.0.1:80:
    /// permission denied (os error 13)`.
    pub message: String,
    /// The user has already been told (by an error event on the status
    /// stream): a front-end only sets its exit status from it.
    pub reported: bool,
}

impl NetError {
    /// A failure of `kind` described by `message`.
    pub fn new(kind: NetErrorKind, message: impl Into<String>) -> Self {
        NetError {
            kind,
            message: message.into(),
            reported: false,
        }
    }

    /// A failure the events have already described to the user; `message`
    /// says it again for a caller that shows no events.
    pub fn reported(kind: NetErrorKind, message: impl Into<String>) -> Self {
        NetError {
            reported: true,
            ..NetError::new(kind, message)
        }
    }

    /// An I/O failure while doing `context`: `"{context}: {cause}"`, the
    /// cause said once.
    pub fn io(context: impl fmt::Display, error: &io::Error) -> Self {
        NetError::new(
            NetErrorKind::of(error),
            format!("{context}: {}", describe_io(error)),
        )
    }
}

/// A short, lower-case description of an I/O error for status lines.
pub fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionReset => {
            "connection reset by peer (the other side closed abruptly: it crashed or was killed, or closed with data still unread)".into()
        }
        io::ErrorKind::ConnectionRefused => "connection refused (nothing listening)".into(),
        // A message of our own (how many bytes were lost) says more.
        io::ErrorKind::BrokenPipe if e.get_ref().is_some() => e.to_string(),
        io::ErrorKind::BrokenPipe => "connection closed by peer while sending".into(),
        io::ErrorKind::TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_keep_their_kind_and_say_the_cause_once() {
        let e = io::Error::from_raw_os_error(13);
        let net = NetError::io("cannot listen on tcp://127.0.0.1:80", &e);
        assert_eq!(net.kind, NetErrorKind::PermissionDenied);
        assert!(std::error::Error::source(&net).is_none());
        let shown = net.to_string();
        assert_eq!(shown.matches("os error 13").count(), 1, "{shown}");
        assert_eq!(
            NetErrorKind::of(&io::Error::from_raw_os_error(24)),
            NetErrorKind::Exhausted
        );
        assert_eq!(
            NetErrorKind::of(&io::ErrorKind::ConnectionRefused.into()),
            NetErrorKind::Refused
        );
    }

    #[test]
    fn kinds_serialize_as_their_names() {
        for kind in [
            NetErrorKind::Refused,
            NetErrorKind::TimedOut,
            NetErrorKind::AddrInUse,
            NetErrorKind::Other,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<NetErrorKind>(&json).unwrap(), kind);
        }
    }
}
