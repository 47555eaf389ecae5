//! Waiting for open-loop due times with sub-millisecond precision.
//!
//! `tokio::time::sleep_until` rounds every deadline up to its 1 ms timer
//! tick (and parks in `epoll_wait` with a timeout in whole milliseconds), so
//! a message due at `t` went out at up to `t + 1 ms`, and since latency is
//! measured from the due time, that lateness showed up as a ~1 ms floor in
//! every open-loop percentile.
//!
//! A [`Pacer`] is shared by the connections of one worker thread. It owns
//! one `timerfd` on `CLOCK_MONOTONIC` (the clock behind [`Instant`] on
//! Linux), armed with the absolute nanosecond deadline of the earliest
//! waiter; the runtime's `epoll` sees it fire like any socket, a small
//! driver task wakes every waiter whose time has come and re-arms the timer
//! for the next one.
//!
//! A wake after a long sleep is late by the time an idle CPU takes to
//! resume (a few µs on bare metal, 100–300 µs on a VM whose idle vCPUs
//! halt), so each wait sets the timer that much early ([`SpinAhead`], learnt
//! from the timer's recent wakes, at most [`SPIN_MAX`] and at most
//! 1/[`SPIN_SHARE`] of the wait) and spends the last stretch yielding to the
//! runtime's other tasks (`tokio::task::yield_now`, which also polls the
//! sockets) until the due time. CPU stays bounded: at 100 msgs/s a few per
//! cent of a core. Gaps shorter than about twice the wake lateness (high
//! rates: ~10,000 msgs/s per thread on a VM) are not slept at all but spun,
//! which takes the thread's core, as a busy-waiting generator does. A wait
//! never ends before its due time.
//!
//! If the timer cannot be created or armed (not Linux, out of file
//! descriptors), waits fall back to `tokio::time::sleep_until`: correct, but
//! with the 1 ms granularity again.
//!
//! The pacer needs the real clock: under tokio's paused test clock its
//! deadlines and [`Instant::now`] disagree.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::spin::{spin_for, SpinAhead, MAX_SPINS};
#[cfg(doc)]
use super::spin::{SHORT_WAIT, SPIN_MAX, SPIN_SHARE};
use super::timer::{Anchor, Timer};

/// Waits until due times for the connections of one runtime (cheap to
/// clone; clones share the timer).
#[derive(Debug, Clone)]
pub struct Pacer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// The timerfd; `None` when waits use tokio's timer.
    timer: Option<Arc<Timer>>,
    /// Maps an [`Instant`] to a `CLOCK_MONOTONIC` time.
    anchor: Anchor,
    queue: Mutex<Queue>,
    /// The driver task, stopped when the last clone is dropped.
    driver: Mutex<Option<AbortHandle>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(driver) = lock(&self.driver).take() {
            driver.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pacer {
    /// A pacer with its own timer and driver task, spawned on the current
    /// tokio runtime (which must have I/O enabled). Falls back to tokio's
    /// timer if the timerfd cannot be made.
    pub fn start() -> Pacer {
        let timer = match Timer::new() {
            Ok(timer) => Arc::new(timer),
            Err(e) => {
                tracing::debug!("bench pacer: no precise timer ({e}), using the 1 ms timer");
                return Pacer::coarse();
            }
        };
        let shared = Arc::new(Shared {
            timer: Some(Arc::clone(&timer)),
            anchor: Anchor::now(),
            queue: Mutex::new(Queue::default()),
            driver: Mutex::new(None),
        });
        let task = tokio::spawn(drive(timer, Arc::downgrade(&shared)));
        *lock(&shared.driver) = Some(task.abort_handle());
        Pacer { shared }
    }

    /// A pacer on tokio's timer alone (1 ms granularity), for closed-loop
    /// runs that never wait for a due time.
    pub fn coarse() -> Pacer {
        Pacer {
            shared: Arc::new(Shared {
                timer: None,
                anchor: Anchor::now(),
                queue: Mutex::new(Queue::default()),
                driver: Mutex::new(None),
            }),
        }
    }

    /// True when waits use the timerfd (sub-millisecond), false on the
    /// 1 ms fallback.
    pub fn is_precise(&self) -> bool {
        self.shared.timer.is_some() && !lock(&self.shared.queue).broken
    }

    /// Waits until `due`; returns at once if it has passed. Never returns
    /// before `due`. Cancel-safe: dropping the wait leaves nothing behind
    /// but an entry the driver discards at its due time.
    ///
    /// The timer is set a little before `due` (by how late its recent wakes
    /// were, see [`SpinAhead`], and by at most 1/[`SPIN_SHARE`] of the
    /// wait), and the last stretch is spent yielding to the runtime's other
    /// tasks until `due`, so the wake-up cost of an idle CPU is paid before
    /// the due time instead of after it. A wait too short to sleep
    /// ([`SHORT_WAIT`]) is all spent yielding.
    pub async fn until(&self, due: Instant) {
        let now = Instant::now();
        if now >= due {
            return;
        }
        let Some(timer) = &self.shared.timer else {
            tokio::time::sleep_until(due).await;
            return;
        };
        let spin = spin_for(due - now, lock(&self.shared.queue).ahead.get());
        let wake_at = due.checked_sub(spin).unwrap_or(now);
        if wake_at > now {
            if !self.timer_wait(timer, wake_at).await {
                tokio::time::sleep_until(due).await;
                return;
            }
            let late = Instant::now().saturating_duration_since(wake_at);
            lock(&self.shared.queue).ahead.observe(late);
        }
        // The last stretch: bounded in time by `due` (at most SPIN_MAX
        // away) and in count, yielding so other connections and the
        // receivers on this runtime keep running.
        for _ in 0..MAX_SPINS {
            if Instant::now() >= due {
                return;
            }
            tokio::task::yield_now().await;
        }
        tokio::time::sleep_until(due).await;
    }

    /// Waits on the timerfd until `at`; false if the timer is broken (the
    /// caller falls back to tokio's timer).
    async fn timer_wait(&self, timer: &Timer, at: Instant) -> bool {
        let woken = {
            let mut queue = lock(&self.shared.queue);
            if queue.broken {
                return false;
            }
            let (tx, rx) = oneshot::channel();
            if queue.push(at, tx) {
                arm(timer, &self.shared.anchor, &mut queue, at);
            }
            rx
        };
        // An error means the timer broke and the entry was dropped.
        woken.await.is_ok()
    }
}
/// Sets the timer to fire at `at`; on failure the pacer falls back to
/// tokio's timer for good, and every waiter is released to it.
fn arm(timer: &Timer, anchor: &Anchor, queue: &mut Queue, at: Instant) {
    match timer.set(anchor, at) {
        Ok(()) => queue.armed = Some(at),
        Err(e) => {
            tracing::debug!("bench pacer: cannot arm the timer ({e}), using the 1 ms timer");
            queue.break_down();
        }
    }
}

/// The driver: each time the timer fires, wakes the waiters that are due
/// and re-arms the timer for the earliest one left.
async fn drive(timer: Arc<Timer>, shared: Weak<Shared>) {
    loop {
        if let Err(e) = timer.fired().await {
            {
                tracing::debug!("bench pacer: the timer failed ({e}), using the 1 ms timer");
                if let Some(shared) = shared.upgrade() {
                    lock(&shared.queue).break_down();
                }
                return;
            }
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut queue = lock(&shared.queue);
        for waiter in queue.pop_due(Instant::now()) {
            // The waiter may have been dropped (its run ended): fine.
            let _ = waiter.send(());
        }
        match queue.earliest() {
            Some(next) => arm(&timer, &shared.anchor, &mut queue, next),
            None => queue.armed = None,
        }
    }
}

/// One waiting connection.
#[derive(Debug)]
struct Waiter {
    due: Instant,
    /// Registration order: waiters due at the same time wake in order.
    order: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    /// Reversed, so the max-heap yields the earliest waiter first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.order).cmp(&(self.due, self.order))
    }
}

/// The waiters, earliest first, and what the timer is armed for.
#[derive(Debug, Default)]
struct Queue {
    waiters: BinaryHeap<Waiter>,
    next_order: u64,
    /// The deadline the timer is set to, if any.
    armed: Option<Instant>,
    /// The timer failed: every wait uses tokio's timer from now on.
    broken: bool,
    /// How early to set the timer, learnt from its wakes.
    ahead: SpinAhead,
}

impl Queue {
    /// Adds a waiter; true if the timer must be re-armed for `due` (no
    /// deadline set, or a later one).
    fn push(&mut self, due: Instant, wake: oneshot::Sender<()>) -> bool {
        let order = self.next_order;
        self.next_order = self.next_order.wrapping_add(1);
        self.waiters.push(Waiter { due, order, wake });
        self.armed.is_none_or(|armed| due < armed)
    }

    /// Removes and returns the waiters due at or before `now`, earliest
    /// first.
    fn pop_due(&mut self, now: Instant) -> Vec<oneshot::Sender<()>> {
        let mut due = Vec::new();
        while self.waiters.peek().is_some_and(|w| w.due <= now) {
            if let Some(w) = self.waiters.pop() {
                due.push(w.wake);
            }
        }
        due
    }

    /// The earliest due time still waiting.
    fn earliest(&self) -> Option<Instant> {
        self.waiters.peek().map(|w| w.due)
    }

    /// Gives up on the timer: waiters are released (they see a closed
    /// channel and sleep on tokio's timer instead).
    fn break_down(&mut self) {
        self.broken = true;
        self.armed = None;
        self.waiters.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn queue_pops_earliest_first_and_rearms_only_for_earlier_waiters() {
        let base = Instant::now();
        let mut q = Queue::default();
        let mut rearm = Vec::new();
        for ms in [5u64, 1, 3, 1, 9] {
            let (tx, _rx) = oneshot::channel::<()>();
            let due = base + Duration::from_millis(ms);
            let must_arm = q.push(due, tx);
            if must_arm {
                q.armed = Some(due);
            }
            rearm.push(must_arm);
        }
        assert_eq!(rearm, [true, true, false, false, false]);
        assert_eq!(q.earliest(), Some(base + Duration::from_millis(1)));
        // Nothing is due before its time.
        assert!(q.pop_due(base).is_empty());
        assert_eq!(q.pop_due(base + Duration::from_millis(1)).len(), 2);
        assert_eq!(q.earliest(), Some(base + Duration::from_millis(3)));
        assert_eq!(q.pop_due(base + Duration::from_millis(8)).len(), 2);
        assert_eq!(q.earliest(), Some(base + Duration::from_millis(9)));
        assert_eq!(q.pop_due(base + Duration::from_secs(1)).len(), 1);
        assert_eq!(q.earliest(), None);
    }

    #[test]
    fn waiters_due_together_wake_in_registration_order() {
        let due = Instant::now();
        let mut q = Queue::default();
        let mut receivers = Vec::new();
        for _ in 0..4 {
            let (tx, rx) = oneshot::channel::<()>();
            q.push(due, tx);
            receivers.push(rx);
        }
        let woken = q.pop_due(due);
        assert_eq!(woken.len(), 4);
        // Wake them in the order returned; the receivers complete in the
        // order they registered.
        for (i, tx) in woken.into_iter().enumerate() {
            tx.send(()).unwrap();
            for (j, rx) in receivers.iter_mut().enumerate() {
                let done = rx.try_recv().is_ok();
                assert_eq!(done, i == j, "woke {j} at step {i}");
            }
        }
    }

    #[test]
    fn break_down_releases_every_waiter() {
        let base = Instant::now();
        let mut q = Queue::default();
        let (tx, mut rx) = oneshot::channel::<()>();
        q.push(base + Duration::from_secs(60), tx);
        q.break_down();
        assert!(q.broken);
        assert_eq!(q.earliest(), None);
        assert!(rx.try_recv().is_err());
    }

    /// Many connections' waits, registered out of order on one pacer, each
    /// end no earlier than its due time, in due order.
    #[tokio::test(flavor = "current_thread")]
    async fn waits_never_end_early_and_end_in_due_order() {
        let pacer = Pacer::start();
        assert!(pacer.is_precise());
        let base = Instant::now() + Duration::from_millis(5);
        let finished = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, us) in [700u64, 100, 400, 250, 1_900, 50, 1_200]
            .into_iter()
            .enumerate()
        {
            let (pacer, finished) = (pacer.clone(), Arc::clone(&finished));
            let due = base + Duration::from_micros(us);
            tasks.push(tokio::spawn(async move {
                pacer.until(due).await;
                let now = Instant::now();
                assert!(now >= due, "wait {i} ended early");
                lock(&finished).push(us);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let order = lock(&finished).clone();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn past_due_returns_at_once_and_coarse_pacer_still_waits() {
        let pacer = Pacer::start();
        let past = Instant::now();
        pacer.until(past).await;
        let coarse = Pacer::coarse();
        assert!(!coarse.is_precise());
        let due = Instant::now() + Duration::from_micros(300);
        coarse.until(due).await;
        assert!(Instant::now() >= due);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_dropped_wait_does_not_block_later_ones() {
        let pacer = Pacer::start();
        // Registered (polled once), then abandoned, like a sender stopped
        // at the end of its run.
        let far = Instant::now() + Duration::from_secs(60);
        tokio::select! {
            biased;
            () = pacer.until(far) => panic!("a wait 60 s away ended"),
            () = std::future::ready(()) => {}
        }
        let later = Instant::now() + Duration::from_micros(500);
        pacer.until(later).await;
        assert!(Instant::now() >= later);
    }
}
