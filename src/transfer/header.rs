//! The transfer wire format (version 2): small binary frames, parsed by a
//! pure function that never panics and never trusts a length it has not
//! checked.
//!
//! ```text
//! sender   -> receiver  Hello    "SMXF" VERSION(u8) DIGEST(u8)   (or Fail, see below)
//! receiver -> sender    Hello    "SMXF" VERSION(u8) DIGEST(u8)   (or Fail, see below)
//! sender   -> receiver  File     'F' PARTS(u8) { LEN(u16) NAME } SIZE(u64) MODE(u32)
//! receiver -> sender    Accept   'A' OFFSET(u64)        send bytes OFFSET..SIZE
//!                       Skip     'S' LEN(u16) REASON    (e.g. exists), go on
//!                       Fail     'E' LEN(u16) REASON    fatal, connection ends
//! sender   -> receiver  (SIZE - OFFSET raw bytes)
//! sender   -> receiver  Digest   'H' DIGEST(32 bytes of the whole file)
//! receiver -> sender    Stored   'K'                    or Fail
//! sender   -> receiver  End      'Z'                    no more files
//! ```
//! DIGEST in a hello is 1 for BLAKE3, 2 for SHA-256: the sender offers
//! its choice, the receiver answers with the one both use (its own
//! `--digest` when given, else the sender's). Version 1 (SHA-256 only,
//! no DIGEST byte) is refused with a line that says to use the same
//! sockmate version on both sides.
//! A side that refuses the session (e.g. it serves its limit of sessions
//! already) sends Fail in place of its hello, whichever side it is.
//! Integers are big-endian. A file's path is a list of parts (one for a
//! plain file, more for a file inside a directory sent with `-r`); every
//! part is a plain name: not empty, not `.` or `..`, no `/`, no NUL, UTF-8,
//! at most [`MAX_NAME_LEN`] bytes, and at most [`MAX_PARTS`] parts.

use std::fmt;

/// The four bytes that open every transfer session.
pub const MAGIC: &[u8; 4] = b"SMXF";
/// The wire format version this build speaks.
pub const VERSION: u8 = 2;
/// Longest path part, in bytes (the usual file-system limit).
pub const MAX_NAME_LEN: usize = 255;
/// Deepest directory nesting accepted.
pub const MAX_PARTS: usize = 64;
/// Longest reason text in a Skip or Fail frame.
pub const MAX_REASON_LEN: usize = 4096;
use super::digest::DigestKind;
pub use super::digest::{hex_digest, DIGEST_LEN};

/// A file's relative path: a non-empty list of checked plain names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FilePath(Vec<String>);

impl FilePath {
    /// Checks every part; the error names the bad part and why.
    pub fn new(parts: Vec<String>) -> Result<FilePath, HeaderError> {
        if parts.is_empty() {
            return Err(HeaderError::BadName {
                name: String::new(),
                reason: "the file name is empty".into(),
            });
        }
        if parts.len() > MAX_PARTS {
            return Err(HeaderError::BadName {
                name: parts.join("/"),
                reason: format!("more than {MAX_PARTS} directory levels"),
            });
        }
        for part in &parts {
            check_name(part)?;
        }
        Ok(FilePath(parts))
    }

    /// The parts, outermost directory first, file name last.
    pub fn parts(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// Refuses any name that could leave the target directory or confuse the
/// file system.
pub fn check_name(name: &str) -> Result<(), HeaderError> {
    let reason = if name.is_empty() {
        "the name is empty"
    } else if name.contains('\0') {
        "it contains a NUL byte"
    } else if name.starts_with('/') {
        "it is an absolute path"
    } else if name.contains('/') {
        "it contains '/' (only plain file names are accepted)"
    } else if name == ".." || name == "." {
        "it would leave the target directory"
    } else if name.len() > MAX_NAME_LEN {
        "it is longer than 255 bytes"
    } else if let Some(reason) = crate::sys::fs::platform_name_refusal(name) {
        reason
    } else {
        return Ok(());
    };
    Err(HeaderError::BadName {
        name: name.escape_default().to_string(),
        reason: reason.into(),
    })
}

/// A frame the sender sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderFrame {
    /// Session start.
    Hello {
        /// The sender's wire version.
        version: u8,
        /// The digest the sender offers.
        digest: DigestKind,
    },
    /// A file follows (once accepted).
    File(FileHeader),
    /// The digest of the whole file (of the session's kind), after its
    /// bytes.
    Digest([u8; DIGEST_LEN]),
    /// No more files.
    End,
    /// The session is refused, in place of the hello (e.g. a
    /// `send --listen -k` serving its limit of sessions already).
    Fail {
        /// Why, for the user.
        reason: String,
    },
}

/// What the receiver answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiverFrame {
    /// Session start accepted.
    Hello {
        /// The receiver's wire version.
        version: u8,
        /// The digest both ends use.
        digest: DigestKind,
    },
    /// Send the file from this offset (non-zero when resuming).
    Accept {
        /// Bytes the receiver already holds.
        offset: u64,
    },
    /// This file is not wanted (e.g. it exists); go on with the next.
    Skip {
        /// Why, for the user.
        reason: String,
    },
    /// The file was checked and stored under its final name.
    Stored,
    /// A fatal failure; the receiver closes the connection.
    Fail {
        /// Why, for the user.
        reason: String,
    },
}

/// One file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// Where the file goes, relative to the receiver's directory.
    pub path: FilePath,
    /// Length in bytes.
    pub size: u64,
    /// Permission bits (`0o777` at most are applied).
    pub mode: u32,
}

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The session did not start with the magic bytes.
    #[error("the peer did not speak the sockmate transfer protocol (first bytes {first}); for plain bytes use --raw on both sides")]
    NotSockmate {
        /// The first bytes, in hex.
        first: String,
    },
    /// A version this build does not speak.
    #[error("the peer speaks transfer protocol version {0}, this sockmate speaks version {VERSION}; use the same sockmate version on both sides")]
    Version(u8),
    /// A digest number a hello names that this build does not know.
    #[error("the peer asked for digest number {0}, which this sockmate does not know; use the same sockmate version on both sides")]
    UnknownDigest(u8),
    /// A frame tag that is not defined here.
    #[error("unknown frame type 0x{0:02x} (corrupted stream or another protocol)")]
    UnknownFrame(u8),
    /// A refused path part.
    #[error("refused file name \"{name}\": {reason}")]
    BadName {
        /// The name, escaped for display.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A length over its bound.
    #[error("{what} is too long ({len} bytes, at most {max})")]
    TooLong {
        /// What was too long.
        what: &'static str,
        /// The announced length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// Text that is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    NotUtf8(&'static str),
}

/// A cursor over bytes that reports "need more" instead of panicking.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Option<u64> {
        let mut out = [0u8; 8];
        out.copy_from_slice(self.take(8)?);
        Some(u64::from_be_bytes(out))
    }
}

/// Outcome of parsing: a frame and how many bytes it used, or `None` when
/// more bytes are needed.
pub type Parsed<T> = Result<Option<(T, usize)>, HeaderError>;

/// `?` for "need more bytes".
macro_rules! need {
    ($e:expr) => {
        match $e {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

fn parse_hello(c: &mut Cursor<'_>) -> Result<Option<(u8, DigestKind)>, HeaderError> {
    let available = &c.bytes[c.at.min(c.bytes.len())..];
    let known = available.len().min(MAGIC.len());
    if available[..known] != MAGIC[..known] {
        let first: Vec<String> = available
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        return Err(HeaderError::NotSockmate {
            first: first.join(" "),
        });
    }
    need!(c.take(MAGIC.len()));
    let version = need!(c.u8());
    if version != VERSION {
        return Err(HeaderError::Version(version));
    }
    let id = need!(c.u8());
    let digest = DigestKind::from_wire_id(id).ok_or(HeaderError::UnknownDigest(id))?;
    Ok(Some((version, digest)))
}

fn parse_text(
    c: &mut Cursor<'_>,
    what: &'static str,
    max: usize,
) -> Result<Option<String>, HeaderError> {
    let len = need!(c.u16()) as usize;
    if len > max {
        return Err(HeaderError::TooLong { what, len, max });
    }
    let bytes = need!(c.take(len));
    let text = std::str::from_utf8(bytes).map_err(|_| HeaderError::NotUtf8(what))?;
    Ok(Some(text.to_string()))
}

/// Parses the sender's next frame. `first` says whether the session's hello
/// is expected.
pub fn parse_sender_frame(bytes: &[u8], first: bool) -> Parsed<SenderFrame> {
    let mut c = Cursor { bytes, at: 0 };
    if first && bytes.first() == Some(&b'E') {
        let _ = c.u8();
        let reason = need!(parse_text(&mut c, "reason", MAX_REASON_LEN)?);
        return Ok(Some((SenderFrame::Fail { reason }, c.at)));
    }
    if first {
        let (version, digest) = need!(parse_hello(&mut c)?);
        return Ok(Some((SenderFrame::Hello { version, digest }, c.at)));
    }
    let frame = match need!(c.u8()) {
        b'F' => {
            let count = need!(c.u8()) as usize;
            if count > MAX_PARTS {
                return Err(HeaderError::TooLong {
                    what: "file path",
                    len: count,
                    max: MAX_PARTS,
                });
            }
            let mut parts = Vec::with_capacity(count);
            for _ in 0..count {
                let part = need!(parse_text(&mut c, "file name", MAX_NAME_LEN)?);
                parts.push(part);
            }
            let size = need!(c.u64());
            let mode = need!(c.u32());
            SenderFrame::File(FileHeader {
                path: FilePath::new(parts)?,
                size,
                mode,
            })
        }
        b'H' => {
            let mut digest = [0u8; DIGEST_LEN];
            digest.copy_from_slice(need!(c.take(DIGEST_LEN)));
            SenderFrame::Digest(digest)
        }
        b'Z' => SenderFrame::End,
        // A listening sender's refusal comes after the receiver's hello.
        b'E' => SenderFrame::Fail {
            reason: need!(parse_text(&mut c, "reason", MAX_REASON_LEN)?),
        },
        other => return Err(HeaderError::UnknownFrame(other)),
    };
    Ok(Some((frame, c.at)))
}

/// Parses the receiver's next frame. `first` says whether the session's
/// hello is expected.
pub fn parse_receiver_frame(bytes: &[u8], first: bool) -> Parsed<ReceiverFrame> {
    let mut c = Cursor { bytes, at: 0 };
    // A receiver may refuse with a reason instead of its hello.
    if first && bytes.first() != Some(&b'E') {
        let (version, digest) = need!(parse_hello(&mut c)?);
        return Ok(Some((ReceiverFrame::Hello { version, digest }, c.at)));
    }
    let frame = match need!(c.u8()) {
        b'A' => ReceiverFrame::Accept {
            offset: need!(c.u64()),
        },
        b'S' => ReceiverFrame::Skip {
            reason: need!(parse_text(&mut c, "reason", MAX_REASON_LEN)?),
        },
        b'E' => ReceiverFrame::Fail {
            reason: need!(parse_text(&mut c, "reason", MAX_REASON_LEN)?),
        },
        b'K' => ReceiverFrame::Stored,
        other => return Err(HeaderError::UnknownFrame(other)),
    };
    Ok(Some((frame, c.at)))
}

fn put_text(out: &mut Vec<u8>, text: &str, max: usize) {
    // Cut at a character boundary so the frame stays valid UTF-8.
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&(end as u16).to_be_bytes());
    out.extend_from_slice(&text.as_bytes()[..end]);
}

impl SenderFrame {
    /// The frame's bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            SenderFrame::Hello { version, digest } => {
                out.extend_from_slice(MAGIC);
                out.push(*version);
                out.push(digest.wire_id());
            }
            SenderFrame::File(h) => {
                out.push(b'F');
                out.push(h.path.parts().len() as u8);
                for part in h.path.parts() {
                    put_text(&mut out, part, MAX_NAME_LEN);
                }
                out.extend_from_slice(&h.size.to_be_bytes());
                out.extend_from_slice(&h.mode.to_be_bytes());
            }
            SenderFrame::Digest(d) => {
                out.push(b'H');
                out.extend_from_slice(d);
            }
            SenderFrame::End => out.push(b'Z'),
            SenderFrame::Fail { reason } => {
                out.push(b'E');
                put_text(&mut out, reason, MAX_REASON_LEN);
            }
        }
        out
    }
}

impl ReceiverFrame {
    /// The frame's bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            ReceiverFrame::Hello { version, digest } => {
                out.extend_from_slice(MAGIC);
                out.push(*version);
                out.push(digest.wire_id());
            }
            ReceiverFrame::Accept { offset } => {
                out.push(b'A');
                out.extend_from_slice(&offset.to_be_bytes());
            }
            ReceiverFrame::Skip { reason } => {
                out.push(b'S');
                put_text(&mut out, reason, MAX_REASON_LEN);
            }
            ReceiverFrame::Fail { reason } => {
                out.push(b'E');
                put_text(&mut out, reason, MAX_REASON_LEN);
            }
            ReceiverFrame::Stored => out.push(b'K'),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name_strategy() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9._ -]{1,40}".prop_filter("plain", |s| s != "." && s != "..")
    }

    fn header_strategy() -> impl Strategy<Value = FileHeader> {
        (
            proptest::collection::vec(name_strategy(), 1..5),
            any::<u64>(),
            any::<u32>(),
        )
            .prop_map(|(parts, size, mode)| FileHeader {
                path: FilePath::new(parts).unwrap(),
                size,
                mode,
            })
    }

    #[test]
    fn refuses_escaping_names() {
        for bad in ["../x", "/etc/passwd", "a/b", "a\0b", "..", ".", ""] {
            let err = FilePath::new(vec![bad.to_string()]).unwrap_err();
            assert!(
                err.to_string().starts_with("refused file name"),
                "{bad:?}: {err}"
            );
        }
        let err = check_name("/etc/passwd").unwrap_err().to_string();
        assert!(err.contains("absolute path"), "{err}");
        let err = check_name("a\0b").unwrap_err().to_string();
        assert!(err.contains("NUL"), "{err}");
        assert!(check_name("report.pdf").is_ok());
        assert!(check_name("..hidden").is_ok());
    }

    #[test]
    fn bad_name_in_a_frame_is_an_error_not_a_file() {
        let mut bytes = vec![b'F', 1];
        put_text(&mut bytes, "../x", MAX_NAME_LEN);
        bytes.extend_from_slice(&5u64.to_be_bytes());
        bytes.extend_from_slice(&0o644u32.to_be_bytes());
        let err = parse_sender_frame(&bytes, false).unwrap_err();
        assert!(matches!(err, HeaderError::BadName { .. }), "{err}");
    }

    #[test]
    fn hello_checks_magic_and_version() {
        assert_eq!(parse_sender_frame(b"SM", true), Ok(None));
        assert!(matches!(
            parse_sender_frame(b"GET / HTTP/1.1", true),
            Err(HeaderError::NotSockmate { .. })
        ));
        assert_eq!(
            parse_sender_frame(b"SMXF\x09", true),
            Err(HeaderError::Version(9))
        );
        // A version 1 peer (SHA-256 only) is refused with the version.
        assert_eq!(
            parse_sender_frame(b"SMXF\x01", true),
            Err(HeaderError::Version(1))
        );
        assert_eq!(
            parse_receiver_frame(b"SMXF\x02\x07", true),
            Err(HeaderError::UnknownDigest(7))
        );
        for digest in [DigestKind::Blake3, DigestKind::Sha256] {
            let hello = SenderFrame::Hello {
                version: VERSION,
                digest,
            };
            let bytes = hello.encode();
            assert_eq!(bytes.len(), 6);
            assert_eq!(parse_sender_frame(&bytes, true), Ok(Some((hello, 6))));
            assert_eq!(parse_sender_frame(&bytes[..5], true), Ok(None));
            let answer = ReceiverFrame::Hello {
                version: VERSION,
                digest,
            };
            assert_eq!(
                parse_receiver_frame(&answer.encode(), true),
                Ok(Some((answer, 6)))
            );
        }
        // A receiver may refuse with a reason instead of its hello.
        let fail = ReceiverFrame::Fail {
            reason: "version 9?".into(),
        };
        let bytes = fail.encode();
        assert_eq!(
            parse_receiver_frame(&bytes, true),
            Ok(Some((fail, bytes.len())))
        );
    }

    proptest! {
        #[test]
        fn sender_frames_round_trip(h in header_strategy(), digest in any::<[u8; 32]>()) {
            for frame in [SenderFrame::File(h.clone()), SenderFrame::Digest(digest), SenderFrame::End] {
                let bytes = frame.encode();
                prop_assert_eq!(parse_sender_frame(&bytes, false), Ok(Some((frame.clone(), bytes.len()))));
                // Every strict prefix asks for more bytes.
                for cut in 0..bytes.len() {
                    prop_assert_eq!(parse_sender_frame(&bytes[..cut], false), Ok(None));
                }
            }
        }

        #[test]
        fn receiver_frames_round_trip(offset in any::<u64>(), reason in "\\PC{0,60}") {
            for frame in [
                ReceiverFrame::Accept { offset },
                ReceiverFrame::Skip { reason: reason.clone() },
                ReceiverFrame::Fail { reason: reason.clone() },
                ReceiverFrame::Stored,
            ] {
                let bytes = frame.encode();
                prop_assert_eq!(parse_receiver_frame(&bytes, false), Ok(Some((frame.clone(), bytes.len()))));
                for cut in 0..bytes.len() {
                    prop_assert_eq!(parse_receiver_frame(&bytes[..cut], false), Ok(None));
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), first in any::<bool>()) {
            if let Ok(Some((frame, used))) = parse_sender_frame(&bytes, first) {
                prop_assert!(used <= bytes.len());
                prop_assert_eq!(frame.encode(), &bytes[..used]);
            }
            if let Ok(Some((frame, used))) = parse_receiver_frame(&bytes, first) {
                prop_assert!(used <= bytes.len());
                prop_assert_eq!(frame.encode(), &bytes[..used]);
            }
        }

        #[test]
        fn names_with_a_slash_or_nul_are_refused(a in "[a-z]{0,8}", b in "[a-z]{0,8}", sep in prop_oneof![Just('/'), Just('\0')]) {
            let name = format!("{a}{sep}{b}");
            prop_assert!(check_name(&name).is_err());
        }
    }
}
