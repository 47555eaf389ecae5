//! Why a bench run or a merge failed, each said in one line.

use std::io;

use super::report::MergeError;
use crate::error::NetError;

/// A failed `bench` run or `bench merge`.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The target could not be resolved or reached.
    #[error(transparent)]
    Net(#[from] NetError),
    /// No connection could be opened: the first failure, in one line.
    #[error("{0}")]
    NoConnection(String),
    /// The worker threads could not be started or joined.
    #[error("{context}: {cause}")]
    Threads {
        /// What was being done.
        context: &'static str,
        /// Why it failed.
        cause: String,
    },
    /// A saved report could not be read.
    #[error("cannot read {file}: {cause}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        cause: io::Error,
    },
    /// The saved reports cannot be merged.
    #[error(transparent)]
    Merge(#[from] MergeError),
}

impl BenchError {
    /// A thread failure while doing `context`.
    pub(super) fn threads(context: &'static str, cause: impl std::fmt::Display) -> Self {
        BenchError::Threads {
            context,
            cause: cause.to_string(),
        }
    }
}
