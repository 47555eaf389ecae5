//! Unix socket files: refuse to take over a live one, clear a stale one,
//! remove our own on exit.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use socket2::{Domain, SockAddr, Socket, Type};

use super::fail;
use crate::error::NetError;

/// Removes the socket file it guards when dropped, if the file is still the
/// one we bound (same device and inode), so a newer server's socket is never
/// removed by mistake.
#[derive(Debug)]
pub struct UnixPathGuard {
    path: PathBuf,
    identity: Option<(u64, u64)>,
}

impl UnixPathGuard {
    /// Guards `path`, which we have just bound.
    pub fn new(path: &Path) -> Self {
        let identity = std::fs::symlink_metadata(path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        UnixPathGuard {
            path: path.to_path_buf(),
            identity,
        }
    }
}

impl Drop for UnixPathGuard {
    fn drop(&mut self) {
        let current = std::fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if current.is_some() && current == self.identity {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Makes `path` free to bind: nothing there is fine; a socket file nobody
/// listens on is removed; a live socket or a non-socket file is an error.
pub fn clear_stale(path: &Path, ty: Type, shown: &str) -> Result<(), NetError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(NetError::io(format_args!("cannot inspect {shown}"), &e)),
    };
    if !meta.file_type().is_socket() {
        return Err(fail::other(format!(
            "refusing to replace {} for {shown}: it exists and is not a socket (remove it or pick another path)",
            path.display()
        )));
    }
    let probe = Socket::new(Domain::UNIX, ty, None)
        .map_err(|e| NetError::io(format_args!("cannot create a socket for {shown}"), &e))?;
    let addr = SockAddr::unix(path)
        .map_err(|e| NetError::io(format_args!("bad unix path for {shown}"), &e))?;
    match probe.connect(&addr) {
        Ok(()) => Err(fail::addr_in_use(
            &shown,
            "another process is listening on this socket file",
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(|e| {
                NetError::io(format_args!("cannot remove stale socket for {shown}"), &e)
            })?;
            tracing::debug!(path = %path.display(), "removed stale socket file");
            Ok(())
        }
        Err(e) => Err(NetError::io(
            format_args!("cannot check existing socket file for {shown}"),
            &e,
        )),
    }
}
