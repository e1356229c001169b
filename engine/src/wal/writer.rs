//! Appending to the WAL with group commit.
//!
//! Writers [`WalWriter::append`] their framed record into a shared buffer (a memcpy under a
//! short lock) and get a sequence number; [`WalWriter::wait`] then makes it durable. The first
//! waiter to find no write in progress becomes the leader: it takes the whole buffer, writes it
//! with one `write` and one `fdatasync`, and wakes everyone its write covered. Writers that
//! arrive during that fsync gather in the next buffer and share the next one: with N concurrent
//! writers the fsync cost is split N ways, and one writer alone pays one fsync per batch.
//!
//! Invariants:
//! - records reach the file in sequence order, whole, and only through the leader;
//! - `wait(seq)` returns `Ok` only when record `seq` is written to the OS (every mode) and
//!   fsynced (`Fsync::Always`);
//! - after any I/O error the writer is failed for good: every later append and wait returns
//!   `Error::WalFailed`, because what reached the disk is unknown. Reopening recovers.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::segment;
use crate::error::{Error, IoContext, Result};

/// When the WAL is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Before a write is acknowledged (the default): an acknowledged write survives power loss.
    Always,
    /// Every so often, by a background thread: an acknowledged write survives a crash of the
    /// process at once and power loss once the next interval has passed.
    Interval(Duration),
    /// Never: an acknowledged write is in the operating system's cache, so it survives a crash
    /// of the process but not of the machine.
    Never,
}

/// Counters for `/metrics` and for tests that check group commit.
#[derive(Debug, Default)]
pub struct WalStats {
    pub records: AtomicU64,
    pub bytes: AtomicU64,
    pub writes: AtomicU64,
    pub fsyncs: AtomicU64,
    pub segments_created: AtomicU64,
}

struct State {
    buf: Vec<u8>,
    /// An emptied buffer kept for reuse, so steady state allocates nothing.
    spare: Vec<u8>,
    /// Sequence number of the last appended record.
    appended: u64,
    /// Every record up to this one is written (and fsynced, if the mode says so).
    done: u64,
    leader_active: bool,
    failed: Option<String>,
}

struct ActiveSegment {
    file: File,
    seq: u64,
    len: u64,
    /// Written since the last fsync (for `Fsync::Interval` and rotation).
    dirty: bool,
}

pub struct WalWriter {
    dir: PathBuf,
    fsync: Fsync,
    segment_bytes: u64,
    state: Mutex<State>,
    done_changed: Condvar,
    /// Held only by the leader (or the interval syncer): the file is written by one thread at
    /// a time, in sequence order.
    segment: Mutex<ActiveSegment>,
    pub stats: WalStats,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind, still consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WalWriter {
    /// Starts a new segment numbered `seq` in `dir` (which must not exist yet) and writes to it.
    pub fn create(dir: &Path, seq: u64, fsync: Fsync, segment_bytes: u64) -> Result<WalWriter> {
        let segment = create_segment(dir, seq, fsync != Fsync::Never)?;
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            fsync,
            segment_bytes,
            state: Mutex::new(State {
                buf: Vec::new(),
                spare: Vec::new(),
                appended: 0,
                done: 0,
                leader_active: false,
                failed: None,
            }),
            done_changed: Condvar::new(),
            segment: Mutex::new(segment),
            stats: WalStats::default(),
        })
    }

    pub fn fsync_mode(&self) -> Fsync {
        self.fsync
    }

    /// The sequence number of the segment being written.
    pub fn current_segment(&self) -> u64 {
        lock(&self.segment).seq
    }

    /// Frames `payload` into the shared buffer; returns the record's sequence number, to be
    /// passed to [`WalWriter::wait`].
    pub fn append(&self, payload: &[u8]) -> Result<u64> {
        if payload.len() > segment::MAX_RECORD_LEN {
            return Err(Error::WalFailed {
                reason: format!("record of {} bytes exceeds the limit", payload.len()),
            });
        }
        let mut st = lock(&self.state);
        if let Some(reason) = &st.failed {
            return Err(Error::WalFailed {
                reason: reason.clone(),
            });
        }
        segment::append_frame(&mut st.buf, payload);
        st.appended += 1;
        self.stats.records.fetch_add(1, Ordering::Relaxed);
        Ok(st.appended)
    }

    /// Returns once record `seq` is durable as the fsync mode promises.
    pub fn wait(&self, seq: u64) -> Result<()> {
        let mut st = lock(&self.state);
        loop {
            if let Some(reason) = &st.failed {
                return Err(Error::WalFailed {
                    reason: reason.clone(),
                });
            }
            if st.done >= seq {
                return Ok(());
            }
            if st.leader_active {
                st = self
                    .done_changed
                    .wait(st)
                    .unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // Become the leader for everything appended so far.
            st.leader_active = true;
            let target = st.appended;
            let spare = std::mem::take(&mut st.spare);
            let mut buf = std::mem::replace(&mut st.buf, spare);
            drop(st);

            let result = self.write_out(&buf, self.fsync == Fsync::Always);
            buf.clear();

            st = lock(&self.state);
            st.spare = buf;
            st.leader_active = false;
            match result {
                Ok(()) => st.done = target,
                Err(e) => st.failed = Some(e.to_string()),
            }
            self.done_changed.notify_all();
        }
    }

    /// Writes out anything buffered and fsyncs the segment, whatever the mode (for shutdown,
    /// and for the interval syncer).
    pub fn sync(&self) -> Result<()> {
        let seq = lock(&self.state).appended;
        self.wait(seq)?;
        let mut seg = lock(&self.segment);
        if seg.dirty {
            let path = segment::path(&self.dir, seg.seq);
            if let Err(e) = seg.file.sync_data().at(&path) {
                lock(&self.state).failed = Some(e.to_string());
                return Err(e);
            }
            seg.dirty = false;
            self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Finishes the current segment (everything appended is written, and fsynced unless the
    /// mode is `Never`) and starts the next one; returns the new segment's number. The caller
    /// must keep appends out meanwhile (it holds the write sequencer).
    pub fn rotate(&self) -> Result<u64> {
        let seq = lock(&self.state).appended;
        self.wait(seq)?;
        let mut seg = lock(&self.segment);
        let result = (|| -> Result<u64> {
            if seg.dirty && self.fsync != Fsync::Never {
                let path = segment::path(&self.dir, seg.seq);
                seg.file.sync_data().at(&path)?;
                seg.dirty = false;
                self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
            }
            *seg = create_segment(&self.dir, seg.seq + 1, self.fsync != Fsync::Never)?;
            self.stats.segments_created.fetch_add(1, Ordering::Relaxed);
            Ok(seg.seq)
        })();
        if let Err(e) = &result {
            lock(&self.state).failed = Some(e.to_string());
        }
        result
    }

    fn write_out(&self, buf: &[u8], fsync: bool) -> Result<()> {
        let mut seg = lock(&self.segment);
        let path = segment::path(&self.dir, seg.seq);
        if !buf.is_empty() {
            seg.file.write_all(buf).at(&path)?;
            seg.len += buf.len() as u64;
            seg.dirty = true;
            self.stats.writes.fetch_add(1, Ordering::Relaxed);
            self.stats
                .bytes
                .fetch_add(buf.len() as u64, Ordering::Relaxed);
        }
        if fsync && seg.dirty {
            seg.file.sync_data().at(&path)?;
            seg.dirty = false;
            self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        }
        if seg.len >= self.segment_bytes {
            if seg.dirty && self.fsync != Fsync::Never {
                seg.file.sync_data().at(&path)?;
                seg.dirty = false;
                self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
            }
            *seg = create_segment(&self.dir, seg.seq + 1, self.fsync != Fsync::Never)?;
            self.stats.segments_created.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Creates segment `seq` with its header; with `durable`, fsyncs it and its directory so the
/// new name survives power loss before any record in it is acknowledged.
fn create_segment(dir: &Path, seq: u64, durable: bool) -> Result<ActiveSegment> {
    let path = segment::path(dir, seq);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .at(&path)?;
    file.write_all(&segment::header()).at(&path)?;
    if durable {
        file.sync_all().at(&path)?;
        sync_dir(dir)?;
    }
    Ok(ActiveSegment {
        file,
        seq,
        len: segment::HEADER_LEN as u64,
        dirty: false,
    })
}

/// Fsyncs a directory so that names created or removed in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}
