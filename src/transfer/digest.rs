//! The digest that proves a transfer: BLAKE3 by default (SIMD, several
//! GB/s on one core, so hashing keeps up with the socket), SHA-256 on
//! request (`--digest sha256`, to compare with `sha256sum`). Both are 32
//! bytes on the wire; the session's hello says which one both ends use.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

/// Length of a digest on the wire (BLAKE3 and SHA-256 alike).
pub const DIGEST_LEN: usize = 32;

/// Which hash a transfer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum DigestKind {
    /// BLAKE3 (the default; `b3sum` prints the same digest).
    #[default]
    Blake3,
    /// SHA-256 (`sha256sum` prints the same digest).
    Sha256,
}

/// A `--digest` name that is neither algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown digest \"{0}\": use blake3 (the default) or sha256")]
pub struct UnknownDigest(pub String);

impl DigestKind {
    /// Its name in summaries, JSON and `--digest`: `blake3` or `sha256`.
    pub fn name(self) -> &'static str {
        match self {
            DigestKind::Blake3 => "blake3",
            DigestKind::Sha256 => "sha256",
        }
    }

    /// Its number in the session's hello.
    pub fn wire_id(self) -> u8 {
        match self {
            DigestKind::Blake3 => 1,
            DigestKind::Sha256 => 2,
        }
    }

    /// The kind a hello's number names, if any.
    pub fn from_wire_id(id: u8) -> Option<DigestKind> {
        match id {
            1 => Some(DigestKind::Blake3),
            2 => Some(DigestKind::Sha256),
            _ => None,
        }
    }

    /// A fresh hasher of this kind.
    pub fn hasher(self) -> Hasher {
        match self {
            DigestKind::Blake3 => Hasher::Blake3(Box::default()),
            DigestKind::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }
}

impl fmt::Display for DigestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DigestKind {
    type Err = UnknownDigest;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "blake3" | "b3" => Ok(DigestKind::Blake3),
            "sha256" | "sha-256" => Ok(DigestKind::Sha256),
            _ => Err(UnknownDigest(s.to_string())),
        }
    }
}

/// Hashes bytes fed in order.
#[derive(Debug, Clone)]
pub enum Hasher {
    /// BLAKE3 (boxed: its state is almost 2 KB).
    Blake3(Box<blake3::Hasher>),
    /// SHA-256.
    Sha256(sha2::Sha256),
}

impl Hasher {
    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Blake3(h) => {
                h.update(data);
            }
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// The digest of everything fed.
    pub fn finalize(self) -> Digest {
        match self {
            Hasher::Blake3(h) => Digest {
                kind: DigestKind::Blake3,
                bytes: *h.finalize().as_bytes(),
            },
            Hasher::Sha256(h) => Digest {
                kind: DigestKind::Sha256,
                bytes: h.finalize().into(),
            },
        }
    }
}

/// A finished digest and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    /// Which hash.
    pub kind: DigestKind,
    /// Its 32 bytes.
    pub bytes: [u8; DIGEST_LEN],
}

impl Digest {
    /// The bytes as lowercase hex, as `b3sum` and `sha256sum` print them.
    pub fn hex(&self) -> String {
        hex_digest(&self.bytes)
    }
}

/// Formats a digest as lowercase hex.
pub fn hex_digest(digest: &[u8; DIGEST_LEN]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(kind: DigestKind, parts: &[&[u8]]) -> String {
        let mut h = kind.hasher();
        for part in parts {
            h.update(part);
        }
        h.finalize().hex()
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            digest_of(DigestKind::Blake3, &[b"abc"]),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
        assert_eq!(
            digest_of(DigestKind::Sha256, &[b"abc"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pieces_hash_as_the_whole() {
        for kind in [DigestKind::Blake3, DigestKind::Sha256] {
            let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
            let (a, b) = data.split_at(70_001);
            assert_eq!(digest_of(kind, &[a, b]), digest_of(kind, &[&data]));
        }
    }

    #[test]
    fn names_and_wire_ids_round_trip() {
        for kind in [DigestKind::Blake3, DigestKind::Sha256] {
            assert_eq!(kind.name().parse::<DigestKind>(), Ok(kind));
            assert_eq!(DigestKind::from_wire_id(kind.wire_id()), Some(kind));
        }
        assert_eq!("SHA-256".parse::<DigestKind>(), Ok(DigestKind::Sha256));
        assert_eq!(DigestKind::from_wire_id(0), None);
        let err = "md5".parse::<DigestKind>().unwrap_err().to_string();
        assert!(err.contains("\"md5\"") && err.contains("sha256"), "{err}");
    }
}
