//! One database: its series index, field schema, memtables and segments.
//!
//! Lock order, always: `maintenance` → `index` or `schema` (never both at once) → `state` →
//! any memtable lock.
//!
//! **Invariant:** readers take a [`Snapshot`] (memtables and segments) under one read lock of
//! `state`; a flush swaps "frozen memtable" for "its segments", and a compaction swaps "inputs"
//! for "output", each under one write lock, so no reader sees a point twice or misses one.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::batch::{Batch, DbId};
use crate::error::{Error, IoContext, Result};
use crate::manifest::{self, Manifest, SegmentEntry};
use crate::memtable::Memtable;
use crate::schema::Schema;
use crate::segment::Segment;
use crate::series_file::SeriesFile;
use crate::series_index::SeriesIndex;

/// A live segment and its manifest entry.
#[derive(Debug)]
pub struct LiveSegment {
    pub entry: SegmentEntry,
    pub segment: Segment,
}

/// What readers see: immutable segments (ascending order), then memtables oldest first.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub segments: Vec<Arc<LiveSegment>>,
    pub memtables: Vec<Arc<Memtable>>,
}

#[derive(Debug)]
pub struct DbState {
    pub active: Arc<Memtable>,
    /// Frozen by a flush in progress, oldest first.
    pub frozen: Vec<Arc<Memtable>>,
    /// Ascending `entry.order`.
    pub segments: Vec<Arc<LiveSegment>>,
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
    /// Segments named by the manifest that failed validation at open: left on disk and in the
    /// manifest, out of every read, compaction and retention, and reported.
    pub damaged: Vec<(PathBuf, String)>,
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
            }),
            maintenance: Mutex::new(manifest),
            damaged,
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

    pub fn snapshot(&self) -> Snapshot {
        let st = self.state();
        let mut memtables = st.frozen.clone();
        memtables.push(st.active.clone());
        Snapshot {
            segments: st.segments.clone(),
            memtables,
        }
    }

    pub fn segment_path(&self, id: u64) -> PathBuf {
        self.dir.join(manifest::segment_file_name(id))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Applies a batch to the active memtable; returns the values dropped (see
    /// `Memtable::apply`).
    pub fn apply(&self, batch: &Batch) -> u64 {
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

    /// Moves the active memtable to the frozen list (the caller holds the write sequencer, so
    /// no batch is half applied). Returns false if it was empty (nothing frozen).
    pub fn freeze(&self) -> bool {
        let mut st = self.state_mut();
        if st.active.is_empty() {
            return false;
        }
        let old = std::mem::take(&mut st.active);
        st.frozen.push(old);
        true
    }

    /// Forgets that any series or field definition is in the WAL: called when the WAL starts a
    /// segment that must be replayable without the ones before it.
    pub fn reset_logged(&self) {
        self.index().reset_logged();
        self.schema().reset_logged();
    }
}
