//! Serde helpers for the event fields whose JSON form is not their Rust
//! form: times as RFC 3339 local time with milliseconds, bytes as `len` +
//! `hex`, peers as strings, close reasons as their words plus a `kind`.

/// `Arc<str>` as a plain string (without serde's `rc` feature).
pub mod shared_str {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(text: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
        String::deserialize(d).map(Arc::from)
    }
}

/// A time as RFC 3339 local time with milliseconds and the offset
/// (`2026-11-23T00:21:03.384+00:00`); read back to the millisecond.
pub mod local_time_ms {
    use std::time::SystemTime;

    use chrono::{DateTime, Local, SecondsFormat};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(*time))
    }

    /// `time` as every `--json` line has it: RFC 3339, local, milliseconds.
    pub fn text(time: SystemTime) -> String {
        let local: DateTime<Local> = time.into();
        local.to_rfc3339_opts(SecondsFormat::Millis, false)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(SystemTime::from)
            .map_err(|e| D::Error::custom(format!("bad time \"{text}\": {e}")))
    }
}

/// A message's kind as `"kind":"text"` and, as before it was
/// transport-neutral, `"ws":"text"` (both written, either read); nothing
/// when the transport keeps no kinds.
pub mod message_kind {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::transport::MessageKind;

    #[derive(Serialize, Deserialize)]
    struct KindFields {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<MessageKind>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ws: Option<MessageKind>,
    }

    pub fn serialize<S: Serializer>(kind: &Option<MessageKind>, s: S) -> Result<S::Ok, S::Error> {
        KindFields {
            kind: *kind,
            ws: *kind,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MessageKind>, D::Error> {
        let KindFields { kind, ws } = KindFields::deserialize(d)?;
        Ok(kind.or(ws))
    }
}

/// Bytes as `len` and `hex` (lower-case, no spaces).
pub mod len_hex {
    use bytes::Bytes;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct LenHex {
        len: usize,
        hex: String,
    }

    const DIGITS: &[u8; 16] = b"0123456789abcdef";

    pub fn serialize<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        let mut hex = String::with_capacity(bytes.len() * 2);
        for &b in bytes.iter() {
            hex.push(char::from(DIGITS[usize::from(b >> 4)]));
            hex.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        LenHex {
            len: bytes.len(),
            hex,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let LenHex { len, hex } = LenHex::deserialize(d)?;
        let digits = hex.as_bytes();
        if digits.len() % 2 != 0 {
            return Err(D::Error::custom("hex has an odd number of digits"));
        }
        let mut bytes = Vec::with_capacity(digits.len() / 2);
        for pair in digits.chunks_exact(2) {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(high), Some(low)) => bytes.push(high << 4 | low),
                _ => return Err(D::Error::custom(format!("bad hex \"{hex}\""))),
            }
        }
        if bytes.len() != len {
            return Err(D::Error::custom(format!(
                "len is {len} but hex holds {} bytes",
                bytes.len()
            )));
        }
        Ok(Bytes::from(bytes))
    }

    fn nibble(digit: u8) -> Option<u8> {
        char::from(digit)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
}

/// A close reason as `reason` (its `Display` string) and, for errors,
/// `kind`.
pub mod close_reason {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::super::CloseReason;
    use crate::error::NetErrorKind;

    #[derive(Serialize, Deserialize)]
    struct Parts {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<NetErrorKind>,
    }

    pub fn serialize<S: Serializer>(reason: &CloseReason, s: S) -> Result<S::Ok, S::Error> {
        Parts {
            reason: reason.to_string(),
            kind: reason.kind(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CloseReason, D::Error> {
        let Parts { reason, kind } = Parts::deserialize(d)?;
        Ok(CloseReason::from_parts(&reason, kind))
    }
}
