//! The write cache: for the series a database's writers met recently, the ids a line resolves
//! to, keyed by the line's measurement and tag set exactly as written.
//!
//! Without it every line builds its canonical series key (escaping, tags sorted), hashes it,
//! looks it up in the series index (memory part, then the series file) and looks up each field
//! in the schema under its lock. A sensor sends the same series bytes every time, so a hit here
//! costs one hash of those bytes and a comparison of each field key.
//!
//! Invariants:
//! - an entry maps bytes `b` to the id of the series that a line starting with `b` belongs to
//!   (the same bytes always parse to the same measurement and tags), and lists fields of that
//!   series' measurement with their ids and types;
//! - every id in the cache was logged in WAL epoch `epoch` (its definition is in a WAL record
//!   of that epoch, or durable in a file): entries are added only after the batch that used
//!   them was appended, under the epoch it was appended in, and a resolver uses them only if it
//!   resolves in that same epoch. A new WAL epoch (a flush, a `DROP MEASUREMENT`) therefore
//!   invalidates everything, which also keeps dropped fields out;
//! - the cache holds at most [`MAX_BYTES`]; once full it takes nothing more until the next
//!   epoch empties it.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{RwLock, RwLockReadGuard};

use rustc_hash::FxHasher;

use crate::batch::{FieldId, SeriesId};
use crate::model::FieldType;

/// Upper bound on the bytes the cache holds (keys, field lists, map slots, roughly).
pub const MAX_BYTES: usize = 4 << 20;

/// Bytes of bookkeeping counted per entry beside its key and fields.
const ENTRY_OVERHEAD: usize = 64;

/// One field of a cached series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedField {
    pub key: Box<str>,
    pub id: FieldId,
    pub field_type: FieldType,
}

/// What a line's series bytes resolve to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CachedSeries {
    pub id: Option<SeriesId>,
    /// Few per series: searched linearly.
    pub fields: Vec<CachedField>,
}

impl CachedSeries {
    fn bytes(&self) -> usize {
        self.fields
            .iter()
            .map(|f| f.key.len() + std::mem::size_of::<CachedField>())
            .sum::<usize>()
    }
}

/// A series resolved the slow way, to be cached once its batch is logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learned {
    pub raw: Box<[u8]>,
    pub series: SeriesId,
    pub fields: Vec<CachedField>,
}

#[derive(Debug, Default)]
pub struct Entries {
    epoch: u64,
    bytes: usize,
    map: HashMap<Box<[u8]>, CachedSeries, BuildHasherDefault<FxHasher>>,
}

impl Entries {
    /// The entry for `raw`, if the cache is valid for a resolver of `epoch`.
    #[inline]
    pub fn get(&self, epoch: u64, raw: &[u8]) -> Option<&CachedSeries> {
        if self.epoch != epoch || raw.is_empty() {
            return None;
        }
        self.map.get(raw)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[derive(Debug, Default)]
pub struct WriteCache {
    entries: RwLock<Entries>,
}

impl WriteCache {
    pub fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds what a batch appended in WAL epoch `epoch` resolved. Learned from an older epoch
    /// than the cache's, it is dropped; from a newer one, it replaces everything.
    pub fn learn(&self, epoch: u64, learned: Vec<Learned>) {
        if learned.is_empty() {
            return;
        }
        let mut e = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if epoch < e.epoch {
            return;
        }
        if epoch > e.epoch {
            e.map.clear();
            e.bytes = 0;
            e.epoch = epoch;
        }
        for l in learned {
            if e.bytes >= MAX_BYTES {
                return;
            }
            let entry = match e.map.get_mut(&l.raw) {
                Some(entry) => entry,
                None => {
                    let added = l.raw.len() + ENTRY_OVERHEAD;
                    e.bytes += added;
                    e.map.entry(l.raw).or_default()
                }
            };
            let before = entry.bytes();
            entry.id = Some(l.series);
            for f in l.fields {
                match entry.fields.iter_mut().find(|c| c.key == f.key) {
                    Some(c) => *c = f,
                    None => entry.fields.push(f),
                }
            }
            let grown = entry.bytes() - before;
            e.bytes += grown;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned(raw: &str, series: u64, fields: &[(&str, u32)]) -> Learned {
        Learned {
            raw: raw.as_bytes().into(),
            series: SeriesId(series),
            fields: fields
                .iter()
                .map(|&(k, id)| CachedField {
                    key: k.into(),
                    id: FieldId(id),
                    field_type: FieldType::Float,
                })
                .collect(),
        }
    }

    #[test]
    fn entries_serve_only_their_epoch() {
        let c = WriteCache::default();
        c.learn(3, vec![learned("m,a=1", 7, &[("x", 1)])]);
        assert_eq!(
            c.read().get(3, b"m,a=1").and_then(|s| s.id),
            Some(SeriesId(7))
        );
        assert!(c.read().get(2, b"m,a=1").is_none());
        assert!(c.read().get(4, b"m,a=1").is_none());
        assert!(c.read().get(3, b"m,a=2").is_none());
    }

    #[test]
    fn a_newer_epoch_replaces_and_an_older_one_is_ignored() {
        let c = WriteCache::default();
        c.learn(3, vec![learned("m,a=1", 7, &[("x", 1)])]);
        c.learn(2, vec![learned("m,a=2", 8, &[("x", 1)])]);
        assert!(c.read().get(3, b"m,a=2").is_none());
        c.learn(4, vec![learned("m,a=2", 8, &[("x", 1)])]);
        assert!(c.read().get(4, b"m,a=1").is_none());
        assert_eq!(
            c.read().get(4, b"m,a=2").and_then(|s| s.id),
            Some(SeriesId(8))
        );
        assert_eq!(c.read().len(), 1);
    }

    #[test]
    fn fields_learned_later_join_the_entry() {
        let c = WriteCache::default();
        c.learn(1, vec![learned("m", 1, &[("x", 1)])]);
        c.learn(1, vec![learned("m", 1, &[("y", 2), ("x", 1)])]);
        let e = c.read();
        let keys: Vec<&str> = e
            .get(1, b"m")
            .unwrap()
            .fields
            .iter()
            .map(|f| &*f.key)
            .collect();
        assert_eq!(keys, ["x", "y"]);
    }

    #[test]
    fn a_full_cache_takes_nothing_more_until_the_next_epoch() {
        let c = WriteCache::default();
        let long = "k".repeat(1000);
        let many: Vec<Learned> = (0..10_000)
            .map(|i| learned(&format!("m,{long}={i}"), i, &[("x", 1)]))
            .collect();
        c.learn(1, many);
        let n = c.read().len();
        assert!(n < 10_000 && n * 1000 <= MAX_BYTES + 2000, "{n} entries");
        c.learn(2, vec![learned("m", 1, &[("x", 1)])]);
        assert_eq!(c.read().len(), 1);
    }
}
