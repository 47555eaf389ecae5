//! Framing: how a byte stream is cut into messages (`--frame`), with a size
//! bound (`--max-frame`).
//!
//! - `raw`: whatever one read returned (what `recv(1024)` servers see);
//! - `line` / `crlf` / `delim:HEX`: up to and including the terminator (the
//!   terminator stays in the message, so a reply of `{text}` keeps it);
//! - `len16` / `len32`: a big-endian length header, then that many bytes;
//!   the message is the payload and replies get a header of their own.
//!
//! The [`Decoder`] is pure: it cuts messages out of a buffer the caller
//! fills. [`FrameReader`] and [`write_frame`] wrap it for any
//! `AsyncRead`/`AsyncWrite`, so it runs on sockets and on `tokio::io::duplex`
//! in tests alike.

use crate::hexinput::parse_hex;
use std::fmt;
use std::io;
use std::str::FromStr;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Default `--max-frame`: 1 MiB.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;

/// Longest delimiter `delim:HEX` accepts.
pub const MAX_DELIMITER: usize = 64;

/// How many bytes a [`FrameReader`] asks for per read.
pub const READ_CHUNK: usize = 16 * 1024;

/// How a stream is cut into messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FrameSpec {
    /// What one read returned.
    #[default]
    Raw,
    /// Up to and including `\n`.
    Line,
    /// Up to and including `\r\n`.
    Crlf,
    /// A 2-byte big-endian length, then the payload.
    Len16,
    /// A 4-byte big-endian length, then the payload.
    Len32,
    /// Up to and including this byte sequence.
    Delim(Vec<u8>),
}

impl FrameSpec {
    /// The terminator of a terminated framing.
    fn terminator(&self) -> Option<&[u8]> {
        match self {
            FrameSpec::Line => Some(b"\n"),
            FrameSpec::Crlf => Some(b"\r\n"),
            FrameSpec::Delim(d) => Some(d),
            _ => None,
        }
    }

    /// Header size of a length-prefixed framing.
    fn header_len(&self) -> Option<usize> {
        match self {
            FrameSpec::Len16 => Some(2),
            FrameSpec::Len32 => Some(4),
            _ => None,
        }
    }

    /// True when messages are cut on a terminator or length (not `raw`).
    pub fn is_raw(&self) -> bool {
        *self == FrameSpec::Raw
    }

    /// Appends `payload` as one frame of this kind to `out`: a header for
    /// length-prefixed framings, the bytes as they are otherwise.
    pub fn encode(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
        self.encode_header(payload.len(), out)?;
        out.extend_from_slice(payload);
        Ok(())
    }

    /// Appends the header for a payload of `len` bytes (nothing for
    /// framings without one).
    pub fn encode_header(&self, len: usize, out: &mut Vec<u8>) -> Result<(), FrameError> {
        match self {
            FrameSpec::Len16 => {
                let len = u16::try_from(len).map_err(|_| FrameError::TooLong {
                    max: u16::MAX as usize,
                })?;
                out.extend_from_slice(&len.to_be_bytes());
            }
            FrameSpec::Len32 => {
                let len = u32::try_from(len).map_err(|_| FrameError::TooLong {
                    max: u32::MAX as usize,
                })?;
                out.extend_from_slice(&len.to_be_bytes());
            }
            _ => {}
        }
        Ok(())
    }
}

impl FromStr for FrameSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let help = "use raw, line, crlf, len16, len32 or delim:HEX like delim:0d0a";
        match s.to_ascii_lowercase().as_str() {
            "raw" => return Ok(FrameSpec::Raw),
            "line" | "lf" => return Ok(FrameSpec::Line),
            "crlf" => return Ok(FrameSpec::Crlf),
            "len16" => return Ok(FrameSpec::Len16),
            "len32" => return Ok(FrameSpec::Len32),
            _ => {}
        }
        let Some(hex) = s.strip_prefix("delim:") else {
            return Err(format!("invalid --frame \"{s}\" ({help})"));
        };
        let bytes = parse_hex(hex).map_err(|why| format!("invalid --frame \"{s}\": {why}"))?;
        if bytes.is_empty() || bytes.len() > MAX_DELIMITER {
            return Err(format!(
                "invalid --frame \"{s}\": the delimiter needs 1 to {MAX_DELIMITER} bytes ({help})"
            ));
        }
        Ok(FrameSpec::Delim(bytes))
    }
}

impl fmt::Display for FrameSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameSpec::Raw => f.write_str("raw"),
            FrameSpec::Line => f.write_str("line"),
            FrameSpec::Crlf => f.write_str("crlf"),
            FrameSpec::Len16 => f.write_str("len16"),
            FrameSpec::Len32 => f.write_str("len32"),
            FrameSpec::Delim(d) => {
                f.write_str("delim:")?;
                d.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// A framing failure.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A message grew past the bound.
    #[error("message longer than --max-frame {max} bytes")]
    TooLong {
        /// The bound.
        max: usize,
    },
    /// The stream ended inside a length-prefixed message.
    #[error("stream ended inside a message ({have} of {want} bytes)")]
    Truncated {
        /// Bytes of the message that arrived.
        have: usize,
        /// Bytes the header promised.
        want: usize,
    },
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Cuts messages out of a buffer. Keeps how far it has already searched so
/// a long message arriving in small pieces is scanned once.
#[derive(Debug, Clone)]
pub struct Decoder {
    spec: FrameSpec,
    max: usize,
    searched: usize,
}

impl Decoder {
    /// A decoder for `spec` with messages up to `max` bytes (at least 1).
    pub fn new(spec: FrameSpec, max: usize) -> Self {
        Decoder {
            spec,
            max: max.max(1),
            searched: 0,
        }
    }

    /// The framing.
    pub fn spec(&self) -> &FrameSpec {
        &self.spec
    }

    /// Takes the next complete message out of `buf`, if there is one.
    /// Over-long messages are an error (the connection should close).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if let Some(header) = self.spec.header_len() {
            if buf.len() < header {
                return Ok(None);
            }
            let want = match header {
                2 => u16::from_be_bytes([buf[0], buf[1]]) as usize,
                _ => u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize,
            };
            if want > self.max {
                return Err(FrameError::TooLong { max: self.max });
            }
            if buf.len() < header + want {
                return Ok(None);
            }
            buf.advance(header);
            return Ok(Some(buf.split_to(want).freeze()));
        }
        let Some(term) = self.spec.terminator() else {
            // raw
            if buf.is_empty() {
                return Ok(None);
            }
            let take = buf.len().min(self.max);
            return Ok(Some(buf.split_to(take).freeze()));
        };
        let from = self.searched.saturating_sub(term.len() - 1).min(buf.len());
        match find(&buf[from..], term) {
            Some(at) => {
                let end = from + at + term.len();
                self.searched = 0;
                if end > self.max {
                    return Err(FrameError::TooLong { max: self.max });
                }
                Ok(Some(buf.split_to(end).freeze()))
            }
            None if buf.len() > self.max => Err(FrameError::TooLong { max: self.max }),
            None => {
                self.searched = buf.len();
                Ok(None)
            }
        }
    }

    /// At end of stream: what is left in `buf` as a last message (an
    /// unterminated last line still counts), or an error when a
    /// length-prefixed message was cut short.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(header) = self.spec.header_len() {
            let want = if buf.len() >= header {
                match header {
                    2 => u16::from_be_bytes([buf[0], buf[1]]) as usize,
                    _ => u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize,
                }
            } else {
                header
            };
            let have = buf.len().saturating_sub(header);
            buf.clear();
            return Err(FrameError::Truncated { have, want });
        }
        self.searched = 0;
        Ok(Some(buf.split().freeze()))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return haystack.iter().position(|&b| b == needle[0]);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The message without its line ending (`\r\n` or `\n`), for comparing
/// with a quit word or a text rule.
pub fn trim_line_ending(msg: &[u8]) -> &[u8] {
    let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
    msg.strip_suffix(b"\r").unwrap_or(msg)
}

/// Reads messages from any byte stream.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    buf: BytesMut,
    decoder: Decoder,
    ended: bool,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Wraps a reader.
    pub fn new(inner: R, decoder: Decoder) -> Self {
        FrameReader {
            inner,
            buf: BytesMut::new(),
            decoder,
            ended: false,
        }
    }

    /// The next message, or `None` at a clean end of stream.
    pub async fn next(&mut self) -> Result<Option<Bytes>, FrameError> {
        loop {
            if self.ended {
                return self.decoder.decode_eof(&mut self.buf);
            }
            if let Some(frame) = self.decoder.decode(&mut self.buf)? {
                return Ok(Some(frame));
            }
            self.buf.reserve(READ_CHUNK);
            if self.inner.read_buf(&mut self.buf).await? == 0 {
                self.ended = true;
            }
        }
    }

    /// Gives back the reader and any bytes read but not yet returned.
    pub fn into_parts(self) -> (R, BytesMut) {
        (self.inner, self.buf)
    }
}

/// Writes `payload` as one frame of kind `spec`.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    spec: &FrameSpec,
    payload: &[u8],
) -> Result<(), FrameError> {
    let mut head = Vec::with_capacity(4);
    spec.encode_header(payload.len(), &mut head)?;
    if !head.is_empty() {
        writer.write_all(&head).await?;
    }
    writer.write_all(payload).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tokio::io::duplex;

    fn spec(s: &str) -> FrameSpec {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_specs() {
        for s in ["raw", "line", "crlf", "len16", "len32", "delim:0d0a"] {
            assert_eq!(spec(s).to_string(), s);
        }
        assert_eq!(spec("delim:00"), FrameSpec::Delim(vec![0]));
        assert!("delim:".parse::<FrameSpec>().is_err());
        assert!("delim:0".parse::<FrameSpec>().is_err());
        assert!("delim:zz".parse::<FrameSpec>().is_err());
        let e = "lines".parse::<FrameSpec>().unwrap_err();
        assert!(e.contains("use raw, line"), "{e}");
    }

    #[test]
    fn delimiters_are_written_in_the_one_hex_grammar() {
        for text in [
            "delim:0d0a",
            "delim:0d 0a",
            "delim:0x0d,0x0a",
            "delim:\\x0d\\x0a",
        ] {
            assert_eq!(spec(text), FrameSpec::Delim(b"\r\n".to_vec()), "{text}");
        }
        assert!("delim:0g".parse::<FrameSpec>().is_err());
    }

    async fn frames_through_duplex(spec: FrameSpec, max: usize, input: Vec<u8>) -> Vec<Vec<u8>> {
        let (mut client, server) = duplex(3);
        let writer = tokio::spawn(async move {
            client.write_all(&input).await.unwrap();
            client.shutdown().await.unwrap();
        });
        let mut reader = FrameReader::new(server, Decoder::new(spec, max));
        let mut out = Vec::new();
        while let Some(f) = reader.next().await.unwrap() {
            out.push(f.to_vec());
        }
        writer.await.unwrap();
        out
    }

    #[tokio::test]
    async fn lines_keep_their_ending_and_a_last_partial_line_counts() {
        let got = frames_through_duplex(spec("line"), 100, b"ab\ncd\r\nlast".to_vec()).await;
        assert_eq!(
            got,
            vec![b"ab\n".to_vec(), b"cd\r\n".to_vec(), b"last".to_vec()]
        );
        let got = frames_through_duplex(spec("crlf"), 100, b"a\nb\r\nc\r\n".to_vec()).await;
        assert_eq!(got, vec![b"a\nb\r\n".to_vec(), b"c\r\n".to_vec()]);
        let got = frames_through_duplex(spec("delim:7c7c"), 100, b"x||y|z||".to_vec()).await;
        assert_eq!(got, vec![b"x||".to_vec(), b"y|z||".to_vec()]);
    }

    #[tokio::test]
    async fn length_prefixed_round_trip_over_a_tiny_pipe() {
        for s in ["len16", "len32"] {
            let (mut a, b) = duplex(2);
            let sp = spec(s);
            let sp2 = sp.clone();
            let w = tokio::spawn(async move {
                write_frame(&mut a, &sp2, b"hello").await.unwrap();
                write_frame(&mut a, &sp2, b"").await.unwrap();
                write_frame(&mut a, &sp2, &[7u8; 300]).await.unwrap();
            });
            let mut r = FrameReader::new(b, Decoder::new(sp, 1000));
            assert_eq!(r.next().await.unwrap().unwrap().as_ref(), b"hello");
            assert_eq!(r.next().await.unwrap().unwrap().as_ref(), b"");
            assert_eq!(r.next().await.unwrap().unwrap().len(), 300);
            w.await.unwrap();
            assert!(r.next().await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn over_long_frames_are_errors() {
        let (mut a, b) = duplex(4);
        tokio::spawn(async move {
            let _ = a.write_all(&[b'x'; 50]).await;
        });
        let mut r = FrameReader::new(b, Decoder::new(FrameSpec::Line, 10));
        assert!(matches!(
            r.next().await,
            Err(FrameError::TooLong { max: 10 })
        ));

        let mut d = Decoder::new(FrameSpec::Len16, 10);
        let mut buf = BytesMut::from(&[0u8, 11][..]);
        assert!(matches!(
            d.decode(&mut buf),
            Err(FrameError::TooLong { .. })
        ));
        // A line exactly at the bound is fine, one byte more is not.
        let mut d = Decoder::new(FrameSpec::Line, 3);
        assert_eq!(
            d.decode(&mut BytesMut::from(&b"ab\n"[..]))
                .unwrap()
                .unwrap()
                .as_ref(),
            b"ab\n"
        );
        assert!(d.decode(&mut BytesMut::from(&b"abc\n"[..])).is_err());
    }

    #[tokio::test]
    async fn truncated_length_frame_is_reported() {
        let got = {
            let (mut a, b) = duplex(4);
            tokio::spawn(async move {
                a.write_all(&[0, 0, 0, 9, 1, 2]).await.unwrap();
            });
            let mut r = FrameReader::new(b, Decoder::new(FrameSpec::Len32, 100));
            r.next().await
        };
        assert!(matches!(
            got,
            Err(FrameError::Truncated { have: 2, want: 9 })
        ));
    }

    #[test]
    fn trims_line_endings() {
        assert_eq!(trim_line_ending(b"exit\r\n"), b"exit");
        assert_eq!(trim_line_ending(b"exit\n"), b"exit");
        assert_eq!(trim_line_ending(b"exit"), b"exit");
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_lines(
            lines in proptest::collection::vec("[a-z]{0,12}", 0..12),
            cuts in proptest::collection::vec(1usize..7, 1..40),
        ) {
            let mut input = Vec::new();
            for l in &lines { input.extend_from_slice(l.as_bytes()); input.push(b'\n'); }
            let mut d = Decoder::new(FrameSpec::Delim(b"\n".to_vec()), 64);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut rest = &input[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = cuts[i % cuts.len()].min(rest.len());
                buf.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                i += 1;
                while let Some(f) = d.decode(&mut buf).unwrap() { got.push(f.to_vec()); }
            }
            let want: Vec<Vec<u8>> = lines.iter().map(|l| { let mut v = l.as_bytes().to_vec(); v.push(b'\n'); v }).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn length_frames_round_trip(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8), cut in 1usize..50) {
            for sp in [FrameSpec::Len16, FrameSpec::Len32] {
                let mut wire = Vec::new();
                for p in &payloads { sp.encode(p, &mut wire).unwrap(); }
                let mut d = Decoder::new(sp, 1000);
                let mut buf = BytesMut::new();
                let mut got = Vec::new();
                for chunk in wire.chunks(cut) {
                    buf.extend_from_slice(chunk);
                    while let Some(f) = d.decode(&mut buf).unwrap() { got.push(f.to_vec()); }
                }
                prop_assert_eq!(&got, &payloads);
            }
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), which in 0usize..6, max in 1usize..64) {
            let sp = [FrameSpec::Raw, FrameSpec::Line, FrameSpec::Crlf, FrameSpec::Len16, FrameSpec::Len32, FrameSpec::Delim(vec![0, 1])][which].clone();
            let mut d = Decoder::new(sp, max);
            let mut buf = BytesMut::from(&bytes[..]);
            while let Ok(Some(f)) = d.decode(&mut buf) { prop_assert!(f.len() <= max); }
            let _ = d.decode_eof(&mut buf);
        }

        #[test]
        fn spec_parser_never_panics(s in "\\PC{0,20}") {
            if let Ok(sp) = s.parse::<FrameSpec>() {
                prop_assert_eq!(sp.to_string().parse::<FrameSpec>().unwrap(), sp);
            }
        }
    }
}
