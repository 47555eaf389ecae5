//! [`MessageKind`]: what a message-keeping stream says about each message
//! besides its bytes (text or binary), carried with every message read
//! ([`Received`]) and accepted by its writer, so that views, services and
//! relays keep it without knowing which transport made it.

use serde::{Deserialize, Serialize};

/// Whether a message is text or binary (a WebSocket's text and binary
/// frames); `"text"` or `"binary"` in `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// Text (UTF-8).
    Text,
    /// Binary.
    Binary,
}

impl MessageKind {
    /// `"text"` or `"binary"`, as `--json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Binary => "binary",
        }
    }
}

/// One message read from a stream: how many bytes it added to the
/// buffer, and its kind on a stream that keeps kinds (`None` on the
/// others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes read (0 for an empty message).
    pub len: usize,
    /// Text or binary, where the transport says.
    pub kind: Option<MessageKind>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_as_their_names() {
        for kind in [MessageKind::Text, MessageKind::Binary] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<MessageKind>(&json).unwrap(), kind);
        }
    }
}
