//! The page's WebSocket protocol: JSON text frames.
//!
//! The page sends [`Request`]s (`{"id":7,"cmd":"open",…}`) and gets one
//! `{"t":"reply","id":7,"ok":true,…}` or `{"t":"reply","id":7,"ok":false,
//! "error":"…"}` for each. Unasked, it gets:
//! - `{"t":"ev","s":SESSION,"q":N,"e":EVENT}`: event number N of the
//!   session, EVENT being exactly one `--json` line (with `text` decoded
//!   per connection and direction);
//! - `{"t":"history","s":SESSION,"dropped":N,"kept":M}` on connecting,
//!   before the M kept `ev`s of each session (N older ones were dropped);
//! - `{"t":"stats","s":SESSION,"conns":[…],"total":{…}}`: live counters;
//! - `{"t":"session",…}` when a session starts, stops or is removed;
//! - `{"t":"skipped","n":N}` when this browser fell N messages behind.

use bytes::Bytes;
use serde::Deserialize;

use crate::encoding::TextEncoding;
use crate::hexinput::{parse_hex, HexError};
use crate::send::encode_text;
use crate::template::{Message, Syntax, Template, TemplateError, CTIME_FORMAT};

/// One command from the page, with the id its reply carries.
#[derive(Debug, Deserialize)]
pub struct Request {
    /// Echoed in the reply.
    #[serde(default)]
    pub id: u64,
    /// What to do.
    #[serde(flatten)]
    pub command: Command,
}

/// What the page asks for.
#[derive(Debug, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Start a session.
    Open(OpenSpec),
    /// Send on one connection of a session, or on all of them.
    Send(SendSpec),
    /// Stop a session's auto-send.
    StopAuto {
        /// The session.
        session: u64,
    },
    /// Close one connection.
    Close {
        /// The session.
        session: u64,
        /// The connection.
        conn: u64,
    },
    /// Stop a session (it stays listed, stopped).
    Stop {
        /// The session.
        session: u64,
    },
    /// Start a stopped session again with the same settings.
    Restart {
        /// The session.
        session: u64,
    },
    /// Stop and forget a session.
    Remove {
        /// The session.
        session: u64,
    },
    /// How a session's received and sent bytes are decoded to text.
    SetEncoding {
        /// The session.
        session: u64,
        /// Any label `--encoding` takes.
        encoding: String,
    },
    /// Append what a session receives to a file (or stop, with no path).
    Record {
        /// The session.
        session: u64,
        /// The file; `None` stops recording.
        path: Option<String>,
    },
    /// Check hex as the CLI's `--send-hex` reads it.
    Hex {
        /// The hex as typed.
        text: String,
    },
    /// Every session, as `session` messages.
    List,
    /// The bytes a send box's content stands for (a template rendered as
    /// message 1), without sending.
    Preview(Draft),
    /// The saved messages (and respond rules) of a `--profile` TOML.
    ProfileImport {
        /// The profile's text.
        toml: String,
    },
    /// A `--profile` TOML holding these saved messages and rules.
    ProfileExport {
        /// Named templates (`[packets]`).
        #[serde(default)]
        packets: Vec<Packet>,
        /// `--respond` rules (`[service] respond`).
        #[serde(default)]
        respond: Vec<String>,
    },
}

/// A named message, as a `--send-template` template (a profile's packet).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Packet {
    /// Its name (`--packet NAME`).
    pub name: String,
    /// Its template.
    pub template: String,
}

/// A send box's content, to preview.
#[derive(Debug, Clone, Deserialize)]
pub struct Draft {
    /// The payload as typed.
    pub data: String,
    /// How `data` is written.
    #[serde(default)]
    pub format: Format,
    /// Text encoding (default utf-8).
    #[serde(default)]
    pub encoding: Option<String>,
    /// Line ending appended.
    #[serde(default)]
    pub eol: Eol,
    /// Read escapes in text.
    #[serde(default)]
    pub escapes: bool,
}

impl Draft {
    /// The send of this draft on `session` (for building its bytes).
    pub fn on(self, session: u64) -> SendSpec {
        SendSpec {
            session,
            conn: None,
            data: self.data,
            format: self.format,
            encoding: self.encoding,
            eol: self.eol,
            escapes: self.escapes,
            every_ms: None,
            times: None,
        }
    }
}

/// A session to start.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenSpec {
    /// `connect` (a client) or `listen` (a server with a client list).
    pub role: Role,
    /// Any endpoint string the engine takes.
    pub endpoint: String,
    /// Our own address for a client (`--bind`): a UDP local port, say.
    #[serde(default)]
    pub bind: Option<String>,
    /// A client connects again when the peer goes away.
    #[serde(default)]
    pub reconnect: bool,
    /// UDP: allow sending to broadcast addresses.
    #[serde(default)]
    pub broadcast: bool,
    /// How bytes are decoded to text (default utf-8).
    #[serde(default)]
    pub encoding: Option<String>,
    /// A server's `--respond` rules (`MATCH=>REPLY`), answered in its
    /// encoding.
    #[serde(default)]
    pub respond: Vec<String>,
    /// A scan's ports, as `sockmate scan` takes them (`22,80,8000-8100`).
    #[serde(default)]
    pub ports: Option<String>,
    /// Where a `receive` session stores files: a folder name inside the
    /// record directory (`received` when none).
    #[serde(default)]
    pub dir: Option<String>,
}

/// Client or server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// `sockmate connect`.
    Connect,
    /// `sockmate listen -k`.
    Listen,
    /// A session the command line started (`--ui`).
    Cli,
    /// `sockmate scan`: the endpoint is the host, `ports` the ports.
    Scan,
    /// `sockmate receive -k`: files into `dir` in the record directory.
    Receive,
}

/// What a session is, for the page: a client (one connection, no client
/// list), a server (a client list, send to one or all) or a relay (pairs
/// listed with their client's address; disconnect a pair, no send box).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `connect`.
    Client,
    /// `listen`.
    Server,
    /// `relay`.
    Relay,
    /// `scan`: a port per row, no connections.
    Scan,
    /// `receive`: a row per file, no send box.
    Transfer,
}

impl Role {
    /// The kind of a session the page opened with this role.
    pub fn kind(self) -> Kind {
        match self {
            Role::Connect => Kind::Client,
            Role::Listen | Role::Cli => Kind::Server,
            Role::Scan => Kind::Scan,
            Role::Receive => Kind::Transfer,
        }
    }
}

/// What to send and where.
#[derive(Debug, Clone, Deserialize)]
pub struct SendSpec {
    /// The session.
    pub session: u64,
    /// One connection; `None` sends to every live connection.
    #[serde(default)]
    pub conn: Option<u64>,
    /// The payload as typed.
    pub data: String,
    /// How `data` is written.
    #[serde(default)]
    pub format: Format,
    /// Text encoding (default utf-8).
    #[serde(default)]
    pub encoding: Option<String>,
    /// Line ending appended to text.
    #[serde(default)]
    pub eol: Eol,
    /// Read `\n \r \t \0 \xHH \\` escapes in text.
    #[serde(default)]
    pub escapes: bool,
    /// Auto-send: every this many milliseconds…
    #[serde(default)]
    pub every_ms: Option<u64>,
    /// …this many times (default and at least once).
    #[serde(default)]
    pub times: Option<u64>,
}

/// How a payload is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Text, encoded with the chosen encoding.
    #[default]
    Text,
    /// Hex as `--send-hex` reads it.
    Hex,
    /// Base64 (a file the page read).
    Base64,
    /// A `--send-template` template (`{seq:u8}`, `{crc16:modbus}`,
    /// `{time}`…), rendered for each send.
    Template,
}

/// The line ending appended to text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Eol {
    /// Nothing.
    #[default]
    None,
    /// `\n`.
    Lf,
    /// `\r\n`.
    Crlf,
}

/// Why a payload could not be built; the message names the bad part.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Bad hex (its token and position are in the error).
    #[error("{0}")]
    Hex(HexError),
    /// A template that does not parse (the error names the bad part).
    #[error("invalid template \"{text}\": {problem}")]
    Template {
        /// The template as typed.
        text: String,
        /// What is wrong.
        problem: TemplateError,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl SendSpec {
    /// The bytes to send (a template rendered as message 1).
    pub fn payload(&self) -> Result<Bytes, PayloadError> {
        self.payload_at(1)
    }

    /// The bytes of send number `number` (from 1): a template's `{seq}`,
    /// `{n}`, random bytes and time are rendered for it.
    pub fn payload_at(&self, number: u64) -> Result<Bytes, PayloadError> {
        match self.format {
            Format::Template => {
                let encoding = self.encoding()?;
                let syntax = Syntax {
                    encoding,
                    captures: false,
                };
                let template =
                    Template::parse_with(&self.data, CTIME_FORMAT, syntax).map_err(|problem| {
                        PayloadError::Template {
                            text: self.data.clone(),
                            problem,
                        }
                    })?;
                let mut out = Vec::new();
                let msg = Message {
                    bytes: b"",
                    peer: "",
                    number,
                };
                template.render(&msg, &mut out);
                out.extend_from_slice(self.eol.bytes());
                Ok(Bytes::from(out))
            }
            Format::Hex => parse_hex(&self.data)
                .map(Bytes::from)
                .map_err(PayloadError::Hex),
            Format::Base64 => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(self.data.trim())
                    .map(Bytes::from)
                    .map_err(|e| PayloadError::Other(format!("bad base64: {e}")))
            }
            Format::Text => {
                let encoding = self.encoding()?;
                let mut bytes = if self.escapes {
                    encode_text(&self.data, encoding)
                        .map_err(|e| PayloadError::Other(e.to_string()))?
                } else {
                    encoding.encode(&self.data)
                };
                bytes.extend_from_slice(self.eol.bytes());
                Ok(Bytes::from(bytes))
            }
        }
    }

    fn encoding(&self) -> Result<TextEncoding, PayloadError> {
        match &self.encoding {
            Some(label) => {
                TextEncoding::from_label(label).map_err(|e| PayloadError::Other(e.to_string()))
            }
            None => Ok(TextEncoding::default()),
        }
    }
}

impl Eol {
    /// The bytes of this line ending.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Eol::None => b"",
            Eol::Lf => b"\n",
            Eol::Crlf => b"\r\n",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> SendSpec {
        let req: Request = serde_json::from_str(json).unwrap();
        match req.command {
            Command::Send(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_is_encoded_with_its_encoding_ending_and_escapes() {
        let s = spec(
            r#"{"id":1,"cmd":"send","session":1,"data":"中\\x01","encoding":"gbk","eol":"crlf","escapes":true}"#,
        );
        assert_eq!(&s.payload().unwrap()[..], b"\xd6\xd0\x01\r\n");
        let s = spec(r#"{"cmd":"send","session":1,"data":"a\\n"}"#);
        assert_eq!(&s.payload().unwrap()[..], b"a\\n");
    }

    #[test]
    fn hex_and_base64_payloads_name_their_errors() {
        let s = spec(r#"{"cmd":"send","session":1,"data":"01 03 0x00,\\x00","format":"hex"}"#);
        assert_eq!(&s.payload().unwrap()[..], b"\x01\x03\x00\x00");
        let s = spec(r#"{"cmd":"send","session":1,"data":"01 zz","format":"hex"}"#);
        let err = s.payload().unwrap_err().to_string();
        assert!(err.contains("\"zz\" at position 3"), "{err}");
        let s = spec(r#"{"cmd":"send","session":1,"data":"aGk=","format":"base64"}"#);
        assert_eq!(&s.payload().unwrap()[..], b"hi");
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_fails_without_a_panic(text in ".{0,80}") {
            if let Ok(Request { command: Command::Send(s), .. }) = serde_json::from_str::<Request>(&text) {
                let _ = s.payload();
            }
        }

        #[test]
        fn any_send_payload_builds_or_names_its_error(data in ".{0,40}", format in 0..3usize, escapes: bool) {
            let format = ["text", "hex", "base64"][format];
            let cmd = serde_json::json!({"cmd": "send", "session": 1, "data": data, "format": format, "escapes": escapes});
            let req: Request = serde_json::from_value(cmd).unwrap();
            let Command::Send(s) = req.command else { panic!("not a send") };
            if let Err(e) = s.payload() {
                proptest::prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn templates_render_seq_and_checksums_per_send_and_name_their_errors() {
        let s = spec(
            r#"{"cmd":"send","session":1,"data":"AB{seq:u8}{crc16:modbus}","format":"template"}"#,
        );
        let one = s.payload_at(1).unwrap();
        let two = s.payload_at(2).unwrap();
        assert_eq!(&one[..3], b"AB\x01");
        assert_eq!(&two[..3], b"AB\x02");
        let crc = crate::checksum::Checksum::parse("crc16:modbus")
            .unwrap()
            .unwrap();
        let mut want = Vec::new();
        crc.append(b"AB\x01", &mut want);
        assert_eq!(&one[3..], &want[..]);
        let s = spec(r#"{"cmd":"send","session":1,"data":"{crc99}","format":"template"}"#);
        let err = s.payload().unwrap_err().to_string();
        assert!(err.starts_with("invalid template \"{crc99}\""), "{err}");
    }

    #[test]
    fn unknown_commands_are_errors_not_panics() {
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"rm -rf"}"#).is_err());
        assert!(serde_json::from_str::<Request>("[]").is_err());
    }
}
