//! The sessions the page runs: each on an [`Engine`] of its own (so its
//! events and connection numbers are its own), started from an
//! [`OpenSpec`], listed for every browser, with live counters pushed twice
//! a second. A command-line session (`--ui`) is adopted into the same list.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use super::outgoing::{ConnStats, SessionInfo, ToPage};
use bytes::Bytes;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::configs::{connect_config, listen_config};
use super::forward::{self, ViewState};
use super::protocol::{Format, Kind, OpenSpec, Role, SendSpec};
use super::records::RecordDir;
use crate::encoding::TextEncoding;
use crate::engine::{Engine, InputFactory, Remote};
use crate::event::Counters;
use crate::session::Input;
use crate::shutdown::Shutdown;

/// How many messages a browser may fall behind before it skips some.
pub const HUB_QUEUE: usize = 4096;

/// How often live counters are pushed.
pub const STATS_EVERY: Duration = Duration::from_millis(500);

/// Messages for every browser, already serialized.
pub type Hub = broadcast::Sender<Arc<str>>;

struct Session {
    role: Role,
    kind: Kind,
    label: String,
    spec: Option<OpenSpec>,
    local: String,
    running: bool,
    error: Option<String>,
    controls: Option<Remote>,
    engine: Option<Engine>,
    view: Arc<ViewState>,
    auto: CancellationToken,
    /// When it (last) started: the page's duration counts from here.
    started: SystemTime,
    /// Sends so far: a template's `{seq}` and `{n}` (from 1).
    sends: Arc<AtomicU64>,
}

impl Session {
    /// A session that has not started yet: no address, controls or error.
    fn new(role: Role, label: String, spec: Option<OpenSpec>, view: Arc<ViewState>) -> Session {
        Session {
            role,
            kind: role.kind(),
            label,
            spec,
            local: String::new(),
            running: false,
            error: None,
            controls: None,
            engine: None,
            view,
            auto: CancellationToken::new(),
            started: SystemTime::now(),
            sends: Arc::new(AtomicU64::new(0)),
        }
    }

    fn describe(&self, id: u64) -> ToPage {
        ToPage::Session(Box::new(SessionInfo {
            s: id,
            role: self.role,
            kind: self.kind,
            label: self.label.clone(),
            // A client's own address is its connection's.
            local: if self.kind == Kind::Client {
                self.view.local()
            } else {
                self.local.clone()
            },
            running: self.running,
            error: self.error.clone(),
            encoding: self.view.encoding().name(),
            recording: self.view.recording(),
            started_ms: self
                .started
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }))
    }
}

/// Every session, shared by the server, the browsers and the CLI.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    next: AtomicU64,
    map: Mutex<BTreeMap<u64, Session>>,
    hub: Hub,
    shutdown: Shutdown,
    records: RecordDir,
}

impl Sessions {
    /// No sessions yet; they stop with `shutdown`; records go into
    /// `records`. Starts the counters ticker.
    pub fn new(shutdown: Shutdown, records: RecordDir) -> Sessions {
        let (hub, _) = broadcast::channel(HUB_QUEUE);
        let sessions = Sessions {
            inner: Arc::new(Inner {
                next: AtomicU64::new(0),
                map: Mutex::new(BTreeMap::new()),
                hub,
                shutdown,
                records,
            }),
        };
        let ticker = sessions.clone();
        tokio::spawn(async move { ticker.tick_stats().await });
        sessions
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Session>> {
        self.inner.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where records go.
    pub fn records(&self) -> &RecordDir {
        &self.inner.records
    }

    /// The messages for every browser.
    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    fn publish(&self, message: &ToPage) {
        let _ = self.inner.hub.send(Arc::from(message.to_text()));
    }

    /// Every session's description (`session` messages).
    pub fn describe_all(&self) -> Vec<ToPage> {
        self.lock().iter().map(|(id, s)| s.describe(*id)).collect()
    }

    /// Each session's kept messages, as a page that connects now is shown
    /// them: a `history` message (how many older ones were dropped), then
    /// the `ev` messages, oldest first.
    pub fn histories(&self) -> Vec<Arc<str>> {
        let views: Vec<(u64, Arc<ViewState>)> = self
            .lock()
            .iter()
            .map(|(id, s)| (*id, Arc::clone(&s.view)))
            .collect();
        let mut out = Vec::new();
        for (id, view) in views {
            let (messages, dropped) = view.history();
            let head = ToPage::History {
                s: id,
                dropped,
                kept: messages.len(),
            };
            out.push(Arc::from(head.to_text()));
            out.extend(messages);
        }
        out
    }

    fn announce(&self, id: u64) {
        let message = self.lock().get(&id).map(|s| s.describe(id));
        if let Some(m) = message {
            self.publish(&m);
        }
    }

    /// Shows a command-line session of `kind` (its events from now on,
    /// live, decoded with the CLI's `encoding`); its connections once
    /// [`Sessions::adopted`] hands over its controls.
    pub fn adopt(&self, engine: &Engine, label: String, kind: Kind, encoding: TextEncoding) -> u64 {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed) + 1;
        let view = Arc::new(ViewState::default());
        view.set(encoding);
        forward::spawn(
            engine.subscribe(),
            id,
            Arc::clone(&view),
            self.hub().clone(),
        );
        let mut session = Session::new(Role::Cli, label, None, view);
        session.kind = kind;
        self.lock().insert(id, session);
        id
    }

    /// The command-line session `id` has started: its controls, its local
    /// address (empty for a client: its `open` event tells) and its label
    /// with the real addresses.
    pub fn adopted(&self, id: u64, controls: Remote, local: String, label: String) {
        if let Some(s) = self.lock().get_mut(&id) {
            s.controls = Some(controls);
            s.local = local;
            s.label = label;
            s.running = true;
        }
        self.announce(id);
    }

    /// Starts a session; its id, or a one-line error naming the bad part.
    pub async fn open(&self, spec: OpenSpec) -> Result<u64, String> {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed) + 1;
        let view = Arc::new(ViewState::default());
        if let Some(label) = &spec.encoding {
            view.set_encoding(label)?;
        }
        let label = match (spec.role, &spec.ports) {
            (Role::Scan, Some(ports)) => format!("scan {} {ports}", spec.endpoint),
            _ => spec.endpoint.clone(),
        };
        let session = Session::new(spec.role, label, Some(spec.clone()), view);
        self.lock().insert(id, session);
        match self.start(id).await {
            Ok(()) => Ok(id),
            Err(e) => {
                self.lock().remove(&id);
                Err(e)
            }
        }
    }

    /// Starts session `id` (again) from its spec.
    async fn start(&self, id: u64) -> Result<(), String> {
        let (spec, view) = {
            let map = self.lock();
            let s = map.get(&id).ok_or_else(|| no_session(id))?;
            let spec = s
                .spec
                .clone()
                .ok_or("a command-line session cannot be restarted here")?;
            (spec, Arc::clone(&s.view))
        };
        let engine = Engine::new(self.inner.shutdown.child());
        forward::spawn(engine.subscribe(), id, view, self.hub().clone());
        let started = match spec.role {
            Role::Connect => {
                let cfg = connect_config(&spec)?;
                engine.connect(cfg, Input::Open).await
            }
            Role::Listen => {
                let cfg = listen_config(&spec)?;
                engine.listen(cfg, InputFactory::Open).await
            }
            Role::Scan => {
                let cfg = super::configs::scan_config(&spec)?;
                engine.scan(cfg).await
            }
            Role::Receive => {
                let cfg = super::configs::receive_config(&spec, &self.inner.records)?;
                engine.receive(cfg).await
            }
            Role::Cli => return Err("a command-line session cannot be opened here".into()),
        };
        let handle = started.map_err(|e| e.to_string())?;
        {
            let mut map = self.lock();
            let s = map.get_mut(&id).ok_or_else(|| no_session(id))?;
            // A scan has no address of its own (its label names the host).
            s.local = match s.kind {
                Kind::Scan => String::new(),
                _ => handle.local_addr().to_string(),
            };
            s.running = true;
            s.started = SystemTime::now();
            s.error = None;
            s.controls = Some(handle.remote());
            s.engine = Some(engine);
        }
        self.announce(id);
        let sessions = self.clone();
        tokio::spawn(async move {
            let result = handle.finished().await;
            if let Some(s) = sessions.lock().get_mut(&id) {
                s.running = false;
                s.error = result.err().map(|e| e.to_string());
            }
            sessions.announce(id);
        });
        Ok(())
    }

    fn controls(&self, id: u64) -> Result<Remote, String> {
        self.lock()
            .get(&id)
            .ok_or_else(|| no_session(id))?
            .controls
            .clone()
            .ok_or_else(|| format!("session {id} is not running (start it again)"))
    }

    /// Sends `spec`'s payload once, or as an auto-send in the background.
    /// Returns how many bytes one send is.
    pub async fn send(&self, spec: SendSpec) -> Result<usize, String> {
        // Checked before anything is sent.
        let payload = spec.payload().map_err(|e| e.to_string())?;
        let len = payload.len();
        let (kind, sends) = {
            let map = self.lock();
            let s = map
                .get(&spec.session)
                .ok_or_else(|| no_session(spec.session))?;
            (s.kind, Arc::clone(&s.sends))
        };
        if kind == Kind::Relay {
            return Err(
                "a relay carries its pairs' bytes: it has no send box (disconnect a pair instead)"
                    .into(),
            );
        }
        // A template is rendered for each send ({seq}, {time}, random bytes).
        let templated = (spec.format == Format::Template).then(|| spec.clone());
        let render = move || -> Bytes {
            let n = sends.fetch_add(1, Ordering::Relaxed) + 1;
            match &templated {
                Some(t) => t.payload_at(n).unwrap_or_default(),
                None => payload.clone(),
            }
        };
        let controls = self.controls(spec.session)?;
        let targets = move || -> Vec<u64> {
            match spec.conn {
                Some(c) => vec![c],
                None => controls.connections().iter().map(|c| c.id).collect(),
            }
        };
        let controls = self.controls(spec.session)?;
        let Some(every) = spec.every_ms.filter(|ms| *ms > 0) else {
            let ids = targets();
            if ids.is_empty() {
                return Err(
                    "no live connection on this session (start it, or wait for a client)".into(),
                );
            }
            let bytes = render();
            for conn in ids {
                controls
                    .send(conn, bytes.clone())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            return Ok(bytes.len());
        };
        let times = spec.times.unwrap_or(1).max(1);
        let stop = {
            let mut map = self.lock();
            let s = map
                .get_mut(&spec.session)
                .ok_or_else(|| no_session(spec.session))?;
            s.auto.cancel();
            s.auto = self.inner.shutdown.token().child_token();
            s.auto.clone()
        };
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(every));
            for _ in 0..times {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = stop.cancelled() => return,
                }
                let bytes = render();
                for conn in targets() {
                    let _ = controls.send(conn, bytes.clone()).await;
                }
            }
        });
        Ok(len)
    }

    /// Stops session `id`'s auto-send.
    pub fn stop_auto(&self, id: u64) -> Result<(), String> {
        self.lock()
            .get(&id)
            .ok_or_else(|| no_session(id))?
            .auto
            .cancel();
        Ok(())
    }

    /// Closes connection `conn` of session `id`.
    pub fn close(&self, id: u64, conn: u64) -> Result<(), String> {
        self.controls(id)?.close(conn).map_err(|e| e.to_string())
    }

    /// Stops session `id` (it stays listed).
    pub fn stop(&self, id: u64) -> Result<(), String> {
        let map = self.lock();
        let s = map.get(&id).ok_or_else(|| no_session(id))?;
        s.auto.cancel();
        if let Some(c) = &s.controls {
            c.stop();
        }
        if let Some(engine) = &s.engine {
            engine.stop();
        }
        Ok(())
    }

    /// Starts stopped session `id` again with the same settings.
    pub async fn restart(&self, id: u64) -> Result<(), String> {
        self.stop(id)?;
        // A fixed port is free again once the old listener has finished.
        for _ in 0..100 {
            let running = self.lock().get(&id).is_some_and(|s| s.running);
            if !running {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.start(id).await
    }

    /// Stops and forgets session `id`.
    pub fn remove(&self, id: u64) -> Result<(), String> {
        self.stop(id)?;
        self.lock().remove(&id);
        self.publish(&ToPage::Removed {
            s: id,
            removed: true,
        });
        Ok(())
    }

    /// Sets how session `id` decodes bytes to text.
    pub fn set_encoding(&self, id: u64, label: &str) -> Result<(), String> {
        let view = Arc::clone(&self.lock().get(&id).ok_or_else(|| no_session(id))?.view);
        view.set_encoding(label)?;
        self.announce(id);
        Ok(())
    }

    /// Appends what session `id` receives to the file `name` in the record
    /// directory (or stops, with no name); a `*.pcapng` name gets a
    /// capture of the traffic both ways.
    pub fn record(&self, id: u64, name: Option<&str>) -> Result<(), String> {
        let view = Arc::clone(&self.lock().get(&id).ok_or_else(|| no_session(id))?.view);
        let file = match name.map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(n) if super::capture::is_capture_name(n) => {
                let (path, file) = self.inner.records.open(n)?;
                view.record_to(None);
                view.capture.start(&path, file)?;
                self.announce(id);
                return Ok(());
            }
            Some(n) => {
                let (path, file) = self.inner.records.open(n)?;
                Some((path.display().to_string(), file))
            }
        };
        view.record_to(file);
        self.announce(id);
        Ok(())
    }

    async fn tick_stats(&self) {
        let mut tick = tokio::time::interval(STATS_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = self.inner.shutdown.cancelled() => return,
            }
            if self.inner.hub.receiver_count() == 0 {
                continue;
            }
            for message in self.stats() {
                self.publish(&message);
            }
        }
    }

    /// One `stats` message per running session.
    pub fn stats(&self) -> Vec<ToPage> {
        let live: Vec<(u64, Remote, Counters)> = self
            .lock()
            .iter()
            .filter(|(_, s)| s.running)
            .filter_map(|(id, s)| Some((*id, s.controls.clone()?, s.view.closed())))
            .collect();
        live.into_iter()
            .map(|(id, controls, closed)| {
                let conns = controls.connections();
                let mut total = closed;
                for c in &conns {
                    total.add(&c.counters);
                }
                let conns = conns
                    .iter()
                    .map(|c| ConnStats {
                        conn: c.id,
                        peer: c.peer.to_string(),
                        age_ms: u64::try_from(c.age.as_millis()).unwrap_or(u64::MAX),
                        counters: c.counters,
                    })
                    .collect();
                ToPage::Stats {
                    s: id,
                    conns,
                    total,
                }
            })
            .collect()
    }
}

fn no_session(id: u64) -> String {
    format!("no session {id} (it was removed)")
}
