//! Everything the server sends a page, as one type: each message is a
//! [`ToPage`] variant whose serde form (tagged `t`) is what the page reads,
//! so the page's field names are the server's and a golden test pins them.
//! The events themselves (`ev`) are the `--json` schema
//! ([`crate::event::Event`]) inside an envelope built by
//! [`super::forward::message`] without a round trip through a `Value`.

use serde::Serialize;

use super::protocol::Packet;
use super::protocol::{Kind, Role};
use crate::event::Counters;

/// The labels the page offers for decoding and sending, in this order: the
/// server's list, so the page keeps no copy of its own.
pub const PAGE_ENCODINGS: [&str; 11] = crate::encoding::OFFERED_LABELS;

/// One message to a page.
#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ToPage {
    /// The first message on every page connection: what the server offers.
    Hello {
        /// The encodings to offer ([`PAGE_ENCODINGS`]).
        encodings: Vec<&'static str>,
        /// The version of the event schema inside `ev` messages.
        schema: u64,
    },
    /// A session's description (sent when it is created or changes).
    Session(Box<SessionInfo>),
    /// A session was removed.
    #[serde(rename = "session")]
    Removed {
        /// The session.
        s: u64,
        /// Always true.
        removed: bool,
    },
    /// The kept events of a session follow; `dropped` older ones were not
    /// kept.
    History {
        /// The session.
        s: u64,
        /// Events no longer kept.
        dropped: u64,
        /// Events that follow.
        kept: usize,
    },
    /// Once a second per running session: its connections and totals.
    Stats {
        /// The session.
        s: u64,
        /// Its open connections.
        conns: Vec<ConnStats>,
        /// Bytes and messages of all its connections, closed ones included.
        total: Counters,
    },
    /// The page fell behind and missed `n` messages.
    Skipped {
        /// How many.
        n: u64,
    },
    /// The answer to a command.
    Reply {
        /// The command's `id`.
        id: u64,
        /// Whether it worked.
        ok: bool,
        /// What it answers.
        #[serde(flatten)]
        body: ReplyBody,
    },
}

/// A session as the page lists it.
#[derive(Debug, Serialize)]
pub struct SessionInfo {
    /// The session.
    pub s: u64,
    /// How it was opened (`connect`, `listen`, or `cli` for `--ui`).
    pub role: Role,
    /// What it is (`client`, `server`, `relay`).
    pub kind: Kind,
    /// Its label (`connect tcp://…`).
    pub label: String,
    /// Its own address (a client's once connected).
    pub local: String,
    /// Whether it runs.
    pub running: bool,
    /// Why it stopped, if it failed.
    pub error: Option<String>,
    /// How it decodes bytes.
    pub encoding: &'static str,
    /// The file "Record to file" writes, when on.
    pub recording: Option<String>,
    /// When it started (ms since the Unix epoch).
    pub started_ms: u64,
}

/// One open connection in a `stats` message.
#[derive(Debug, Serialize)]
pub struct ConnStats {
    /// Its number.
    pub conn: u64,
    /// Its peer, as printed.
    pub peer: String,
    /// How long it has been open.
    pub age_ms: u64,
    /// What moved on it.
    pub counters: Counters,
}

/// What a `reply` carries besides `id` and `ok`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ReplyBody {
    /// `open`: the new session.
    Opened {
        /// Its id.
        session: u64,
    },
    /// `send`, `hex`: how many bytes.
    Length {
        /// Bytes.
        len: usize,
    },
    /// `preview`: the bytes a draft makes, as hex.
    Preview {
        /// Bytes in all.
        len: usize,
        /// The first of them, as hex.
        hex: String,
        /// True when `hex` shows only the first bytes.
        cut: bool,
    },
    /// `list`: every session.
    Sessions {
        /// Their descriptions.
        sessions: Vec<ToPage>,
    },
    /// `profile_import`: the saved messages and rules of a profile.
    Imported {
        /// Saved messages.
        packets: Vec<Packet>,
        /// Respond rules.
        respond: Vec<String>,
    },
    /// `profile_export`: the profile as TOML.
    Exported {
        /// The TOML text.
        toml: String,
    },
    /// A hex text that does not parse: where and why.
    BadHex {
        /// One line.
        error: String,
        /// The bad token, its position and the problem.
        hex: HexProblem,
    },
    /// A command that failed.
    Failed {
        /// One line.
        error: String,
    },
    /// A command that worked and has nothing to say.
    Done {},
}

/// Where a hex text went wrong.
#[derive(Debug, Serialize)]
pub struct HexProblem {
    /// The bad token.
    pub token: String,
    /// Its position (characters from the start).
    pub position: usize,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl ToPage {
    /// The first message on a page connection.
    pub fn hello() -> ToPage {
        ToPage::Hello {
            encodings: PAGE_ENCODINGS.to_vec(),
            schema: crate::view::json::SCHEMA_VERSION,
        }
    }

    /// The message as the page gets it.
    pub fn to_text(&self) -> String {
        // Serialising these types cannot fail: no maps with non-string keys.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every message, as the page reads them. If this changes on
    /// purpose, change the page's readers (ui/js/) with it.
    #[test]
    fn every_message_has_the_fields_the_page_reads() {
        let messages = [
            ToPage::hello(),
            ToPage::Session(Box::new(SessionInfo {
                s: 1,
                role: Role::Connect,
                kind: Kind::Client,
                label: "connect tcp://127.0.0.1:9000".into(),
                local: "tcp://127.0.0.1:40000".into(),
                running: true,
                error: None,
                encoding: "GBK",
                recording: None,
                started_ms: 5,
            })),
            ToPage::Removed {
                s: 1,
                removed: true,
            },
            ToPage::History {
                s: 1,
                dropped: 2,
                kept: 3,
            },
            ToPage::Stats {
                s: 1,
                conns: vec![ConnStats {
                    conn: 4,
                    peer: "127.0.0.1:5000".into(),
                    age_ms: 6,
                    counters: Counters::default(),
                }],
                total: Counters::default(),
            },
            ToPage::Skipped { n: 7 },
            ToPage::Reply {
                id: 8,
                ok: true,
                body: ReplyBody::Opened { session: 2 },
            },
            ToPage::Reply {
                id: 9,
                ok: false,
                body: ReplyBody::BadHex {
                    error: "bad".into(),
                    hex: HexProblem {
                        token: "zz".into(),
                        position: 0,
                        problem: "not hex",
                    },
                },
            },
            ToPage::Reply {
                id: 10,
                ok: true,
                body: ReplyBody::Done {},
            },
        ];
        let got: Vec<String> = messages.iter().map(ToPage::to_text).collect();
        let want = [
            r#"{"t":"hello","encodings":["utf-8","gbk","gb18030","big5","shift_jis","euc-jp","euc-kr","latin1","windows-1252","utf-16le","utf-16be"],"schema":1}"#,
            r#"{"t":"session","s":1,"role":"connect","kind":"client","label":"connect tcp://127.0.0.1:9000","local":"tcp://127.0.0.1:40000","running":true,"error":null,"encoding":"GBK","recording":null,"started_ms":5}"#,
            r#"{"t":"session","s":1,"removed":true}"#,
            r#"{"t":"history","s":1,"dropped":2,"kept":3}"#,
            r#"{"t":"stats","s":1,"conns":[{"conn":4,"peer":"127.0.0.1:5000","age_ms":6,"counters":{"bytes_in":0,"bytes_out":0,"msgs_in":0,"msgs_out":0}}],"total":{"bytes_in":0,"bytes_out":0,"msgs_in":0,"msgs_out":0}}"#,
            r#"{"t":"skipped","n":7}"#,
            r#"{"t":"reply","id":8,"ok":true,"session":2}"#,
            r#"{"t":"reply","id":9,"ok":false,"error":"bad","hex":{"token":"zz","position":0,"problem":"not hex"}}"#,
            r#"{"t":"reply","id":10,"ok":true}"#,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn every_page_encoding_is_one_the_server_decodes() {
        for label in PAGE_ENCODINGS {
            assert!(
                crate::encoding::TextEncoding::from_label(label).is_ok(),
                "{label}"
            );
        }
    }
}
