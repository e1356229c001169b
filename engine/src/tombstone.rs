//! Deletes: tombstones over segments, and what a delete does to a database.
//!
//! A delete (`Db::delete`, `drop_series`, `drop_measurement`) is one WAL record (kind 2, see
//! `wal::record`) appended under the write sequencer, so it takes its place among the writes:
//! everything written before it goes, everything after it stays. Applying it ([`apply`]):
//! - removes the points from the memtables (active and frozen) on the spot;
//! - records a [`Tombstone`] `{series, min, max, max_order}` over the segments: it hides the
//!   points of those series in `min..=max` held by every segment whose `order` is at most
//!   `max_order` (the highest order when the delete ran). Segments written later (flushes of
//!   later writes) have higher orders and are not touched;
//! - for `DROP SERIES` / `DROP MEASUREMENT`, hides the series from the index listings until a
//!   write brings them back (`SeriesIndex::hide`), and for `DROP MEASUREMENT` removes the
//!   measurement's fields from the schema.
//!
//! Readers apply tombstones as [`cuts`] (time ranges to leave out) per series and segment.
//! Compaction leaves the cut points out of its output, and a tombstone is discarded
//! ([`collect_garbage`]) as soon as no segment it covers holds a point of its series in its
//! range. Tombstones live in `DbState` (what readers see) and in the manifest (durably); until a
//! manifest holds one, the WAL record does (replay applies it again).
//!
//! Invariants:
//! - a tombstone never covers a segment written after the delete (its order is higher);
//! - a tombstone's series are ascending and unique, and the list is never empty.

use std::collections::HashSet;
use std::sync::Arc;

use crate::batch::{Delete, SeriesId};
use crate::database::{Database, LiveSegment};
use crate::error::Result;
use crate::manifest::SegmentEntry;
use crate::memtable::{Column, Values};
use crate::segment::{Segment, SeriesMeta};

/// Hides the points of `series` with `min <= time <= max` in segments of order `<= max_order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// Ascending, unique, not empty.
    pub series: Vec<SeriesId>,
    pub min: i64,
    pub max: i64,
    pub max_order: u64,
}

impl Tombstone {
    /// Whether it applies to series `sid` in a segment of order `order`.
    pub fn covers(&self, sid: SeriesId, order: u64) -> bool {
        order <= self.max_order && self.series.binary_search(&sid).is_ok()
    }
}

/// The time ranges (sorted, disjoint, merged) of `sid`'s points that a segment of order `order`
/// must leave out; empty when nothing applies (the common case, without allocation).
pub fn cuts(tombstones: &[Tombstone], sid: SeriesId, order: u64) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = tombstones
        .iter()
        .filter(|t| t.covers(sid, order))
        .map(|t| (t.min, t.max))
        .collect();
    if out.len() > 1 {
        out.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(out.len());
        for (lo, hi) in out {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        out = merged;
    }
    out
}

/// Whether any cut overlaps `min..=max`.
pub fn overlaps(cuts: &[(i64, i64)], min: i64, max: i64) -> bool {
    cuts.iter().any(|&(lo, hi)| lo <= max && hi >= min)
}

/// Removes from `times[start..]` and `values[start..]` (times ascending) the points inside
/// `cuts`.
pub fn cut_tail(times: &mut Vec<i64>, values: &mut Values, start: usize, cuts: &[(i64, i64)]) {
    if cuts.is_empty() || times.len() <= start {
        return;
    }
    let tail = &times[start..];
    let keep = kept_ranges(tail, cuts);
    if keep.len() == 1 && keep[0] == (0..tail.len()) {
        return;
    }
    let mut kept_times = Vec::with_capacity(tail.len());
    let mut kept_values = Values::new(values.field_type());
    for r in &keep {
        kept_times.extend_from_slice(&tail[r.clone()]);
        kept_values.extend_from(values, start + r.start..start + r.end);
    }
    times.truncate(start);
    times.extend_from_slice(&kept_times);
    let mut head = Values::new(values.field_type());
    head.extend_from(values, 0..start);
    head.extend_from(&kept_values, 0..kept_values.len());
    *values = head;
}

/// `col` without its points inside `cuts`.
pub fn cut_column(col: Column, cuts: &[(i64, i64)]) -> Column {
    if cuts.is_empty() || col.is_empty() {
        return col;
    }
    let (mut times, mut values) = (col.times, col.values);
    cut_tail(&mut times, &mut values, 0, cuts);
    Column::from_sorted(times, values)
}

/// The index ranges of `times` (ascending) outside every cut.
fn kept_ranges(times: &[i64], cuts: &[(i64, i64)]) -> Vec<std::ops::Range<usize>> {
    let mut keep = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for &(lo, hi) in cuts {
        let a = from + times[from..].partition_point(|&t| t < lo);
        let b = a + times[a..].partition_point(|&t| t <= hi);
        if a > from {
            keep.push(from..a);
        }
        from = b;
    }
    if from < times.len() {
        keep.push(from..times.len());
    }
    keep
}

/// Whether series `meta` of `segment` has a point in `min..=max` (reads the timestamps of the
/// blocks that straddle a bound).
fn has_points(segment: &Segment, meta: &SeriesMeta, min: i64, max: i64) -> Result<bool> {
    let mut times = Vec::new();
    for b in meta
        .blocks
        .iter()
        .filter(|b| b.max_time >= min && b.min_time <= max)
    {
        if b.min_time >= min && b.max_time <= max {
            return Ok(true);
        }
        segment.read_times(b, &mut times)?;
        if times.iter().any(|&t| min <= t && t <= max) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Of `series`, those with a point in `min..=max` that a reader can see in a segment of order
/// at most `max_order`, given the `tombstones` already in force (a point an earlier delete
/// hid does not count).
pub fn visible_in_segments(
    series: &[SeriesId],
    min: i64,
    max: i64,
    max_order: u64,
    segments: &[Arc<LiveSegment>],
    tombstones: &[Tombstone],
) -> Result<Vec<SeriesId>> {
    let live: Vec<&Arc<LiveSegment>> = segments
        .iter()
        .filter(|s| {
            s.entry.order <= max_order && s.entry.max_time >= min && s.entry.min_time <= max
        })
        .collect();
    let mut out = Vec::new();
    let mut times = Vec::new();
    'series: for &sid in series {
        for s in &live {
            let Some(meta) = s.segment.find(sid) else {
                continue;
            };
            let hidden = cuts(tombstones, sid, s.entry.order);
            for b in meta
                .blocks
                .iter()
                .filter(|b| b.max_time >= min && b.min_time <= max)
            {
                if b.min_time >= min
                    && b.max_time <= max
                    && !overlaps(&hidden, b.min_time, b.max_time)
                {
                    out.push(sid);
                    continue 'series;
                }
                s.segment.read_times(b, &mut times)?;
                let seen = times.iter().any(|&t| {
                    min <= t && t <= max && !hidden.iter().any(|&(lo, hi)| lo <= t && t <= hi)
                });
                if seen {
                    out.push(sid);
                    continue 'series;
                }
            }
        }
    }
    Ok(out)
}

/// The ids of the segments holding a point some tombstone hides: what compaction should
/// rewrite.
pub fn dirty_segments(
    tombstones: &[Tombstone],
    segments: &[Arc<LiveSegment>],
) -> Result<HashSet<u64>> {
    let mut dirty = HashSet::new();
    for t in tombstones {
        for s in segments.iter().filter(|s| {
            s.entry.order <= t.max_order && s.entry.max_time >= t.min && s.entry.min_time <= t.max
        }) {
            if dirty.contains(&s.entry.id) {
                continue;
            }
            for &sid in &t.series {
                if let Some(meta) = s.segment.find(sid) {
                    if has_points(&s.segment, meta, t.min, t.max)? {
                        dirty.insert(s.entry.id);
                        break;
                    }
                }
            }
        }
    }
    Ok(dirty)
}

/// `tombstones` narrowed to the series that still have points to hide: a series stays while a
/// segment the tombstone covers holds a point of it in range; a tombstone with no series left
/// goes. `entries` are the manifest's segments: one missing from `segments` is damaged (out of
/// reads, contents unknown), and keeps every tombstone that may cover it whole.
pub fn collect_garbage(
    tombstones: &[Tombstone],
    segments: &[Arc<LiveSegment>],
    entries: &[SegmentEntry],
) -> Result<Vec<Tombstone>> {
    let damaged: Vec<&SegmentEntry> = entries
        .iter()
        .filter(|e| !segments.iter().any(|s| s.entry.id == e.id))
        .collect();
    let mut out = Vec::with_capacity(tombstones.len());
    for t in tombstones {
        let covered =
            |e: &SegmentEntry| e.order <= t.max_order && e.max_time >= t.min && e.min_time <= t.max;
        if damaged.iter().any(|e| covered(e)) {
            out.push(t.clone());
            continue;
        }
        let live: Vec<&Arc<LiveSegment>> = segments.iter().filter(|s| covered(&s.entry)).collect();
        let mut series = Vec::new();
        for &sid in &t.series {
            for s in &live {
                if let Some(meta) = s.segment.find(sid) {
                    if has_points(&s.segment, meta, t.min, t.max)? {
                        series.push(sid);
                        break;
                    }
                }
            }
        }
        if !series.is_empty() {
            out.push(Tombstone {
                series,
                ..t.clone()
            });
        }
    }
    Ok(out)
}

/// Applies a delete to `db`'s memory: memtables, tombstones (over segments of order at most
/// `max_order`), hidden series, schema. The caller holds the write sequencer (so it lands
/// between two writes) or is replaying the WAL, and holds `db`'s maintenance lock (so no flush,
/// compaction or retention changes the tombstones meanwhile). Returns the series that had
/// points removed from a memtable.
pub fn apply(db: &Database, d: &Delete, max_order: u64) -> Vec<SeriesId> {
    let mut touched = Vec::new();
    if d.min <= d.max && !d.series.is_empty() {
        let memtables = {
            let st = db.state();
            let mut m = st.frozen.clone();
            m.push(st.active.clone());
            m
        };
        for &sid in &d.series {
            let removed: u64 = memtables.iter().map(|m| m.delete(sid, d.min, d.max)).sum();
            if removed > 0 {
                touched.push(sid);
            }
        }
    }
    if d.hide && !d.series.is_empty() {
        let mut index = db.index_mut();
        index.hide(&d.series);
        db.note_hidden(&index);
    }
    if !d.drop_fields.is_empty() {
        db.schema_mut().remove(&d.drop_fields);
    }
    if d.min <= d.max && !d.series.is_empty() {
        let mut st = db.state_mut();
        let mut list: Vec<Tombstone> = st.tombstones.as_ref().clone();
        // The same delete again (a replayed record already in the manifest): widen, not add.
        match list
            .iter_mut()
            .find(|t| t.min == d.min && t.max == d.max && t.series == d.series)
        {
            Some(t) => t.max_order = t.max_order.max(max_order),
            None => list.push(Tombstone {
                series: d.series.clone(),
                min: d.min,
                max: d.max,
                max_order,
            }),
        }
        st.tombstones = Arc::new(list);
    }
    touched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldType;

    fn col(times: &[i64]) -> Column {
        Column::from_sorted(
            times.to_vec(),
            Values::Integer(times.iter().map(|t| t * 10).collect()),
        )
    }

    fn tomb(series: &[u64], min: i64, max: i64, max_order: u64) -> Tombstone {
        Tombstone {
            series: series.iter().map(|&s| SeriesId(s)).collect(),
            min,
            max,
            max_order,
        }
    }

    #[test]
    fn cuts_apply_by_series_and_order_and_merge() {
        let ts = vec![
            tomb(&[1, 3], 10, 20, 5),
            tomb(&[3], 15, 30, 7),
            tomb(&[3], 40, 50, 2),
            tomb(&[3], 31, 35, 7),
        ];
        assert!(cuts(&ts, SeriesId(2), 1).is_empty());
        assert_eq!(cuts(&ts, SeriesId(1), 5), vec![(10, 20)]);
        assert!(cuts(&ts, SeriesId(1), 6).is_empty());
        // Overlapping and adjacent ranges merge.
        assert_eq!(cuts(&ts, SeriesId(3), 2), vec![(10, 35), (40, 50)]);
        assert_eq!(cuts(&ts, SeriesId(3), 6), vec![(15, 35)]);
        assert!(overlaps(&[(10, 20)], 20, 30) && !overlaps(&[(10, 20)], 21, 30));
    }

    #[test]
    fn columns_lose_exactly_the_cut_points() {
        let c = cut_column(col(&[1, 5, 10, 11, 20, 21, 30]), &[(5, 10), (20, 25)]);
        assert_eq!(c.times, vec![1, 11, 30]);
        let Values::Integer(v) = &c.values else {
            panic!()
        };
        assert_eq!(v, &vec![10, 110, 300]);
        let c = cut_column(col(&[1, 2]), &[(i64::MIN, i64::MAX)]);
        assert!(c.is_empty() && c.values.field_type() == FieldType::Integer);
        let c = cut_column(col(&[1, 2]), &[(3, 4)]);
        assert_eq!(c.times, vec![1, 2]);
    }

    #[test]
    fn a_tail_is_cut_without_touching_the_head() {
        let mut times = vec![1, 2, 3, 1, 2, 3];
        let mut values = Values::Integer(vec![1, 2, 3, 4, 5, 6]);
        cut_tail(&mut times, &mut values, 3, &[(2, 2)]);
        assert_eq!(times, vec![1, 2, 3, 1, 3]);
        let Values::Integer(v) = &values else {
            panic!()
        };
        assert_eq!(v, &vec![1, 2, 3, 4, 6]);
    }
}
