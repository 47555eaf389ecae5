//! `--serve chat`: a chat room. Each line a client sends goes to the others
//! as `[nick] text`; the nickname starts as the client's address. Commands:
//! `/nick NAME` renames, `/who` lists the room. Join, leave and rename
//! notices start with `* `. A client too slow to keep up skips lines and is
//! told how many, and never slows the room.

use std::io;

use bytes::{Bytes, BytesMut};

use super::fanout::{Fanout, Inbox};
use super::{frame_too_long_line, Link, ReadOutcome, SERVICE_READ_SIZE};
use crate::encoding::TextEncoding;
use crate::event::CloseReason;
use crate::frame::{trim_line_ending, Decoder, FrameError, FrameSpec};
use crate::transport::MessageKind;

/// Chat is text: where the transport keeps message kinds (a WebSocket),
/// every line goes out as text (bytes that are not UTF-8 go out binary).
const TEXT: Option<MessageKind> = Some(MessageKind::Text);

/// Why a member that stopped reading was closed.
pub const DROPPED: &str = "dropped: it stopped reading and its queue stayed full";

/// Longest nickname.
pub const MAX_NICK: usize = 32;

/// What a chat line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum ChatLine<'a> {
    /// Say this to the room.
    Say(&'a [u8]),
    /// Rename to this.
    Nick(&'a str),
    /// List the room.
    Who,
    /// An unknown `/command`.
    Unknown(String),
    /// An empty line.
    Empty,
}

/// Reads one line (line ending already trimmed).
pub fn parse_line(line: &[u8]) -> ChatLine<'_> {
    if line.is_empty() {
        return ChatLine::Empty;
    }
    if line == b"/who" {
        return ChatLine::Who;
    }
    if let Some(rest) = line.strip_prefix(b"/nick") {
        let name = std::str::from_utf8(rest).unwrap_or("").trim();
        return ChatLine::Nick(name);
    }
    if line.starts_with(b"/") && !line.starts_with(b"//") {
        let word = line.split(|&b| b == b' ').next().unwrap_or(line);
        return ChatLine::Unknown(String::from_utf8_lossy(word).into_owned());
    }
    ChatLine::Say(
        line.strip_prefix(b"/")
            .filter(|_| line.starts_with(b"//"))
            .unwrap_or(line),
    )
}

/// Checks a nickname: 1 to [`MAX_NICK`] characters, no spaces or control
/// characters, no brackets (they frame the name in messages).
pub fn check_nick(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > MAX_NICK {
        return Err(format!("a nickname needs 1 to {MAX_NICK} characters"));
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '[' || c == ']')
    {
        return Err("a nickname has no spaces, control characters or brackets".into());
    }
    Ok(())
}

fn notice(encoding: TextEncoding, text: &str) -> Bytes {
    Bytes::from(encoding.encode(&format!("* {text}\n")))
}

/// Serves one chat client until it leaves; the others hear it join and
/// leave.
pub async fn run(
    link: &Link<'_>,
    room: &Fanout,
    frame: &FrameSpec,
    max_frame: usize,
    encoding: TextEncoding,
) -> io::Result<CloseReason> {
    let id = link.wiring.conn.id;
    let nick = link.wiring.conn.peer.to_string();
    let mut inbox = room.join(id, nick.clone(), link.wiring.stop);
    room.send_to_others(id, &notice(encoding, &format!("{nick} joined")));
    let mut result = serve(link, room, &mut inbox, frame, max_frame, encoding).await;
    if inbox.was_dropped() {
        result = Ok(CloseReason::Service(DROPPED.into()));
    }
    if let Some(nick) = room.leave(id) {
        room.send_to_others(id, &notice(encoding, &format!("{nick} left")));
    }
    result
}

async fn serve(
    link: &Link<'_>,
    room: &Fanout,
    inbox: &mut Inbox,
    frame: &FrameSpec,
    max_frame: usize,
    encoding: TextEncoding,
) -> io::Result<CloseReason> {
    let id = link.wiring.conn.id;
    let spec = match frame {
        FrameSpec::Crlf => FrameSpec::Crlf,
        _ => FrameSpec::Line,
    };
    let mut decoder = Decoder::new(spec, max_frame);
    let mut buf = BytesMut::new();
    link.send_as(
        &notice(
            encoding,
            &format!(
                "welcome, you are {}; /nick NAME renames you, /who lists the room",
                link.wiring.conn.peer
            ),
        ),
        TEXT,
    )
    .await?;
    loop {
        tokio::select! {
            read = link.read(&mut buf, SERVICE_READ_SIZE.min(max_frame.saturating_add(1))) => {
                let at_eof = match read? {
                    ReadOutcome::Data(..) => false,
                    ReadOutcome::Eof => true,
                    ReadOutcome::Idle => return Ok(CloseReason::IdleTimeout),
                    ReadOutcome::Shutdown => return Ok(CloseReason::Shutdown),
                };
                loop {
                    let next = if at_eof { decoder.decode_eof(&mut buf) } else { decoder.decode(&mut buf) };
                    let line = match next {
                        Ok(Some(line)) => line,
                        Ok(None) => break,
                        Err(FrameError::TooLong { max }) => {
                            link.send_as(frame_too_long_line(max).as_bytes(), TEXT).await?;
                            return Ok(CloseReason::Service(format!("line over --max-frame {max} bytes")));
                        }
                        Err(e) => return Err(io::Error::other(e.to_string())),
                    };
                    link.received(line.clone()).await;
                    handle_line(link, room, id, trim_line_ending(&line), encoding).await?;
                }
                if at_eof {
                    return Ok(CloseReason::PeerClosed);
                }
                if buf.is_empty() {
                    buf = BytesMut::new();
                }
            }
            Some(message) = inbox.recv() => {
                let skipped = inbox.take_skipped();
                if skipped > 0 {
                    link.send_as(&notice(encoding, &format!("you were too slow and missed {skipped} messages")), TEXT).await?;
                }
                link.send_bytes_as(message, TEXT).await?;
            }
        }
    }
}

async fn handle_line(
    link: &Link<'_>,
    room: &Fanout,
    id: u64,
    line: &[u8],
    encoding: TextEncoding,
) -> io::Result<()> {
    let decoded;
    let line = if encoding.is_utf8() {
        line
    } else if line.starts_with(b"/") && !line.starts_with(b"//") {
        // Commands are read as text: a GBK `/nick 小明` names 小明.
        decoded = encoding.decode_lossy(line);
        decoded.as_bytes()
    } else {
        line
    };
    let notice = |text: &str| notice(encoding, text);
    match parse_line(line) {
        ChatLine::Empty => {}
        ChatLine::Say(text) => {
            let nick = room.name_of(id).unwrap_or_default();
            let mut message = Vec::with_capacity(nick.len() + text.len() + 4);
            message.extend_from_slice(&encoding.encode(&format!("[{nick}] ")));
            message.extend_from_slice(text);
            message.extend_from_slice(&encoding.encode("\n"));
            room.send_to_others(id, &Bytes::from(message));
        }
        ChatLine::Nick(name) => match check_nick(name).and_then(|()| room.rename(id, name)) {
            Ok(old) => {
                let note = notice(&format!("{old} is now {name}"));
                room.send_to_others(id, &note);
                link.send_as(&note, TEXT).await?;
            }
            Err(why) => {
                link.send_as(&notice(&format!("cannot rename: {why}")), TEXT)
                    .await?
            }
        },
        ChatLine::Who => {
            let names = room.names().join(", ");
            link.send_as(&notice(&format!("in the room: {names}")), TEXT)
                .await?;
        }
        ChatLine::Unknown(cmd) => {
            link.send_as(
                &notice(&format!(
                "unknown command {cmd} (try /nick NAME or /who; start a line with // to say /…)"
            )),
                TEXT,
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commands() {
        assert_eq!(parse_line(b"hi"), ChatLine::Say(b"hi"));
        assert_eq!(parse_line(b"/nick bob"), ChatLine::Nick("bob"));
        assert_eq!(parse_line(b"/who"), ChatLine::Who);
        assert_eq!(parse_line(b"//who"), ChatLine::Say(b"/who"));
        assert_eq!(parse_line(b"/x y"), ChatLine::Unknown("/x".into()));
        assert_eq!(parse_line(b""), ChatLine::Empty);
        assert!(check_nick("bob").is_ok());
        assert!(check_nick("").is_err());
        assert!(check_nick("a b").is_err());
        assert!(check_nick(&"x".repeat(33)).is_err());
    }

    proptest! {
        #[test]
        fn line_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_line(&bytes);
        }
    }
}
