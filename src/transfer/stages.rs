//! Pipeline stages that run beside the socket on their own threads, so that
//! file I/O and hashing overlap with network I/O instead of taking turns
//! with it. Each file stage hashes a chunk right after moving it, while the
//! bytes are still in the CPU cache (a separate hashing thread would read
//! every byte cold once more).
//!
//! Chunks move from stage to stage (never shared, never copied) and go back
//! to their [`Pool`] when the last stage drops them: a transfer
//! allocates at most [`POOL_SIZE`] buffers however large the file is, so
//! the kernel never has to fault in fresh pages for every megabyte.
//!
//! ```text
//! send:     ReadStage (read + hash) ──> socket ──> Pool
//! receive:  socket ──> WriteStage (write + hash) ──> Pool
//! ```

use std::fs::File;
use std::io::{self, Read, Write};
use std::thread;

use tokio::sync::{mpsc, oneshot};

use super::digest::{Digest, DigestKind, Hasher};

/// Size of one chunk (512 KiB: large enough that per-chunk costs vanish,
/// small enough to keep memory low).
pub const CHUNK: usize = 512 << 10;

/// Buffers a transfer may own at once; bounds its memory to
/// `POOL_SIZE * CHUNK` and is also how far stages can run ahead.
pub const POOL_SIZE: usize = 16;

/// A buffer of [`CHUNK`] bytes of which the first `len` are data. When
/// dropped, wherever that happens, its buffer goes back to its [`Pool`].
#[derive(Debug)]
pub struct Chunk {
    buf: Box<[u8]>,
    len: usize,
    home: mpsc::Sender<Box<[u8]>>,
}

impl Chunk {
    /// The data.
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The whole buffer, to fill; then call [`Chunk::set_len`].
    pub fn space(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Marks the first `len` bytes (at most [`CHUNK`]) as data.
    pub fn set_len(&mut self, len: usize) {
        self.len = len.min(self.buf.len());
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // Never blocks: the pool has room for every buffer it made. If the
        // pool is gone, the buffer is simply freed.
        let _ = self.home.try_send(std::mem::take(&mut self.buf));
    }
}

/// Reusable buffers: at most [`POOL_SIZE`] are ever made; a dropped
/// [`Chunk`] returns its buffer here.
#[derive(Debug)]
pub struct Pool {
    home: mpsc::Sender<Box<[u8]>>,
    back: mpsc::Receiver<Box<[u8]>>,
    made: usize,
}

impl Default for Pool {
    fn default() -> Self {
        let (home, back) = mpsc::channel(POOL_SIZE);
        Pool {
            home,
            back,
            made: 0,
        }
    }
}

impl Pool {
    fn wrap(&self, buf: Box<[u8]>) -> Chunk {
        Chunk {
            buf,
            len: 0,
            home: self.home.clone(),
        }
    }

    fn take(&mut self) -> Option<Chunk> {
        if let Ok(buf) = self.back.try_recv() {
            return Some(self.wrap(buf));
        }
        if self.made < POOL_SIZE {
            self.made += 1;
            return Some(self.wrap(vec![0u8; CHUNK].into_boxed_slice()));
        }
        None
    }

    /// An empty chunk, waiting while all of them are in use.
    pub async fn get(&mut self) -> Chunk {
        if let Some(chunk) = self.take() {
            return chunk;
        }
        // We hold a sender ourselves, so `recv` cannot end.
        let buf = self.back.recv().await.unwrap_or_default();
        self.wrap(buf)
    }

    /// Like [`Pool::get`], for a stage thread.
    pub fn blocking_get(&mut self) -> Chunk {
        if let Some(chunk) = self.take() {
            return chunk;
        }
        let buf = self.back.blocking_recv().unwrap_or_default();
        self.wrap(buf)
    }
}

/// The digest of a stage started with hashing on (the file protocol always
/// hashes; only `--raw` may not).
pub fn hashed(digest: Option<Digest>) -> io::Result<Digest> {
    digest.ok_or_else(|| io::Error::other("the stage was started without hashing"))
}

/// Hashes the first `len` bytes of `file` (the part a resumed transfer
/// already holds), reading through the descriptor being written (never
/// by path, which could meanwhile name another file).
fn hash_prefix(hasher: &mut Hasher, file: &File, len: u64) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut at = 0u64;
    while at < len {
        let want = (len - at).min(CHUNK as u64) as usize;
        let n = crate::sys::fs::read_at(file, &mut buf[..want], at)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the partial file shrank while being resumed",
            ));
        }
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    Ok(())
}

/// Writes chunks to a file on its own thread and hashes each one right
/// after writing it, while it is still in the CPU cache (unless told not
/// to hash, for `--raw`).
#[derive(Debug)]
pub struct WriteStage {
    tx: mpsc::Sender<Chunk>,
    done: oneshot::Receiver<io::Result<Option<Digest>>>,
}

impl WriteStage {
    /// Starts writing to `file` (already positioned where data goes),
    /// hashing what is written with `hash` when given. When `prefix` is
    /// given, the digest also covers the first `prefix` bytes of `file`
    /// (opened for reading too), hashed before anything fed (resuming a
    /// partial file).
    pub fn start(mut file: File, prefix: Option<u64>, hash: Option<DigestKind>) -> WriteStage {
        let (tx, mut rx) = mpsc::channel::<Chunk>(POOL_SIZE);
        let (done_tx, done) = oneshot::channel();
        thread::spawn(move || {
            let mut hasher = hash.map(DigestKind::hasher);
            let result = (|| {
                if let (Some(len), Some(hasher)) = (prefix, hasher.as_mut()) {
                    hash_prefix(hasher, &file, len)?;
                }
                while let Some(chunk) = rx.blocking_recv() {
                    file.write_all(chunk.data())?;
                    if let Some(hasher) = hasher.as_mut() {
                        hasher.update(chunk.data());
                    }
                }
                file.flush()?;
                Ok(hasher.map(Hasher::finalize))
            })();
            let _ = done_tx.send(result);
        });
        WriteStage { tx, done }
    }

    /// Queues a chunk. Returns false when the writer has failed (call
    /// [`WriteStage::finish`] for the error).
    pub async fn feed(&self, chunk: Chunk) -> bool {
        self.tx.send(chunk).await.is_ok()
    }

    /// Ends the input, waits until everything is written, and returns the
    /// digest of the whole file (`None` when started without hashing).
    pub async fn finish(self) -> io::Result<Option<Digest>> {
        drop(self.tx);
        self.done
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the file writing thread stopped")))
    }
}

/// Reads a file in chunks on its own thread, ahead of the socket, hashing
/// each chunk right after reading it (unless told not to hash).
#[derive(Debug)]
pub struct ReadStage {
    rx: mpsc::Receiver<io::Result<Chunk>>,
    digest: oneshot::Receiver<Option<Digest>>,
}

impl ReadStage {
    /// Starts reading `file` from its start, at most `limit` bytes, hashing
    /// what is read with `hash` when given.
    pub fn start(mut file: File, limit: u64, hash: Option<DigestKind>) -> ReadStage {
        let (tx, rx) = mpsc::channel(POOL_SIZE);
        let (digest_tx, digest) = oneshot::channel();
        let mut pool = Pool::default();
        let mut left = limit;
        thread::spawn(move || {
            let mut hasher = hash.map(DigestKind::hasher);
            loop {
                if left == 0 {
                    break;
                }
                let mut chunk = pool.blocking_get();
                let want = left.min(CHUNK as u64) as usize;
                let mut filled = 0;
                // Fill the chunk (short reads happen on pipes and some file systems).
                let result = loop {
                    match file.read(&mut chunk.space()[filled..want]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == want {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                match result {
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                    Ok(()) if filled == 0 => break,
                    Ok(()) => {
                        chunk.set_len(filled);
                        if let Some(hasher) = hasher.as_mut() {
                            hasher.update(chunk.data());
                        }
                        left -= filled as u64;
                        let last = filled < want;
                        if tx.blocking_send(Ok(chunk)).is_err() {
                            return;
                        }
                        if last {
                            break;
                        }
                    }
                }
            }
            let _ = digest_tx.send(hasher.map(Hasher::finalize));
        });
        ReadStage { rx, digest }
    }

    /// The next chunk, or `None` at end of file.
    pub async fn next(&mut self) -> Option<io::Result<Chunk>> {
        self.rx.recv().await
    }

    /// The digest of everything read, once the end was reached (`None`
    /// when started without hashing).
    pub async fn digest(self) -> io::Result<Option<Digest>> {
        self.digest
            .await
            .map_err(|_| io::Error::other("the file reading thread stopped early"))
    }
}
