//! What both proxy protocols share while reading a client's handshake: the
//! result of a pure parser ([`Parsed`], [`Malformed`]), the loop that reads
//! until a parser is satisfied ([`read_parsed`]), a handshake [`Failure`]
//! and a comparison of secrets that does not stop at the first difference.

use bytes::BytesMut;

use crate::transport::StreamReader;

/// Bytes asked for per read while a handshake is read.
const HANDSHAKE_READ: usize = 4096;

/// What a parser made of the bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// More bytes are needed.
    Incomplete,
    /// The value and how many bytes it took.
    Done(T, usize),
}

impl<T> Parsed<T> {
    /// Bytes taken (0 while incomplete).
    pub fn consumed(&self) -> usize {
        match self {
            Parsed::Incomplete => 0,
            Parsed::Done(_, n) => *n,
        }
    }
}

/// Input a parser refuses: one line saying what was wrong and the
/// protocol's answer to send before closing (a SOCKS5 reply code, an HTTP
/// status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// One line.
    pub words: String,
    /// The SOCKS5 reply code or HTTP status to send first.
    pub reply: Option<u16>,
}

impl Malformed {
    /// A refusal answered by closing.
    pub fn new(words: impl Into<String>) -> Self {
        Malformed {
            words: words.into(),
            reply: None,
        }
    }

    /// A refusal answered with `code` (a SOCKS5 reply, an HTTP status).
    pub fn replying(code: u16, words: impl Into<String>) -> Self {
        Malformed {
            words: words.into(),
            reply: Some(code),
        }
    }
}

/// A handshake that did not end in a tunnel: one line for the event
/// stream (the client has been answered already where the protocol has
/// an answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line.
    pub words: String,
    /// The SOCKS5 reply code or HTTP status still to send.
    pub reply: Option<u16>,
}

impl Failure {
    /// A failure with nothing more to send.
    pub fn new(words: impl Into<String>) -> Self {
        Failure {
            words: words.into(),
            reply: None,
        }
    }

    /// The failure with its line starting `protocol: ` (once).
    pub fn named(mut self, protocol: &str) -> Self {
        if !self.words.starts_with(protocol) {
            self.words = format!("{protocol}: {}", self.words);
        }
        self
    }
}

/// Reads from `reader` into `buf` until `parse` is satisfied, and takes
/// the bytes it used off the front of `buf` (what follows stays). More
/// than `max` bytes without an answer, the client's end and malformed
/// input are failures naming the `stage`.
pub async fn read_parsed<T>(
    reader: &mut StreamReader,
    buf: &mut BytesMut,
    max: usize,
    stage: &str,
    parse: impl Fn(&[u8]) -> Result<Parsed<T>, Malformed>,
) -> Result<T, Failure> {
    loop {
        match parse(buf) {
            Ok(Parsed::Done(value, used)) => {
                let _ = buf.split_to(used.min(buf.len()));
                return Ok(value);
            }
            Err(malformed) => {
                return Err(Failure {
                    words: malformed.words,
                    reply: malformed.reply,
                })
            }
            Ok(Parsed::Incomplete) if buf.len() >= max => {
                return Err(Failure::new(format!(
                    "the client's {stage} is longer than {max} bytes"
                )))
            }
            Ok(Parsed::Incomplete) => {}
        }
        let room = HANDSHAKE_READ.min(max - buf.len()).max(1);
        match reader.read_some(buf, room).await {
            Ok(0) if buf.is_empty() => {
                return Err(Failure::new(format!(
                    "the client closed before its {stage}"
                )))
            }
            Ok(0) => {
                return Err(Failure::new(format!(
                    "the client closed in the middle of its {stage}"
                )))
            }
            Ok(_) => {}
            Err(e) => {
                return Err(Failure::new(format!(
                    "reading the client's {stage}: {}",
                    crate::error::describe_io(&e)
                )))
            }
        }
    }
}

/// True when `a` and `b` are equal; compares every byte whatever the
/// first difference (a login check should not tell how much was right).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"pass", b"pass"));
        assert!(!same_secret(b"pass", b"pasS"));
        assert!(!same_secret(b"pass", b"pass1"));
        assert!(same_secret(b"", b""));
    }
}
