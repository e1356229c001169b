//! Reading points back: which series match, which fields, which time range.
//!
//! A scan takes the series list under the index lock, then reads each series' buffer under that
//! buffer's own short lock, so it runs beside writers. It sees every write acknowledged before
//! it began, possibly some that land while it runs, and never part of a point: a point's
//! fields are applied to its series' buffer under one lock, and read under one lock.

use crate::batch::{FieldId, SeriesId};
use crate::database::{Database, Snapshot};
use crate::error::Result;
use crate::memtable::Column;
use crate::merge::merge_runs;
use crate::model::{FieldType, OwnedFieldValue};

/// An inclusive time range in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub min: i64,
    pub max: i64,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        min: i64::MIN,
        max: i64::MAX,
    };

    pub fn new(min: i64, max: i64) -> Self {
        TimeRange { min, max }
    }

    pub fn contains(&self, t: i64) -> bool {
        self.min <= t && t <= self.max
    }
}

/// Which series of a measurement a scan visits, by their tags. InfluxDB's semantics: a series
/// without the tag has it as the empty string, so `Eq(k, "")` matches series lacking `k` and
/// `NotEq(k, v)` matches them too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagPredicate {
    All,
    Eq(String, String),
    NotEq(String, String),
    /// `k =~ /re/`: the tag's value (empty when absent) matches, unanchored, as in InfluxDB.
    Regex(String, TagRegex),
    /// `k !~ /re/`.
    NotRegex(String, TagRegex),
    And(Vec<TagPredicate>),
    Or(Vec<TagPredicate>),
}

/// A compiled regular expression, compared by its source text.
#[derive(Debug, Clone)]
pub struct TagRegex(pub regex::Regex);

impl TagRegex {
    /// Compiles `pattern` (Rust `regex` syntax, which agrees with Go's RE2 for the patterns
    /// InfluxQL users write).
    pub fn new(pattern: &str) -> std::result::Result<TagRegex, regex::Error> {
        regex::Regex::new(pattern).map(TagRegex)
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
}

impl PartialEq for TagRegex {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for TagRegex {}

impl TagPredicate {
    pub fn eq(k: impl Into<String>, v: impl Into<String>) -> Self {
        TagPredicate::Eq(k.into(), v.into())
    }

    /// A tag that every matching series has with this (non-empty) value, if the predicate
    /// requires one: what an index can look up instead of testing every series.
    pub fn required_eq(&self) -> Option<(&str, &str)> {
        match self {
            TagPredicate::Eq(k, v) if !v.is_empty() => Some((k, v)),
            TagPredicate::And(ps) => ps.iter().find_map(TagPredicate::required_eq),
            _ => None,
        }
    }

    /// Whether a series with these tags (sorted by key) matches.
    pub fn matches(&self, tags: &[(String, String)]) -> bool {
        let tag = |k: &str| {
            tags.binary_search_by(|(key, _)| key.as_str().cmp(k))
                .map_or("", |i| tags[i].1.as_str())
        };
        match self {
            TagPredicate::All => true,
            TagPredicate::Eq(k, v) => tag(k) == v,
            TagPredicate::NotEq(k, v) => tag(k) != v,
            TagPredicate::Regex(k, re) => re.is_match(tag(k)),
            TagPredicate::NotRegex(k, re) => !re.is_match(tag(k)),
            TagPredicate::And(ps) => ps.iter().all(|p| p.matches(tags)),
            TagPredicate::Or(ps) => ps.iter().any(|p| p.matches(tags)),
        }
    }
}

/// The points of one series, one row per timestamp at which any selected field has a value.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRows {
    /// Canonical series key.
    pub key: String,
    pub measurement: String,
    pub tags: Vec<(String, String)>,
    /// The selected fields that exist in the measurement, with their types.
    pub fields: Vec<(String, FieldType)>,
    /// In time order, one per distinct timestamp.
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub time: i64,
    /// One per entry of `SeriesRows::fields`; `None` where this point lacks the field.
    pub values: Vec<Option<OwnedFieldValue>>,
}

/// The fields a scan of `measurement` reads: those of `fields` that exist (all of them when
/// `fields` is empty), with their ids and types.
pub(crate) fn selected_fields(
    db: &Database,
    measurement: &str,
    fields: &[&str],
) -> Vec<(FieldId, String, FieldType)> {
    let schema = db.schema();
    let pick =
        |f: &std::sync::Arc<crate::schema::FieldEntry>| (f.id, f.key.to_string(), f.field_type);
    if fields.is_empty() {
        schema.fields_of(measurement).map(pick).collect()
    } else {
        fields
            .iter()
            .filter_map(|k| schema.get(measurement, k))
            .map(pick)
            .collect()
    }
}

/// Reads `db` as of one snapshot; see `Db::scan`.
pub(crate) fn scan(
    db: &Database,
    measurement: &str,
    tags: &TagPredicate,
    fields: &[&str],
    range: TimeRange,
) -> Result<Vec<SeriesRows>> {
    let selected = selected_fields(db, measurement, fields);
    // (id, key, tags) of the matching series, ascending by key.
    let series: Vec<_> = db.index().matching_series(measurement, tags);
    let snapshot = db.snapshot();
    let wanted: Vec<(FieldId, FieldType)> = selected.iter().map(|(f, _, t)| (*f, *t)).collect();

    let mut out = Vec::new();
    for (sid, key, tag_list) in series {
        let rows = read_series(&snapshot, sid, &wanted, range)?;
        if rows.is_empty() {
            continue;
        }
        out.push(SeriesRows {
            key: key.to_string(),
            measurement: measurement.to_owned(),
            tags: tag_list.to_vec(),
            fields: selected.iter().map(|(_, k, t)| (k.clone(), *t)).collect(),
            rows,
        });
    }
    Ok(out)
}

/// The rows of series `sid` in `range` as of `snapshot`: one per timestamp at which any of
/// `wanted` has a value, in time order, deleted points left out.
pub(crate) fn read_series(
    snapshot: &Snapshot,
    sid: SeriesId,
    wanted: &[(FieldId, FieldType)],
    range: TimeRange,
) -> Result<Vec<Row>> {
    // Runs per field, oldest source first: segments by order, then memtables.
    let mut runs: Vec<Vec<Column>> = vec![Vec::new(); wanted.len()];
    for live in &snapshot.segments {
        if live.entry.max_time < range.min || live.entry.min_time > range.max {
            continue;
        }
        let Some(meta) = live.segment.find(sid) else {
            continue;
        };
        let cols = live
            .segment
            .read_columns(meta, wanted, range.min, range.max)?;
        // Deleted points still in this segment (see `tombstone`).
        let cuts = snapshot.cuts(sid, live);
        for (r, c) in runs.iter_mut().zip(cols) {
            r.push(crate::tombstone::cut_column(c, &cuts));
        }
    }
    for m in &snapshot.memtables {
        m.with_series(sid, |buffer| {
            for ((fid, _), r) in wanted.iter().zip(runs.iter_mut()) {
                if let Some(col) = buffer.column(*fid) {
                    r.push(col.copy_range(range.min, range.max));
                }
            }
        });
    }
    let columns: Vec<Vec<(i64, OwnedFieldValue)>> = runs
        .into_iter()
        .zip(wanted)
        .map(|(r, (_, t))| {
            let c = merge_runs(*t, r);
            (0..c.len())
                .map(|i| (c.times[i], c.values.get(i)))
                .collect()
        })
        .collect();
    Ok(merge_rows(columns))
}

/// The most marks [`plan_slices`] keeps (16 bytes each).
const MAX_MARKS: u64 = 1 << 20;

/// Cuts `range` into consecutive slices in which `series` hold about `target` points of
/// `fields` each, planned from block metadata and memtable times without reading any data.
/// A reader that takes the slices one at a time holds one slice's points at once.
///
/// Points are counted in marks of `target / (4 × series)` points (a memtable's every so
/// many times; a block's rows spread evenly over its time span), so that series whose times
/// align, which put their marks on the same instants, overshoot a slice by a quarter of the
/// target. Over a range holding more than [`MAX_MARKS`] such marks, marks grow to keep the
/// plan's size, and so does the overshoot. A block that straddles a cut is decoded once per
/// slice it reaches.
pub(crate) fn plan_slices(
    snapshot: &Snapshot,
    series: &[SeriesId],
    fields: &[FieldId],
    range: TimeRange,
    target: usize,
) -> Vec<TimeRange> {
    if range.min > range.max {
        return vec![range]; // an empty range (contradictory bounds): one empty read
    }
    // The blocks in range, (min time, max time, rows), and the memtables' point count.
    let mut blocks: Vec<(i64, i64, u64)> = Vec::new();
    let mut memtable_points = 0u64;
    for &sid in series {
        blocks.extend(blocks_in_range(snapshot, sid, fields, range));
        memtable_points += memtable_rows(snapshot, sid, fields, range);
    }
    let total = blocks.iter().map(|b| b.2).sum::<u64>() + memtable_points;
    if total < target as u64 {
        return vec![range]; // no cut could be reached: skip the marks
    }
    let step = (target as u64 / (4 * series.len().max(1) as u64))
        .max(total / MAX_MARKS)
        .max(1);
    // (last time, points up to it).
    let mut marks: Vec<(i64, u64)> = Vec::new();
    for (min, max, rows) in blocks {
        let parts = rows.div_ceil(step).max(1);
        let span = (max as i128 - min as i128) as f64;
        for k in 1..=parts {
            let end = min as i128 + (span * k as f64 / parts as f64) as i128;
            let end = end.clamp(i128::from(range.min), i128::from(range.max)) as i64;
            marks.push((end, rows * k / parts - rows * (k - 1) / parts));
        }
    }
    if memtable_points > 0 {
        for &sid in series {
            for m in &snapshot.memtables {
                m.with_series(sid, |buffer| {
                    let Some(col) =
                        longest_field(buffer, fields, range).and_then(|f| buffer.column(f))
                    else {
                        return;
                    };
                    let r = col.range(range.min, range.max);
                    for part in col.times[r].chunks(step as usize) {
                        marks.push((part[part.len() - 1], part.len() as u64));
                    }
                });
            }
        }
    }
    marks.sort_unstable_by_key(|m| m.0);
    let mut slices = Vec::new();
    let (mut start, mut held) = (range.min, 0u64);
    for (end, n) in marks {
        held += n;
        if held >= target as u64 && end >= start && end < range.max {
            slices.push(TimeRange::new(start, end));
            (start, held) = (end + 1, 0);
        }
    }
    slices.push(TimeRange::new(start, range.max));
    slices
}

/// An upper bound of the rows a scan of `fields` of `series` in `range` would read, from
/// block metadata and memtable sizes, without reading any.
pub(crate) fn estimate_rows(
    snapshot: &Snapshot,
    series: &[SeriesId],
    fields: &[FieldId],
    range: TimeRange,
) -> u64 {
    series
        .iter()
        .map(|&sid| {
            blocks_in_range(snapshot, sid, fields, range)
                .map(|(_, _, rows)| rows)
                .sum::<u64>()
                + memtable_rows(snapshot, sid, fields, range)
        })
        .sum()
}

/// The blocks of series `sid` that overlap `range`: (min time, max time, rows), a block's
/// rows being its largest count among `fields`.
fn blocks_in_range<'s>(
    snapshot: &'s Snapshot,
    sid: SeriesId,
    fields: &'s [FieldId],
    range: TimeRange,
) -> impl Iterator<Item = (i64, i64, u64)> + 's {
    snapshot
        .segments
        .iter()
        .filter(move |l| l.entry.max_time >= range.min && l.entry.min_time <= range.max)
        .filter_map(move |l| l.segment.find(sid))
        .flat_map(|meta| meta.blocks.iter())
        .filter(move |b| b.max_time >= range.min && b.min_time <= range.max)
        .map(|b| {
            let rows = fields
                .iter()
                .filter_map(|f| b.field(*f))
                .map(|c| u64::from(c.stats.count))
                .max()
                .unwrap_or(0);
            (b.min_time, b.max_time, rows)
        })
}

/// The rows of series `sid` in the memtables within `range` (its longest field's points).
fn memtable_rows(snapshot: &Snapshot, sid: SeriesId, fields: &[FieldId], range: TimeRange) -> u64 {
    snapshot
        .memtables
        .iter()
        .filter_map(|m| {
            m.with_series(sid, |buffer| {
                let f = longest_field(buffer, fields, range)?;
                buffer
                    .column(f)
                    .map(|c| c.range(range.min, range.max).len() as u64)
            })
            .flatten()
        })
        .sum()
}

/// The field of `fields` with the most points of `buffer` in `range`: it stands for the
/// series' row count, as the largest field count does for a block.
fn longest_field(
    buffer: &mut crate::memtable::SeriesBuffer,
    fields: &[FieldId],
    range: TimeRange,
) -> Option<FieldId> {
    fields
        .iter()
        .filter_map(|&f| {
            let col = buffer.column(f)?;
            Some((col.range(range.min, range.max).len(), f))
        })
        .max()
        .map(|(_, f)| f)
}

/// Merges per-field (time, value) runs, each in strictly increasing time order, into rows.
pub(crate) fn merge_rows(columns: Vec<Vec<(i64, OwnedFieldValue)>>) -> Vec<Row> {
    let n = columns.len();
    let total: usize = columns.iter().map(Vec::len).max().unwrap_or(0);
    let mut rows = Vec::with_capacity(total);
    let mut columns: Vec<std::vec::IntoIter<(i64, OwnedFieldValue)>> =
        columns.into_iter().map(Vec::into_iter).collect();
    let mut heads: Vec<Option<(i64, OwnedFieldValue)>> =
        columns.iter_mut().map(Iterator::next).collect();
    while let Some(time) = heads.iter().flatten().map(|(t, _)| *t).min() {
        let mut values = Vec::with_capacity(n);
        for (i, head) in heads.iter_mut().enumerate() {
            if head.as_ref().is_some_and(|(t, _)| *t == time) {
                values.push(head.take().map(|(_, v)| v));
                *head = columns[i].next();
            } else {
                values.push(None);
            }
        }
        rows.push(Row { time, values });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldValue;

    #[test]
    fn slices_cover_the_range_and_hold_about_the_target() {
        use crate::db::{Db, Options};
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            fsync: crate::wal::Fsync::Never,
            background_maintenance: false,
            block_rows: 8,
            ..Options::default()
        };
        let db = Db::open(dir.path(), options).unwrap();
        db.create_database("city").unwrap();
        // Three series, 400 points each: most in segments, the newest still in memory.
        for part in 0..4 {
            let body: String = (part * 100..part * 100 + 100)
                .flat_map(|t| (0..3).map(move |s| format!("m,s={s} v={t}i,w=1i {t}\n")))
                .collect();
            db.write_lines(
                "city",
                body.as_bytes(),
                crate::model::Precision::Nanoseconds,
            )
            .unwrap();
            if part < 3 {
                db.flush().unwrap();
            }
        }
        let database = db.database("city").unwrap();
        let sids: Vec<SeriesId> = database
            .index()
            .matching_series("m", &TagPredicate::All)
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        let selected = selected_fields(&database, "m", &[]);
        let wanted: Vec<_> = selected.iter().map(|(f, _, t)| (*f, *t)).collect();
        let fids: Vec<_> = selected.iter().map(|(f, _, _)| *f).collect();
        let snapshot = database.snapshot();
        for (range, target) in [(TimeRange::ALL, 30), (TimeRange::new(5, 333), 50)] {
            let slices = plan_slices(&snapshot, &sids, &fids, range, target);
            assert!(slices.len() > 5, "{slices:?}");
            assert_eq!(slices[0].min, range.min);
            assert_eq!(slices[slices.len() - 1].max, range.max);
            let mut total = 0;
            for pair in slices.windows(2) {
                assert_eq!(pair[0].max + 1, pair[1].min, "contiguous: {slices:?}");
            }
            for slice in &slices {
                let held: usize = sids
                    .iter()
                    .map(|&sid| read_series(&snapshot, sid, &wanted, *slice).unwrap().len())
                    .sum();
                // Marks sharing the last instant add a quarter of the target at most; the
                // even spread of a block's rows over its span errs by a mark or so.
                assert!(held <= target + target / 4 + 3 * 8, "{held} in {slice:?}");
                total += held;
            }
            let whole: usize = sids
                .iter()
                .map(|&sid| read_series(&snapshot, sid, &wanted, range).unwrap().len())
                .sum();
            assert_eq!(total, whole);
        }
    }

    #[test]
    fn fields_merge_into_rows_by_time() {
        let a = vec![(1, FieldValue::Float(1.0)), (3, FieldValue::Float(3.0))];
        let b = vec![(2, FieldValue::Integer(2)), (3, FieldValue::Integer(30))];
        let rows = merge_rows(vec![a, b]);
        let times: Vec<i64> = rows.iter().map(|r| r.time).collect();
        assert_eq!(times, vec![1, 2, 3]);
        assert_eq!(rows[0].values, vec![Some(FieldValue::Float(1.0)), None]);
        assert_eq!(rows[1].values, vec![None, Some(FieldValue::Integer(2))]);
        assert_eq!(
            rows[2].values,
            vec![Some(FieldValue::Float(3.0)), Some(FieldValue::Integer(30))]
        );
    }
}
