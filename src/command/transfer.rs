//! `sockmate send ENDPOINT FILE…` and `sockmate receive ENDPOINT --dir DIR`:
//! wiring of transports to the transfer sessions. Either side may listen:
//! `receive` listens unless `--connect`, `send` connects unless `--listen`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::Context;
use crate::endpoint::Endpoint;
use crate::transfer::progress::Reporter;
use crate::transfer::raw::{receive_raw, send_raw};
use crate::transfer::receiver::{receive_session, InProgress, ReceiveOptions};
use crate::transfer::sender::{collect, send_session, SendItem};
use crate::transport::{
    self, Connection, Listener, PeerAddr, SocketOptions, Stream, StreamListener,
};

/// Most sessions a `-k` side serves at once; more wait to be accepted.
pub const MAX_CONCURRENT_SESSIONS: usize = 64;

/// Everything `send` needs, validated.
#[derive(Debug, Clone)]
pub struct SendConfig {
    /// Where to connect (or listen, with `listen`).
    pub endpoint: Endpoint,
    /// Files and directories to send.
    pub files: Vec<PathBuf>,
    /// Wait for receivers instead of connecting.
    pub listen: bool,
    /// With `listen`: serve every receiver that connects, concurrently.
    pub keep_open: bool,
    /// Send directories with their contents.
    pub recursive: bool,
    /// Bare bytes, no header (one file).
    pub raw: bool,
    /// Display options.
    pub display: TransferDisplay,
    /// Socket options.
    pub socket: SocketOptions,
}

/// Everything `receive` needs, validated.
#[derive(Debug, Clone)]
pub struct ReceiveConfig {
    /// Where to listen (or connect, with `connect`).
    pub endpoint: Endpoint,
    /// Storage options.
    pub store: ReceiveOptions,
    /// With `raw`: the file to write.
    pub output: Option<PathBuf>,
    /// Connect to a `send --listen` instead of listening.
    pub connect: bool,
    /// Serve many senders at once and keep running.
    pub keep_open: bool,
    /// Bare bytes, no header.
    pub raw: bool,
    /// Display options.
    pub display: TransferDisplay,
    /// Socket options.
    pub socket: SocketOptions,
}

/// How a transfer command shows progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct TransferDisplay {
    /// JSON events on stdout.
    pub json: bool,
    /// No status or summary lines.
    pub quiet: bool,
}

/// Runs `sockmate send`.
pub async fn run_send(cfg: SendConfig, ctx: &Context) -> anyhow::Result<()> {
    let items = if cfg.raw {
        Vec::new()
    } else {
        let items = collect(&cfg.files, cfg.recursive)?;
        if items.is_empty() {
            bail!("nothing to send: the directories given hold no regular files");
        }
        items
    };
    let reporter = Reporter::new(cfg.display.json, cfg.display.quiet);
    let job = Arc::new(SendJob {
        cfg,
        items,
        reporter,
    });
    let run = job.clone();
    connect_or_serve(
        job.cfg.listen,
        job.cfg.keep_open,
        &job.cfg.endpoint,
        &job.cfg.socket,
        &job.reporter,
        ctx,
        move |stream, peer| {
            let job = run.clone();
            async move { job.run(stream, &peer).await }
        },
    )
    .await
}

struct SendJob {
    cfg: SendConfig,
    items: Vec<SendItem>,
    reporter: Reporter,
}

impl SendJob {
    async fn run(&self, stream: Stream, peer: &PeerAddr) -> anyhow::Result<()> {
        let peer = peer.to_string();
        if self.cfg.raw {
            return send_raw(stream, &self.cfg.files[0], &self.reporter, &peer).await;
        }
        let outcome = send_session(stream, &self.items, &self.reporter, &peer).await?;
        if !outcome.skipped.is_empty() {
            bail!(
                "not stored by {peer}: {} of {} file(s)",
                outcome.skipped.len(),
                self.items.len()
            );
        }
        Ok(())
    }
}

/// Runs `sockmate receive`.
pub async fn run_receive(cfg: ReceiveConfig, ctx: &Context) -> anyhow::Result<()> {
    if !cfg.raw {
        std::fs::create_dir_all(&cfg.store.dir)
            .with_context(|| format!("cannot create the directory {}", cfg.store.dir.display()))?;
    }
    let reporter = Reporter::new(cfg.display.json, cfg.display.quiet);
    let job = Arc::new(ReceiveJob {
        cfg,
        reporter,
        in_progress: InProgress::default(),
    });
    let run = job.clone();
    connect_or_serve(
        !job.cfg.connect,
        job.cfg.keep_open,
        &job.cfg.endpoint,
        &job.cfg.socket,
        &job.reporter,
        ctx,
        move |stream, peer| {
            let job = run.clone();
            async move { job.run(stream, &peer).await }
        },
    )
    .await
}

struct ReceiveJob {
    cfg: ReceiveConfig,
    reporter: Reporter,
    in_progress: InProgress,
}

impl ReceiveJob {
    async fn run(&self, stream: Stream, peer: &PeerAddr) -> anyhow::Result<()> {
        let peer = peer.to_string();
        if self.cfg.raw {
            let output = self
                .cfg
                .output
                .as_ref()
                .ok_or_else(|| anyhow!("--raw needs --output FILE"))?;
            return receive_raw(
                stream,
                output,
                self.cfg.store.overwrite,
                &self.reporter,
                &peer,
            )
            .await;
        }
        let outcome = receive_session(
            stream,
            &self.cfg.store,
            &self.in_progress,
            &self.reporter,
            &peer,
        )
        .await?;
        if !outcome.skipped.is_empty() {
            bail!(
                "not stored from {peer}: {} of {} file(s)",
                outcome.skipped.len(),
                outcome.skipped.len() + outcome.stored
            );
        }
        Ok(())
    }
}

/// Runs `session` on the transfer's connection: accepted when `listen`
/// (one, or every client with `keep_open`), else dialled.
async fn connect_or_serve<F, Fut>(
    listen: bool,
    keep_open: bool,
    endpoint: &Endpoint,
    socket: &SocketOptions,
    reporter: &Reporter,
    ctx: &Context,
    session: F,
) -> anyhow::Result<()>
where
    F: Fn(Stream, PeerAddr) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    if listen {
        let listener = bind(endpoint, socket, reporter).await?;
        return serve(listener, keep_open, reporter, ctx, session).await;
    }
    let (stream, peer) = connect(endpoint, socket).await?;
    tokio::select! {
        result = session(stream, peer) => result,
        () = ctx.shutdown.cancelled() => Ok(()),
    }
}

async fn connect(
    endpoint: &Endpoint,
    socket: &SocketOptions,
) -> anyhow::Result<(Stream, PeerAddr)> {
    let connected = transport::connect(endpoint, socket).await?;
    match connected.connection {
        Connection::Stream(stream) => Ok((stream, connected.peer)),
        Connection::Datagram(_) => {
            bail!("{endpoint} is not a stream endpoint (use tcp:// or unix://)")
        }
    }
}

async fn bind(
    endpoint: &Endpoint,
    socket: &SocketOptions,
    reporter: &Reporter,
) -> anyhow::Result<StreamListener> {
    let (listener, real) = transport::listen(endpoint, socket).await?;
    let Listener::Stream(listener) = listener else {
        bail!("{endpoint} is not a stream endpoint (use tcp:// or unix://)");
    };
    reporter.status(&format!("listening on {real}"));
    Ok(listener)
}

/// Accepts one connection (or, with `keep_open`, every connection, at most
/// [`MAX_CONCURRENT_SESSIONS`] at once) and runs `session` on each. With
/// `keep_open`, a failed session is reported and the server goes on.
async fn serve<F, Fut>(
    listener: StreamListener,
    keep_open: bool,
    reporter: &Reporter,
    ctx: &Context,
    session: F,
) -> anyhow::Result<()>
where
    F: Fn(Stream, PeerAddr) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    if !keep_open {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted.context("accept failed")?,
            () = ctx.shutdown.cancelled() => return Ok(()),
        };
        drop(listener);
        return tokio::select! {
            result = session(stream, peer) => result,
            () = ctx.shutdown.cancelled() => Ok(()),
        };
    }
    let slots = Arc::new(Semaphore::new(MAX_CONCURRENT_SESSIONS));
    let tracker = TaskTracker::new();
    let (errors_tx, mut errors_rx) = tokio::sync::mpsc::channel::<String>(MAX_CONCURRENT_SESSIONS);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.context("session slots closed")?,
            () = ctx.shutdown.cancelled() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = ctx.shutdown.cancelled() => break,
            Some(message) = errors_rx.recv() => {
                reporter.error(None, &message);
                continue;
            }
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                reporter.error(None, &format!("accept failed: {e}"));
                continue;
            }
        };
        let work = session(stream, peer);
        let errors = errors_tx.clone();
        tracker.spawn(async move {
            if let Err(e) = work.await {
                let _ = errors.send(format!("{e:#}")).await;
            }
            drop(permit);
        });
    }
    tracker.close();
    Ok(())
}
