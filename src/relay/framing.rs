//! Datagram boundaries on the stream side of a stream ↔ datagram relay
//! (`--frame line|len16|len32|raw`), on top of the one stream framing in
//! [`crate::frame`]: a line's datagram is the line without its ending, and
//! no datagram may exceed [`MAX_RELAY_FRAME`].

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame::{trim_line_ending, Decoder, FrameError, FrameSpec};

/// Largest payload a frame may carry: the largest UDP datagram.
pub const MAX_RELAY_FRAME: usize = 65_507;

/// How datagram boundaries are written on the stream side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayFrame {
    /// Each stream read is one datagram; datagrams are written as they are.
    Raw,
    /// Newline-terminated lines; the datagram is the line without its `\n`
    /// (and without a `\r` before it).
    Line,
    /// A 2-byte big-endian length, then the payload.
    Len16,
    /// A 4-byte big-endian length, then the payload.
    Len32,
}

/// A stream sent something that cannot become a datagram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("frame of {len} bytes is over the {MAX_RELAY_FRAME}-byte datagram limit")]
pub struct FrameTooLarge {
    /// The announced or accumulated length.
    pub len: usize,
}

impl std::str::FromStr for RelayFrame {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "raw" => Ok(RelayFrame::Raw),
            "line" | "lf" => Ok(RelayFrame::Line),
            "len16" => Ok(RelayFrame::Len16),
            "len32" => Ok(RelayFrame::Len32),
            _ => Err(format!(
                "invalid --frame \"{s}\" (a relay between a stream and datagrams takes raw, line, len16 or len32, e.g. --frame line)"
            )),
        }
    }
}

impl RelayFrame {
    /// The stream framing this is.
    fn spec(self) -> FrameSpec {
        match self {
            RelayFrame::Raw => FrameSpec::Raw,
            RelayFrame::Line => FrameSpec::Line,
            RelayFrame::Len16 => FrameSpec::Len16,
            RelayFrame::Len32 => FrameSpec::Len32,
        }
    }

    /// A decoder that cuts a stream into datagram payloads.
    pub fn decoder(self) -> RelayDecoder {
        // A line may carry its `\r\n` beyond the payload limit.
        let max = match self {
            RelayFrame::Line => MAX_RELAY_FRAME + 2,
            _ => MAX_RELAY_FRAME,
        };
        RelayDecoder {
            frame: self,
            inner: Decoder::new(self.spec(), max),
        }
    }

    /// Appends `payload`, framed, to `out`.
    pub fn encode(self, payload: &[u8], out: &mut BytesMut) -> Result<(), FrameTooLarge> {
        if payload.len() > MAX_RELAY_FRAME {
            return Err(FrameTooLarge { len: payload.len() });
        }
        let mut header = Vec::new();
        // MAX_RELAY_FRAME fits both length headers.
        let _ = self.spec().encode_header(payload.len(), &mut header);
        out.extend_from_slice(&header);
        out.extend_from_slice(payload);
        if self == RelayFrame::Line {
            out.put_u8(b'\n');
        }
        Ok(())
    }
}

/// Cuts one stream into datagram payloads (keeps the partial frame state
/// between reads).
#[derive(Debug)]
pub struct RelayDecoder {
    frame: RelayFrame,
    inner: Decoder,
}

impl RelayDecoder {
    fn payload(&self, message: Bytes) -> Result<Bytes, FrameTooLarge> {
        let message = if self.frame == RelayFrame::Line {
            let kept = trim_line_ending(&message).len();
            message.slice(..kept)
        } else {
            message
        };
        if message.len() > MAX_RELAY_FRAME {
            return Err(FrameTooLarge { len: message.len() });
        }
        Ok(message)
    }

    /// Takes the next complete frame's payload out of `buf`, if there is one.
    /// Incomplete data stays in `buf` for the next read.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameTooLarge> {
        match self.inner.decode(buf) {
            Ok(Some(message)) => self.payload(message).map(Some),
            Ok(None) => Ok(None),
            Err(_) => Err(FrameTooLarge { len: buf.len() }),
        }
    }

    /// What is left in the buffer at end of stream, as a last datagram
    /// (an unterminated last line), if the framing allows one.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Option<Bytes> {
        match self.inner.decode_eof(buf) {
            Ok(Some(message)) => self.payload(message).ok(),
            Ok(None) | Err(FrameError::Truncated { .. }) => None,
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_frames(frame: RelayFrame, mut buf: BytesMut) -> Vec<Bytes> {
        let mut out = Vec::new();
        let mut decoder = frame.decoder();
        while let Some(payload) = decoder.decode(&mut buf).unwrap() {
            out.push(payload);
        }
        out
    }

    #[test]
    fn parses_names() {
        assert_eq!("line".parse::<RelayFrame>().unwrap(), RelayFrame::Line);
        assert_eq!("LEN16".parse::<RelayFrame>().unwrap(), RelayFrame::Len16);
        let err = "crlf2".parse::<RelayFrame>().unwrap_err();
        assert!(err.contains("--frame line"), "{err}");
    }

    #[test]
    fn line_strips_crlf_and_waits_for_newline() {
        let mut buf = BytesMut::from(&b"one\r\ntwo\nthr"[..]);
        let frames = all_frames(RelayFrame::Line, buf.split());
        assert_eq!(frames, vec![Bytes::from("one"), Bytes::from("two")]);
        let mut rest = BytesMut::from(&b"thr"[..]);
        let mut decoder = RelayFrame::Line.decoder();
        assert_eq!(decoder.decode(&mut rest).unwrap(), None);
        assert_eq!(decoder.decode_eof(&mut rest), Some(Bytes::from("thr")));
    }

    #[test]
    fn oversized_length_is_an_error() {
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 1][..]);
        assert!(RelayFrame::Len32.decoder().decode(&mut buf).is_err());
    }

    proptest! {
        #[test]
        fn length_prefixed_round_trip(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20), split in 0usize..4000) {
            for frame in [RelayFrame::Len16, RelayFrame::Len32] {
                let mut wire = BytesMut::new();
                for p in &payloads {
                    frame.encode(p, &mut wire).unwrap();
                }
                // Feed the wire in two pieces: decoding must not depend on read boundaries.
                let cut = split.min(wire.len());
                let mut buf = BytesMut::from(&wire[..cut]);
                let mut got = Vec::new();
                let mut decoder = frame.decoder();
                while let Some(p) = decoder.decode(&mut buf).unwrap() { got.push(p.to_vec()); }
                buf.extend_from_slice(&wire[cut..]);
                while let Some(p) = decoder.decode(&mut buf).unwrap() { got.push(p.to_vec()); }
                prop_assert_eq!(&got, &payloads);
                prop_assert!(buf.is_empty());
            }
        }

        #[test]
        fn line_round_trip(lines in proptest::collection::vec("[^\r\n]{0,50}", 0..20)) {
            let mut wire = BytesMut::new();
            for l in &lines {
                RelayFrame::Line.encode(l.as_bytes(), &mut wire).unwrap();
            }
            let got: Vec<String> = all_frames(RelayFrame::Line, wire)
                .into_iter()
                .map(|b| String::from_utf8(b.to_vec()).unwrap())
                .collect();
            prop_assert_eq!(got, lines);
        }

        #[test]
        fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            for frame in [RelayFrame::Raw, RelayFrame::Line, RelayFrame::Len16, RelayFrame::Len32] {
                let mut buf = BytesMut::from(&data[..]);
                let mut decoder = frame.decoder();
                while let Ok(Some(_)) = decoder.decode(&mut buf) {}
                let _ = decoder.decode_eof(&mut buf);
            }
        }
    }
}
