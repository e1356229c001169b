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
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};

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

    /// Whether `v` has this column's type.
    fn accepts(&self, v: &OwnedFieldValue) -> bool {
        matches!(
            (self, v),
            (Values::Float(_), FieldValue::Float(_))
                | (Values::Integer(_), FieldValue::Integer(_))
                | (Values::Unsigned(_), FieldValue::Unsigned(_))
                | (Values::String(_), FieldValue::String(_))
                | (Values::Boolean(_), FieldValue::Boolean(_))
        )
    }

    /// Removes the elements in `range`.
    fn remove(&mut self, range: std::ops::Range<usize>) {
        match self {
            Values::Float(c) => drop(c.drain(range)),
            Values::Integer(c) => drop(c.drain(range)),
            Values::Unsigned(c) => drop(c.drain(range)),
            Values::String(c) => drop(c.drain(range)),
            Values::Boolean(c) => drop(c.drain(range)),
        }
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

    /// Removes every value, keeping the allocation.
    pub fn clear(&mut self) {
        self.remove(0..self.len());
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
            let more = growth(self.times.len(), 0);
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
        let keep = latest_per_time(&self.times);
        self.times = keep.iter().map(|&i| self.times[i as usize]).collect();
        self.values.select(&keep);
        self.normalized = true;
    }

    /// The index range of points with `min <= time <= max`, after normalizing.
    pub fn range(&mut self, min: i64, max: i64) -> std::ops::Range<usize> {
        self.normalize();
        time_range(&self.times, min, max)
    }
}

/// The index range of `times` (sorted) with `min <= time <= max`.
fn time_range(times: &[i64], min: i64, max: i64) -> std::ops::Range<usize> {
    let start = times.partition_point(|&t| t < min);
    let end = times.partition_point(|&t| t <= max);
    start..end.max(start)
}

/// How many elements a full column vector of `len` grows by; `hint` is what its series held
/// in the memtable before this one (0 if unknown).
///
/// An empty vector takes the hint at once, so a series written at a steady rate allocates
/// once per memtable instead of once per step. Past that it grows by a quarter, not double:
/// a full memtable then holds at most 25% slack (12% on average) instead of up to 100%, and
/// its columns, which fill in step when series are sampled alike, do not all double at once.
fn growth(len: usize, hint: usize) -> usize {
    if len == 0 && hint > 0 {
        return hint;
    }
    (len / 4).max(16)
}

/// The indexes of `times` in time order, keeping only the last written of each timestamp.
fn latest_per_time(times: &[i64]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..times.len() as u32).collect();
    // Stable: equal timestamps keep their write order, so the last one is the latest.
    order.sort_by_key(|&i| times[i as usize]);
    let mut keep = Vec::with_capacity(order.len());
    for (j, &i) in order.iter().enumerate() {
        let next_same = order
            .get(j + 1)
            .is_some_and(|&n| times[n as usize] == times[i as usize]);
        if !next_same {
            keep.push(i);
        }
    }
    keep
}

/// A normalized column of a series buffer, borrowed: times strictly increasing, one value
/// each.
#[derive(Debug, Clone, Copy)]
pub struct ColumnRef<'a> {
    pub times: &'a [i64],
    pub values: &'a Values,
}

impl ColumnRef<'_> {
    /// The index range of points with `min <= time <= max`.
    pub fn range(&self, min: i64, max: i64) -> std::ops::Range<usize> {
        time_range(self.times, min, max)
    }

    pub fn to_column(self) -> Column {
        Column::from_sorted(self.times.to_vec(), self.values.clone())
    }

    /// A copy of the points with `min <= time <= max`.
    pub fn copy_range(self, min: i64, max: i64) -> Column {
        let r = self.range(min, max);
        let mut values = Values::new(self.values.field_type());
        values.extend_from(self.values, r.clone());
        Column::from_sorted(self.times[r].to_vec(), values)
    }
}

/// Every buffered field of one series.
///
/// A series whose every point carries the same fields (the usual case: a sensor reports
/// all its readings at once) keeps its times once, in `rows`, and one value per row in each
/// column of `dense`. The first point whose fields differ (another set, another order, a
/// value of the wrong type) moves the series to `sparse`, where every field has its own
/// times, for the rest of this memtable's life.
///
/// Invariants:
/// - every column of `dense` has `rows.len()` values, and `dense` holds each field once;
/// - `dense` and `rows` are empty whenever `sparse` is not;
/// - `rows_ordered` is true only if `rows` is strictly increasing.
#[derive(Debug)]
pub struct SeriesBuffer {
    rows: Vec<i64>,
    rows_ordered: bool,
    /// Few fields per series: vectors searched linearly beat a map.
    dense: Vec<(FieldId, Values)>,
    sparse: Vec<(FieldId, Column)>,
    /// Rows to reserve on the first write (see [`growth`]).
    hint: usize,
}

impl SeriesBuffer {
    fn with_hint(hint: usize) -> SeriesBuffer {
        SeriesBuffer {
            rows: Vec::new(),
            rows_ordered: true,
            dense: Vec::new(),
            sparse: Vec::new(),
            hint,
        }
    }

    /// The column of `field`, normalized, if the series has any point of it.
    pub fn column(&mut self, field: FieldId) -> Option<ColumnRef<'_>> {
        self.normalize();
        if let Some((_, values)) = self.dense.iter().find(|(f, _)| *f == field) {
            return Some(ColumnRef {
                times: &self.rows,
                values,
            });
        }
        self.sparse
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| ColumnRef {
                times: &c.times,
                values: &c.values,
            })
    }

    /// Rows (dense) or values (sparse, the longest field) held.
    fn len(&self) -> usize {
        if self.sparse.is_empty() {
            self.rows.len()
        } else {
            self.sparse.iter().map(|(_, c)| c.len()).max().unwrap_or(0)
        }
    }

    fn heap_bytes(&self) -> usize {
        self.rows.capacity() * 8
            + self
                .dense
                .iter()
                .map(|(_, v)| v.capacity_bytes())
                .sum::<usize>()
            + self
                .sparse
                .iter()
                .map(|(_, c)| c.heap_bytes())
                .sum::<usize>()
    }

    /// Appends one point; returns the heap bytes it cost (see [`Column::push`]) and how many
    /// of its values were dropped (a field `type_of` does not know, or a value of another
    /// type than its field's: only a corrupt WAL has those).
    fn push(
        &mut self,
        time: i64,
        ids: &[FieldId],
        values: &[OwnedFieldValue],
        type_of: &impl Fn(FieldId) -> Option<FieldType>,
    ) -> (usize, u64) {
        if self.sparse.is_empty() {
            if self.rows.is_empty() && self.dense.is_empty() {
                self.dense = Self::dense_fields(ids, values, type_of).unwrap_or_default();
            }
            if !self.dense.is_empty()
                && self.dense.len() == ids.len()
                && self
                    .dense
                    .iter()
                    .zip(ids.iter().zip(values))
                    .all(|((f, col), (id, v))| f == id && col.accepts(v))
            {
                return (self.push_row(time, values), 0);
            }
            // The copies of the times count, as what the point itself costs.
            let before = self.heap_bytes();
            self.make_sparse();
            let copied = self.heap_bytes().saturating_sub(before);
            let (bytes, dropped) = self.push_sparse(time, ids, values, type_of);
            return (copied + bytes, dropped);
        }
        self.push_sparse(time, ids, values, type_of)
    }

    /// The dense columns for a first point with these fields, if each is known, appears
    /// once and has its field's type.
    fn dense_fields(
        ids: &[FieldId],
        values: &[OwnedFieldValue],
        type_of: &impl Fn(FieldId) -> Option<FieldType>,
    ) -> Option<Vec<(FieldId, Values)>> {
        let mut dense = Vec::with_capacity(ids.len());
        for (i, (&id, v)) in ids.iter().zip(values).enumerate() {
            let t = type_of(id)?;
            if t != v.field_type() || ids[..i].contains(&id) {
                return None;
            }
            dense.push((id, Values::new(t)));
        }
        Some(dense)
    }

    /// Appends a row to the dense columns (the caller checked its fields and types).
    fn push_row(&mut self, time: i64, values: &[OwnedFieldValue]) -> usize {
        let mut bytes = 0;
        if self.rows.len() == self.rows.capacity() {
            let before = self.heap_bytes();
            let more = growth(self.rows.len(), self.hint);
            self.rows.reserve_exact(more);
            for (_, col) in &mut self.dense {
                col.reserve_exact(more);
            }
            bytes = self.heap_bytes() - before;
        }
        if self.rows.last().is_some_and(|&last| time <= last) {
            self.rows_ordered = false;
        }
        self.rows.push(time);
        for ((_, col), v) in self.dense.iter_mut().zip(values) {
            bytes += col.push(v).unwrap_or(0);
        }
        bytes
    }

    /// Gives every dense field its own times.
    fn make_sparse(&mut self) {
        let rows = std::mem::take(&mut self.rows);
        let normalized = self.rows_ordered;
        self.rows_ordered = true;
        self.sparse = std::mem::take(&mut self.dense)
            .into_iter()
            .map(|(f, values)| {
                let times = rows.clone();
                (
                    f,
                    Column {
                        times,
                        values,
                        normalized,
                    },
                )
            })
            .collect();
    }

    fn push_sparse(
        &mut self,
        time: i64,
        ids: &[FieldId],
        values: &[OwnedFieldValue],
        type_of: &impl Fn(FieldId) -> Option<FieldType>,
    ) -> (usize, u64) {
        let (mut bytes, mut dropped) = (0, 0);
        for (&fid, value) in ids.iter().zip(values) {
            let pos = match self.sparse.iter().position(|(f, _)| *f == fid) {
                Some(p) => p,
                None => match type_of(fid) {
                    Some(t) => {
                        self.sparse.push((fid, Column::new(t)));
                        self.sparse.len() - 1
                    }
                    None => {
                        dropped += 1;
                        continue;
                    }
                },
            };
            match self.sparse[pos].1.push(time, value) {
                Some(b) => bytes += b,
                None => dropped += 1,
            }
        }
        (bytes, dropped)
    }

    /// Sorts by time and keeps only the last write of each timestamp, in every column.
    fn normalize(&mut self) {
        if !self.rows_ordered {
            let keep = latest_per_time(&self.rows);
            self.rows = keep.iter().map(|&i| self.rows[i as usize]).collect();
            for (_, col) in &mut self.dense {
                col.select(&keep);
            }
            self.rows_ordered = true;
        }
        for (_, col) in &mut self.sparse {
            col.normalize();
        }
    }

    /// Removes the points with `min <= time <= max`; returns how many values went.
    fn delete(&mut self, min: i64, max: i64) -> u64 {
        self.normalize();
        let mut removed = 0;
        let dense_range = time_range(&self.rows, min, max);
        if !dense_range.is_empty() {
            self.rows.drain(dense_range.clone());
            for (_, col) in &mut self.dense {
                col.remove(dense_range.clone());
                removed += dense_range.len() as u64;
            }
        }
        for (_, col) in &mut self.sparse {
            let r = col.range(min, max);
            if !r.is_empty() {
                removed += r.len() as u64;
                col.times.drain(r.clone());
                col.values.remove(r);
            }
        }
        removed
    }

    /// A normalized copy of every column.
    fn columns(&mut self) -> Vec<(FieldId, Column)> {
        self.normalize();
        let dense = self.dense.iter().map(|(f, values)| {
            let col = ColumnRef {
                times: &self.rows,
                values,
            };
            (*f, col.to_column())
        });
        let sparse = self.sparse.iter().map(|(f, c)| (*f, c.clone()));
        dense.chain(sparse).collect()
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
    /// The memtable this one follows, while it lives (until its flush ends): a series' first
    /// write here reserves the rows it held there, so a series written at a steady rate
    /// reserves its room in one step (see [`Memtable::successor`]).
    previous: Weak<Memtable>,
    /// What those rows are scaled by (0 for a memtable that follows none).
    hint_scale: f64,
}

/// Buffers are stored in the map itself: the probe for a series lands on its buffer. Each
/// has a mutex for readers, which normalize columns in place under the map's read lock; a
/// writer holds the map's write lock and so needs none.
type SeriesMap = HashMap<SeriesId, Mutex<SeriesBuffer>, BuildHasherDefault<FxHasher>>;

/// Series with fewer rows than this get no hint: they grow in a step or two anyway.
const MIN_HINT: usize = 64;

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
        // The write lock, once for the batch, gives this thread every buffer without locking
        // each: no atomic operation per point, so the cache misses of consecutive points'
        // appends overlap instead of each waiting for the last.
        let mut map = self.series.write().unwrap_or_else(|e| e.into_inner());
        let n = batch.point_count();
        let mut i = 0;
        while i < n {
            let sid = batch.series[i];
            let buffer = map.entry(sid).or_insert_with(|| {
                let hint = self.hint_for(sid);
                Mutex::new(SeriesBuffer::with_hint(hint))
            });
            let buffer = buffer.get_mut().unwrap_or_else(|e| e.into_inner());
            let run_end = i + batch.series[i..].iter().take_while(|&&s| s == sid).count();
            for p in i..run_end {
                let (ids, values) = batch.fields_of(p);
                let (b, d) = buffer.push(batch.times[p], ids, values, &type_of);
                bytes += b;
                dropped += d;
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

    /// Calls `read` with the buffer of series `sid`, if it has points here. Writers wait
    /// meanwhile: keep it short (copy the points out).
    pub fn with_series<R>(
        &self,
        sid: SeriesId,
        read: impl FnOnce(&mut SeriesBuffer) -> R,
    ) -> Option<R> {
        let map = self.series.read().unwrap_or_else(|e| e.into_inner());
        let buffer = map.get(&sid)?;
        let mut buffer = lock(buffer);
        Some(read(&mut buffer))
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
        self.with_series(sid, SeriesBuffer::columns)
            .unwrap_or_default()
    }

    /// An empty memtable to follow this one: its series reserve the rows they held here,
    /// scaled so that the reservations take at most three quarters of `budget` bytes (a
    /// memtable frozen while writers ran ahead of the flush holds more than its size, and its
    /// successor must not start full). O(1): each series looks its rows up on its first write.
    pub fn successor(self: &Arc<Self>, budget: usize) -> Memtable {
        let held = self.stats.bytes.load(Ordering::Relaxed).max(1);
        let room = budget / 4 * 3;
        Memtable {
            previous: Arc::downgrade(self),
            hint_scale: (room as f64 / held as f64).min(1.0),
            ..Memtable::default()
        }
    }

    /// Rows for series `sid` to reserve on its first write here (0: none).
    fn hint_for(&self, sid: SeriesId) -> usize {
        let Some(previous) = self.previous.upgrade() else {
            return 0;
        };
        let rows = previous.with_series(sid, |b| b.len()).unwrap_or(0);
        let hint = (rows as f64 * self.hint_scale) as usize;
        if hint >= MIN_HINT {
            hint
        } else {
            0
        }
    }

    /// Removes series `sid`'s points with `min <= time <= max` (every field); returns how many
    /// values went. For deletes: the caller holds the write sequencer.
    pub fn delete(&self, sid: SeriesId, min: i64, max: i64) -> u64 {
        let removed = self
            .with_series(sid, |buffer| buffer.delete(min, max))
            .unwrap_or(0);
        self.stats.values.fetch_sub(removed, Ordering::Relaxed);
        removed
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

    /// Field ids 0..3: floats; 3: integers; 9: unknown to the schema.
    fn type_of(f: FieldId) -> Option<FieldType> {
        match f.0 {
            0..=2 => Some(FieldType::Float),
            3 => Some(FieldType::Integer),
            _ => None,
        }
    }

    fn value(f: FieldId, x: i64) -> OwnedFieldValue {
        if f.0 == 3 {
            FieldValue::Integer(x)
        } else {
            FieldValue::Float(x as f64)
        }
    }

    /// `(time, [(field, value)])` points pushed into a fresh buffer.
    fn buffer(points: &[(i64, Vec<(u32, i64)>)]) -> (SeriesBuffer, u64) {
        let mut b = SeriesBuffer::with_hint(0);
        let mut dropped = 0;
        for (t, fields) in points {
            let ids: Vec<FieldId> = fields.iter().map(|&(f, _)| FieldId(f)).collect();
            let values: Vec<OwnedFieldValue> =
                fields.iter().map(|&(f, x)| value(FieldId(f), x)).collect();
            dropped += b.push(*t, &ids, &values, &type_of).1;
        }
        (b, dropped)
    }

    fn read(b: &mut SeriesBuffer, f: u32) -> Vec<(i64, OwnedFieldValue)> {
        let Some(c) = b.column(FieldId(f)) else {
            return Vec::new();
        };
        (0..c.times.len())
            .map(|i| (c.times[i], c.values.get(i)))
            .collect()
    }

    #[test]
    fn fields_written_together_share_their_times() {
        let (mut b, dropped) = buffer(&[
            (20, vec![(0, 2), (3, 20)]),
            (10, vec![(0, 1), (3, 10)]),
            (20, vec![(0, 5), (3, 50)]),
        ]);
        assert_eq!(dropped, 0);
        assert!(b.sparse.is_empty(), "the series stays dense");
        assert_eq!(b.rows.len(), 3);
        assert_eq!(
            read(&mut b, 0),
            vec![(10, FieldValue::Float(1.0)), (20, FieldValue::Float(5.0))]
        );
        assert_eq!(
            read(&mut b, 3),
            vec![(10, FieldValue::Integer(10)), (20, FieldValue::Integer(50))]
        );
        assert!(b.column(FieldId(1)).is_none());
    }

    #[test]
    fn a_point_with_other_fields_makes_the_series_sparse_and_loses_nothing() {
        let (mut b, dropped) = buffer(&[
            (10, vec![(0, 1), (1, 1)]),
            (30, vec![(0, 3), (1, 3)]),
            // One field only: the series turns sparse.
            (20, vec![(1, 2)]),
            // A duplicate of an older timestamp for one field: it wins for that field only.
            (10, vec![(0, 9)]),
        ]);
        assert_eq!(dropped, 0);
        assert!(b.dense.is_empty() && b.rows.is_empty());
        assert_eq!(
            read(&mut b, 0),
            vec![(10, FieldValue::Float(9.0)), (30, FieldValue::Float(3.0))]
        );
        assert_eq!(
            read(&mut b, 1),
            vec![
                (10, FieldValue::Float(1.0)),
                (20, FieldValue::Float(2.0)),
                (30, FieldValue::Float(3.0))
            ]
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_dropped_and_counted() {
        // Field 9 is unknown; field 3 holds integers, so a float for it is refused.
        let mut b = SeriesBuffer::with_hint(0);
        let (_, d) = b.push(
            1,
            &[FieldId(0), FieldId(9)],
            &[FieldValue::Float(1.0), FieldValue::Float(2.0)],
            &type_of,
        );
        assert_eq!(d, 1);
        let (_, d) = b.push(2, &[FieldId(3)], &[FieldValue::Float(2.0)], &type_of);
        assert_eq!(d, 1);
        assert_eq!(read(&mut b, 0), vec![(1, FieldValue::Float(1.0))]);
        assert!(read(&mut b, 3).is_empty());
    }

    #[test]
    fn a_series_reserves_the_rows_its_hint_says() {
        let mut b = SeriesBuffer::with_hint(1000);
        let (bytes, _) = b.push(1, &[FieldId(0)], &[FieldValue::Float(1.0)], &type_of);
        assert_eq!(b.rows.capacity(), 1000);
        assert_eq!(bytes, 1000 * 16, "rows and values counted as allocated");
        let m = Arc::new(Memtable::default());
        let mut batch = Batch::default();
        for t in 0..100 {
            batch.push_point(SeriesId(7), t);
            batch.push_field(FieldId(0), FieldValue::Float(1.0));
        }
        m.apply(&batch, type_of);
        let next = m.successor(1 << 20);
        next.apply(&batch, type_of);
        let capacity = next.with_series(SeriesId(7), |b| b.rows.capacity());
        assert_eq!(capacity, Some(100));
        // The first memtable allocated 100 rows of 16 bytes (16 at a time, then a quarter);
        // room for 75 of them: the hint shrinks to 75 rows, which then grow by quarters (93,
        // 116) to take the 100.
        let held = m.stats.bytes.load(Ordering::Relaxed);
        assert_eq!(held, 100 * 16);
        let tight = m.successor(100 * 16);
        assert_eq!(tight.hint_for(SeriesId(7)), 75);
        tight.apply(&batch, type_of);
        let capacity = tight.with_series(SeriesId(7), |b| b.rows.capacity());
        assert_eq!(capacity, Some(116));
        drop(m);
        assert_eq!(
            tight.hint_for(SeriesId(7)),
            0,
            "no hint once the previous one is gone"
        );
    }

    #[test]
    fn deletes_remove_a_time_range_from_dense_and_sparse_series() {
        for sparse in [false, true] {
            let mut points: Vec<(i64, Vec<(u32, i64)>)> =
                (0..10).map(|t| (t, vec![(0, t), (1, t)])).collect();
            if sparse {
                points.push((10, vec![(1, 10)]));
            }
            let (mut b, _) = buffer(&points);
            let removed = b.delete(3, 5);
            assert_eq!(removed, 6, "sparse: {sparse}");
            let times: Vec<i64> = read(&mut b, 0).iter().map(|p| p.0).collect();
            assert_eq!(times, vec![0, 1, 2, 6, 7, 8, 9]);
        }
    }

    proptest::proptest! {
        /// Whatever mix of fields, orders, duplicates and late points arrives, every field
        /// reads back as the last value written for each of its timestamps, in time order.
        #[test]
        fn series_buffer_matches_a_last_write_wins_model(
            points in proptest::collection::vec(
                (0i64..20, proptest::collection::vec((0u32..4, -5i64..5), 1..4)),
                0..40,
            ),
            dense_prefix in 0usize..40,
        ) {
            // A prefix of points with one field set keeps the series dense for a while.
            let mut points = points;
            for p in points.iter_mut().take(dense_prefix) {
                p.1 = vec![(0, p.1[0].1), (3, p.1[0].1)];
            }
            let (mut b, dropped) = buffer(&points);
            proptest::prop_assert_eq!(dropped, 0);
            for f in 0..4u32 {
                let mut model = std::collections::BTreeMap::new();
                for (t, fields) in &points {
                    for &(g, x) in fields {
                        if g == f {
                            model.insert(*t, value(FieldId(f), x));
                        }
                    }
                }
                let want: Vec<_> = model.into_iter().collect();
                proptest::prop_assert_eq!(read(&mut b, f), want);
            }
        }
    }
}
