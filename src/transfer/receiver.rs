//! The receiving side of a session: checks each offered name, writes the
//! bytes to a temporary file in the target directory, and gives the file its
//! final name only after its size and SHA-256 match.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::error::{give_up, Context as _, TransferError};

use super::digest::DigestKind;
use super::gate::HelloGate;
use super::header::{
    hex_digest, parse_sender_frame, FileHeader, FilePath, ReceiverFrame, SenderFrame, VERSION,
};
use super::observer::Observer;
use super::stages::{hashed, Pool, WriteStage, CHUNK};
use super::store::{is_reserved, part_name, Dir, Entry, Part, PART_PREFIX};
use super::wire::{WireError, WireReader};
use crate::transport::{Stream, StreamWriter};

/// Where and how received files are stored.
#[derive(Debug, Clone)]
pub struct ReceiveOptions {
    /// The directory every received path is inside.
    pub dir: PathBuf,
    /// Replace files that already exist.
    pub overwrite: bool,
    /// Continue from a partial file left by an interrupted transfer.
    pub resume: bool,
    /// The digest to use whatever the sender offers (`--digest`); the
    /// sender's choice when `None`.
    pub digest: Option<DigestKind>,
    /// Deadlines for a silent sender.
    pub timeouts: super::config::Timeouts,
}

/// Final and temporary paths being received right now, so two concurrent
/// senders never write the same file or the same temporary file.
#[derive(Debug, Default)]
pub struct InProgress(Mutex<HashSet<PathBuf>>);

impl InProgress {
    /// Claims every path of `paths`, or none when one is taken already.
    fn claim(&self, paths: Vec<PathBuf>) -> Option<Claim<'_>> {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if paths.iter().any(|p| set.contains(p)) {
            return None;
        }
        set.extend(paths.iter().cloned());
        Some(Claim { set: self, paths })
    }
}

struct Claim<'a> {
    set: &'a InProgress,
    paths: Vec<PathBuf>,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut set = self.set.0.lock().unwrap_or_else(|e| e.into_inner());
        for path in &self.paths {
            set.remove(path);
        }
    }
}

/// Opens the directory a checked path goes in, inside `dir`, creating the
/// missing ones; never passes through a symbolic link (it could point
/// outside `dir`).
fn target_dir(dir: &Path, path: &FilePath) -> Result<Dir, TransferError> {
    let mut at = Dir::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let parts = path.parts();
    for part in &parts[..parts.len() - 1] {
        at = at
            .child(part)
            .map_err(|e| TransferError::failed(format!("refused {path}: {e}")))?;
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
/// error after telling the sender why. `gate` is passed when the sender's
/// hello has arrived (a busy receiver refuses it then).
pub async fn receive_session(
    stream: Stream,
    opts: &ReceiveOptions,
    in_progress: &InProgress,
    reporter: &Observer,
    peer: &str,
    gate: &mut HelloGate,
) -> Result<ReceiveOutcome, TransferError> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = WireReader::new(reader).idle_timeout(opts.timeouts.idle);
    let stream = &mut writer;
    let handshake = opts.timeouts.handshake;
    let offered = match reader
        .frame_within("hello", handshake, |b| parse_sender_frame(b, true))
        .await
    {
        Ok(Some(SenderFrame::Fail { reason })) => give_up!("{peer} refused the session: {reason}"),
        Ok(Some(SenderFrame::Hello { digest, .. })) => digest,
        Ok(Some(other)) => {
            let reason = format!("expected a hello, got {other:?} (protocol error)");
            return Err(fail(stream, peer, reason).await);
        }
        Ok(None) => give_up!("{peer} closed the connection without sending anything"),
        Err(e) => return Err(fail(stream, peer, e.to_string()).await),
    };
    let digest = opts.digest.unwrap_or(offered);
    if let Err(busy) = gate.pass() {
        return Err(fail(stream, peer, busy.to_string()).await);
    }
    stream
        .write_all(
            &ReceiverFrame::Hello {
                version: VERSION,
                digest,
            }
            .encode(),
        )
        .await
        .with_context(|| format!("cannot answer {peer}"))?;
    let mut outcome = ReceiveOutcome::default();
    loop {
        let frame = match reader
            .frame_within("file header", handshake, |b| parse_sender_frame(b, false))
            .await
        {
            Ok(Some(frame)) => frame,
            Ok(None) => give_up!("{peer} closed the connection without ending the session"),
            Err(e) => return Err(fail(stream, peer, e.to_string()).await),
        };
        match frame {
            SenderFrame::File(header) => {
                if let Some(reason) = receive_file(
                    stream,
                    &mut reader,
                    Incoming { header, digest },
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
            // A busy listening sender refuses after our hello.
            SenderFrame::Fail { reason } => give_up!("{peer} refused the session: {reason}"),
            other => {
                return Err(fail(stream, peer, format!("unexpected {other:?} between files")).await)
            }
        }
    }
}

/// Tells the sender why the session ends and returns the error.
async fn fail(stream: &mut StreamWriter, peer: &str, reason: String) -> TransferError {
    let _ = stream
        .write_all(
            &ReceiverFrame::Fail {
                reason: reason.clone(),
            }
            .encode(),
        )
        .await;
    TransferError::failed(format!("from {peer}: {reason}"))
}

/// A file the sender announced, and the digest the session agreed on.
struct Incoming {
    header: FileHeader,
    digest: DigestKind,
}

/// Receives one file; `Ok(Some(reason))` when it was skipped.
async fn receive_file(
    stream: &mut StreamWriter,
    reader: &mut WireReader,
    incoming: Incoming,
    opts: &ReceiveOptions,
    in_progress: &InProgress,
    reporter: &Observer,
    peer: &str,
) -> Result<Option<String>, TransferError> {
    let Incoming { header, digest } = incoming;
    let name = header.path.to_string();
    let parts = header.path.parts();
    let file_name = OsStr::new(&parts[parts.len() - 1]);
    let mut skip = parts.iter().any(|p| is_reserved(p)).then(|| {
        format!(
            "refused file name \"{name}\": names starting with {PART_PREFIX} are reserved for sockmate's temporary files"
        )
    });
    let mut found = None;
    if skip.is_none() {
        let dir = match target_dir(&opts.dir, &header.path) {
            Ok(dir) => dir,
            Err(e) => return Err(fail(stream, peer, e.to_string()).await),
        };
        let target = dir.path().join(file_name);
        match dir.entry(file_name) {
            Ok(None) => {}
            Ok(Some(Entry::File)) if opts.overwrite => {}
            Ok(Some(Entry::File)) => {
                skip = Some(format!(
                    "{} already exists (receive with --overwrite to replace it)",
                    target.display()
                ))
            }
            Ok(Some(Entry::Dir | Entry::Other)) => {
                let reason = format!(
                    "refused {name}: {} exists and is not a regular file",
                    target.display()
                );
                return Err(fail(stream, peer, reason).await);
            }
            Err(e) => {
                let reason = format!("cannot look at {}: {e}", target.display());
                return Err(fail(stream, peer, reason).await);
            }
        }
        found = Some(dir);
    }
    let claim = match (&skip, &found) {
        (None, Some(dir)) => {
            let claim = in_progress.claim(vec![
                dir.path().join(file_name),
                dir.path().join(part_name(file_name)),
            ]);
            if claim.is_none() {
                skip = Some(format!(
                    "{} is being received from another sender right now",
                    dir.path().join(file_name).display()
                ));
            }
            claim
        }
        _ => None,
    };
    let (Some(dir), None) = (found, &skip) else {
        let reason = skip.unwrap_or_default();
        reporter
            .error(
                Some(&name),
                &format!("skipped {name} from {peer}: {reason}"),
            )
            .await;
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
    };
    let shown_part = dir.path().join(part_name(file_name));
    let opened = if opts.resume {
        Part::resume(dir, file_name, header.size)
    } else {
        Part::create(dir, file_name, 0o600).map(|(part, file)| (part, file, 0))
    };
    let (part, file, offset) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            return Err(fail(
                stream,
                peer,
                format!("cannot write {}: {e}", shown_part.display()),
            )
            .await)
        }
    };
    stream
        .write_all(&ReceiverFrame::Accept { offset }.encode())
        .await
        .with_context(|| format!("cannot answer {peer}"))?;
    let mut progress = reporter
        .start_file("received", &name, Some(header.size), offset, peer)
        .await;
    let mut pool = Pool::default();
    let writer = WriteStage::start(file, (offset > 0).then_some(offset), Some(digest));
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
    let written = writer.finish().await.and_then(hashed);
    if let Some(e) = broken {
        progress.fail();
        let kept = if header.size - remaining > 0 {
            format!(
                "; the partial file {} is kept: receive again with --resume to continue",
                part.path().display()
            )
        } else {
            part.discard();
            String::new()
        };
        let reason = format!(
            "{name} from {peer} is incomplete ({} of {} bytes): {e}{kept}",
            header.size - remaining,
            header.size
        );
        // The sender may still be there (e.g. it went silent): tell it.
        let _ = stream
            .write_all(
                &ReceiverFrame::Fail {
                    reason: reason.clone(),
                }
                .encode(),
            )
            .await;
        give_up!("{reason}");
    }
    let actual = match written {
        Ok(digest) => digest,
        Err(e) => {
            progress.fail();
            let shown = part.path();
            part.discard();
            return Err(fail(
                stream,
                peer,
                format!("cannot write {}: {e}", shown.display()),
            )
            .await);
        }
    };
    let expected = match reader
        .frame_within("digest", opts.timeouts.idle, |b| {
            parse_sender_frame(b, false)
        })
        .await
    {
        Ok(Some(SenderFrame::Digest(d))) => d,
        Ok(Some(other)) => {
            progress.fail();
            part.discard();
            return Err(fail(
                stream,
                peer,
                format!("expected the digest of {name}, got {other:?} (corrupted stream)"),
            )
            .await);
        }
        Ok(None) => {
            progress.fail();
            give_up!(
                "{name} from {peer}: {}; the partial file {} is kept for --resume",
                WireError::Closed("before the digest"),
                part.path().display()
            );
        }
        Err(e) => {
            progress.fail();
            part.discard();
            return Err(fail(stream, peer, format!("{name}: {e}")).await);
        }
    };
    if actual.bytes != expected {
        progress.fail();
        part.discard();
        return Err(fail(
            stream,
            peer,
            format!(
                "digest mismatch for {name}: the sender's {digest} is {}, the received bytes hash to {}; nothing stored",
                hex_digest(&expected),
                actual.hex()
            ),
        )
        .await);
    }
    let target = part.target();
    if let Err(e) = part.store(Some(header.mode & 0o777)) {
        progress.fail();
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
    progress.finish(Some(&actual), true).await;
    Ok(None)
}
