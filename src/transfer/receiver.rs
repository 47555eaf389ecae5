//! The receiving side of a session: checks each offered name, writes the
//! bytes to a temporary file in the target directory, and gives the file its
//! final name only after its size and SHA-256 match.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context as _};

use super::header::{
    hex_digest, parse_sender_frame, FileHeader, FilePath, ReceiverFrame, SenderFrame, VERSION,
};
use super::observer::Observer;
use super::stages::{Pool, WriteStage, CHUNK};
use super::wire::{WireError, WireReader};
use crate::transport::{Stream, StreamWriter};

/// Suffix of the temporary file a transfer writes before the final rename.
pub const PART_SUFFIX: &str = ".sockmate-part";

/// Where and how received files are stored.
#[derive(Debug, Clone)]
pub struct ReceiveOptions {
    /// The directory every received path is inside.
    pub dir: PathBuf,
    /// Replace files that already exist.
    pub overwrite: bool,
    /// Continue from a partial file left by an interrupted transfer.
    pub resume: bool,
}

/// Final paths being received right now, so two concurrent senders never
/// write the same temporary file.
#[derive(Debug, Default)]
pub struct InProgress(Mutex<HashSet<PathBuf>>);

impl InProgress {
    fn claim(&self, path: &Path) -> Option<Claim<'_>> {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(path.to_path_buf()).then(|| Claim {
            set: self,
            path: path.to_path_buf(),
        })
    }
}

struct Claim<'a> {
    set: &'a InProgress,
    path: PathBuf,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut set = self.set.0.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&self.path);
    }
}

/// The temporary file for `target`: `.NAME.sockmate-part` beside it.
pub fn part_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}{PART_SUFFIX}"))
}

/// Resolves a checked path inside `dir`, creating its directories; refuses
/// to pass through a symbolic link (it could point outside `dir`).
fn prepare_target(dir: &Path, path: &FilePath) -> anyhow::Result<PathBuf> {
    let mut at = dir.to_path_buf();
    let parts = path.parts();
    for part in &parts[..parts.len() - 1] {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => bail!(
                "refused {path}: {} exists and is not a directory",
                at.display()
            ),
            Err(_) => std::fs::create_dir(&at)
                .with_context(|| format!("cannot create directory {}", at.display()))?,
        }
    }
    at.push(&parts[parts.len() - 1]);
    if let Ok(meta) = std::fs::symlink_metadata(&at) {
        if meta.file_type().is_symlink() || meta.is_dir() {
            bail!(
                "refused {path}: {} exists and is not a regular file",
                at.display()
            );
        }
    }
    Ok(at)
}

/// What one session stored.
#[derive(Debug, Default)]
pub struct ReceiveOutcome {
    /// Files stored under their final names.
    pub stored: usize,
    /// Files refused (e.g. they exist), with the reasons.
    pub skipped: Vec<String>,
}

/// Runs a whole receiving session on a connected stream. Any failure is an
/// error after telling the sender why.
pub async fn receive_session(
    stream: Stream,
    opts: &ReceiveOptions,
    in_progress: &InProgress,
    reporter: &dyn Observer,
    peer: &str,
) -> anyhow::Result<ReceiveOutcome> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = WireReader::new(reader);
    let stream = &mut writer;
    match reader.frame(|b| parse_sender_frame(b, true)).await {
        Ok(Some(_)) => {}
        Ok(None) => bail!("{peer} closed the connection without sending anything"),
        Err(e) => return Err(fail(stream, peer, e.to_string()).await),
    }
    stream
        .write_all(&ReceiverFrame::Hello { version: VERSION }.encode())
        .await
        .with_context(|| format!("cannot answer {peer}"))?;
    let mut outcome = ReceiveOutcome::default();
    loop {
        let frame = match reader.frame(|b| parse_sender_frame(b, false)).await {
            Ok(Some(frame)) => frame,
            Ok(None) => bail!("{peer} closed the connection without ending the session"),
            Err(e) => return Err(fail(stream, peer, e.to_string()).await),
        };
        match frame {
            SenderFrame::File(header) => {
                if let Some(reason) = receive_file(
                    stream,
                    &mut reader,
                    header,
                    opts,
                    in_progress,
                    reporter,
                    peer,
                )
                .await?
                {
                    outcome.skipped.push(reason);
                } else {
                    outcome.stored += 1;
                }
            }
            SenderFrame::End => return Ok(outcome),
            other => {
                return Err(fail(stream, peer, format!("unexpected {other:?} between files")).await)
            }
        }
    }
}

/// Tells the sender why the session ends and returns the error.
async fn fail(stream: &mut StreamWriter, peer: &str, reason: String) -> anyhow::Error {
    let _ = stream
        .write_all(
            &ReceiverFrame::Fail {
                reason: reason.clone(),
            }
            .encode(),
        )
        .await;
    anyhow!("from {peer}: {reason}")
}

/// Receives one file; `Ok(Some(reason))` when it was skipped.
async fn receive_file(
    stream: &mut StreamWriter,
    reader: &mut WireReader,
    header: FileHeader,
    opts: &ReceiveOptions,
    in_progress: &InProgress,
    reporter: &dyn Observer,
    peer: &str,
) -> anyhow::Result<Option<String>> {
    let name = header.path.to_string();
    let target = match prepare_target(&opts.dir, &header.path) {
        Ok(target) => target,
        Err(e) => return Err(fail(stream, peer, format!("{e:#}")).await),
    };
    let skip = if target.exists() && !opts.overwrite {
        Some(format!(
            "{} already exists (receive with --overwrite to replace it)",
            target.display()
        ))
    } else {
        None
    };
    let claim = in_progress.claim(&target);
    let skip = skip.or_else(|| {
        claim.is_none().then(|| {
            format!(
                "{} is being received from another sender right now",
                target.display()
            )
        })
    });
    if let Some(reason) = skip {
        reporter.error(
            Some(&name),
            &format!("skipped {name} from {peer}: {reason}"),
        );
        stream
            .write_all(
                &ReceiverFrame::Skip {
                    reason: reason.clone(),
                }
                .encode(),
            )
            .await
            .with_context(|| format!("cannot answer {peer}"))?;
        return Ok(Some(reason));
    }
    let part = part_path(&target);
    let (file, offset) = match open_part(&part, header.size, opts.resume) {
        Ok(opened) => opened,
        Err(e) => {
            return Err(fail(
                stream,
                peer,
                format!("cannot write {}: {e}", part.display()),
            )
            .await)
        }
    };
    stream
        .write_all(&ReceiverFrame::Accept { offset }.encode())
        .await
        .with_context(|| format!("cannot answer {peer}"))?;
    let mut progress = reporter.start_file("received", &name, Some(header.size), offset, peer);
    let mut pool = Pool::default();
    let writer = WriteStage::start(file, (offset > 0).then(|| (part.clone(), offset)));
    let mut remaining = header.size - offset;
    let mut broken = None;
    while remaining > 0 {
        let mut chunk = pool.get().await;
        let want = remaining.min(CHUNK as u64) as usize;
        let ended = match reader.fill_chunk(&mut chunk, want).await {
            Ok(ended) => ended.then_some(WireError::Closed("before all of the file arrived")),
            Err(e) => Some(e),
        };
        let len = chunk.data().len() as u64;
        remaining -= len;
        progress.advance(len);
        // Even a short last chunk is written: it is kept for --resume.
        if !writer.feed(chunk).await {
            break;
        }
        if let Some(e) = ended {
            broken = Some(e);
            break;
        }
    }
    let written = writer.finish().await;
    if let Some(e) = broken {
        progress.fail();
        let kept = if header.size - remaining > 0 {
            format!(
                "; the partial file {} is kept: receive again with --resume to continue",
                part.display()
            )
        } else {
            let _ = std::fs::remove_file(&part);
            String::new()
        };
        bail!(
            "{name} from {peer} is incomplete ({} of {} bytes): {e}{kept}",
            header.size - remaining,
            header.size
        );
    }
    let actual = match written {
        Ok(digest) => digest,
        Err(e) => {
            progress.fail();
            let _ = std::fs::remove_file(&part);
            return Err(fail(
                stream,
                peer,
                format!("cannot write {}: {e}", part.display()),
            )
            .await);
        }
    };
    let expected = match reader.frame(|b| parse_sender_frame(b, false)).await {
        Ok(Some(SenderFrame::Digest(d))) => d,
        Ok(Some(other)) => {
            progress.fail();
            let _ = std::fs::remove_file(&part);
            return Err(fail(
                stream,
                peer,
                format!("expected the digest of {name}, got {other:?} (corrupted stream)"),
            )
            .await);
        }
        Ok(None) => {
            progress.fail();
            bail!(
                "{name} from {peer}: {}; the partial file {} is kept for --resume",
                WireError::Closed("before the digest"),
                part.display()
            );
        }
        Err(e) => {
            progress.fail();
            let _ = std::fs::remove_file(&part);
            return Err(fail(stream, peer, format!("{name}: {e}")).await);
        }
    };
    if actual != expected {
        progress.fail();
        let _ = std::fs::remove_file(&part);
        return Err(fail(
            stream,
            peer,
            format!(
                "digest mismatch for {name}: the sender's sha256 is {}, the received bytes hash to {}; nothing stored",
                hex_digest(&expected),
                hex_digest(&actual)
            ),
        )
        .await);
    }
    let stored =
        std::fs::set_permissions(&part, std::fs::Permissions::from_mode(header.mode & 0o777))
            .and_then(|()| std::fs::rename(&part, &target));
    if let Err(e) = stored {
        progress.fail();
        let _ = std::fs::remove_file(&part);
        return Err(fail(
            stream,
            peer,
            format!("cannot store {}: {e}", target.display()),
        )
        .await);
    }
    stream
        .write_all(&ReceiverFrame::Stored.encode())
        .await
        .with_context(|| format!("cannot confirm {name} to {peer}"))?;
    drop(claim);
    progress.finish(&actual, true);
    Ok(None)
}

/// Opens the temporary file, keeping its bytes when resuming (and they are
/// not longer than the file), else starting empty.
fn open_part(part: &Path, size: u64, resume: bool) -> std::io::Result<(File, u64)> {
    if resume {
        if let Ok(meta) = std::fs::symlink_metadata(part) {
            if meta.is_file() && meta.len() <= size {
                let mut file = OpenOptions::new().write(true).open(part)?;
                file.seek(SeekFrom::Start(meta.len()))?;
                return Ok((file, meta.len()));
            }
        }
    }
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(part)?;
    Ok((file, 0))
}
