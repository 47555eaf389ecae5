//! `pty:` on Windows: there are no pseudo-terminals to offer a program as
//! a serial port (the endpoint is refused when parsed; this is the
//! backstop).

use std::io;
use std::path::Path;

use super::Opened;

/// Refuses: Windows has no pseudo-terminals.
pub(super) fn open(_link: Option<&Path>, _raw: bool) -> io::Result<Opened> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "pty: is not available on Windows yet",
    ))
}
