//! The event bus: sessions emit through [`EventTx`]s; attached sinks get
//! every event on their own thread, through a bounded channel (a slow
//! stdout slows the sessions, as it should); subscribers get a lossy copy
//! through a broadcast channel that never slows anyone.
//!
//! What sessions bother to emit ([`EventTx::wants_sent`],
//! [`EventTx::wants_received`]) follows the bus: it is recomputed when a
//! sink attaches or a subscriber comes or goes, and every `EventTx` clone
//! reads it from shared atomics.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::SystemTime;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Event, EventKind, EventTx, SinkGone, EVENT_QUEUE};

/// How many events a subscriber may fall behind before it skips the oldest.
pub const SUBSCRIBER_QUEUE: usize = 1024;

/// Something that renders events.
pub trait Sink: Send {
    /// True when this sink shows data that sockmate sent.
    fn wants_sent_data(&self) -> bool {
        false
    }

    /// True when this sink shows data that sockmate received.
    fn wants_received_data(&self) -> bool {
        false
    }

    /// Renders one event. A `BrokenPipe` error means the output is gone.
    fn handle(&mut self, event: &Event) -> io::Result<()>;

    /// Called once after the last event (flush, print totals).
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What every [`Bus`] and [`EventTx`] clone shares. Dropping the last one
/// closes the sink channels (ending the sink threads) and the broadcast
/// (ending the subscribers).
#[derive(Debug)]
pub(super) struct Shared {
    /// One bounded channel per attached sink thread.
    sinks: RwLock<Arc<[mpsc::Sender<Event>]>>,
    sinks_want_sent: AtomicBool,
    sinks_want_received: AtomicBool,
    /// Live subscribers (each wants everything).
    subscribers: Arc<AtomicUsize>,
    broadcast: broadcast::Sender<Event>,
}

impl Shared {
    pub(super) fn wants_sent(&self) -> bool {
        self.sinks_want_sent.load(Ordering::Relaxed) || self.subscribers.load(Ordering::Relaxed) > 0
    }

    pub(super) fn wants_received(&self) -> bool {
        self.sinks_want_received.load(Ordering::Relaxed)
            || self.subscribers.load(Ordering::Relaxed) > 0
    }

    pub(super) fn set_sinks_want_received(&self, wants: bool) {
        self.sinks_want_received.store(wants, Ordering::Relaxed);
    }

    /// Hands `event` to the subscribers and to every sink channel that
    /// has room, never waiting.
    pub(super) fn try_publish(&self, event: Event) {
        if self.subscribers.load(Ordering::Relaxed) > 0 {
            let _ = self.broadcast.send(event.clone());
        }
        let sinks = {
            let guard = self.sinks.read().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(&guard)
        };
        for tx in sinks.iter() {
            let _ = tx.try_send(event.clone());
        }
    }

    /// Hands `event` to the subscribers (never waiting) and to every sink
    /// channel (waiting while it is full).
    ///
    /// Every session's future holds this one while it emits, so it is kept
    /// small: while each sink has room (the usual case) nothing waits, and
    /// only a wait for a full sink is boxed. Measured: a service
    /// connection's task shrank by about 700 bytes per emitting await.
    pub(super) fn publish(
        &self,
        event: Event,
    ) -> impl std::future::Future<Output = Result<(), SinkGone>> + Send + 'static {
        let published = self.publish_without_waiting(event);
        async move {
            match published {
                Published::Done(result) => result,
                Published::Waiting(rest) => Box::pin(rest.finish()).await,
            }
        }
    }

    /// Publishes to the subscribers and to the sinks in order until one is
    /// full.
    fn publish_without_waiting(&self, event: Event) -> Published {
        if self.subscribers.load(Ordering::Relaxed) > 0 {
            // Fails only when the last subscriber has just gone.
            let _ = self.broadcast.send(event.clone());
        }
        let sinks = {
            let guard = self.sinks.read().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(&guard)
        };
        let Some((last, others)) = sinks.split_last() else {
            return Published::Done(Ok(()));
        };
        // As `Unsent::finish` does: a copy for each sink but the last,
        // which takes the event itself.
        let mut gone = false;
        for (index, tx) in others.iter().enumerate() {
            match tx.try_send(event.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Closed(_)) => gone = true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    return Unsent::waiting(event, Arc::clone(&sinks), index, gone);
                }
            }
        }
        match last.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Closed(_)) => gone = true,
            Err(mpsc::error::TrySendError::Full(event)) => {
                return Unsent::waiting(event, Arc::clone(&sinks), others.len(), gone);
            }
        }
        Published::Done(delivered(gone))
    }
}

/// The outcome of a publish: an error once some sink has gone.
fn delivered(gone: bool) -> Result<(), SinkGone> {
    if gone {
        Err(SinkGone)
    } else {
        Ok(())
    }
}

/// How far a publish got without waiting.
enum Published {
    /// Every sink has the event (or is gone).
    Done(Result<(), SinkGone>),
    /// A sink was full: the rest is still to send (boxed, so that a
    /// publish in progress is a few words).
    Waiting(Box<Unsent>),
}

/// The rest of a publish that found a sink full: the sinks from `next` on
/// still have to get `event`.
struct Unsent {
    event: Event,
    sinks: Arc<[mpsc::Sender<Event>]>,
    next: usize,
    gone: bool,
}

impl Unsent {
    /// A publish that must wait for sink `next` and those after it.
    fn waiting(
        event: Event,
        sinks: Arc<[mpsc::Sender<Event>]>,
        next: usize,
        gone: bool,
    ) -> Published {
        Published::Waiting(Box::new(Unsent {
            event,
            sinks,
            next,
            gone,
        }))
    }

    /// Sends to the remaining sinks in order, waiting while each is full.
    async fn finish(self: Box<Self>) -> Result<(), SinkGone> {
        let Unsent {
            event,
            sinks,
            next,
            mut gone,
        } = *self;
        if let Some((last, others)) = sinks[next..].split_last() {
            for tx in others {
                gone |= tx.send(event.clone()).await.is_err();
            }
            gone |= last.send(event).await.is_err();
        }
        delivered(gone)
    }
}

/// The event bus. Cheap to clone; sinks and subscribers attach to it,
/// sessions emit through its [`EventTx`]s.
#[derive(Debug, Clone)]
pub struct Bus {
    shared: Arc<Shared>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

impl Bus {
    /// A bus with no sinks and no subscribers (emitting is then a no-op).
    pub fn new() -> Bus {
        let (broadcast, _) = broadcast::channel(SUBSCRIBER_QUEUE);
        Bus {
            shared: Arc::new(Shared {
                sinks: RwLock::new(Arc::from(Vec::new())),
                sinks_want_sent: AtomicBool::new(false),
                sinks_want_received: AtomicBool::new(false),
                subscribers: Arc::new(AtomicUsize::new(0)),
                broadcast,
            }),
        }
    }

    /// A sender for sessions to emit events on this bus.
    pub fn sender(&self) -> EventTx {
        EventTx {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Runs `sinks` on a thread of their own, fed by a bounded channel:
    /// every later event reaches them, and a slow sink slows the senders.
    /// When a sink reports a broken pipe, `output_gone` is cancelled and
    /// the thread drops further events. The thread ends once every bus and
    /// sender clone is dropped.
    pub fn attach(
        &self,
        mut sinks: Vec<Box<dyn Sink>>,
        output_gone: CancellationToken,
    ) -> io::Result<SinkThread> {
        let wants_sent = sinks.iter().any(|s| s.wants_sent_data());
        let wants_received = sinks.iter().any(|s| s.wants_received_data());
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let handle = std::thread::Builder::new()
            .name("sinks".into())
            .spawn(move || run_sinks(&mut sinks, rx, &output_gone))?;
        self.register(tx, wants_sent, wants_received);
        Ok(SinkThread {
            handle: Some(handle),
        })
    }

    /// A bounded channel attached like a sink, for a caller that receives
    /// the events itself.
    pub(super) fn connect_receiver(
        &self,
        wants_sent: bool,
        wants_received: bool,
    ) -> mpsc::Receiver<Event> {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        self.register(tx, wants_sent, wants_received);
        rx
    }

    fn register(&self, tx: mpsc::Sender<Event>, wants_sent: bool, wants_received: bool) {
        let mut sinks = self
            .shared
            .sinks
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut all = sinks.to_vec();
        all.push(tx);
        *sinks = Arc::from(all);
        if wants_sent {
            self.shared.sinks_want_sent.store(true, Ordering::Relaxed);
        }
        if wants_received {
            self.shared
                .sinks_want_received
                .store(true, Ordering::Relaxed);
        }
    }

    /// A lossy stream of every event from now on. Reading it never slows
    /// the senders: a subscriber that falls [`SUBSCRIBER_QUEUE`] events
    /// behind skips the oldest and is told how many.
    pub fn subscribe(&self) -> Subscriber {
        let rx = self.shared.broadcast.subscribe();
        self.shared.subscribers.fetch_add(1, Ordering::Relaxed);
        Subscriber {
            rx,
            count: Arc::clone(&self.shared.subscribers),
        }
    }
}

/// A lossy view of the bus, from [`Bus::subscribe`].
#[derive(Debug)]
pub struct Subscriber {
    rx: broadcast::Receiver<Event>,
    count: Arc<AtomicUsize>,
}

impl Subscriber {
    /// The next event; a `Notice` saying "N events skipped" when this
    /// subscriber fell behind; `None` once the bus and its senders are gone.
    pub async fn recv(&mut self) -> Option<Event> {
        match self.rx.recv().await {
            Ok(event) => Some(event),
            Err(RecvError::Lagged(skipped)) => Some(Event {
                time: SystemTime::now(),
                kind: EventKind::Notice {
                    message: format!("{skipped} events skipped"),
                },
            }),
            Err(RecvError::Closed) => None,
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The thread running attached sinks. Dropping every [`Bus`] and
/// [`EventTx`] clone ends it.
#[derive(Debug)]
pub struct SinkThread {
    handle: Option<JoinHandle<()>>,
}

impl SinkThread {
    /// Waits (without blocking the runtime) until every event is rendered.
    pub async fn join(mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

fn run_sinks(
    sinks: &mut [Box<dyn Sink>],
    mut rx: mpsc::Receiver<Event>,
    output_gone: &CancellationToken,
) {
    let mut broken = false;
    while let Some(event) = rx.blocking_recv() {
        if broken {
            continue;
        }
        for sink in sinks.iter_mut() {
            if let Err(e) = sink.handle(&event) {
                if !crate::sys::os_error::is_broken_pipe(&e) {
                    tracing::warn!("output failed: {e}");
                }
                broken = true;
                output_gone.cancel();
                break;
            }
        }
    }
    for sink in sinks.iter_mut() {
        let _ = sink.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Wake, Waker};

    use crate::event::{ConnInfo, Direction};

    /// Counts the events it sees.
    struct Counting {
        seen: Arc<AtomicUsize>,
        sent: bool,
        received: bool,
    }

    impl Sink for Counting {
        fn wants_sent_data(&self) -> bool {
            self.sent
        }

        fn wants_received_data(&self) -> bool {
            self.received
        }

        fn handle(&mut self, _event: &Event) -> io::Result<()> {
            self.seen.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }

    fn counting(sent: bool, received: bool) -> (Box<dyn Sink>, Arc<AtomicUsize>) {
        let seen = Arc::new(AtomicUsize::new(0));
        let sink = Counting {
            seen: Arc::clone(&seen),
            sent,
            received,
        };
        (Box::new(sink), seen)
    }

    fn notice(n: usize) -> EventKind {
        EventKind::Notice {
            message: n.to_string(),
        }
    }

    struct NoWake;

    impl Wake for NoWake {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn a_subscriber_that_never_reads_never_makes_emit_wait() {
        let bus = Bus::new();
        let _idle = bus.subscribe();
        let tx = bus.sender();
        let waker = Waker::from(Arc::new(NoWake));
        let mut cx = Context::from_waker(&waker);
        for n in 0..10_000 {
            let emit = pin!(tx.emit(notice(n)));
            assert!(
                matches!(emit.poll(&mut cx), Poll::Ready(Ok(()))),
                "emit {n} waited"
            );
        }
    }

    #[tokio::test]
    async fn sinks_get_every_event_while_a_subscriber_sleeps() {
        let bus = Bus::new();
        let (sink, seen) = counting(false, true);
        let thread = bus.attach(vec![sink], CancellationToken::new()).unwrap();
        let idle = bus.subscribe();
        let tx = bus.sender();
        drop(bus);
        for n in 0..10_000 {
            tx.emit(notice(n)).await.unwrap();
        }
        drop(tx);
        thread.join().await;
        assert_eq!(seen.load(Ordering::Relaxed), 10_000);
        drop(idle);
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_told_how_many_it_skipped() {
        let bus = Bus::new();
        let mut sub = bus.subscribe();
        let tx = bus.sender();
        for n in 0..SUBSCRIBER_QUEUE + 5 {
            tx.emit(notice(n)).await.unwrap();
        }
        let skipped = sub.recv().await.unwrap();
        assert_eq!(
            skipped.kind,
            EventKind::Notice {
                message: "5 events skipped".into()
            }
        );
        assert_eq!(sub.recv().await.unwrap().kind, notice(5));
        drop((bus, tx));
        let mut rest = 0;
        while sub.recv().await.is_some() {
            rest += 1;
        }
        assert_eq!(rest, SUBSCRIBER_QUEUE - 1);
    }

    #[tokio::test]
    async fn wants_follow_sinks_and_subscribers() {
        let bus = Bus::new();
        let tx = bus.sender();
        assert!(!tx.wants_sent() && !tx.wants_received());
        let conn = ConnInfo::new(1, "p");
        let skipped = tx.data(&conn, Direction::In, bytes::Bytes::from_static(b"x"));
        assert!(skipped.await.is_ok());

        let (sink, _) = counting(false, true);
        let thread = bus.attach(vec![sink], CancellationToken::new()).unwrap();
        assert!(!tx.wants_sent() && tx.wants_received());

        let sub = bus.subscribe();
        let clone = tx.clone();
        assert!(clone.wants_sent() && clone.wants_received());
        drop(sub);
        assert!(!tx.wants_sent() && tx.wants_received());

        drop((bus, tx, clone));
        thread.join().await;
    }

    /// The message of a `Notice` event, for checking order.
    fn message_of(event: Option<Event>) -> String {
        match event.map(|e| e.kind) {
            Some(EventKind::Notice { message }) => message,
            other => panic!("expected a notice, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_emit_that_finds_a_sink_full_waits_for_each_and_loses_nothing() {
        let bus = Bus::new();
        let mut first = bus.connect_receiver(false, false);
        let mut second = bus.connect_receiver(false, false);
        let tx = bus.sender();
        for n in 0..EVENT_QUEUE {
            tx.emit(notice(n)).await.unwrap();
        }
        let waker = Waker::from(Arc::new(NoWake));
        let mut cx = Context::from_waker(&waker);
        // Both queues are full: the next event waits for the first sink,
        // then for the second.
        let mut late = pin!(tx.emit(notice(EVENT_QUEUE)));
        assert!(late.as_mut().poll(&mut cx).is_pending());
        assert_eq!(message_of(first.recv().await), "0");
        assert!(
            late.as_mut().poll(&mut cx).is_pending(),
            "the second is full"
        );
        assert_eq!(message_of(second.recv().await), "0");
        assert!(matches!(late.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
        for rx in [&mut first, &mut second] {
            for n in 1..=EVENT_QUEUE {
                assert_eq!(message_of(rx.recv().await), n.to_string());
            }
        }
    }

    #[tokio::test]
    async fn emit_fails_once_a_receiver_is_gone() {
        let (tx, rx) = EventTx::channel(true);
        assert!(tx.wants_sent() && tx.wants_received());
        tx.emit(notice(1)).await.unwrap();
        drop(rx);
        assert!(tx.emit(notice(2)).await.is_err());
    }
}
