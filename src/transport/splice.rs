//! The zero-copy path (Linux): bytes move socket → pipe → socket with
//! splice(2), never entering user space. Works between any two halves whose
//! [`Capabilities::zero_copy`](super::Capabilities) is set. Each direction
//! takes a pipe from a small pool for each batch and gives it back empty,
//! so an idle connection holds no pipe; when no pipe can be made (out of
//! descriptors) the batch goes through a buffer instead.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Mutex;

use bytes::BytesMut;

use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::Interest;

use super::stream::{Io, Stream, StreamReader, StreamWriter};

/// Whether this platform has the zero-copy path.
pub const AVAILABLE: bool = true;

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

/// Empty pipes kept for the next burst, so a connection holds a pipe only
/// while its bytes flow and a request/response exchange does not pay for
/// creating one per message. Bounded: past [`POOL_SIZE`] a returned pipe is
/// closed. The one process-wide cache of kernel objects (a pipe holds no
/// memory while empty, only two descriptors).
static POOL: Mutex<Vec<Pipe>> = Mutex::new(Vec::new());

/// How many empty pipes [`POOL`] keeps.
const POOL_SIZE: usize = 32;

/// A pipe from the pool, or a new one.
fn take_pipe() -> io::Result<Pipe> {
    let pooled = POOL.lock().map(|mut pool| pool.pop()).unwrap_or(None);
    match pooled {
        Some(pipe) => Ok(pipe),
        None => Pipe::new(),
    }
}

/// Gives an empty pipe back to the pool (or closes it when the pool is
/// full).
fn give_back(pipe: Pipe) {
    if let Ok(mut pool) = POOL.lock() {
        if pool.len() < POOL_SIZE {
            pool.push(pipe);
        }
    }
}

/// The buffered copy used for one batch when no pipe can be made (the
/// process is out of descriptors): the connection is still served.
const FALLBACK_CHUNK: usize = 16 * 1024;

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
    let mut total = 0u64;
    loop {
        src.ready(Interest::READABLE).await?;
        let moved = match take_pipe() {
            Ok(pipe) => match splice_batch(src, dst, pipe).await? {
                Some(n) => n,
                None => continue,
            },
            Err(_) => copy_batch(src, dst).await?,
        };
        if moved == 0 {
            return Ok(total);
        }
        total += moved as u64;
        on_moved(moved);
    }
}

/// Moves one batch through `pipe` and returns the pipe to the pool once it
/// is empty again. `None`: the wake-up was spurious (nothing to read yet).
/// A pipe that still holds bytes when a write fails is closed, not pooled.
async fn splice_batch(src: Io<'_>, dst: Io<'_>, pipe: Pipe) -> io::Result<Option<usize>> {
    let moved = match src.try_io(Interest::READABLE, || {
        splice(src.fd(), &pipe.write, pipe.capacity)
    }) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            give_back(pipe);
            return Ok(None);
        }
        Err(e) => {
            give_back(pipe);
            return Err(e);
        }
    };
    let mut left = moved;
    while left > 0 {
        dst.ready(Interest::WRITABLE).await?;
        match dst.try_io(Interest::WRITABLE, || splice(&pipe.read, dst.fd(), left)) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => left -= n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    give_back(pipe);
    Ok(Some(moved))
}

/// Moves one batch through a short-lived buffer (no pipe could be made);
/// 0 means `src` ended.
async fn copy_batch(src: Io<'_>, dst: Io<'_>) -> io::Result<usize> {
    let mut buf = BytesMut::new();
    let n = src.read_some(&mut buf, FALLBACK_CHUNK).await?;
    if n > 0 {
        dst.write_all(&buf).await?;
    }
    Ok(n)
}

/// True when [`copy_to_file`] can read from `from` (TCP or Unix stream).
pub fn can_copy_to_file(from: &StreamReader) -> bool {
    from.capabilities().zero_copy && !from.capabilities().message_boundaries
}

/// Writes everything `from` sends, until it ends, to `file` at the file's
/// position, socket → pipe → file with splice: one copy in the kernel
/// (pipe into the page cache) instead of two through user space. Calls
/// `on_moved` with each batch's size and returns the bytes moved. The
/// file writes block like `write(2)` does (page cache; disk only under
/// writeback pressure), as [`send_file`]'s reads do. A file system that
/// cannot take spliced pages (`EINVAL`) gets the rest through a buffer;
/// `Unsupported` unless [`can_copy_to_file`].
pub async fn copy_to_file(
    from: &StreamReader,
    file: &std::fs::File,
    mut on_moved: impl FnMut(usize),
) -> io::Result<u64> {
    let src = match from.io() {
        Some(io) if can_copy_to_file(from) => io,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "splice into a file needs a TCP or Unix stream socket",
            ))
        }
    };
    let mut total = 0u64;
    let mut spliceable = true;
    loop {
        src.ready(Interest::READABLE).await?;
        let pipe = match spliceable.then(take_pipe) {
            Some(Ok(pipe)) => pipe,
            // Out of descriptors, or a file that takes no spliced pages.
            _ => {
                let n = copy_batch_to_file(src, file).await?;
                if n == 0 {
                    return Ok(total);
                }
                total += n as u64;
                on_moved(n);
                continue;
            }
        };
        let moved = match src.try_io(Interest::READABLE, || {
            splice(src.fd(), &pipe.write, pipe.capacity)
        }) {
            Ok(n) => n,
            Err(e) => {
                give_back(pipe);
                match e.kind() {
                    io::ErrorKind::WouldBlock => continue,
                    _ => return Err(e),
                }
            }
        };
        if moved == 0 {
            give_back(pipe);
            return Ok(total);
        }
        let mut left = moved;
        while left > 0 {
            match rustix::pipe::splice(&pipe.read, None, file, None, left, SpliceFlags::MOVE) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => left -= n,
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::INVAL) => {
                    // Hand the bytes already in the pipe over by hand.
                    drain_pipe_to_file(&pipe, left, file)?;
                    spliceable = false;
                    left = 0;
                }
                Err(e) => return Err(e.into()),
            }
        }
        give_back(pipe);
        total += moved as u64;
        on_moved(moved);
    }
}

/// Reads `len` bytes still in `pipe` and writes them to `file`.
fn drain_pipe_to_file(pipe: &Pipe, mut len: usize, mut file: &std::fs::File) -> io::Result<()> {
    use std::io::Write;
    let mut buf = vec![0u8; FALLBACK_CHUNK];
    while len > 0 {
        let want = len.min(buf.len());
        let n = rustix::io::read(&pipe.read, &mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        file.write_all(&buf[..n])?;
        len -= n;
    }
    Ok(())
}

/// [`copy_to_file`]'s buffered batch; 0 means `src` ended.
async fn copy_batch_to_file(src: Io<'_>, mut file: &std::fs::File) -> io::Result<usize> {
    use std::io::Write;
    let mut buf = BytesMut::new();
    let n = src.read_some(&mut buf, PIPE_CAPACITY).await?;
    file.write_all(&buf)?;
    Ok(n)
}

/// True when [`send_file`] can write to `to` (TCP or Unix stream; not
/// seqpacket, TLS or WebSocket, which must see the bytes).
pub fn can_send_file(to: &StreamWriter) -> bool {
    to.capabilities().zero_copy && !to.capabilities().message_boundaries
}

/// Writes `len` bytes of `file`, from byte `offset`, to `to` with
/// sendfile(2): the kernel takes them from the page cache, with no copy
/// through user space. Does not move the file's own position (a reader
/// of the same file is undisturbed). Fails with `UnexpectedEof` when the
/// file ends first, `Unsupported` unless [`can_send_file`].
pub async fn send_file(
    to: &StreamWriter,
    file: &std::fs::File,
    offset: u64,
    len: usize,
) -> io::Result<()> {
    let mut at = offset;
    let end = offset.saturating_add(len as u64);
    while at < end {
        match send_file_some(to, file, at, (end - at) as usize).await? {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file ended before the bytes to send",
                ))
            }
            n => at += n as u64,
        }
    }
    Ok(())
}

/// Writes up to `max` bytes of `file`, from byte `offset`, to `to` with one
/// successful sendfile(2) (waiting until `to` takes bytes), and returns how
/// many went: 0 at the end of the file. For sending a file to its end
/// whatever its size; `Unsupported` unless [`can_send_file`].
pub async fn send_file_some(
    to: &StreamWriter,
    file: &std::fs::File,
    offset: u64,
    max: usize,
) -> io::Result<usize> {
    let io = match to.io() {
        Some(io) if can_send_file(to) => io,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "sendfile needs a TCP or Unix stream socket",
            ))
        }
    };
    loop {
        io.ready(Interest::WRITABLE).await?;
        let mut at = offset;
        match io.try_io(Interest::WRITABLE, || {
            Ok(rustix::fs::sendfile(io.fd(), file, Some(&mut at), max)?)
        }) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
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
