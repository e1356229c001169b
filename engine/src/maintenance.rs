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
}

#[derive(Default)]
struct Signal {
    stop: bool,
    flush_wanted: bool,
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

    /// Stops and joins the threads (unless called from one of them).
    pub fn stop(&self) {
        lock(&self.shared.signal).stop = true;
        self.shared.wake.notify_all();
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

fn worker(shared: &Shared, weak: Weak<Inner>) {
    let tick = Duration::from_secs(1);
    while let Some(db) = wait(shared, &weak, tick, |s| s.flush_wanted) {
        let due = {
            let mut s = lock(&shared.signal);
            let old = s
                .first_unflushed
                .is_some_and(|t| t.elapsed() >= db.options().flush_interval);
            let due = s.flush_wanted || old;
            if due {
                s.flush_wanted = false;
                s.first_unflushed = None;
            }
            due
        };
        let m = &db.inner.maintenance;
        if due {
            m.record(db.flush());
        }
        m.record(db.compact(false));
        m.record(db.enforce_retention().map(|_| ()));
    }
}

impl Db {
    /// The last error a background flush, compaction or retention pass met, if any.
    pub fn maintenance_error(&self) -> Option<String> {
        lock(&self.inner.maintenance.last_error).clone()
    }
}
