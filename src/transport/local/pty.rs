//! `pty:`: a new pseudo-terminal as a side, a virtual serial port for a
//! program to open by its path (printed on the start line; `?link=PATH`
//! makes a symlink to it, removed when the side closes; `?raw` sets raw
//! mode).
//!
//! We keep a handle on the follower ourselves, so the leader never reads
//! a hangup while no program has the port open: reads just wait, and a
//! program can open and close the port again and again. A terminal has no
//! half-close: ending our writes sends nothing.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use rustix::termios::{tcgetattr, tcsetattr, OptionalActions};
use tokio::net::unix::pipe;

use super::{Opened, Parts, NO_HALF_CLOSE};
use crate::transport::PeerAddr;

/// A new pseudo-terminal: the leader (non-blocking, not yet registered),
/// the follower opened by us (never as our controlling terminal), and the
/// follower's path. `--pty` gives the follower to a command; `pty:` keeps
/// it.
pub(crate) fn open_pair() -> io::Result<(OwnedFd, File, PathBuf)> {
    let leader = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&leader)?;
    unlockpt(&leader)?;
    let name = ptsname(&leader, Vec::new())?;
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(name.as_bytes()));
    let follower = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(&path)?;
    // The reactor needs it non-blocking; a terminal polls like a pipe.
    rustix::io::ioctl_fionbio(&leader, true)?;
    Ok((leader, follower, path))
}

/// A symlink to the terminal, removed when dropped (unless it was
/// replaced meanwhile: another terminal's link is left alone).
struct Link(PathBuf, PathBuf);

impl Link {
    /// Makes `link` point at `target`, replacing an old symlink but never
    /// another kind of file.
    fn make(link: &Path, target: &Path) -> io::Result<Link> {
        match std::fs::symlink_metadata(link) {
            Ok(meta) if meta.file_type().is_symlink() => std::fs::remove_file(link)?,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "cannot make link {}: a file that is not a symlink is there (remove it or pick another path)",
                        link.display()
                    ),
                ))
            }
            Err(_) => {}
        }
        std::os::unix::fs::symlink(target, link).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot make link {}: {e}", link.display()),
            )
        })?;
        Ok(Link(link.to_path_buf(), target.to_path_buf()))
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if std::fs::read_link(&self.0).is_ok_and(|to| to == self.1) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// What the side keeps open: our follower handle and the link.
struct Held {
    _follower: File,
    _link: Option<Link>,
}

/// Opens a new terminal for a program to use.
pub(super) fn open(link: Option<&Path>, raw: bool) -> io::Result<Opened> {
    let fail =
        |e: io::Error| io::Error::new(e.kind(), format!("cannot open a pseudo-terminal: {e}"));
    let (leader, follower, path) = open_pair().map_err(fail)?;
    if raw {
        let mut termios = tcgetattr(&follower).map_err(|e| fail(e.into()))?;
        termios.make_raw();
        tcsetattr(&follower, OptionalActions::Now, &termios).map_err(|e| fail(e.into()))?;
    }
    let link = link.map(|l| Link::make(l, &path)).transpose()?;
    let shown = match &link {
        Some(Link(l, _)) => format!("{}, link {}", path.display(), l.display()),
        None => path.display().to_string(),
    };
    let writer = pipe::Sender::from_owned_fd_unchecked(leader.try_clone().map_err(fail)?)?;
    let reader = pipe::Receiver::from_owned_fd_unchecked(leader)?;
    let mut parts = Parts::new(Box::pin(reader), Box::pin(writer));
    parts.caps = NO_HALF_CLOSE;
    parts.keep = Some(std::sync::Arc::new(Held {
        _follower: follower,
        _link: link,
    }));
    Ok(Opened {
        stream: parts.build(),
        local: format!("pty {shown}"),
        peer: PeerAddr::Device(path),
        note: Some(format!("(pty {shown})")),
    })
}
