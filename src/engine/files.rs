//! `send` and `receive` as engine starts: the side connects or binds at
//! once (an error is returned then), and the sessions run in the
//! background, reporting each file on the bus (`transfer_start`,
//! `transfer_progress`, `transfer_done`, and `error` for a skipped file).
//! A session's failure ends the handle with it (or, with `keep_open`, is
//! an `error` event and the server goes on).

use std::sync::Arc;

use super::transfer::{serve, Meeting, MAX_PENDING_HELLOS};
use super::{Engine, Handle, StartError};
use crate::error::{NetError, NetErrorKind};
use crate::session::registry::Registry;
use crate::transfer::config::{ReceiveConfig, SendFilesConfig};
use crate::transfer::error::{Context as _, TransferError};
use crate::transfer::gate::HelloGate;
use crate::transfer::header::{ReceiverFrame, SenderFrame};
use crate::transfer::observer::{printable, Observer};
use crate::transfer::raw::{receive_raw, send_raw};
use crate::transfer::receiver::{receive_session, InProgress};
use crate::transfer::sender::{collect, send_session, SendItem};
use crate::transport::{PeerAddr, Stream};

/// Why a peer beyond the limit of connections in their hello is refused
/// (a peer beyond the transfer limit is refused by its gate).
fn busy_reason() -> String {
    format!("busy: {MAX_PENDING_HELLOS} connections are waiting already; try again later")
}

/// A session's error as one terminal-safe line: it may quote received
/// file names or the peer's reasons.
fn shown(e: TransferError) -> TransferError {
    TransferError::Failed(printable(&e.to_string()).into_owned())
}

/// The error a handle ends with: the transfer's line, with the kind of
/// its I/O failure when it has one.
fn as_net(e: TransferError) -> NetError {
    let kind = match &e {
        TransferError::Io { cause, .. } => NetErrorKind::of(cause),
        TransferError::Name(_) => NetErrorKind::Protocol,
        TransferError::Failed(_) => NetErrorKind::Other,
    };
    NetError::new(kind, e.to_string())
}

impl Engine {
    /// Starts `send`: lists the files (an error now if one cannot be
    /// read), connects (or binds, with `listen`) and sends in the
    /// background. The handle's address is the bound one or the peer.
    pub async fn send(&self, cfg: SendFilesConfig) -> Result<Handle, StartError> {
        let items = if cfg.raw {
            Vec::new()
        } else {
            let items = collect(&cfg.files, cfg.recursive)?;
            if items.is_empty() {
                return Err(TransferError::failed(
                    "nothing to send: the directories given hold no regular files",
                )
                .into());
            }
            items
        };
        let meeting = Meeting {
            endpoint: cfg.endpoint.clone(),
            socket: cfg.socket.clone(),
            listen: cfg.listen,
            keep_open: cfg.keep_open,
            busy: SenderFrame::Fail {
                reason: busy_reason(),
            }
            .encode(),
        };
        let job = Arc::new(SendJob {
            cfg,
            items,
            observer: Observer::new(self.events().clone()),
        });
        self.start_transfer(meeting, move |stream, peer, gate| {
            let job = Arc::clone(&job);
            async move { job.run(stream, &peer, gate).await.map_err(shown) }
        })
        .await
    }

    /// Starts `receive`: creates the directory, binds (or connects, with
    /// `connect`) and receives in the background.
    pub async fn receive(&self, cfg: ReceiveConfig) -> Result<Handle, StartError> {
        if !cfg.raw {
            std::fs::create_dir_all(&cfg.store.dir).with_context(|| {
                format!("cannot create the directory {}", cfg.store.dir.display())
            })?;
        }
        let meeting = Meeting {
            endpoint: cfg.endpoint.clone(),
            socket: cfg.socket.clone(),
            listen: !cfg.connect,
            keep_open: cfg.keep_open,
            busy: ReceiverFrame::Fail {
                reason: busy_reason(),
            }
            .encode(),
        };
        let job = Arc::new(ReceiveJob {
            cfg,
            observer: Observer::new(self.events().clone()),
            in_progress: InProgress::default(),
        });
        self.start_transfer(meeting, move |stream, peer, gate| {
            let job = Arc::clone(&job);
            async move { job.run(stream, &peer, gate).await.map_err(shown) }
        })
        .await
    }

    /// Opens `meeting` and serves `session` on it in the background.
    async fn start_transfer<F, Fut>(
        &self,
        meeting: Meeting,
        session: F,
    ) -> Result<Handle, StartError>
    where
        F: Fn(Stream, PeerAddr, HelloGate) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), TransferError>> + Send + 'static,
    {
        let (met, endpoint) = meeting.open().await?;
        let stop = self.shutdown().child();
        let events = self.events().clone();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                serve(met, &meeting, &events, &stop, session)
                    .await
                    .map_err(as_net)
            }
        });
        Ok(Handle {
            endpoint,
            registry: Registry::default(),
            stop,
            task,
        })
    }
}

struct SendJob {
    cfg: SendFilesConfig,
    items: Vec<SendItem>,
    observer: Observer,
}

impl SendJob {
    async fn run(
        &self,
        stream: Stream,
        peer: &PeerAddr,
        mut gate: HelloGate,
    ) -> Result<(), TransferError> {
        let peer = peer.to_string();
        if self.cfg.raw {
            // Bare bytes have no hello: the transfer starts at once.
            gate.pass()
                .map_err(|busy| TransferError::failed(format!("refused {peer}: {busy}")))?;
            let file =
                self.cfg.files.first().ok_or_else(|| {
                    TransferError::failed("--raw sends exactly one file, none given")
                })?;
            return send_raw(stream, file, self.cfg.digest, &self.observer, &peer).await;
        }
        let outcome = send_session(
            stream,
            &self.items,
            self.cfg.digest,
            self.cfg.timeouts,
            &self.observer,
            &peer,
            &mut gate,
        )
        .await?;
        if !outcome.skipped.is_empty() {
            return Err(TransferError::failed(format!(
                "not stored by {peer}: {} of {} file(s)",
                outcome.skipped.len(),
                self.items.len()
            )));
        }
        Ok(())
    }
}

struct ReceiveJob {
    cfg: ReceiveConfig,
    observer: Observer,
    in_progress: InProgress,
}

impl ReceiveJob {
    async fn run(
        &self,
        stream: Stream,
        peer: &PeerAddr,
        mut gate: HelloGate,
    ) -> Result<(), TransferError> {
        let peer = peer.to_string();
        if self.cfg.raw {
            let output = self
                .cfg
                .output
                .as_ref()
                .ok_or_else(|| TransferError::failed("--raw needs --output FILE"))?;
            gate.pass()
                .map_err(|busy| TransferError::failed(format!("refused {peer}: {busy}")))?;
            return receive_raw(
                stream,
                output,
                self.cfg.store.overwrite,
                self.cfg.raw_digest,
                &self.observer,
                &peer,
            )
            .await;
        }
        let outcome = receive_session(
            stream,
            &self.cfg.store,
            &self.in_progress,
            &self.observer,
            &peer,
            &mut gate,
        )
        .await?;
        if !outcome.skipped.is_empty() {
            return Err(TransferError::failed(format!(
                "not stored from {peer}: {} of {} file(s)",
                outcome.skipped.len(),
                outcome.skipped.len() + outcome.stored
            )));
        }
        Ok(())
    }
}
