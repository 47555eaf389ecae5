//! One browser's WebSocket: it first gets every session's description and
//! kept history (each `ev` numbered, so one also received live is shown
//! once), then the hub's messages (with a `skipped` notice when it falls behind);
//! its commands run as tasks of their own, each answered with a `reply`.
//! A connection starts with `hello` (the encodings to offer). Every
//! message is a [`ToPage`].

use axum::extract::ws::{Message, WebSocket};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::outgoing::{HexProblem, ReplyBody, ToPage};
use super::packets;
use super::protocol::{Command, Request};
use super::sessions::Sessions;
use crate::hexinput::parse_hex;
use crate::view::hexdump::to_hex;

/// Replies waiting to be written before the commands' tasks wait.
const REPLY_QUEUE: usize = 64;

/// Most bytes of a preview shown as hex.
const PREVIEW_BYTES: usize = 4096;

/// Serves one browser until it goes away (or the server stops).
pub async fn serve(mut socket: WebSocket, sessions: Sessions) {
    let mut hub = sessions.hub().subscribe();
    let hello = std::iter::once(ToPage::hello().to_text());
    let described = sessions.describe_all().into_iter().map(|m| m.to_text());
    let replayed = sessions.histories().into_iter().map(|m| m.to_string());
    for message in hello.chain(described).chain(replayed) {
        if socket.send(Message::text(message)).await.is_err() {
            return;
        }
    }
    let (replies, mut replied) = mpsc::channel::<String>(REPLY_QUEUE);
    loop {
        let out: String = tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let sessions = sessions.clone();
                    let replies = replies.clone();
                    let text = text.to_string();
                    tokio::spawn(async move {
                        let _ = replies.send(answer(&sessions, &text).await).await;
                    });
                    continue;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            Some(reply) = replied.recv() => reply,
            message = hub.recv() => match message {
                Ok(m) => m.to_string(),
                Err(RecvError::Lagged(n)) => ToPage::Skipped { n }.to_text(),
                Err(RecvError::Closed) => return,
            },
        };
        if socket.send(Message::text(out)).await.is_err() {
            return;
        }
    }
}

/// Runs one command and returns its `reply`.
pub async fn answer(sessions: &Sessions, text: &str) -> String {
    let request: Request = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            return reply(0, Err(format!("bad command: {e}")).map_err(fail)).to_text();
        }
    };
    let id = request.id;
    let result: Result<ReplyBody, ReplyBody> = match request.command {
        Command::Open(spec) => sessions
            .open(spec)
            .await
            .map(|session| ReplyBody::Opened { session })
            .map_err(fail),
        Command::Send(spec) => sessions
            .send(spec)
            .await
            .map(|len| ReplyBody::Length { len })
            .map_err(fail),
        Command::StopAuto { session } => done(sessions.stop_auto(session)),
        Command::Close { session, conn } => done(sessions.close(session, conn)),
        Command::Stop { session } => done(sessions.stop(session)),
        Command::Restart { session } => done(sessions.restart(session).await),
        Command::Remove { session } => done(sessions.remove(session)),
        Command::SetEncoding { session, encoding } => {
            done(sessions.set_encoding(session, &encoding))
        }
        Command::Record { session, path } => done(sessions.record(session, path.as_deref())),
        Command::Hex { text } => match parse_hex(&text) {
            Ok(bytes) => Ok(ReplyBody::Length { len: bytes.len() }),
            Err(e) => Err(ReplyBody::BadHex {
                error: e.to_string(),
                hex: HexProblem {
                    token: e.token,
                    position: e.position,
                    problem: e.problem,
                },
            }),
        },
        Command::List => Ok(ReplyBody::Sessions {
            sessions: sessions.describe_all(),
        }),
        Command::Preview(draft) => match draft.on(0).payload() {
            Ok(bytes) => {
                let shown = &bytes[..bytes.len().min(PREVIEW_BYTES)];
                Ok(ReplyBody::Preview {
                    len: bytes.len(),
                    hex: to_hex(shown),
                    cut: shown.len() < bytes.len(),
                })
            }
            Err(e) => Err(fail(e.to_string())),
        },
        Command::ProfileImport { toml } => packets::import(&toml)
            .map(|p| ReplyBody::Imported {
                packets: p.packets,
                respond: p.respond,
            })
            .map_err(fail),
        Command::ProfileExport { packets, respond } => packets::export(&packets, &respond)
            .map(|toml| ReplyBody::Exported { toml })
            .map_err(fail),
    };
    reply(id, result).to_text()
}

fn reply(id: u64, result: Result<ReplyBody, ReplyBody>) -> ToPage {
    let (ok, body) = match result {
        Ok(body) => (true, body),
        Err(body) => (false, body),
    };
    ToPage::Reply { id, ok, body }
}

fn fail(error: String) -> ReplyBody {
    ReplyBody::Failed { error }
}

fn done(result: Result<(), String>) -> Result<ReplyBody, ReplyBody> {
    result.map(|()| ReplyBody::Done {}).map_err(fail)
}
