//! The series index of one database: series key ↔ id, and measurement → its series.
//!
//! Two parts. The **file** part is an immutable, memory-mapped [`SeriesFile`] holding every
//! series that existed at the last flush: lookups binary-search it in place, so its series cost
//! no heap. The **memory** part holds the series created since; a flush writes the union as the
//! next file and the memory part empties again.
//!
//! Invariants:
//! - a series key is canonical (escaped measurement, then tags sorted by key), so one series
//!   has exactly one key and one id; a key is in at most one part;
//! - ids are never reused within a database;
//! - a series in the file is defined durably, so WAL records may refer to it freely. A series
//!   in memory is `logged` only once a WAL record carrying its definition has been appended, so
//!   a record that refers to it without defining it always follows one that defines it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::batch::SeriesId;
use crate::line_protocol::parse_series_key;
use crate::series_file::SeriesFile;

/// A series created since the series file was written.
#[derive(Debug)]
pub struct SeriesEntry {
    pub id: SeriesId,
    pub key: Arc<str>,
    pub measurement: Box<str>,
    logged: AtomicBool,
}

impl SeriesEntry {
    pub fn is_logged(&self) -> bool {
        self.logged.load(Ordering::Acquire)
    }

    pub fn mark_logged(&self) {
        self.logged.store(true, Ordering::Release);
    }
}

#[derive(Debug, Default)]
pub struct SeriesIndex {
    file: Option<Arc<SeriesFile>>,
    by_key: HashMap<Arc<str>, Arc<SeriesEntry>>,
    by_id: HashMap<SeriesId, Arc<SeriesEntry>>,
    /// Series ids of each measurement (memory part), ascending.
    by_measurement: BTreeMap<Box<str>, Vec<SeriesId>>,
    next_id: u64,
}

impl SeriesIndex {
    /// An index over `file` (if any) with an empty memory part.
    pub fn with_file(file: Option<Arc<SeriesFile>>) -> SeriesIndex {
        let next_id = file
            .as_ref()
            .and_then(|f| f.iter().map(|(id, _)| id).max())
            .map_or(0, |m| m + 1);
        SeriesIndex {
            file,
            next_id,
            ..SeriesIndex::default()
        }
    }

    pub fn file(&self) -> Option<&Arc<SeriesFile>> {
        self.file.as_ref()
    }

    /// Series in the file and in memory.
    pub fn len(&self) -> usize {
        self.file.as_ref().map_or(0, |f| f.len()) + self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Series held on the heap (created since the series file was written).
    pub fn in_memory(&self) -> usize {
        self.by_id.len()
    }

    pub fn id_of(&self, key: &str) -> Option<SeriesId> {
        if let Some(e) = self.by_key.get(key) {
            return Some(e.id);
        }
        self.file.as_ref()?.id_of(key).map(SeriesId)
    }

    pub fn key_of(&self, id: SeriesId) -> Option<&str> {
        if let Some(e) = self.by_id.get(&id) {
            return Some(&e.key);
        }
        self.file.as_ref()?.key_of(id.0)
    }

    pub fn contains(&self, id: SeriesId) -> bool {
        self.key_of(id).is_some()
    }

    /// The memory entry of a series not yet in the file.
    pub fn mem_entry(&self, id: SeriesId) -> Option<&Arc<SeriesEntry>> {
        self.by_id.get(&id)
    }

    /// Whether a WAL record may refer to the series without defining it.
    pub fn is_logged(&self, id: SeriesId) -> bool {
        self.by_id.get(&id).is_none_or(|e| e.is_logged())
    }

    /// The id of `key`, created in the memory part if new (`Some(entry)` when new).
    /// `measurement` must be what `key` says.
    pub fn get_or_create(
        &mut self,
        key: &str,
        measurement: &str,
    ) -> (SeriesId, Option<Arc<SeriesEntry>>) {
        if let Some(id) = self.id_of(key) {
            return (id, None);
        }
        let id = SeriesId(self.next_id);
        self.next_id += 1;
        let entry = Arc::new(SeriesEntry {
            id,
            key: Arc::from(key),
            measurement: measurement.into(),
            logged: AtomicBool::new(false),
        });
        self.insert(entry.clone());
        (id, Some(entry))
    }

    /// Adds a series defined by a replayed WAL record or a segment's series table. A definition
    /// seen before is fine if it agrees; an id bound to another key is an error.
    pub fn insert_replayed(&mut self, id: SeriesId, key: &str) -> Result<(), String> {
        if let Some(existing) = self.key_of(id) {
            return if existing == key {
                Ok(())
            } else {
                Err(format!(
                    "series id {} defined twice: {existing:?} and {key:?}",
                    id.0
                ))
            };
        }
        if let Some(other) = self.id_of(key) {
            return Err(format!("series {key:?} has ids {} and {}", other.0, id.0));
        }
        let (measurement, _) =
            parse_series_key(key).ok_or_else(|| format!("invalid series key {key:?}"))?;
        self.next_id = self.next_id.max(id.0 + 1);
        self.insert(Arc::new(SeriesEntry {
            id,
            key: Arc::from(key),
            measurement: measurement.into(),
            logged: AtomicBool::new(true),
        }));
        Ok(())
    }

    fn insert(&mut self, entry: Arc<SeriesEntry>) {
        let ids = self
            .by_measurement
            .entry(entry.measurement.clone())
            .or_default();
        if let Err(pos) = ids.binary_search(&entry.id) {
            ids.insert(pos, entry.id);
        }
        self.by_key.insert(entry.key.clone(), entry.clone());
        self.by_id.insert(entry.id, entry);
    }

    /// Makes sure ids below `next` are never handed out again.
    pub fn reserve_ids(&mut self, next: u64) {
        self.next_id = self.next_id.max(next);
    }

    /// The next id to be handed out.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Clears every in-memory series' logged flag (see the module doc).
    pub fn reset_logged(&self) {
        for e in self.by_id.values() {
            e.logged.store(false, Ordering::Release);
        }
    }

    /// The series of one measurement as (id, key), ascending by key.
    pub fn measurement_series(&self, measurement: &str) -> Vec<(SeriesId, String)> {
        let mut out: Vec<(SeriesId, String)> = Vec::new();
        if let Some(f) = &self.file {
            for id in f.measurement_series(measurement) {
                if let Some(key) = f.key_of(id) {
                    out.push((SeriesId(id), key.to_owned()));
                }
            }
        }
        for id in self.by_measurement.get(measurement).into_iter().flatten() {
            if let Some(e) = self.by_id.get(id) {
                out.push((*id, e.key.to_string()));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// Every measurement name, sorted.
    pub fn measurements(&self) -> Vec<String> {
        let mut out: Vec<String> = self.by_measurement.keys().map(|m| m.to_string()).collect();
        if let Some(f) = &self.file {
            out.extend(f.measurements().map(str::to_owned));
        }
        out.sort();
        out.dedup();
        out
    }

    /// The memory part, ascending by key: what the next series file must add.
    pub fn memory_series(&self) -> Vec<(SeriesId, Arc<str>)> {
        let mut out: Vec<(SeriesId, Arc<str>)> =
            self.by_id.values().map(|e| (e.id, e.key.clone())).collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// Switches to `file`, which holds the old file's series and `written`: those leave the
    /// memory part (series created meanwhile stay).
    pub fn adopt_file(&mut self, file: Arc<SeriesFile>, written: &[SeriesId]) {
        for id in written {
            if let Some(e) = self.by_id.remove(id) {
                self.by_key.remove(&e.key);
                if let Some(ids) = self.by_measurement.get_mut(&e.measurement) {
                    ids.retain(|x| x != id);
                    if ids.is_empty() {
                        self.by_measurement.remove(&e.measurement);
                    }
                }
            }
        }
        self.file = Some(file);
    }
}
