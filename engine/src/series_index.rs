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
//!   a record that refers to it without defining it always follows one that defines it;
//! - a *hidden* series (dropped by `DROP SERIES` / `DROP MEASUREMENT`, not written since) keeps
//!   its id and key but is left out of every listing; a write of it brings it back (`unhide`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::batch::SeriesId;
use crate::line_protocol::parse_series_key;
use crate::scan::TagPredicate;

use crate::series_file::SeriesFile;

/// A series a predicate matched: its id, key and tags (sorted by key).
pub type MatchedSeries = (SeriesId, Arc<str>, Arc<[(String, String)]>);

/// Parsed series kept between queries, over all measurements (a measurement with more is
/// parsed at each query; beyond it, the kept ones are dropped to make room).
const CACHED_SERIES_MAX: usize = 1 << 16;

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
    /// Dropped series not written since: out of the listings.
    hidden: HashSet<SeriesId>,
    /// Hidden series per measurement, to tell a wholly hidden measurement without a scan.
    hidden_per_measurement: HashMap<String, u64>,
    /// The visible series of each measurement queried, keys parsed, ascending by key: a query
    /// over all of a measurement's series parses no key. A measurement's entry goes when one
    /// of its series is created, every entry when series are hidden or unhidden (or when
    /// they would hold more than [`CACHED_SERIES_MAX`] series); moving series to a new file
    /// changes nothing they hold.
    parsed: std::sync::Mutex<HashMap<Box<str>, Arc<[MatchedSeries]>>>,
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
        self.parsed_mut().remove(&entry.measurement);
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

    /// The series of one measurement as (id, key), ascending by key; hidden ones left out.
    pub fn measurement_series(&self, measurement: &str) -> Vec<(SeriesId, String)> {
        let mut out: Vec<(SeriesId, String)> = Vec::new();
        let hidden = !self.hidden.is_empty();
        if let Some(f) = &self.file {
            for id in f.measurement_series(measurement) {
                if hidden && self.hidden.contains(&SeriesId(id)) {
                    continue;
                }
                if let Some(key) = f.key_of(id) {
                    out.push((SeriesId(id), key.to_owned()));
                }
            }
        }
        for id in self.by_measurement.get(measurement).into_iter().flatten() {
            if hidden && self.hidden.contains(id) {
                continue;
            }
            if let Some(e) = self.by_id.get(id) {
                out.push((*id, e.key.to_string()));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// The series of `measurement` whose tags match `pred`, as (id, key, tags), ascending by
    /// key; hidden ones left out. When `pred` requires a tag to equal a non-empty value, the
    /// series file's postings of that value are the candidates: only their keys are read and
    /// parsed. Otherwise every series of the measurement is a candidate, parsed once and kept
    /// (up to [`CACHED_SERIES_MAX`] series over all measurements).
    pub fn matching_series(&self, measurement: &str, pred: &TagPredicate) -> Vec<MatchedSeries> {
        if let (Some(f), Some((k, v))) = (&self.file, pred.required_eq()) {
            let mut out = Vec::new();
            let ids = f.postings(measurement, k, v).map(SeriesId);
            let memory = self.by_measurement.get(measurement).into_iter().flatten();
            for id in ids.chain(memory.copied()) {
                if let Some(m) = self.parse(id).filter(|m| pred.matches(&m.2)) {
                    out.push(m);
                }
            }
            out.sort_by(|a, b| a.1.cmp(&b.1));
            return out;
        }
        self.parsed_series(measurement)
            .iter()
            .filter(|m| pred.matches(&m.2))
            .cloned()
            .collect()
    }

    /// Every visible series of `measurement`, parsed, ascending by key (kept when small).
    fn parsed_series(&self, measurement: &str) -> Arc<[MatchedSeries]> {
        if let Some(found) = self.parsed_ref().get(measurement) {
            return found.clone();
        }
        let file_ids = self
            .file
            .iter()
            .flat_map(|f| f.measurement_series(measurement));
        let memory = self.by_measurement.get(measurement).into_iter().flatten();
        let mut all: Vec<MatchedSeries> = file_ids
            .map(SeriesId)
            .chain(memory.copied())
            .filter_map(|id| self.parse(id))
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1));
        let all: Arc<[MatchedSeries]> = all.into();
        if all.len() <= CACHED_SERIES_MAX {
            let mut kept = self.parsed_ref();
            let held: usize = kept.values().map(|v| v.len()).sum();
            if held + all.len() > CACHED_SERIES_MAX {
                kept.clear();
            }
            kept.insert(measurement.into(), all.clone());
        }
        all
    }

    /// Series `id` parsed, unless hidden or unknown.
    fn parse(&self, id: SeriesId) -> Option<MatchedSeries> {
        if self.hidden.contains(&id) {
            return None;
        }
        let key = self.key_of(id)?;
        let (_, tags) = parse_series_key(key)?;
        Some((id, Arc::from(key), tags.into()))
    }

    fn parsed_ref(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<[MatchedSeries]>>> {
        self.parsed.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn parsed_mut(&mut self) -> &mut HashMap<Box<str>, Arc<[MatchedSeries]>> {
        self.parsed.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    /// Every measurement name with a series that is not hidden, sorted.
    pub fn measurements(&self) -> Vec<String> {
        let mut out: Vec<String> = self.by_measurement.keys().map(|m| m.to_string()).collect();
        if let Some(f) = &self.file {
            out.extend(f.measurements().map(str::to_owned));
        }
        out.sort();
        out.dedup();
        if !self.hidden_per_measurement.is_empty() {
            out.retain(|m| {
                self.hidden_per_measurement
                    .get(m)
                    .is_none_or(|&h| self.series_count(m) > h)
            });
        }
        out
    }

    /// Series of a measurement, hidden ones included.
    fn series_count(&self, measurement: &str) -> u64 {
        let file = self
            .file
            .as_ref()
            .map_or(0, |f| f.measurement_series_count(measurement));
        let memory = self.by_measurement.get(measurement).map_or(0, Vec::len);
        file + memory as u64
    }

    /// The tag keys of a measurement's visible series, sorted.
    pub fn tag_keys(&self, measurement: &str) -> Vec<String> {
        let mut keys: BTreeSet<String> = BTreeSet::new();
        match (
            &self.file,
            self.hidden_per_measurement.contains_key(measurement),
        ) {
            (Some(f), false) => {
                keys.extend(f.tag_keys(measurement).map(str::to_owned));
                for tags in self.memory_tags(measurement) {
                    keys.extend(tags.into_iter().map(|(k, _)| k));
                }
            }
            _ => {
                for (_, key) in self.measurement_series(measurement) {
                    if let Some((_, tags)) = parse_series_key(&key) {
                        keys.extend(tags.into_iter().map(|(k, _)| k));
                    }
                }
            }
        }
        keys.into_iter().collect()
    }

    /// The values tag `tag_key` takes in a measurement's visible series, sorted.
    pub fn tag_values(&self, measurement: &str, tag_key: &str) -> Vec<String> {
        let mut values: BTreeSet<String> = BTreeSet::new();
        let mut add = |tags: Vec<(String, String)>| {
            values.extend(
                tags.into_iter()
                    .filter(|(k, _)| k == tag_key)
                    .map(|(_, v)| v),
            );
        };
        match (
            &self.file,
            self.hidden_per_measurement.contains_key(measurement),
        ) {
            (Some(f), false) => {
                for tags in self.memory_tags(measurement) {
                    add(tags);
                }
                values.extend(f.tag_values(measurement, tag_key).map(str::to_owned));
            }
            _ => {
                for (_, key) in self.measurement_series(measurement) {
                    if let Some((_, tags)) = parse_series_key(&key) {
                        add(tags);
                    }
                }
            }
        }
        values.into_iter().collect()
    }

    /// The tags of each series of a measurement in the memory part (none is hidden: the caller
    /// checked).
    fn memory_tags(&self, measurement: &str) -> Vec<Vec<(String, String)>> {
        self.by_measurement
            .get(measurement)
            .into_iter()
            .flatten()
            .filter_map(|id| Some(parse_series_key(&self.by_id.get(id)?.key)?.1))
            .collect()
    }

    /// Hides series (`DROP SERIES`): out of every listing until [`SeriesIndex::unhide`].
    /// Unknown ids are ignored.
    pub fn hide(&mut self, ids: &[SeriesId]) {
        self.parsed_mut().clear();
        for &id in ids {
            let Some(key) = self.key_of(id) else { continue };
            let Some((measurement, _)) = parse_series_key(key) else {
                continue;
            };
            if self.hidden.insert(id) {
                *self.hidden_per_measurement.entry(measurement).or_default() += 1;
            }
        }
    }

    /// Brings a hidden series back (it was written); false if it was not hidden.
    pub fn unhide(&mut self, id: SeriesId) -> bool {
        if !self.hidden.remove(&id) {
            return false;
        }
        self.parsed_mut().clear();
        let measurement = self
            .key_of(id)
            .and_then(parse_series_key)
            .map(|(m, _)| m)
            .unwrap_or_default();
        if let Some(n) = self.hidden_per_measurement.get_mut(&measurement) {
            *n -= 1;
            if *n == 0 {
                self.hidden_per_measurement.remove(&measurement);
            }
        }
        true
    }

    pub fn has_hidden(&self) -> bool {
        !self.hidden.is_empty()
    }

    pub fn is_hidden(&self, id: SeriesId) -> bool {
        self.hidden.contains(&id)
    }

    /// The hidden series, ascending (for the manifest).
    pub fn hidden(&self) -> Vec<SeriesId> {
        let mut ids: Vec<SeriesId> = self.hidden.iter().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The series created with an id of at least `first` that are still in the memory part,
    /// as (id, key). (Series move to the file only at a flush.)
    pub fn created_since(&self, first: u64) -> Vec<(SeriesId, Arc<str>)> {
        self.by_id
            .values()
            .filter(|e| e.id.0 >= first)
            .map(|e| (e.id, e.key.clone()))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(index: &SeriesIndex, m: &str) -> Vec<String> {
        index
            .measurement_series(m)
            .into_iter()
            .map(|(_, k)| k)
            .collect()
    }

    /// Hidden series leave every listing, from the file part and the memory part alike, and
    /// come back when unhidden.
    #[test]
    fn hidden_series_leave_the_listings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("series.idx");
        let file_series = ["air,district=n,station=a", "air,station=b", "noise,site=x"];
        SeriesFile::write(
            &path,
            file_series.iter().enumerate().map(|(i, k)| (i as u64, *k)),
        )
        .unwrap();
        let mut index = SeriesIndex::with_file(Some(Arc::new(SeriesFile::open(&path).unwrap())));
        let (c, _) = index.get_or_create("air,station=c", "air");
        let (t, _) = index.get_or_create("traffic,lane=1", "traffic");
        assert_eq!(index.measurements(), vec!["air", "noise", "traffic"]);
        assert_eq!(index.tag_keys("air"), vec!["district", "station"]);
        assert_eq!(index.tag_values("air", "station"), vec!["a", "b", "c"]);

        index.hide(&[SeriesId(0), c, t, SeriesId(99)]);
        assert!(index.has_hidden() && index.is_hidden(c) && !index.is_hidden(SeriesId(1)));
        assert_eq!(index.hidden(), vec![SeriesId(0), c, t]);
        assert_eq!(keys(&index, "air"), vec!["air,station=b"]);
        assert_eq!(index.measurements(), vec!["air", "noise"]);
        assert_eq!(index.tag_keys("air"), vec!["station"]);
        assert_eq!(index.tag_values("air", "station"), vec!["b"]);
        assert!(index.tag_values("air", "district").is_empty());
        assert!(index.tag_keys("traffic").is_empty());
        // Still known: the key keeps its id.
        assert_eq!(index.id_of("air,station=c"), Some(c));

        index.hide(&[SeriesId(1)]);
        assert_eq!(index.measurements(), vec!["noise"]);
        assert!(index.unhide(SeriesId(1)));
        assert!(!index.unhide(SeriesId(1)));
        assert!(index.unhide(t));
        assert_eq!(index.measurements(), vec!["air", "noise", "traffic"]);
        assert_eq!(index.tag_keys("traffic"), vec!["lane"]);
        assert!(index.unhide(SeriesId(0)) && index.unhide(c));
        assert!(!index.has_hidden());
        assert_eq!(index.tag_keys("air"), vec!["district", "station"]);
    }

    #[test]
    fn matching_series_through_postings_agrees_with_testing_every_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("series.idx");
        let file_series = [
            "air,district=n,station=a",
            "air,district=n,station=b",
            "air,district=s,station=c",
            "air,station=d",
        ];
        SeriesFile::write(
            &path,
            file_series.iter().enumerate().map(|(i, k)| (i as u64, *k)),
        )
        .unwrap();
        let mut index = SeriesIndex::with_file(Some(Arc::new(SeriesFile::open(&path).unwrap())));
        index.get_or_create("air,district=n,station=e", "air");
        index.hide(&[SeriesId(1)]);
        let preds = [
            TagPredicate::All,
            TagPredicate::eq("district", "n"),
            TagPredicate::eq("district", ""),
            TagPredicate::And(vec![
                TagPredicate::NotEq("station".into(), "a".into()),
                TagPredicate::eq("district", "n"),
            ]),
            TagPredicate::Or(vec![
                TagPredicate::eq("station", "c"),
                TagPredicate::eq("station", "d"),
            ]),
            TagPredicate::eq("district", "nowhere"),
        ];
        for p in &preds {
            let got: Vec<String> = index
                .matching_series("air", p)
                .into_iter()
                .map(|(_, k, _)| k.to_string())
                .collect();
            let want: Vec<String> = index
                .measurement_series("air")
                .into_iter()
                .filter(|(_, k)| parse_series_key(k).is_some_and(|(_, t)| p.matches(&t)))
                .map(|(_, k)| k)
                .collect();
            assert_eq!(got, want, "{p:?}");
        }
        let n: Vec<String> = index
            .matching_series("air", &TagPredicate::eq("district", "n"))
            .into_iter()
            .map(|(_, k, _)| k.to_string())
            .collect();
        assert_eq!(n, ["air,district=n,station=a", "air,district=n,station=e"]);
    }

    /// The parsed series kept between queries follow every change of the index.
    #[test]
    fn kept_parsed_series_follow_creation_hiding_and_new_files() {
        let dir = tempfile::tempdir().unwrap();
        let all = |index: &SeriesIndex| -> Vec<String> {
            index
                .matching_series("air", &TagPredicate::All)
                .iter()
                .map(|(_, k, tags)| {
                    assert_eq!(
                        parse_series_key(k).map(|(_, t)| t).as_deref(),
                        Some(&tags[..])
                    );
                    k.to_string()
                })
                .collect()
        };
        let mut index = SeriesIndex::with_file(None);
        let (a, _) = index.get_or_create("air,station=a", "air");
        assert_eq!(all(&index), ["air,station=a"]);
        index.get_or_create("noise,site=x", "noise");
        let (b, _) = index.get_or_create("air,station=b", "air");
        assert_eq!(all(&index), ["air,station=a", "air,station=b"]);
        index.hide(&[a]);
        assert_eq!(all(&index), ["air,station=b"]);
        assert!(index.unhide(a));
        assert_eq!(all(&index), ["air,station=a", "air,station=b"]);
        // The memory part moves to a file: the same series, now read from the file.
        let path = dir.path().join("series.idx");
        SeriesFile::write(
            &path,
            index.memory_series().iter().map(|(id, k)| (id.0, &**k)),
        )
        .unwrap();
        let written = [a, b, index.id_of("noise,site=x").unwrap()];
        index.adopt_file(Arc::new(SeriesFile::open(&path).unwrap()), &written);
        assert_eq!(index.in_memory(), 0);
        assert_eq!(all(&index), ["air,station=a", "air,station=b"]);
        index.get_or_create("air,station=c", "air");
        assert_eq!(
            all(&index),
            ["air,station=a", "air,station=b", "air,station=c"]
        );
        let fresh = SeriesIndex::with_file(Some(Arc::new(SeriesFile::open(&path).unwrap())));
        assert_eq!(all(&fresh), ["air,station=a", "air,station=b"]);
    }
}
