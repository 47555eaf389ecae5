//! Text encodings for display and sending: any label encoding_rs knows
//! (utf-8, gbk, gb18030, big5, shift_jis, euc-kr, windows-1252, latin1,
//! utf-16le/be…), with a streaming decoder so a character split across two
//! reads still decodes as one.

use std::collections::HashMap;
use std::fmt;

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE};

use crate::event::Direction;

mod names;

/// A few labels to suggest when one is unknown.
pub const COMMON_LABELS: &str =
    "utf-8, gbk, gb18030, big5, shift_jis, euc-kr, windows-1252, latin1, utf-16le";

/// The encodings offered by name, the common ones first: the page's list
/// and, with the GBK alias `cp936`, what shell completion suggests.
pub const OFFERED_LABELS: [&str; 11] = [
    "utf-8",
    "gbk",
    "gb18030",
    "big5",
    "shift_jis",
    "euc-jp",
    "euc-kr",
    "latin1",
    "windows-1252",
    "utf-16le",
    "utf-16be",
];

/// A text encoding chosen with `--encoding`.
#[derive(Clone, Copy)]
pub struct TextEncoding {
    encoding: &'static Encoding,
}

impl fmt::Debug for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TextEncoding({})", self.encoding.name())
    }
}

impl Eq for TextEncoding {}

impl PartialEq for TextEncoding {
    fn eq(&self, other: &Self) -> bool {
        self.encoding == other.encoding
    }
}

/// An encoding label nobody knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEncoding {
    /// The label as given.
    pub label: String,
    /// The known name closest to it, when it looks like a slip.
    pub nearest: Option<&'static str>,
}

impl fmt::Display for UnknownEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown encoding \"{}\" (", self.label)?;
        if let Some(name) = self.nearest {
            write!(f, "did you mean {name}? ")?;
        }
        write!(f, "try {COMMON_LABELS}, or a Python codec name like cp936)")
    }
}

impl std::error::Error for UnknownEncoding {}

impl Default for TextEncoding {
    fn default() -> Self {
        TextEncoding {
            encoding: encoding_rs::UTF_8,
        }
    }
}

impl TextEncoding {
    /// Looks up an encoding by any of its WHATWG labels (case-insensitive;
    /// `_` and `-` are interchangeable where the standard label has one) or
    /// by Python's codec name (`cp936`, `latin-1`, `utf8`…).
    pub fn from_label(label: &str) -> Result<Self, UnknownEncoding> {
        let trimmed = label.trim();
        let found = Encoding::for_label(trimmed.as_bytes())
            .or_else(|| Encoding::for_label(trimmed.replace('_', "-").as_bytes()))
            .or_else(|| Encoding::for_label(trimmed.replace('-', "_").as_bytes()))
            .or_else(|| {
                names::python_alias(trimmed).and_then(|l| Encoding::for_label(l.as_bytes()))
            });
        match found {
            Some(encoding) if encoding != encoding_rs::REPLACEMENT => Ok(TextEncoding { encoding }),
            _ => Err(UnknownEncoding {
                label: label.to_string(),
                nearest: names::nearest(trimmed),
            }),
        }
    }

    /// Re-encodes UTF-8 text arriving in chunks (stdin) into this
    /// encoding; a character split across chunks is kept whole.
    pub fn transcoder(&self) -> Transcoder {
        Transcoder {
            utf8: TextEncoding::default().decoder(),
            to: *self,
        }
    }

    /// The canonical name (e.g. `GBK`, `UTF-8`).
    pub fn name(&self) -> &'static str {
        self.encoding.name()
    }

    /// True for UTF-8.
    pub fn is_utf8(&self) -> bool {
        self.encoding == encoding_rs::UTF_8
    }

    /// Encodes text for sending. Characters the encoding cannot represent
    /// become `?`.
    pub fn encode(&self, text: &str) -> Vec<u8> {
        if self.encoding == UTF_16LE {
            return text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        }
        if self.encoding == UTF_16BE {
            return text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        }
        let mut encoder = self.encoding.new_encoder();
        let mut out = Vec::with_capacity(text.len() * 2 + 8);
        let mut rest = text;
        loop {
            let capacity = encoder
                .max_buffer_length_from_utf8_without_replacement(rest.len())
                .unwrap_or(rest.len() * 4 + 16);
            out.reserve(capacity);
            let (result, read) =
                encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
            rest = &rest[read..];
            match result {
                encoding_rs::EncoderResult::InputEmpty => return out,
                encoding_rs::EncoderResult::OutputFull => continue,
                encoding_rs::EncoderResult::Unmappable(_) => out.push(b'?'),
            }
        }
    }

    /// Decodes a complete message (lossy: bad bytes become U+FFFD).
    pub fn decode_lossy(&self, bytes: &[u8]) -> String {
        let mut decoder = self.decoder();
        decoder.decode(bytes, true)
    }

    /// A streaming decoder for one direction of one connection.
    pub fn decoder(&self) -> StreamDecoder {
        StreamDecoder {
            decoder: self.encoding.new_decoder_without_bom_handling(),
        }
    }
}

/// Decodes a byte stream chunk by chunk, keeping a partial character from
/// one chunk for the next.
pub struct StreamDecoder {
    decoder: Decoder,
}

impl StreamDecoder {
    /// Decodes `bytes`; with `last`, flushes a trailing partial character
    /// as U+FFFD. Never fails: undecodable bytes become U+FFFD.
    pub fn decode(&mut self, bytes: &[u8], last: bool) -> String {
        let mut out = String::new();
        let mut rest = bytes;
        loop {
            let capacity = self
                .decoder
                .max_utf8_buffer_length(rest.len())
                .unwrap_or(rest.len() * 3 + 16);
            out.reserve(capacity);
            let (result, read, _) = self.decoder.decode_to_string(rest, &mut out, last);
            rest = &rest[read..];
            if result == CoderResult::InputEmpty {
                return out;
            }
        }
    }
}

/// UTF-8 in, another encoding out, chunk by chunk (see
/// [`TextEncoding::transcoder`]). Bytes that are not UTF-8 become U+FFFD
/// and then whatever the target encoding makes of it (`?` when unmappable).
pub struct Transcoder {
    utf8: StreamDecoder,
    to: TextEncoding,
}

impl Transcoder {
    /// The bytes of `chunk` in the target encoding; a trailing partial
    /// character waits for the next chunk (with `last`, it is flushed).
    pub fn push(&mut self, chunk: &[u8], last: bool) -> Vec<u8> {
        let text = self.utf8.decode(chunk, last);
        self.to.encode(&text)
    }
}

/// One [`StreamDecoder`] per connection and direction, for the views that
/// decode text: a character split across two messages decodes as one.
pub struct ConnDecoders {
    encoding: TextEncoding,
    decoders: HashMap<(u64, Direction), StreamDecoder>,
}

impl ConnDecoders {
    /// No decoders yet; each is made with `encoding` on first use.
    pub fn new(encoding: TextEncoding) -> Self {
        ConnDecoders {
            encoding,
            decoders: HashMap::new(),
        }
    }

    /// Decodes one message of connection `conn` in direction `dir`,
    /// keeping a trailing partial character for the next message.
    pub fn decode(&mut self, conn: u64, dir: Direction, bytes: &[u8]) -> String {
        let encoding = self.encoding;
        self.decoders
            .entry((conn, dir))
            .or_insert_with(|| encoding.decoder())
            .decode(bytes, false)
    }

    /// Ends direction `dir` of `conn` (its `Eof`): the text of a partial
    /// character left over (U+FFFD), or an empty string.
    pub fn finish(&mut self, conn: u64, dir: Direction) -> String {
        match self.decoders.remove(&(conn, dir)) {
            Some(mut decoder) => decoder.decode(&[], true),
            None => String::new(),
        }
    }

    /// Ends both directions of `conn` (its `Close`): the non-empty
    /// leftovers, received first.
    pub fn finish_conn(&mut self, conn: u64) -> Vec<(Direction, String)> {
        [Direction::In, Direction::Out]
            .into_iter()
            .map(|dir| (dir, self.finish(conn, dir)))
            .filter(|(_, tail)| !tail.is_empty())
            .collect()
    }
}

impl From<UnknownEncoding> for crate::error::ConfigError {
    fn from(e: UnknownEncoding) -> Self {
        crate::error::ConfigError::new(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn labels() {
        for label in [
            "utf-8",
            "GBK",
            "gb18030",
            "big5",
            "shift_jis",
            "shift-jis",
            "sjis",
            "euc-kr",
            "latin1",
            "windows-1252",
            "utf-16le",
            "UTF-16BE",
        ] {
            assert!(TextEncoding::from_label(label).is_ok(), "{label}");
        }
        let err = TextEncoding::from_label("klingon").unwrap_err().to_string();
        assert!(
            err.contains("unknown encoding \"klingon\"") && err.contains("gbk"),
            "{err}"
        );
        for python in ["cp936", "ms936", "gb2312", "utf8", "latin-1", "shift-jis"] {
            assert!(TextEncoding::from_label(python).is_ok(), "{python}");
        }
        assert_eq!(
            TextEncoding::from_label("cp936").unwrap(),
            TextEncoding::from_label("gbk").unwrap()
        );
        let err = TextEncoding::from_label("gkb").unwrap_err().to_string();
        assert!(err.contains("did you mean gbk?"), "{err}");
    }

    #[test]
    fn transcoder_keeps_a_character_split_across_chunks() {
        let mut t = TextEncoding::from_label("gbk").unwrap().transcoder();
        let utf8 = "你好".as_bytes();
        let mut out = t.push(&utf8[..2], false);
        assert!(out.is_empty(), "{out:?}");
        out.extend(t.push(&utf8[2..4], false));
        out.extend(t.push(&utf8[4..], false));
        out.extend(t.push(b"", true));
        assert_eq!(out, [0xc4, 0xe3, 0xba, 0xc3]);
    }

    #[test]
    fn gbk_round_trip_and_split_character() {
        let gbk = TextEncoding::from_label("gbk").unwrap();
        let bytes = gbk.encode("你好");
        assert_eq!(bytes, [0xc4, 0xe3, 0xba, 0xc3]);
        let mut dec = gbk.decoder();
        let mut text = dec.decode(&bytes[..1], false);
        text += &dec.decode(&bytes[1..3], false);
        text += &dec.decode(&bytes[3..], true);
        assert_eq!(text, "你好");
    }

    #[test]
    fn conn_decoders_keep_connections_and_directions_apart() {
        let gbk = TextEncoding::from_label("gbk").unwrap();
        let mut decoders = ConnDecoders::new(gbk);
        assert_eq!(decoders.decode(1, Direction::In, b"\xd6"), "");
        assert_eq!(decoders.decode(1, Direction::Out, b"\xc4"), "");
        assert_eq!(decoders.decode(2, Direction::In, b"\xd6\xd0"), "中");
        assert_eq!(decoders.decode(1, Direction::In, b"\xd0!"), "中!");
        assert_eq!(decoders.finish(1, Direction::In), "");
        assert_eq!(decoders.decode(1, Direction::In, b"\xd6"), "");
        assert_eq!(
            decoders.finish_conn(1),
            [
                (Direction::In, "\u{fffd}".to_string()),
                (Direction::Out, "\u{fffd}".to_string())
            ]
        );
        assert!(decoders.finish_conn(1).is_empty());
    }

    #[test]
    fn utf16_encodes_both_ways() {
        let le = TextEncoding::from_label("utf-16le").unwrap();
        assert_eq!(le.encode("A€"), [0x41, 0, 0xac, 0x20]);
        assert_eq!(le.decode_lossy(&[0x41, 0, 0xac, 0x20]), "A€");
        let be = TextEncoding::from_label("utf-16be").unwrap();
        assert_eq!(be.encode("A"), [0, 0x41]);
    }

    #[test]
    fn unmappable_becomes_question_mark() {
        let latin = TextEncoding::from_label("latin1").unwrap();
        assert_eq!(latin.encode("a你b"), b"a?b");
    }

    proptest! {
        #[test]
        fn decoding_never_panics_and_chunking_does_not_matter(bytes in proptest::collection::vec(any::<u8>(), 0..200), cut in 0usize..200, label in prop::sample::select(vec!["utf-8", "gbk", "big5", "shift_jis", "euc-kr", "utf-16le"])) {
            let enc = TextEncoding::from_label(label).unwrap();
            let whole = enc.decode_lossy(&bytes);
            let cut = cut.min(bytes.len());
            let mut dec = enc.decoder();
            let mut pieces = dec.decode(&bytes[..cut], false);
            pieces += &dec.decode(&bytes[cut..], true);
            prop_assert_eq!(whole, pieces);
        }

        #[test]
        fn text_round_trips_through_utf8_and_gb18030(text in "\\PC{0,40}") {
            for label in ["utf-8", "gb18030"] {
                let enc = TextEncoding::from_label(label).unwrap();
                prop_assert_eq!(enc.decode_lossy(&enc.encode(&text)), text.clone());
            }
        }
    }
}
