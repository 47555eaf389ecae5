//! `--raw`: bare bytes, no header, like `nc host port < file` and
//! `nc -l port > file`. The end of the stream is the end of the file, so
//! there is no size or digest check. Like nc, nothing is hashed unless
//! asked (`--sha256`, to compare the two ends' summaries): a plain file
//! then goes from the page cache to the socket with sendfile, and from the
//! socket into the file with splice, never through user space.

use std::fs::File;
use std::path::Path;

use super::error::{give_up, Context as _, TransferError};

use super::digest::DigestKind;
use super::observer::FileProgress;
use super::observer::Observer;
use super::outgoing::Outgoing;
use super::stages::{Pool, ReadStage, WriteStage, CHUNK};
use super::store::{Dir, Entry, Part};
use super::wire::WireReader;
use crate::transport::splice::{can_copy_to_file, can_send_file, copy_to_file, send_file_some};
use crate::transport::{Stream, StreamWriter};

/// Bytes per sendfile call when nothing is hashed (no chunk to fill).
const DIRECT_CHUNK: usize = 4 * CHUNK;

/// Sends the whole file, then ends our write side; with `hash`, the
/// summary shows the digest of what was sent.
pub async fn send_raw(
    stream: Stream,
    source: &Path,
    hash: Option<DigestKind>,
    reporter: &Observer,
    peer: &str,
) -> Result<(), TransferError> {
    let file = File::open(source).with_context(|| format!("cannot open {}", source.display()))?;
    let meta = file.metadata().ok();
    let size = meta.as_ref().map(|m| m.len());
    let regular = meta.as_ref().is_some_and(|m| m.is_file());
    let name = source.display().to_string();
    let mut progress = reporter.start_file("sent", &name, size, 0, peer).await;
    let (_reader, mut stream) = stream.into_split();
    if hash.is_none() && regular && can_send_file(&stream) {
        if let Err(e) = send_whole_file(&stream, &file, &mut progress).await {
            progress.fail();
            give_up!(
                "sending {name} to {peer} failed: {}",
                crate::session::describe_io(&e)
            );
        }
        let _ = stream.shutdown_write().await;
        progress.finish(None, false).await;
        return Ok(());
    }
    // Read (and hashed) on the reading thread; see `Outgoing`.
    let outgoing =
        Outgoing::for_file(&file, &stream).with_context(|| format!("cannot open {name}"))?;
    let mut chunks = ReadStage::start(file, u64::MAX, hash);
    let mut position = 0u64;
    while let Some(chunk) = chunks.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                progress.fail();
                give_up!("cannot read {name}: {e}");
            }
        };
        let len = chunk.data().len();
        let sent = outgoing.send(&mut stream, position, chunk.data()).await;
        position += len as u64;
        if let Err(e) = sent {
            progress.fail();
            give_up!(
                "sending {name} to {peer} failed: {}",
                crate::session::describe_io(&e)
            );
        }
        progress.advance(chunk.data().len() as u64);
    }
    let _ = stream.shutdown_write().await;
    let digest = chunks.digest().await.context("hashing failed")?;
    progress.finish(digest.as_ref(), false).await;
    Ok(())
}

/// Sends `file` from its start to its end (whatever its size by then)
/// with sendfile, straight from the page cache.
async fn send_whole_file(
    stream: &StreamWriter,
    file: &File,
    progress: &mut FileProgress,
) -> std::io::Result<()> {
    let mut position = 0u64;
    loop {
        let n = send_file_some(stream, file, position, DIRECT_CHUNK).await?;
        if n == 0 {
            return Ok(());
        }
        position += n as u64;
        progress.advance(n as u64);
    }
}

/// Receives bytes until the peer closes, into a temporary file renamed to
/// `output` at the end; with `hash`, the summary shows their digest.
pub async fn receive_raw(
    stream: Stream,
    output: &Path,
    overwrite: bool,
    hash: Option<DigestKind>,
    reporter: &Observer,
    peer: &str,
) -> Result<(), TransferError> {
    let file_name = output.file_name().ok_or_else(|| {
        TransferError::failed(format!(
            "{} has no file name to store into",
            output.display()
        ))
    })?;
    let parent = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let dir = Dir::open(parent).with_context(|| format!("cannot open {}", parent.display()))?;
    match dir
        .entry(file_name)
        .with_context(|| format!("cannot look at {}", output.display()))?
    {
        Some(Entry::Dir) => give_up!("{} is a directory", output.display()),
        Some(_) if !overwrite => give_up!(
            "{} already exists (use --overwrite to replace it)",
            output.display()
        ),
        _ => {}
    }
    // Like a file created by a shell redirection: 0666 less the umask.
    let (part, file) = Part::create(dir, file_name, 0o666)
        .with_context(|| format!("cannot write the temporary file for {}", output.display()))?;
    let name = output.display().to_string();
    let mut progress = reporter.start_file("received", &name, None, 0, peer).await;
    let (reader, _writer) = stream.into_split();
    if hash.is_none() && can_copy_to_file(&reader) {
        // Nothing to hash: socket → pipe → file inside the kernel.
        let copied = copy_to_file(&reader, &file, |n| progress.advance(n as u64)).await;
        drop(file);
        if let Err(e) = copied {
            progress.fail();
            part.discard();
            give_up!(
                "receiving {name} from {peer} failed: {}; nothing stored",
                crate::session::describe_io(&e)
            );
        }
        part.store(None)
            .with_context(|| format!("cannot store {}", output.display()))?;
        progress.finish(None, false).await;
        return Ok(());
    }
    let mut pool = Pool::default();
    let writer = WriteStage::start(file, None, hash);
    let mut reader = WireReader::new(reader);
    let mut failure = None;
    loop {
        let mut chunk = pool.get().await;
        let ended = match reader.fill_chunk(&mut chunk, CHUNK).await {
            Ok(ended) => ended,
            Err(e) => {
                failure = Some(e);
                true
            }
        };
        let len = chunk.data().len() as u64;
        progress.advance(len);
        if len > 0 && !writer.feed(chunk).await {
            break;
        }
        if ended {
            break;
        }
    }
    let written = writer.finish().await;
    if let Some(e) = failure {
        progress.fail();
        part.discard();
        give_up!("receiving {name} from {peer} failed: {e}; nothing stored");
    }
    let digest = match written {
        Ok(digest) => digest,
        Err(e) => {
            progress.fail();
            let shown = part.path();
            part.discard();
            give_up!("cannot write {}: {e}", shown.display());
        }
    };
    part.store(None)
        .with_context(|| format!("cannot store {}", output.display()))?;
    progress.finish(digest.as_ref(), false).await;
    Ok(())
}
