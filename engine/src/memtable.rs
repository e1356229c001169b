//! The memtable: every point written since the last flush, per series and field, typed.
//!
//! Writes append to a column and only note whether the column is still in time order; a
//! reader that finds a column out of order sorts it once in place (stable, so among points with
//! the same timestamp the last written stays last) and drops all but the last write of each
//! timestamp. Appending stays O(1) for the usual in-order stream, and late points cost a sort
//! only when someone reads.
//!
//! Invariants:
//! - points are applied in WAL order (the caller holds the write sequencer), so "last write
//!   wins" means the same thing here and on replay;
//! - a column holds values of one type only: its field's type.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rustc_hash::FxHasher;

use crate::batch::{Batch, FieldId, SeriesId};
use crate::model::{FieldType, FieldValue, OwnedFieldValue};

/// Values of one column, in a vector of their own type.
#[derive(Debug, Clone)]
pub enum Values {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    String(Vec<Box<str>>),
    Boolean(Vec<bool>),
}

impl Values {
    pub fn new(t: FieldType) -> Values {
        match t {
            FieldType::Float => Values::Float(Vec::new()),
            FieldType::Integer => Values::Integer(Vec::new()),
            FieldType::Unsigned => Values::Unsigned(Vec::new()),
            FieldType::String => Values::String(Vec::new()),
            FieldType::Boolean => Values::Boolean(Vec::new()),
        }
    }

    /// Appends `v`; returns the heap bytes it took outside the vector (a string's text), or
    /// `None` if its type is not the column's.
    fn push(&mut self, v: &OwnedFieldValue) -> Option<usize> {
        match (self, v) {
            (Values::Float(c), FieldValue::Float(x)) => c.push(*x),
            (Values::Integer(c), FieldValue::Integer(x)) => c.push(*x),
            (Values::Unsigned(c), FieldValue::Unsigned(x)) => c.push(*x),
            (Values::String(c), FieldValue::String(s)) => {
                c.push(Box::from(s.as_ref()));
                return Some(s.len());
            }
            (Values::Boolean(c), FieldValue::Boolean(x)) => c.push(*x),
            _ => return None,
        }
        Some(0)
    }

    fn reserve_exact(&mut self, more: usize) {
        match self {
            Values::Float(c) => c.reserve_exact(more),
            Values::Integer(c) => c.reserve_exact(more),
            Values::Unsigned(c) => c.reserve_exact(more),
            Values::String(c) => c.reserve_exact(more),
            Values::Boolean(c) => c.reserve_exact(more),
        }
    }

    /// Bytes the vector has allocated (its capacity, not its length).
    fn capacity_bytes(&self) -> usize {
        match self {
            Values::Float(c) => c.capacity() * 8,
            Values::Integer(c) => c.capacity() * 8,
            Values::Unsigned(c) => c.capacity() * 8,
            Values::String(c) => c.capacity() * 16,
            Values::Boolean(c) => c.capacity(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Float(c) => c.len(),
            Values::Integer(c) => c.len(),
            Values::Unsigned(c) => c.len(),
            Values::String(c) => c.len(),
            Values::Boolean(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn field_type(&self) -> FieldType {
        match self {
            Values::Float(_) => FieldType::Float,
            Values::Integer(_) => FieldType::Integer,
            Values::Unsigned(_) => FieldType::Unsigned,
            Values::String(_) => FieldType::String,
            Values::Boolean(_) => FieldType::Boolean,
        }
    }

    /// Appends `other[range]`; `other` must have this column's type (else nothing happens).
    pub fn extend_from(&mut self, other: &Values, range: std::ops::Range<usize>) {
        match (self, other) {
            (Values::Float(a), Values::Float(b)) => a.extend_from_slice(&b[range]),
            (Values::Integer(a), Values::Integer(b)) => a.extend_from_slice(&b[range]),
            (Values::Unsigned(a), Values::Unsigned(b)) => a.extend_from_slice(&b[range]),
            (Values::String(a), Values::String(b)) => a.extend_from_slice(&b[range]),
            (Values::Boolean(a), Values::Boolean(b)) => a.extend_from_slice(&b[range]),
            _ => debug_assert!(false, "extend_from across types"),
        }
    }

    /// Appends `src[i]`; `src` must have this column's type (else nothing happens).
    pub fn push_from(&mut self, src: &Values, i: usize) {
        self.extend_from(src, i..i + 1);
    }

    pub fn get(&self, i: usize) -> OwnedFieldValue {
        match self {
            Values::Float(c) => FieldValue::Float(c[i]),
            Values::Integer(c) => FieldValue::Integer(c[i]),
            Values::Unsigned(c) => FieldValue::Unsigned(c[i]),
            Values::String(c) => FieldValue::String(c[i].to_string().into()),
            Values::Boolean(c) => FieldValue::Boolean(c[i]),
        }
    }

    /// Keeps the elements at `order`, in that order.
    fn select(&mut self, order: &[u32]) {
        fn pick<T: Clone>(v: &mut Vec<T>, order: &[u32]) {
            *v = order.iter().map(|&i| v[i as usize].clone()).collect();
        }
        match self {
            Values::Float(c) => pick(c, order),
            Values::Integer(c) => pick(c, order),
            Values::Unsigned(c) => pick(c, order),
            Values::String(c) => pick(c, order),
            Values::Boolean(c) => pick(c, order),
        }
    }
}

/// One field of one series.
#[derive(Debug, Clone)]
pub struct Column {
    pub times: Vec<i64>,
    pub values: Values,
    /// Times strictly increasing: sorted, and no duplicate timestamps.
    normalized: bool,
}

impl Column {
    pub fn new(t: FieldType) -> Column {
        Column {
            times: Vec::new(),
            values: Values::new(t),
            normalized: true,
        }
    }

    /// A column from times that are already strictly increasing, one value each.
    pub fn from_sorted(times: Vec<i64>, values: Values) -> Column {
        debug_assert!(times.windows(2).all(|w| w[0] < w[1]));
        debug_assert_eq!(times.len(), values.len());
        Column {
            times,
            values,
            normalized: true,
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Appends a point; returns the heap bytes it cost: the vectors' growth when they
    /// reallocate (so the memtable's count is what it has allocated, slack included, not 16
    /// bytes a value), plus a string's text.
    fn push(&mut self, time: i64, v: &OwnedFieldValue) -> Option<usize> {
        let mut grown = 0;
        if self.times.len() == self.times.capacity() {
            let before = self.heap_bytes();
            // Grow by a quarter, not double: a full memtable then holds at most 25% slack
            // (12% on average) instead of up to 100%, and its columns, which fill in step
            // when series are sampled alike, do not all double at once.
            let more = (self.times.len() / 4).max(16);
            self.times.reserve_exact(more);
            self.values.reserve_exact(more);
            grown = self.heap_bytes() - before;
        }
        let text = self.values.push(v)?;
        if let Some(&last) = self.times.last() {
            if time <= last {
                self.normalized = false;
            }
        }
        self.times.push(time);
        Some(grown + text)
    }

    fn heap_bytes(&self) -> usize {
        self.times.capacity() * 8 + self.values.capacity_bytes()
    }

    /// Sorts by time and keeps only the last write of each timestamp.
    fn normalize(&mut self) {
        if self.normalized {
            return;
        }
        let mut order: Vec<u32> = (0..self.times.len() as u32).collect();
        // Stable: equal timestamps keep their write order, so the last one is the latest.
        order.sort_by_key(|&i| self.times[i as usize]);
        let mut keep = Vec::with_capacity(order.len());
        for (j, &i) in order.iter().enumerate() {
            let next_same = order
                .get(j + 1)
                .is_some_and(|&n| self.times[n as usize] == self.times[i as usize]);
            if !next_same {
                keep.push(i);
            }
        }
        self.times = keep.iter().map(|&i| self.times[i as usize]).collect();
        self.values.select(&keep);
        self.normalized = true;
    }

    /// The index range of points with `min <= time <= max`, after normalizing.
    pub fn range(&mut self, min: i64, max: i64) -> std::ops::Range<usize> {
        self.normalize();
        let start = self.times.partition_point(|&t| t < min);
        let end = self.times.partition_point(|&t| t <= max);
        start..end.max(start)
    }
}

/// Every buffered field of one series.
#[derive(Debug, Default)]
pub struct SeriesBuffer {
    /// Few fields per series: a vector searched linearly beats a map.
    fields: Vec<(FieldId, Column)>,
}

impl SeriesBuffer {
    /// The column of `field`, normalized, if the series has any point of it.
    pub fn column(&mut self, field: FieldId) -> Option<&mut Column> {
        self.fields
            .iter_mut()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| c)
    }
}

/// Counts for flush decisions and `/metrics`.
#[derive(Debug, Default)]
pub struct MemtableStats {
    pub bytes: AtomicUsize,
    pub values: AtomicU64,
}

#[derive(Debug, Default)]
pub struct Memtable {
    series: RwLock<SeriesMap>,
    pub stats: MemtableStats,
}

type SeriesMap = HashMap<SeriesId, Arc<Mutex<SeriesBuffer>>, BuildHasherDefault<FxHasher>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Memtable {
    /// Applies a batch. `type_of` gives each field's type (from the schema). Returns the number
    /// of values dropped because their field is unknown or their type is not the field's,
    /// which only a corrupt WAL can cause.
    pub fn apply(&self, batch: &Batch, type_of: impl Fn(FieldId) -> Option<FieldType>) -> u64 {
        let mut dropped = 0;
        let mut bytes = 0;
        // One read lock for the batch; the write lock only to add a series.
        let mut map = self.series.read().unwrap_or_else(|e| e.into_inner());
        let n = batch.point_count();
        let mut i = 0;
        while i < n {
            let sid = batch.series[i];
            let Some(buffer) = map.get(&sid) else {
                drop(map);
                self.series
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(sid)
                    .or_default();
                map = self.series.read().unwrap_or_else(|e| e.into_inner());
                continue;
            };
            // The points of this series that follow one another share one lock.
            let mut buffer = lock(buffer);
            let run_end = i + batch.series[i..].iter().take_while(|&&s| s == sid).count();
            for p in i..run_end {
                bytes += Self::apply_point(&mut buffer, batch, p, &type_of, &mut dropped);
            }
            i = run_end;
        }
        drop(map);
        self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.stats
            .values
            .fetch_add(batch.value_count() as u64 - dropped, Ordering::Relaxed);
        dropped
    }

    /// Appends point `i` of `batch` to `buffer` (its series'); returns the bytes it cost and
    /// counts its dropped values in `dropped`.
    fn apply_point(
        buffer: &mut SeriesBuffer,
        batch: &Batch,
        i: usize,
        type_of: &impl Fn(FieldId) -> Option<FieldType>,
        dropped: &mut u64,
    ) -> usize {
        let mut bytes = 0;
        {
            let time = batch.times[i];
            let (ids, values) = batch.fields_of(i);
            for (&fid, value) in ids.iter().zip(values) {
                let pos = match buffer.fields.iter().position(|(f, _)| *f == fid) {
                    Some(p) => p,
                    None => match type_of(fid) {
                        Some(t) => {
                            buffer.fields.push((fid, Column::new(t)));
                            buffer.fields.len() - 1
                        }
                        None => {
                            *dropped += 1;
                            continue;
                        }
                    },
                };
                match buffer.fields[pos].1.push(time, value) {
                    Some(b) => bytes += b,
                    None => *dropped += 1,
                }
            }
        }
        bytes
    }

    /// The buffer of a series, if it has points here.
    pub fn get(&self, sid: SeriesId) -> Option<Arc<Mutex<SeriesBuffer>>> {
        self.series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&sid)
            .cloned()
    }

    /// Ids of the series with points here.
    pub fn series_ids(&self) -> Vec<SeriesId> {
        self.series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// A normalized copy of every column of a series (for flushing).
    pub fn columns_of(&self, sid: SeriesId) -> Vec<(FieldId, Column)> {
        let Some(buffer) = self.get(sid) else {
            return Vec::new();
        };
        let mut buffer = lock(&buffer);
        buffer
            .fields
            .iter_mut()
            .map(|(f, c)| {
                c.normalize();
                (*f, c.clone())
            })
            .collect()
    }

    /// Removes series `sid`'s points with `min <= time <= max` (every field); returns how many
    /// values went. For deletes: the caller holds the write sequencer.
    pub fn delete(&self, sid: SeriesId, min: i64, max: i64) -> u64 {
        let Some(buffer) = self.get(sid) else {
            return 0;
        };
        let mut buffer = lock(&buffer);
        let mut removed = 0;
        for (_, col) in &mut buffer.fields {
            let r = col.range(min, max);
            if r.is_empty() {
                continue;
            }
            removed += r.len() as u64;
            let n = col.len();
            let mut values = Values::new(col.values.field_type());
            values.extend_from(&col.values, 0..r.start);
            values.extend_from(&col.values, r.end..n);
            let mut times = Vec::with_capacity(n - r.len());
            times.extend_from_slice(&col.times[..r.start]);
            times.extend_from_slice(&col.times[r.end..]);
            *col = Column::from_sorted(times, values);
        }
        self.stats.values.fetch_sub(removed, Ordering::Relaxed);
        removed
    }

    /// Locks a series buffer for reading (columns normalize on access).
    pub fn lock_buffer(buffer: &Mutex<SeriesBuffer>) -> MutexGuard<'_, SeriesBuffer> {
        lock(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(points: &[(i64, f64)]) -> Column {
        let mut c = Column::new(FieldType::Float);
        for &(t, v) in points {
            c.push(t, &FieldValue::Float(v)).unwrap();
        }
        c
    }

    fn floats(c: &Column) -> Vec<(i64, f64)> {
        let Values::Float(v) = &c.values else {
            panic!("not floats")
        };
        c.times.iter().copied().zip(v.iter().copied()).collect()
    }

    #[test]
    fn out_of_order_points_are_sorted_and_the_last_duplicate_wins() {
        let mut c = col(&[
            (30, 3.0),
            (10, 1.0),
            (20, 2.0),
            (10, 1.5),
            (30, 3.5),
            (40, 4.0),
        ]);
        let r = c.range(i64::MIN, i64::MAX);
        assert_eq!(r, 0..4);
        assert_eq!(floats(&c), vec![(10, 1.5), (20, 2.0), (30, 3.5), (40, 4.0)]);
    }

    #[test]
    fn a_duplicate_of_the_last_timestamp_replaces_it() {
        let mut c = col(&[(10, 1.0), (10, 2.0)]);
        c.range(0, 100);
        assert_eq!(floats(&c), vec![(10, 2.0)]);
    }

    #[test]
    fn ranges_are_inclusive() {
        let mut c = col(&[(10, 1.0), (20, 2.0), (30, 3.0)]);
        assert_eq!(c.range(10, 30), 0..3);
        assert_eq!(c.range(11, 29), 1..2);
        assert_eq!(c.range(31, 40), 3..3);
        assert_eq!(c.range(40, 10), 3..3);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused() {
        let mut c = Column::new(FieldType::Integer);
        assert!(c.push(1, &FieldValue::Float(1.0)).is_none());
        assert!(c.times.is_empty());
    }
}
