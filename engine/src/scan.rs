//! Reading points back: which series match, which fields, which time range.
//!
//! A scan takes the series list under the index lock, then reads each series' buffer under that
//! buffer's own short lock, so it runs beside writers. It sees every write acknowledged before
//! it began, possibly some that land while it runs, and never part of a point: a point's
//! fields are applied to its series' buffer under one lock, and read under one lock.

use crate::batch::FieldId;
use crate::database::Database;
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

/// Reads `db` as of one snapshot; see `Db::scan`.
pub(crate) fn scan(
    db: &Database,
    measurement: &str,
    tags: &TagPredicate,
    fields: &[&str],
    range: TimeRange,
) -> Result<Vec<SeriesRows>> {
    let selected: Vec<(FieldId, String, FieldType)> = {
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
    };
    // (id, key, tags) of the matching series, ascending by key.
    let series: Vec<_> = db.index().matching_series(measurement, tags);
    let snapshot = db.snapshot();
    let wanted: Vec<(FieldId, FieldType)> = selected.iter().map(|(f, _, t)| (*f, *t)).collect();

    let mut out = Vec::new();
    for (sid, key, tag_list) in series {
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
                .read_columns(meta, &wanted, range.min, range.max)?;
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
            .zip(&wanted)
            .map(|(r, (_, t))| {
                let c = merge_runs(*t, r);
                (0..c.len())
                    .map(|i| (c.times[i], c.values.get(i)))
                    .collect()
            })
            .collect();
        let rows = merge_rows(columns);
        if rows.is_empty() {
            continue;
        }
        out.push(SeriesRows {
            key,
            measurement: measurement.to_owned(),
            tags: tag_list,
            fields: selected.iter().map(|(_, k, t)| (k.clone(), *t)).collect(),
            rows,
        });
    }
    Ok(out)
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
