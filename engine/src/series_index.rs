//! The series index of one database: series key → id, and measurement → its series.
//!
//! This is the in-memory part; the storage issue adds an immutable, memory-mapped part for
//! series that have reached a segment.
//!
//! Invariants:
//! - a series key is canonical (escaped measurement, then tags sorted by key), so one series
//!   has exactly one key and one id;
//! - ids are never reused within a database;
//! - `logged` is set only after a WAL record carrying the series' definition has been appended,
//!   so a record that refers to a series without defining it always follows one that defines it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::batch::SeriesId;
use crate::line_protocol::parse_series_key;

#[derive(Debug)]
pub struct SeriesEntry {
    pub id: SeriesId,
    pub key: Arc<str>,
    pub measurement: Box<str>,
    /// Sorted by key.
    pub tags: Box<[(Box<str>, Box<str>)]>,
    logged: AtomicBool,
}

impl SeriesEntry {
    pub fn is_logged(&self) -> bool {
        self.logged.load(Ordering::Acquire)
    }

    pub fn mark_logged(&self) {
        self.logged.store(true, Ordering::Release);
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| self.tags[i].1.as_ref())
    }
}

#[derive(Debug, Default)]
pub struct SeriesIndex {
    by_key: HashMap<Arc<str>, Arc<SeriesEntry>>,
    by_id: HashMap<SeriesId, Arc<SeriesEntry>>,
    /// Series ids of each measurement, ascending.
    by_measurement: BTreeMap<Box<str>, Vec<SeriesId>>,
    next_id: u64,
}

impl SeriesIndex {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Arc<SeriesEntry>> {
        self.by_key.get(key)
    }

    pub fn by_id(&self, id: SeriesId) -> Option<&Arc<SeriesEntry>> {
        self.by_id.get(&id)
    }

    /// The existing entry for `key`, or a new one with the next id (`true` when new).
    /// `measurement` and `tags` must be what `key` says.
    pub fn get_or_create(
        &mut self,
        key: &str,
        measurement: &str,
        tags: &[(&str, &str)],
    ) -> (Arc<SeriesEntry>, bool) {
        if let Some(e) = self.by_key.get(key) {
            return (e.clone(), false);
        }
        let id = SeriesId(self.next_id);
        self.next_id += 1;
        let entry = Arc::new(SeriesEntry {
            id,
            key: Arc::from(key),
            measurement: measurement.into(),
            tags: tags
                .iter()
                .map(|(k, v)| (Box::from(*k), Box::from(*v)))
                .collect(),
            logged: AtomicBool::new(false),
        });
        self.insert(entry.clone());
        (entry, true)
    }

    /// Adds a series defined by a replayed WAL record. A definition seen before is fine if it
    /// agrees; an id bound to another key is an error (the WAL is inconsistent).
    pub fn insert_replayed(&mut self, id: SeriesId, key: &str) -> Result<(), String> {
        if let Some(e) = self.by_id.get(&id) {
            return if &*e.key == key {
                Ok(())
            } else {
                Err(format!(
                    "series id {} defined twice: {:?} and {key:?}",
                    id.0, e.key
                ))
            };
        }
        let (measurement, tags) =
            parse_series_key(key).ok_or_else(|| format!("invalid series key {key:?}"))?;
        let entry = Arc::new(SeriesEntry {
            id,
            key: Arc::from(key),
            measurement: measurement.into(),
            tags: tags
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            logged: AtomicBool::new(true),
        });
        self.next_id = self.next_id.max(id.0 + 1);
        self.insert(entry);
        Ok(())
    }

    fn insert(&mut self, entry: Arc<SeriesEntry>) {
        let ids = self
            .by_measurement
            .entry(entry.measurement.clone())
            .or_default();
        match ids.binary_search(&entry.id) {
            Ok(_) => {}
            Err(pos) => ids.insert(pos, entry.id),
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

    /// Clears every series' logged flag (see the module doc).
    pub fn reset_logged(&self) {
        for e in self.by_id.values() {
            e.logged.store(false, Ordering::Release);
        }
    }

    /// The series of one measurement, in id order.
    pub fn measurement_series(&self, measurement: &str) -> impl Iterator<Item = &Arc<SeriesEntry>> {
        self.by_measurement
            .get(measurement)
            .into_iter()
            .flatten()
            .filter_map(|id| self.by_id.get(id))
    }

    /// Every measurement name, sorted.
    pub fn measurements(&self) -> impl Iterator<Item = &str> {
        self.by_measurement.keys().map(|m| m.as_ref())
    }
}
