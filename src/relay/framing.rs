//! The relay's own framing between a byte stream and datagrams
//! (`--frame line|len16|len32|raw`), used only when one side of a relay is
//! a stream and the other keeps datagram boundaries.
//!
//! Kept private to the relay on purpose: `listen` has its own, richer
//! framing module; this one only needs to cut a stream into datagram-sized
//! payloads and to wrap a datagram back into the stream.

use bytes::{Buf, BufMut, Bytes, BytesMut};

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
    /// Appends `payload`, framed, to `out`.
    pub fn encode(self, payload: &[u8], out: &mut BytesMut) -> Result<(), FrameTooLarge> {
        if payload.len() > MAX_RELAY_FRAME {
            return Err(FrameTooLarge { len: payload.len() });
        }
        match self {
            RelayFrame::Raw => out.extend_from_slice(payload),
            RelayFrame::Line => {
                out.extend_from_slice(payload);
                out.put_u8(b'\n');
            }
            RelayFrame::Len16 => {
                // MAX_RELAY_FRAME < 65_536, so the length fits.
                out.put_u16(payload.len() as u16);
                out.extend_from_slice(payload);
            }
            RelayFrame::Len32 => {
                out.put_u32(payload.len() as u32);
                out.extend_from_slice(payload);
            }
        }
        Ok(())
    }

    /// Takes the next complete frame's payload out of `buf`, if there is one.
    /// Incomplete data stays in `buf` for the next read.
    pub fn decode(self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameTooLarge> {
        match self {
            RelayFrame::Raw => {
                if buf.is_empty() {
                    return Ok(None);
                }
                let take = buf.len().min(MAX_RELAY_FRAME);
                Ok(Some(buf.split_to(take).freeze()))
            }
            RelayFrame::Line => match buf.iter().position(|&b| b == b'\n') {
                Some(pos) => {
                    if pos > MAX_RELAY_FRAME + 1 {
                        return Err(FrameTooLarge { len: pos });
                    }
                    let mut line = buf.split_to(pos + 1);
                    line.truncate(pos);
                    if line.last() == Some(&b'\r') {
                        line.truncate(pos - 1);
                    }
                    Ok(Some(line.freeze()))
                }
                None if buf.len() > MAX_RELAY_FRAME + 1 => Err(FrameTooLarge { len: buf.len() }),
                None => Ok(None),
            },
            RelayFrame::Len16 | RelayFrame::Len32 => {
                let header = if self == RelayFrame::Len16 { 2 } else { 4 };
                if buf.len() < header {
                    return Ok(None);
                }
                let len = if header == 2 {
                    u16::from_be_bytes([buf[0], buf[1]]) as usize
                } else {
                    u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize
                };
                if len > MAX_RELAY_FRAME {
                    return Err(FrameTooLarge { len });
                }
                if buf.len() < header + len {
                    return Ok(None);
                }
                buf.advance(header);
                Ok(Some(buf.split_to(len).freeze()))
            }
        }
    }

    /// What is left in the buffer at end of stream, as a last datagram
    /// (an unterminated last line), if the framing allows one.
    pub fn decode_eof(self, buf: &mut BytesMut) -> Option<Bytes> {
        match self {
            RelayFrame::Raw | RelayFrame::Line if !buf.is_empty() => {
                let take = buf.len().min(MAX_RELAY_FRAME);
                Some(buf.split_to(take).freeze())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_frames(frame: RelayFrame, mut buf: BytesMut) -> Vec<Bytes> {
        let mut out = Vec::new();
        while let Some(payload) = frame.decode(&mut buf).unwrap() {
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
        assert_eq!(RelayFrame::Line.decode(&mut rest).unwrap(), None);
        assert_eq!(
            RelayFrame::Line.decode_eof(&mut rest),
            Some(Bytes::from("thr"))
        );
    }

    #[test]
    fn oversized_length_is_an_error() {
        let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff, 1][..]);
        assert!(RelayFrame::Len32.decode(&mut buf).is_err());
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
                while let Some(p) = frame.decode(&mut buf).unwrap() { got.push(p.to_vec()); }
                buf.extend_from_slice(&wire[cut..]);
                while let Some(p) = frame.decode(&mut buf).unwrap() { got.push(p.to_vec()); }
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
                while let Ok(Some(_)) = frame.decode(&mut buf) {}
            }
        }
    }
}
