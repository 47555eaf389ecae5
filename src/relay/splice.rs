//! The zero-copy path (Linux): bytes move socket → pipe → socket with
//! splice(2), never entering user space. Used for stream pairs when no dump
//! is asked for. Each direction has its own pipe, created on its first
//! byte, so an idle connection holds no pipe.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use tokio::io::Interest;

use super::pump::Activity;
use crate::transport::Stream;

/// Pipe capacity we ask the kernel for: the most bytes in flight per
/// direction (if the system limit is lower, the default 64 KiB stays).
pub const PIPE_CAPACITY: usize = 1024 * 1024;

/// True when `stream` can be spliced (TCP or Unix stream; not seqpacket,
/// whose message boundaries a pipe would lose).
pub fn supports(stream: &Stream) -> bool {
    matches!(stream, Stream::Tcp(_) | Stream::Unix(_))
}

/// A pipe: read end and write end.
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    capacity: usize,
}

impl Pipe {
    fn new() -> io::Result<Pipe> {
        let (read, write) = pipe_pair()?;
        let capacity = set_pipe_size(write.as_fd(), PIPE_CAPACITY).unwrap_or(64 * 1024);
        Ok(Pipe {
            read,
            write,
            capacity,
        })
    }
}

/// Copies `from` to `to` with splice until `from` ends; returns the bytes
/// moved. Does not shut anything down: the caller carries the half-close.
pub async fn copy(from: &Stream, to: &Stream, activity: &Activity<'_>) -> io::Result<u64> {
    let mut pipe: Option<Pipe> = None;
    let mut total = 0u64;
    loop {
        readable(from).await?;
        if pipe.is_none() {
            pipe = Some(Pipe::new()?);
        }
        let Some(p) = pipe.as_ref() else {
            continue;
        };
        let moved = match try_io(from, Interest::READABLE, || {
            splice(fd_of(from), p.write.as_raw_fd(), p.capacity)
        }) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        if moved == 0 {
            return Ok(total);
        }
        let mut left = moved;
        while left > 0 {
            writable(to).await?;
            match try_io(to, Interest::WRITABLE, || {
                splice(p.read.as_raw_fd(), fd_of(to), left)
            }) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => left -= n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        total += moved as u64;
        activity.moved(moved);
    }
}

async fn readable(stream: &Stream) -> io::Result<()> {
    match stream {
        Stream::Tcp(s) => s.readable().await,
        Stream::Unix(s) => s.readable().await,
        Stream::Seqpacket(_) => Err(unsupported()),
    }
}

async fn writable(stream: &Stream) -> io::Result<()> {
    match stream {
        Stream::Tcp(s) => s.writable().await,
        Stream::Unix(s) => s.writable().await,
        Stream::Seqpacket(_) => Err(unsupported()),
    }
}

/// Runs one non-blocking attempt; a `WouldBlock` clears tokio's readiness
/// so the next `readable`/`writable` really waits.
fn try_io(
    stream: &Stream,
    interest: Interest,
    f: impl FnOnce() -> io::Result<usize>,
) -> io::Result<usize> {
    match stream {
        Stream::Tcp(s) => s.try_io(interest, f),
        Stream::Unix(s) => s.try_io(interest, f),
        Stream::Seqpacket(_) => Err(unsupported()),
    }
}

fn fd_of(stream: &Stream) -> RawFd {
    match stream {
        Stream::Tcp(s) => s.as_raw_fd(),
        Stream::Unix(s) => s.as_raw_fd(),
        Stream::Seqpacket(s) => s.socket().as_raw_fd(),
    }
}

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "splice needs a TCP or Unix stream",
    )
}

/// Moves up to `len` bytes from `from` to `to` (one of them a pipe) inside
/// the kernel, without blocking.
#[allow(unsafe_code)]
fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: both descriptors are open for the duration of the call (they
    // are borrowed from live sockets and an owned pipe), the offsets are
    // null (both are pipes or sockets, which have no file position), and
    // splice(2) touches no user memory.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Creates a non-blocking, close-on-exec pipe.
#[allow(unsafe_code)]
fn pipe_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1, -1];
    // SAFETY: `fds` is a valid, writable array of two ints, as pipe2(2)
    // requires.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by
    // nobody else; each is wrapped exactly once and closed on drop.
    let pair = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok(pair)
}

/// Asks for a pipe capacity; returns what the kernel granted.
#[allow(unsafe_code)]
fn set_pipe_size(fd: BorrowedFd<'_>, size: usize) -> io::Result<usize> {
    let size =
        libc::c_int::try_from(size).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `fd` is a live pipe descriptor; F_SETPIPE_SZ takes an int and
    // touches no user memory.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, size) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}
