//! Why a transfer failed: one line saying what was being done and what
//! went wrong, the cause said once inside it (no `source()`), so a
//! front-end prints it as it is.

use std::fmt;
use std::io;

use super::header::HeaderError;

/// A failed file transfer (a session, a file, or listing what to send).
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// An I/O step failed: what was being done, then the cause.
    #[error("{context}: {cause}")]
    Io {
        /// What was being done (`cannot open report.pdf`).
        context: String,
        /// The I/O error.
        cause: io::Error,
    },
    /// A name that cannot be sent or stored.
    #[error(transparent)]
    Name(#[from] HeaderError),
    /// The session failed: the peer refused, went away or broke the
    /// protocol, or a file could not be used.
    #[error("{0}")]
    Failed(String),
}

impl TransferError {
    /// A failure said by `message`.
    pub fn failed(message: impl fmt::Display) -> Self {
        TransferError::Failed(message.to_string())
    }
}

/// Adds what was being done to an I/O error.
pub trait Context<T> {
    /// The error, prefixed by `context`.
    fn context(self, context: &str) -> Result<T, TransferError>;
    /// The error, prefixed by what `context` returns.
    fn with_context(self, context: impl FnOnce() -> String) -> Result<T, TransferError>;
}

impl<T> Context<T> for Result<T, io::Error> {
    fn context(self, context: &str) -> Result<T, TransferError> {
        self.with_context(|| context.to_string())
    }

    fn with_context(self, context: impl FnOnce() -> String) -> Result<T, TransferError> {
        self.map_err(|cause| TransferError::Io {
            context: context(),
            cause,
        })
    }
}

/// Returns a [`TransferError::Failed`] made with `format!`.
macro_rules! give_up {
    ($($arg:tt)*) => {
        return Err($crate::transfer::error::TransferError::Failed(format!($($arg)*)))
    };
}
pub(crate) use give_up;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_io_failure_says_its_context_then_its_cause_once() {
        let e: Result<(), _> = Err(io::Error::other("disk full"));
        let e = e.with_context(|| "cannot write a.bin".into()).unwrap_err();
        assert_eq!(e.to_string(), "cannot write a.bin: disk full");
        assert!(std::error::Error::source(&e).is_none());
    }
}
