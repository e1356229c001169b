//! One database: its series index, field schema, memtables and segments.
//!
//! Lock order, always: `maintenance` → `index` or `schema` (never both at once) → `state` →
//! any memtable lock.
//!
//! **Invariant:** readers take a [`Snapshot`] (memtables, segments and tombstones) under one
//! read lock of `state`; a flush swaps "frozen memtable" for "its segments", and a compaction
//! swaps "inputs" for "output", each under one write lock, so no reader sees a point twice or
//! misses one.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::batch::{Batch, DbId, SeriesId};
use crate::error::{Error, IoContext, Result};
use crate::manifest::{self, Manifest, SegmentEntry};
use crate::memtable::Memtable;
use crate::schema::Schema;
use crate::segment::Segment;
use crate::series_file::SeriesFile;
use crate::series_index::SeriesIndex;
use crate::tombstone::Tombstone;
use crate::write_cache::WriteCache;

/// A live segment and its manifest entry.
#[derive(Debug)]
pub struct LiveSegment {
    pub entry: SegmentEntry,
    pub segment: Segment,
}

/// What readers see: immutable segments (ascending order), then memtables oldest first, and
/// the tombstones that hide points of the segments (memtables never hold deleted points).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub segments: Vec<Arc<LiveSegment>>,
    pub memtables: Vec<Arc<Memtable>>,
    pub tombstones: Arc<Vec<Tombstone>>,
}

impl Snapshot {
    /// The time ranges of series `sid` to leave out of the segment at `seg` (see
    /// [`crate::tombstone::cuts`]); empty, without allocating, when there are no tombstones.
    pub fn cuts(&self, sid: SeriesId, seg: &LiveSegment) -> Vec<(i64, i64)> {
        if self.tombstones.is_empty() {
            return Vec::new();
        }
        crate::tombstone::cuts(&self.tombstones, sid, seg.entry.order)
    }
}

#[derive(Debug)]
pub struct DbState {
    pub active: Arc<Memtable>,
    /// Frozen by a flush in progress, oldest first.
    pub frozen: Vec<Arc<Memtable>>,
    /// Ascending `entry.order`.
    pub segments: Vec<Arc<LiveSegment>>,
    /// Every delete still hiding points of `segments`: the manifest's, and those only in the
    /// WAL so far (replayed, or applied since the last manifest). Replaced whole (readers
    /// hold the old list).
    pub tombstones: Arc<Vec<Tombstone>>,
    /// The hidden series when the memtables were last frozen: what the flush of the frozen
    /// memtables records in the manifest (later changes are in WAL records after the flush's
    /// boundary, which replay applies again).
    pub hidden_at_freeze: Vec<SeriesId>,
}

#[derive(Debug)]
pub struct Database {
    pub id: DbId,
    pub name: String,
    pub dir: PathBuf,
    pub index: RwLock<SeriesIndex>,
    pub schema: RwLock<Schema>,
    pub state: RwLock<DbState>,
    /// The manifest as stored; held by flush, compaction and retention while they change it.
    pub maintenance: Mutex<Manifest>,
    /// Held by a compaction from picking its inputs to swapping them (the merge itself runs
    /// without `maintenance`): compactions of one database run one at a time, and dropping
    /// the database waits for the one running to stop before deleting its directory.
    merging: Mutex<()>,
    /// Segments named by the manifest that failed validation at open: left on disk and in the
    /// manifest, out of every read, compaction and retention, and reported.
    pub damaged: Vec<(PathBuf, String)>,
    /// Set (under `maintenance`) when the database is dropped: maintenance leaves it alone.
    dropped: AtomicBool,
    /// Whether the index has hidden series: the write path checks this before paying for a
    /// lookup (see [`Database::apply`]).
    has_hidden: AtomicBool,
    /// What flushes, compactions and retention have done since open (for metrics).
    pub activity: Activity,
    /// Series and field ids writers resolved recently (see `write_cache`).
    pub write_cache: WriteCache,
}

/// Counters of the background work on one database since it was opened: flushes and
/// compactions that wrote something, with the values they wrote and the time they took,
/// and the segments retention dropped. Relaxed atomics: each is exact, a reader may see one
/// updated before another.
#[derive(Debug, Default)]
pub struct Activity {
    pub flushes: AtomicU64,
    pub flushed_values: AtomicU64,
    pub flush_nanos: AtomicU64,
    pub compactions: AtomicU64,
    pub compacted_values: AtomicU64,
    pub compaction_nanos: AtomicU64,
    pub retention_dropped_segments: AtomicU64,
}

impl Activity {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Database {
    /// Opens the database directory: its manifest and segments. Files the manifest does not
    /// name are leftovers of an interrupted flush or compaction and are removed.
    pub fn open(id: DbId, name: String, dir: PathBuf) -> Result<Database> {
        fs::create_dir_all(&dir).at(&dir)?;
        let manifest = Manifest::load(&dir)?.unwrap_or_default();
        let live: HashSet<u64> = manifest.segments.iter().map(|s| s.id).collect();
        for entry in fs::read_dir(&dir).at(&dir)? {
            let path = entry.at(&dir)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let orphan = match (
                manifest::parse_segment_file_name(name),
                manifest::parse_series_file_name(name),
            ) {
                (Some(id), _) => !live.contains(&id),
                (_, Some(id)) => id != manifest.series_file,
                _ => name.ends_with(".tmp"),
            };
            if orphan {
                fs::remove_file(&path).at(&path)?;
            }
        }
        let mut damaged = Vec::new();
        // The series file; if it is damaged, the index is rebuilt from the segments' own series
        // tables below (slower, on the heap, but nothing is lost).
        let series_file = match manifest.series_file {
            0 => None,
            id => {
                let path = dir.join(manifest::series_file_name(id));
                match SeriesFile::open(&path) {
                    Ok(f) => Some(Arc::new(f)),
                    Err(e) => {
                        damaged.push((path, e.to_string()));
                        None
                    }
                }
            }
        };
        let rebuild_index = series_file.is_none();
        let mut index = SeriesIndex::with_file(series_file);
        let mut schema = Schema::default();
        for def in &manifest.fields {
            schema
                .insert_replayed(def)
                .map_err(|reason| Error::Corrupt {
                    path: dir.join(manifest::FILE_NAME),
                    offset: 0,
                    reason,
                })?;
        }
        schema.reserve_ids(manifest.next_field_id);
        let mut segments = Vec::with_capacity(manifest.segments.len());
        let mut entries = manifest.segments.clone();
        entries.sort_by_key(|e| e.order);
        for entry in entries {
            let path = dir.join(manifest::segment_file_name(entry.id));
            let segment = match Segment::open(&path) {
                Ok(s) => s,
                Err(e @ (Error::Corrupt { .. } | Error::Io { .. })) => {
                    damaged.push((path, e.to_string()));
                    continue;
                }
                Err(e) => return Err(e),
            };
            for s in segment.series().iter().filter(|_| rebuild_index) {
                index
                    .insert_replayed(s.id, &s.key)
                    .map_err(|reason| Error::Corrupt {
                        path: path.clone(),
                        offset: 0,
                        reason,
                    })?;
            }
            segments.push(Arc::new(LiveSegment { entry, segment }));
        }
        index.reserve_ids(manifest.next_series_id);
        index.hide(&manifest.hidden_series);
        let has_hidden = AtomicBool::new(index.has_hidden());
        let tombstones = Arc::new(manifest.tombstones.clone());
        Ok(Database {
            id,
            name,
            dir,
            index: RwLock::new(index),
            schema: RwLock::new(schema),
            state: RwLock::new(DbState {
                active: Arc::new(Memtable::default()),
                frozen: Vec::new(),
                segments,
                tombstones,
                hidden_at_freeze: manifest.hidden_series.clone(),
            }),
            maintenance: Mutex::new(manifest),
            merging: Mutex::new(()),
            damaged,
            dropped: AtomicBool::new(false),
            has_hidden,
            activity: Activity::default(),
            write_cache: WriteCache::default(),
        })
    }

    pub fn index(&self) -> RwLockReadGuard<'_, SeriesIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn index_mut(&self) -> RwLockWriteGuard<'_, SeriesIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn schema(&self) -> RwLockReadGuard<'_, Schema> {
        self.schema.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn schema_mut(&self) -> RwLockWriteGuard<'_, Schema> {
        self.schema.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn state(&self) -> RwLockReadGuard<'_, DbState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn state_mut(&self) -> RwLockWriteGuard<'_, DbState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn maintenance(&self) -> MutexGuard<'_, Manifest> {
        self.maintenance.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// See `merging`; take it before `maintenance`, never while holding it.
    pub fn merge_lock(&self) -> MutexGuard<'_, ()> {
        self.merging.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn snapshot(&self) -> Snapshot {
        let st = self.state();
        let mut memtables = st.frozen.clone();
        memtables.push(st.active.clone());
        Snapshot {
            segments: st.segments.clone(),
            memtables,
            tombstones: st.tombstones.clone(),
        }
    }

    pub fn segment_path(&self, id: u64) -> PathBuf {
        self.dir.join(manifest::segment_file_name(id))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Applies a batch to the active memtable; returns the values dropped (see
    /// `Memtable::apply`). A hidden series it writes is back in the listings.
    pub fn apply(&self, batch: &Batch) -> u64 {
        // Relaxed is enough: hiding and writing both happen under the write sequencer (or
        // during replay, on one thread).
        if self.has_hidden.load(Ordering::Relaxed) {
            let hidden = |index: &SeriesIndex| -> Vec<SeriesId> {
                let mut ids: Vec<SeriesId> = batch
                    .series
                    .iter()
                    .copied()
                    .filter(|s| index.is_hidden(*s))
                    .collect();
                ids.dedup();
                ids
            };
            // A read lock for the check; the write lock only to bring series back.
            if !hidden(&self.index()).is_empty() {
                let mut index = self.index_mut();
                for sid in hidden(&index) {
                    index.unhide(sid);
                }
                self.note_hidden(&index);
            }
        }
        let schema = self.schema();
        let active = self.state().active.clone();
        active.apply(batch, |fid| schema.by_id(fid).map(|f| f.field_type))
    }

    /// Registers the series and fields a replayed record defines. Returns why the record is
    /// inconsistent with the ones before it, if it is.
    pub fn define_replayed(&self, batch: &Batch) -> Result<(), String> {
        if !batch.new_series.is_empty() {
            let mut index = self.index_mut();
            for def in &batch.new_series {
                index.insert_replayed(def.id, &def.key)?;
            }
        }
        if !batch.new_fields.is_empty() {
            let mut schema = self.schema_mut();
            for def in &batch.new_fields {
                schema.insert_replayed(def)?;
            }
        }
        Ok(())
    }

    /// Applies a replayed batch, dropping points whose series is unknown (its definition was
    /// lost with a truncated record). Returns the points and values dropped.
    pub fn apply_replayed(&self, mut batch: Batch) -> u64 {
        let mut dropped = 0;
        {
            let index = self.index();
            if batch.series.iter().any(|s| !index.contains(*s)) {
                let mut kept = Batch::default();
                for i in 0..batch.point_count() {
                    if !index.contains(batch.series[i]) {
                        dropped += 1;
                        continue;
                    }
                    kept.push_point(batch.series[i], batch.times[i]);
                    let (ids, values) = batch.fields_of(i);
                    for (id, v) in ids.iter().zip(values) {
                        kept.push_field(*id, v.clone());
                    }
                }
                batch = kept;
            }
        }
        dropped + self.apply(&batch)
    }

    /// Applies a replayed delete record: tombstones cover every segment in the manifest (they
    /// all hold writes older than the record, or replay would have skipped it).
    pub fn apply_replayed_delete(&self, mut d: crate::batch::Delete) {
        let manifest = self.maintenance();
        {
            // A series whose definition was lost with a truncated record: nothing to delete.
            let index = self.index();
            d.series.retain(|s| index.contains(*s));
        }
        crate::tombstone::apply(self, &d, manifest.next_order.saturating_sub(1));
    }

    /// Moves the active memtable to the frozen list (the caller holds the write sequencer, so
    /// no batch is half applied). Returns false if it was empty (nothing frozen). The new
    /// active memtable reserves room for its series within `memtable_bytes` (see
    /// [`Memtable::successor`]).
    pub fn freeze(&self, memtable_bytes: usize) -> bool {
        let hidden = if self.has_hidden.load(Ordering::Relaxed) {
            self.index().hidden()
        } else {
            Vec::new()
        };
        let active = self.state().active.clone();
        let next = Arc::new(active.successor(memtable_bytes));
        let mut st = self.state_mut();
        st.hidden_at_freeze = hidden;
        if st.active.is_empty() {
            return false;
        }
        let old = std::mem::replace(&mut st.active, next);
        st.frozen.push(old);
        true
    }

    /// Records whether `index` (this database's, locked by the caller) has hidden series.
    pub fn note_hidden(&self, index: &SeriesIndex) {
        self.has_hidden.store(index.has_hidden(), Ordering::Relaxed);
    }

    /// Marks the database dropped (the caller holds `maintenance`): flushes, compactions and
    /// retention passes that still hold it do nothing from now on.
    pub fn mark_dropped(&self) {
        self.dropped.store(true, Ordering::Release);
    }

    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Acquire)
    }

    /// Forgets that any series or field definition is in the WAL: called when the WAL starts a
    /// segment that must be replayable without the ones before it.
    pub fn reset_logged(&self) {
        self.index().reset_logged();
        self.schema().reset_logged();
    }
}
