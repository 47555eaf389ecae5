//! The sending side of a session: offers each file, streams the bytes the
//! receiver asks for, and sends the digest computed on a separate thread.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{give_up, Context as _, TransferError};

use super::config::Timeouts;
use super::digest::DigestKind;
use super::gate::HelloGate;
use super::header::{
    parse_receiver_frame, FileHeader, FilePath, ReceiverFrame, SenderFrame, VERSION,
};
use super::observer::Observer;
use super::outgoing::Outgoing;
use super::stages::{hashed, ReadStage};
use super::wire::{within, WireReader};
use crate::transport::{Stream, StreamWriter};

/// How long to wait for the receiver's reason after a write failed.
const REASON_GRACE: Duration = Duration::from_secs(2);

/// One file to send: where it is here and where it goes there.
#[derive(Debug, Clone)]
pub struct SendItem {
    /// The file on this machine.
    pub source: PathBuf,
    /// Its path relative to the receiver's directory.
    pub path: FilePath,
    /// Its length when listed.
    pub size: u64,
    /// Its permission bits.
    pub mode: u32,
}

/// Lists what to send: plain files as themselves, directories (with
/// `recursive`) as every regular file below them, in name order. Symbolic
/// links inside directories are skipped (no loops, nothing outside).
pub fn collect(paths: &[PathBuf], recursive: bool) -> Result<Vec<SendItem>, TransferError> {
    let mut items = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = display_name(path)?;
        if meta.is_dir() {
            if !recursive {
                give_up!(
                    "{} is a directory (use -r to send it with everything in it)",
                    path.display()
                );
            }
            walk(path, &mut vec![name], &mut items)?;
        } else if meta.is_file() {
            items.push(item(path, vec![name], &meta)?);
        } else {
            give_up!("{} is not a regular file or directory", path.display());
        }
    }
    Ok(items)
}

fn display_name(path: &Path) -> Result<String, TransferError> {
    let name = match path.file_name() {
        Some(name) => name.to_os_string(),
        None => path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_os_string()))
            .ok_or_else(|| {
                TransferError::failed(format!(
                    "{} has no file name to send it under",
                    path.display()
                ))
            })?,
    };
    name.into_string().map_err(|n| {
        TransferError::failed(format!(
            "file name {n:?} is not UTF-8; rename it to send it"
        ))
    })
}

fn item(
    source: &Path,
    parts: Vec<String>,
    meta: &std::fs::Metadata,
) -> Result<SendItem, TransferError> {
    Ok(SendItem {
        source: source.to_path_buf(),
        path: FilePath::new(parts)?,
        size: meta.len(),
        mode: crate::sys::fs::mode_bits(meta),
    })
}

fn walk(
    dir: &Path,
    parts: &mut Vec<String>,
    items: &mut Vec<SendItem>,
) -> Result<(), TransferError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let name = display_name(&path)?;
        parts.push(name);
        if meta.is_dir() {
            walk(&path, parts, items)?;
        } else if meta.is_file() {
            items.push(item(&path, parts.clone(), &meta)?);
        }
        parts.pop();
    }
    Ok(())
}

/// What a finished session achieved.
#[derive(Debug, Default)]
pub struct SendOutcome {
    /// Files stored by the receiver.
    pub stored: usize,
    /// Files the receiver skipped, with its reasons.
    pub skipped: Vec<String>,
}

/// Runs a whole sending session on a connected stream. `gate` is passed
/// when the receiver's hello has arrived (a busy sender refuses it then).
pub async fn send_session(
    stream: Stream,
    items: &[SendItem],
    digest: Option<DigestKind>,
    timeouts: Timeouts,
    reporter: &Observer,
    peer: &str,
    gate: &mut HelloGate,
) -> Result<SendOutcome, TransferError> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = WireReader::new(reader);
    let stream = &mut writer;
    stream
        .write_all(
            &SenderFrame::Hello {
                version: VERSION,
                digest: digest.unwrap_or_default(),
            }
            .encode(),
        )
        .await
        .with_context(|| format!("cannot start the transfer with {peer}"))?;
    // The receiver's answer names the digest both ends use.
    let digest = match reader
        .frame_within("hello", timeouts.handshake, |b| {
            parse_receiver_frame(b, true)
        })
        .await
    {
        Ok(Some(ReceiverFrame::Fail { reason })) => {
            give_up!("{peer} refused the session: {reason}")
        }
        Ok(Some(ReceiverFrame::Hello { digest, .. })) => digest,
        Ok(Some(other)) => give_up!("{peer} answered {other:?} to the hello (protocol error)"),
        Ok(None) => {
            give_up!("{peer} closed the connection before answering (is it `sockmate receive`?)")
        }
        Err(e) => give_up!("{peer} did not answer as a sockmate receiver: {e}"),
    };
    if let Err(busy) = gate.pass() {
        let reason = busy.to_string();
        let _ = stream
            .write_all(
                &SenderFrame::Fail {
                    reason: reason.clone(),
                }
                .encode(),
            )
            .await;
        give_up!("refused {peer}: {reason}");
    }
    let mut outcome = SendOutcome::default();
    for item in items {
        match send_file(stream, &mut reader, item, digest, timeouts, reporter, peer).await? {
            None => outcome.stored += 1,
            Some(reason) => {
                reporter
                    .error(
                        Some(&item.path.to_string()),
                        &format!("{} was skipped by the receiver: {reason}", item.path),
                    )
                    .await;
                outcome.skipped.push(reason);
            }
        }
    }
    stream
        .write_all(&SenderFrame::End.encode())
        .await
        .with_context(|| format!("cannot end the session with {peer}"))?;
    let _ = stream.shutdown_write().await;
    // Wait for the receiver to close, so that its last answers are read.
    let _ = tokio::time::timeout(
        REASON_GRACE,
        reader.frame(|b| parse_receiver_frame(b, false)),
    )
    .await;
    Ok(outcome)
}

/// Sends one file; `Ok(Some(reason))` when the receiver skipped it.
async fn send_file(
    stream: &mut StreamWriter,
    reader: &mut WireReader,
    item: &SendItem,
    digest: DigestKind,
    timeouts: Timeouts,
    reporter: &Observer,
    peer: &str,
) -> Result<Option<String>, TransferError> {
    let name = item.path.to_string();
    let file = File::open(&item.source)
        .with_context(|| format!("cannot open {}", item.source.display()))?;
    let header = SenderFrame::File(FileHeader {
        path: item.path.clone(),
        size: item.size,
        mode: item.mode,
    });
    stream
        .write_all(&header.encode())
        .await
        .with_context(|| format!("cannot send the header of {name} to {peer}"))?;
    let offset = match next_answer(reader, timeouts.handshake, peer).await? {
        ReceiverFrame::Accept { offset } if offset <= item.size => offset,
        ReceiverFrame::Accept { offset } => give_up!(
            "{peer} asked to resume {name} at byte {offset}, past its end ({} bytes)",
            item.size
        ),
        ReceiverFrame::Skip { reason } => return Ok(Some(reason)),
        ReceiverFrame::Fail { reason } => give_up!("{peer} refused {name}: {reason}"),
        other => give_up!("{peer} answered {other:?} to the header of {name} (protocol error)"),
    };
    // From the page cache on a plain socket; see `Outgoing`. (If the file
    // changes meanwhile, the receiver's digest check fails.)
    let outgoing = Outgoing::for_file(&file, stream)
        .with_context(|| format!("cannot open {}", item.source.display()))?;
    let mut progress = reporter
        .start_file("sent", &name, Some(item.size), offset, peer)
        .await;
    let mut chunks = ReadStage::start(file, item.size, Some(digest));
    let mut position: u64 = 0;
    while position < item.size {
        let mut chunk = match chunks.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                progress.fail();
                give_up!("cannot read {}: {e}", item.source.display());
            }
            None => {
                progress.fail();
                give_up!(
                    "{} shrank while being sent ({position} of {} bytes)",
                    item.source.display(),
                    item.size
                );
            }
        };
        let left = item.size - position;
        chunk.set_len((chunk.data().len() as u64).min(left) as usize);
        let len = chunk.data().len() as u64;
        if position + len > offset {
            let from = offset.saturating_sub(position) as usize;
            let data = &chunk.data()[from..];
            let sent = within(
                timeouts.idle,
                outgoing.send(stream, position + from as u64, data),
            )
            .await;
            if let Err(e) = sent {
                progress.fail();
                return Err(write_failure(reader, &name, peer, e).await);
            }
            progress.advance(len - from as u64);
        }
        position += len;
    }
    let digest = chunks
        .digest()
        .await
        .and_then(hashed)
        .context("hashing failed")?;
    if let Err(e) = stream
        .write_all(&SenderFrame::Digest(digest.bytes).encode())
        .await
    {
        progress.fail();
        return Err(write_failure(reader, &name, peer, e).await);
    }
    match next_answer(reader, timeouts.idle, peer).await {
        Ok(ReceiverFrame::Stored) => {
            progress.finish(Some(&digest), true).await;
            Ok(None)
        }
        Ok(ReceiverFrame::Fail { reason }) => {
            progress.fail();
            give_up!("{peer} did not store {name}: {reason}")
        }
        Ok(other) => {
            progress.fail();
            give_up!("{peer} answered {other:?} after {name} (protocol error)")
        }
        Err(e) => {
            progress.fail();
            Err(TransferError::failed(format!(
                "{name} was sent but not confirmed: {e}"
            )))
        }
    }
}

async fn next_answer(
    reader: &mut WireReader,
    limit: Duration,
    peer: &str,
) -> Result<ReceiverFrame, TransferError> {
    match reader
        .frame_within("answer", limit, |b| parse_receiver_frame(b, false))
        .await
    {
        Ok(Some(frame)) => Ok(frame),
        Ok(None) => give_up!("{peer} closed the connection"),
        Err(e) => Err(TransferError::failed(format!("reading from {peer}: {e}"))),
    }
}

/// After a failed write, the receiver may have said why before closing.
async fn write_failure(
    reader: &mut WireReader,
    name: &str,
    peer: &str,
    e: std::io::Error,
) -> TransferError {
    let reason = tokio::time::timeout(
        REASON_GRACE,
        reader.frame(|b| parse_receiver_frame(b, false)),
    )
    .await;
    match reason {
        Ok(Ok(Some(ReceiverFrame::Fail { reason }))) => {
            TransferError::failed(format!("{peer} stopped {name}: {reason}"))
        }
        _ => TransferError::failed(format!(
            "sending {name} to {peer} failed: {}",
            crate::session::describe_io(&e)
        )),
    }
}
