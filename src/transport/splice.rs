//! The zero-copy path (Linux): bytes move socket → pipe → socket with
//! splice(2), never entering user space. Works between any two halves whose
//! [`Capabilities::zero_copy`](super::Capabilities) is set. Each direction
//! has its own pipe, created on its first byte, so an idle connection holds
//! no pipe.

use std::io;
use std::os::fd::OwnedFd;

use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::Interest;

use super::stream::{Io, Stream, StreamReader, StreamWriter};

/// Pipe capacity we ask the kernel for: the most bytes in flight per
/// direction (if the system limit is lower, the default 64 KiB stays).
pub const PIPE_CAPACITY: usize = 1024 * 1024;

/// The pipe size Linux gives when it refuses a bigger one.
const DEFAULT_PIPE_CAPACITY: usize = 64 * 1024;

/// True when bytes can be spliced from `from` to `to` (both zero-copy
/// capable: TCP or Unix stream; not seqpacket, whose message boundaries a
/// pipe would lose).
pub fn supports(from: &StreamReader, to: &StreamWriter) -> bool {
    from.capabilities().zero_copy && to.capabilities().zero_copy
}

/// A pipe: read end and write end.
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    capacity: usize,
}

impl Pipe {
    /// A non-blocking, close-on-exec pipe, as large as the kernel allows up
    /// to [`PIPE_CAPACITY`].
    fn new() -> io::Result<Pipe> {
        let (read, write) = rustix::pipe::pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
        let capacity = rustix::pipe::fcntl_setpipe_size(&write, PIPE_CAPACITY)
            .unwrap_or(DEFAULT_PIPE_CAPACITY);
        Ok(Pipe {
            read,
            write,
            capacity,
        })
    }
}

/// Copies `from` to `to` with splice until `from` ends, calling `on_moved`
/// with each batch's size; returns the bytes moved. Does not shut anything
/// down: the caller carries the half-close. Fails with `Unsupported` when
/// [`supports`] is false.
pub async fn copy(
    from: &StreamReader,
    to: &StreamWriter,
    on_moved: impl Fn(usize),
) -> io::Result<u64> {
    if !supports(from, to) {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "splice needs two zero-copy streams (TCP or Unix stream)",
        ));
    }
    match (from.io(), to.io()) {
        (Some(from), Some(to)) => copy_io(from, to, on_moved).await,
        _ => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "splice needs two socket streams",
        )),
    }
}

/// Copies what `stream` receives back to it with splice (a zero-copy echo)
/// until it ends; returns the bytes moved. Fails with `Unsupported` unless
/// the stream is zero-copy capable.
pub async fn echo(stream: &Stream, on_moved: impl Fn(usize)) -> io::Result<u64> {
    if !stream.capabilities().zero_copy {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "splice needs a zero-copy stream (TCP or Unix stream)",
        ));
    }
    match stream.io() {
        Some(io) => copy_io(io, io, on_moved).await,
        None => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "splice needs a socket stream",
        )),
    }
}

async fn copy_io(src: Io<'_>, dst: Io<'_>, on_moved: impl Fn(usize)) -> io::Result<u64> {
    let mut pipe: Option<Pipe> = None;
    let mut total = 0u64;
    loop {
        src.ready(Interest::READABLE).await?;
        let p = match &pipe {
            Some(p) => p,
            None => pipe.insert(Pipe::new()?),
        };
        let moved = match src.try_io(Interest::READABLE, || {
            splice(src.fd(), &p.write, p.capacity)
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
            dst.ready(Interest::WRITABLE).await?;
            match dst.try_io(Interest::WRITABLE, || splice(&p.read, dst.fd(), left)) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => left -= n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        total += moved as u64;
        on_moved(moved);
    }
}

/// Moves up to `len` bytes from `from` to `to` (one of them a pipe) inside
/// the kernel, without blocking.
fn splice(
    from: impl std::os::fd::AsFd,
    to: impl std::os::fd::AsFd,
    len: usize,
) -> io::Result<usize> {
    Ok(rustix::pipe::splice(
        from,
        None,
        to,
        None,
        len,
        SpliceFlags::MOVE | SpliceFlags::NONBLOCK,
    )?)
}
