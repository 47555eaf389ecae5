//! Unix socket files do not exist on Windows (`unix://` is refused when
//! parsed there): nothing to guard or clear.

use std::path::Path;

use socket2::Type;

use crate::error::NetError;

/// Removes the socket file it guards when dropped (nothing on Windows).
#[derive(Debug)]
pub struct UnixPathGuard;

impl UnixPathGuard {
    /// Guards `path` (nothing to do on Windows).
    pub fn new(_: &Path) -> Self {
        UnixPathGuard
    }
}

/// Makes `path` free to bind (nothing to do on Windows).
pub fn clear_stale(_: &Path, _: Type, _: &str) -> Result<(), NetError> {
    Ok(())
}
