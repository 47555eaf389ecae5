//! Pipeline stages that run beside the socket on their own threads, so that
//! reading the file, hashing and writing overlap with network I/O instead of
//! taking turns with it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::thread;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use super::header::DIGEST_LEN;

/// Size of one chunk read from a file or handed to a stage (1 MiB: large
/// enough that per-chunk costs vanish, small enough to keep memory low).
pub const CHUNK: usize = 1 << 20;

/// Chunks queued ahead of a stage. Bounds memory to `STAGE_QUEUE * CHUNK`
/// per stage.
pub const STAGE_QUEUE: usize = 8;

/// Computes SHA-256 on its own thread over the chunks it is fed.
#[derive(Debug)]
pub struct HashStage {
    tx: mpsc::Sender<Bytes>,
    done: oneshot::Receiver<io::Result<[u8; DIGEST_LEN]>>,
}

impl HashStage {
    /// Starts hashing; when `prefix` is given, the first `len` bytes of that
    /// file are hashed before anything fed (resuming a partial file).
    pub fn start(prefix: Option<(PathBuf, u64)>) -> HashStage {
        let (tx, mut rx) = mpsc::channel::<Bytes>(STAGE_QUEUE);
        let (done_tx, done) = oneshot::channel();
        thread::spawn(move || {
            let mut hasher = Sha256::new();
            let result = (|| {
                if let Some((path, len)) = prefix {
                    let file = File::open(&path)?;
                    let mut limited = file.take(len);
                    let mut buf = vec![0u8; CHUNK];
                    loop {
                        let n = limited.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        hasher.update(&buf[..n]);
                    }
                }
                while let Some(chunk) = rx.blocking_recv() {
                    hasher.update(&chunk);
                }
                Ok(hasher.finalize().into())
            })();
            let _ = done_tx.send(result);
        });
        HashStage { tx, done }
    }

    /// Queues a chunk; waits only when the hasher is [`STAGE_QUEUE`] chunks
    /// behind.
    pub async fn feed(&self, chunk: Bytes) {
        // If the thread has gone, `finish` reports why.
        let _ = self.tx.send(chunk).await;
    }

    /// Ends the input and returns the digest.
    pub async fn finish(self) -> io::Result<[u8; DIGEST_LEN]> {
        drop(self.tx);
        self.done
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the hashing thread stopped")))
    }
}

/// Writes chunks to a file on its own thread.
#[derive(Debug)]
pub struct WriteStage {
    tx: mpsc::Sender<Bytes>,
    done: oneshot::Receiver<io::Result<()>>,
}

impl WriteStage {
    /// Starts writing to `file` (already positioned where data goes).
    pub fn start(mut file: File) -> WriteStage {
        let (tx, mut rx) = mpsc::channel::<Bytes>(STAGE_QUEUE);
        let (done_tx, done) = oneshot::channel();
        thread::spawn(move || {
            let result = (|| {
                while let Some(chunk) = rx.blocking_recv() {
                    file.write_all(&chunk)?;
                }
                file.flush()
            })();
            let _ = done_tx.send(result);
        });
        WriteStage { tx, done }
    }

    /// Queues a chunk. Returns false when the writer has failed (call
    /// [`WriteStage::finish`] for the error).
    pub async fn feed(&self, chunk: Bytes) -> bool {
        self.tx.send(chunk).await.is_ok()
    }

    /// Ends the input and waits until everything is written.
    pub async fn finish(self) -> io::Result<()> {
        drop(self.tx);
        self.done
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the file writing thread stopped")))
    }
}

/// Reads a file in [`CHUNK`]s on its own thread, ahead of the socket.
#[derive(Debug)]
pub struct ReadStage {
    rx: mpsc::Receiver<io::Result<Bytes>>,
}

impl ReadStage {
    /// Starts reading `file` from its start.
    pub fn start(mut file: File) -> ReadStage {
        let (tx, rx) = mpsc::channel(STAGE_QUEUE);
        thread::spawn(move || loop {
            let mut buf = vec![0u8; CHUNK];
            let mut filled = 0;
            // Fill the chunk (short reads happen on pipes and some file systems).
            let result = loop {
                match file.read(&mut buf[filled..]) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        filled += n;
                        if filled == buf.len() {
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
                Ok(()) if filled == 0 => return,
                Ok(()) => {
                    buf.truncate(filled);
                    let last = filled < CHUNK;
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() || last {
                        return;
                    }
                }
            }
        });
        ReadStage { rx }
    }

    /// The next chunk, or `None` at end of file.
    pub async fn next(&mut self) -> Option<io::Result<Bytes>> {
        self.rx.recv().await
    }
}
