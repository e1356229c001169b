//! Background work: flushing when the memtables are large or old, routine compaction,
//! retention, and the WAL fsync of `Fsync::Interval`.
//!
//! The threads hold only a weak reference to the engine, so dropping the last `Db` handle ends
//! them; errors they meet are kept for [`Db::maintenance_error`] (the next flush by hand
//! reports them again).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::db::{Db, Inner, Options};
use crate::wal::Fsync;

#[derive(Default)]
pub struct Maintenance {
    /// Shared with the threads, which must not hold the engine itself while they sleep.
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    last_error: Mutex<Option<String>>,
}

#[derive(Default)]
struct Shared {
    signal: Mutex<Signal>,
    wake: Condvar,
    /// Notified when a background flush ends, for writers held back by [`Maintenance::wait_for_room`].
    flushed: Condvar,
}

#[derive(Default)]
struct Signal {
    stop: bool,
    flush_wanted: bool,
    /// A background flush is running.
    flushing: bool,
    /// When the oldest write not yet flushed arrived.
    first_unflushed: Option<Instant>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Maintenance {
    /// Called after each write with the memtables' size.
    pub fn note_write(&self, memtable_bytes: usize, options: &Options) {
        let mut s = lock(&self.shared.signal);
        s.first_unflushed.get_or_insert_with(Instant::now);
        if memtable_bytes >= options.memtable_bytes && !s.flush_wanted {
            s.flush_wanted = true;
            self.shared.wake.notify_all();
        }
    }

    /// Holds a writer back while the active memtables hold at least one and a half times
    /// `memtable_bytes` and a background flush is due or running, until that flush ends.
    /// Writes arriving faster than flushes can write segments would otherwise grow the
    /// memtables without bound (the frozen one stays in memory until its flush is done, so
    /// memory is about three times `memtable_bytes` at most). The caller holds no lock.
    pub fn wait_for_room(&self, memtable_bytes: impl Fn() -> usize, options: &Options) {
        if !options.background_maintenance {
            return; // nothing would ever flush
        }
        let limit = options
            .memtable_bytes
            .saturating_add(options.memtable_bytes / 2);
        loop {
            let full = memtable_bytes() >= limit;
            let s = lock(&self.shared.signal);
            if !full || s.stop || !(s.flush_wanted || s.flushing) {
                return;
            }
            // Bounded, so a size read just before the flush ended is read again soon.
            let _ = self
                .shared
                .flushed
                .wait_timeout(s, Duration::from_millis(20))
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Stops and joins the threads (unless called from one of them).
    pub fn stop(&self) {
        lock(&self.shared.signal).stop = true;
        self.shared.wake.notify_all();
        self.shared.flushed.notify_all();
        let me = std::thread::current().id();
        for t in lock(&self.threads).drain(..) {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }

    fn record(&self, result: crate::Result<()>) {
        if let Err(e) = result {
            *lock(&self.last_error) = Some(e.to_string());
        }
    }
}

/// Starts the background threads the options ask for.
pub fn start(db: &Db) {
    let weak = Arc::downgrade(&db.inner);
    let shared = db.inner.maintenance.shared.clone();
    let mut threads = lock(&db.inner.maintenance.threads);
    if let Fsync::Interval(every) = db.options().fsync {
        let (weak, shared) = (weak.clone(), shared.clone());
        threads.push(spawn("ganzhi-wal-sync", move || {
            syncer(&shared, weak, every)
        }));
    }
    if db.options().background_maintenance {
        threads.push(spawn("ganzhi-maintenance", move || worker(&shared, weak)));
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("spawning a ganzhi thread")
}

/// Sleeps up to `timeout` or until `ready`; then returns the engine if it is still open.
fn wait(
    shared: &Shared,
    weak: &Weak<Inner>,
    timeout: Duration,
    ready: fn(&Signal) -> bool,
) -> Option<Db> {
    let s = lock(&shared.signal);
    let (s, _) = shared
        .wake
        .wait_timeout_while(s, timeout, |s| !s.stop && !ready(s))
        .unwrap_or_else(|e| e.into_inner());
    if s.stop {
        return None;
    }
    drop(s);
    weak.upgrade().map(|inner| Db { inner })
}

fn syncer(shared: &Shared, weak: Weak<Inner>, every: Duration) {
    while let Some(db) = wait(shared, &weak, every, |_| false) {
        if db.sync().is_err() {
            return; // the WAL is failed now; writers see why
        }
    }
}

/// Memtables filled faster than this, one flush after another, mean writes are pressing.
const PRESSING_FILL: Duration = Duration::from_secs(5);

fn worker(shared: &Shared, weak: Weak<Inner>) {
    let tick = Duration::from_secs(1);
    // When the last flush asked for by size (a full memtable) began.
    let mut last_full: Option<Instant> = None;
    let mut pressing = false;
    while let Some(db) = wait(shared, &weak, tick, |s| s.flush_wanted) {
        let due = {
            let mut s = lock(&shared.signal);
            let old = s
                .first_unflushed
                .is_some_and(|t| t.elapsed() >= db.options().flush_interval);
            let due = s.flush_wanted || old;
            if s.flush_wanted {
                pressing = last_full.is_some_and(|t| t.elapsed() < PRESSING_FILL);
                last_full = Some(Instant::now());
            } else if last_full.is_none_or(|t| t.elapsed() >= PRESSING_FILL) {
                pressing = false;
            }
            if due {
                s.flush_wanted = false;
                s.flushing = true;
                s.first_unflushed = None;
            }
            due
        };
        let m = &db.inner.maintenance;
        if due {
            m.record(db.flush());
            lock(&shared.signal).flushing = false;
            shared.flushed.notify_all();
        }
        // Compaction yields to writes: while they are pressing (a memtable filled within
        // PRESSING_FILL of the one before, or already a quarter full again right after a
        // flush), only a partition's backlog is merged, so flushes keep up and writers are not
        // held back behind a merge; the rest waits for a calmer moment.
        let busy = pressing || db.memtable_bytes() >= db.options().memtable_bytes / 4;
        let mode = if busy {
            crate::compaction::Mode::Busy
        } else {
            crate::compaction::Mode::Routine
        };
        m.record(db.compact_unless(mode, || lock(&shared.signal).flush_wanted));
        m.record(db.enforce_retention().map(|_| ()));
    }
}

impl Db {
    /// The last error a background flush, compaction or retention pass met, if any.
    pub fn maintenance_error(&self) -> Option<String> {
        lock(&self.inner.maintenance.last_error).clone()
    }
}
