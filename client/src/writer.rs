//! [`Writer`]: buffers lines and sends them in batches.
//!
//! A batch goes out when it reaches `max_lines` lines or `max_bytes` bytes — sent by the thread
//! whose line filled it, which waits for the answer (backpressure: a writer cannot run ahead of
//! the server) — or when its oldest line is `flush_interval` old, sent by the writer's
//! background thread. Each send goes through the client's retries.
//!
//! Errors: a batch that fails for good is dropped and reported as [`Error::Batch`] (how many
//! lines, and why: for a 400 the server's message naming the bad lines). Every failed batch's
//! error is queued, whichever thread sent it, and each call to `write_line`, `write_lines`,
//! `flush` or `close` returns the oldest one queued; [`Writer::take_errors`] drains them all. A
//! line handed to `write_line` is always buffered unless the writer is closed: an `Err` from it
//! is about a batch, not about that line.
//!
//! `close` (or drop) sends what is left and waits for every send in flight; drop ignores errors.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::client::{Client, Precision, WriteTarget};
use crate::error::{Error, Result};

/// When a [`Writer`] sends its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// Send when this many lines are buffered.
    pub max_lines: usize,
    /// Send when this many bytes are buffered.
    pub max_bytes: usize,
    /// Send when the oldest buffered line is this old (`None`: only on size and `flush`).
    pub flush_interval: Option<Duration>,
    /// The timestamps' precision.
    pub precision: Precision,
}

impl Default for WriterOptions {
    /// 5000 lines or 4 MiB or 1 s, nanosecond timestamps.
    fn default() -> Self {
        WriterOptions {
            max_lines: 5000,
            max_bytes: 4 << 20,
            flush_interval: Some(Duration::from_secs(1)),
            precision: Precision::Nanoseconds,
        }
    }
}

/// What a [`Writer`] has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Batches the server accepted.
    pub batches: u64,
    pub lines: u64,
    /// Bytes sent for the accepted batches (after gzip, if on).
    pub bytes: u64,
    pub failed_batches: u64,
    pub failed_lines: u64,
    /// Requests sent again after a retryable failure.
    pub retries: u64,
    /// Errors not kept because the queue was full (1024): see the counts above instead.
    pub errors_dropped: u64,
}

/// A batching line-protocol writer. `Send + Sync`: threads may share one.
pub struct Writer {
    shared: Arc<Shared>,
    ticker: Option<JoinHandle<()>>,
}

struct Shared {
    client: Client,
    target: WriteTarget,
    options: WriterOptions,
    state: Mutex<State>,
    /// Wakes the background thread: the buffer got its first line, or the writer closed.
    wake: Condvar,
    /// Signals that a send finished (for `flush` and `close`, which wait for all of them).
    sent: Condvar,
}

struct State {
    buf: Vec<u8>,
    lines: usize,
    /// When the oldest buffered line arrived.
    since: Option<Instant>,
    /// Batches taken from the buffer whose send has not returned.
    in_flight: usize,
    errors: VecDeque<Error>,
    stats: WriterStats,
    closed: bool,
}

const MAX_QUEUED_ERRORS: usize = 1024;

/// A buffer taken for sending.
struct Batch {
    body: Vec<u8>,
    lines: usize,
}

impl Writer {
    /// A writer sending to `target` through `client` (whose retry policy and gzip setting
    /// apply).
    pub fn new(client: Client, target: WriteTarget, options: WriterOptions) -> Writer {
        let options = WriterOptions {
            max_lines: options.max_lines.max(1),
            max_bytes: options.max_bytes.max(1),
            ..options
        };
        let shared = Arc::new(Shared {
            client,
            target,
            options,
            state: Mutex::new(State {
                buf: Vec::new(),
                lines: 0,
                since: None,
                in_flight: 0,
                errors: VecDeque::new(),
                stats: WriterStats::default(),
                closed: false,
            }),
            wake: Condvar::new(),
            sent: Condvar::new(),
        });
        let ticker = options.flush_interval.map(|interval| {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("ganzhi-writer".into())
                .spawn(move || shared.tick(interval))
                .expect("spawning the writer's flush thread")
        });
        Writer { shared, ticker }
    }

    /// Buffers one line (a trailing newline is added if missing).
    pub fn write_line(&self, line: impl AsRef<[u8]>) -> Result<()> {
        self.append(line.as_ref(), 1)
    }

    /// Buffers a body of several lines, counted by their newlines. The body goes into one
    /// batch whole, even past `max_lines`.
    pub fn write_lines(&self, lines: impl AsRef<[u8]>) -> Result<()> {
        let body = lines.as_ref();
        let mut n = body.iter().filter(|&&b| b == b'\n').count();
        if body.last().is_some_and(|&b| b != b'\n') {
            n += 1;
        }
        self.append(body, n)
    }

    fn append(&self, body: &[u8], lines: usize) -> Result<()> {
        if body.is_empty() {
            return self.shared.next_error();
        }
        let full = {
            let mut st = self.shared.lock();
            if st.closed {
                return Err(Error::Closed);
            }
            st.buf.extend_from_slice(body);
            if body.last() != Some(&b'\n') {
                st.buf.push(b'\n');
            }
            if st.lines == 0 {
                st.since = Some(Instant::now());
                self.shared.wake.notify_all();
            }
            st.lines += lines;
            let o = &self.shared.options;
            if st.lines >= o.max_lines || st.buf.len() >= o.max_bytes {
                Some(take(&mut st))
            } else {
                None
            }
        };
        if let Some(batch) = full {
            self.shared.send(batch);
        }
        self.shared.next_error()
    }

    /// Sends what is buffered and waits until every batch taken so far has been answered;
    /// then returns the oldest queued error, if any.
    pub fn flush(&self) -> Result<()> {
        self.shared.flush_and_wait();
        self.shared.next_error()
    }

    /// Drains the queued errors (oldest first).
    pub fn take_errors(&self) -> Vec<Error> {
        self.shared.lock().errors.drain(..).collect()
    }

    pub fn stats(&self) -> WriterStats {
        self.shared.lock().stats
    }

    /// Sends what is left, stops the background thread and waits for every send; `Err` with
    /// the oldest queued error (the rest via the stats' counts).
    pub fn close(mut self) -> Result<WriterStats> {
        self.shutdown();
        let mut st = self.shared.lock();
        match st.errors.pop_front() {
            Some(e) => Err(e),
            None => Ok(st.stats),
        }
    }

    fn shutdown(&mut self) {
        {
            let mut st = self.shared.lock();
            if st.closed {
                return;
            }
            st.closed = true;
            self.shared.wake.notify_all();
        }
        if let Some(t) = self.ticker.take() {
            // The thread only ends by seeing `closed`; a panic there is a bug in this file.
            let _ = t.join();
        }
        self.shared.flush_and_wait();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("target", &self.shared.target)
            .field("options", &self.shared.options)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Takes the buffer for sending (counted in flight until `send` returns).
fn take(st: &mut State) -> Batch {
    let cap = st.buf.capacity();
    let body = std::mem::replace(&mut st.buf, Vec::with_capacity(cap));
    let lines = std::mem::take(&mut st.lines);
    st.since = None;
    st.in_flight += 1;
    Batch { body, lines }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state consistent (plain appends and
        // counters), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_error(&self) -> Result<()> {
        match self.lock().errors.pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Sends one batch (outside the lock) and records the outcome.
    fn send(&self, batch: Batch) {
        let result = self
            .client
            .write_to(&self.target, &batch.body, self.options.precision);
        let mut st = self.lock();
        st.in_flight -= 1;
        match result {
            Ok(w) => {
                st.stats.batches += 1;
                st.stats.lines += batch.lines as u64;
                st.stats.bytes += w.bytes_sent as u64;
                st.stats.retries += u64::from(w.attempts - 1);
            }
            Err(e) => {
                st.stats.failed_batches += 1;
                st.stats.failed_lines += batch.lines as u64;
                if let Error::GaveUp { attempts, .. } = &e {
                    st.stats.retries += u64::from(attempts - 1);
                }
                if st.errors.len() < MAX_QUEUED_ERRORS {
                    st.errors.push_back(Error::Batch {
                        lines: batch.lines,
                        bytes: batch.body.len(),
                        source: Box::new(e),
                    });
                } else {
                    st.stats.errors_dropped += 1;
                }
            }
        }
        self.sent.notify_all();
    }

    fn flush_and_wait(&self) {
        let batch = {
            let mut st = self.lock();
            (st.lines > 0).then(|| take(&mut st))
        };
        if let Some(b) = batch {
            self.send(b);
        }
        let mut st = self.lock();
        while st.in_flight > 0 {
            st = self.sent.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The background thread: sends the buffer once its oldest line is `interval` old.
    fn tick(&self, interval: Duration) {
        loop {
            let batch = {
                let mut st = self.lock();
                loop {
                    if st.closed {
                        return;
                    }
                    match st.since {
                        None => st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner()),
                        Some(since) => {
                            let due = since + interval;
                            let now = Instant::now();
                            if now >= due {
                                break take(&mut st);
                            }
                            st = self
                                .wake
                                .wait_timeout(st, due - now)
                                .unwrap_or_else(|p| p.into_inner())
                                .0;
                        }
                    }
                }
            };
            self.send(batch);
        }
    }
}
