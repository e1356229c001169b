//! Reading points back: which series match, which fields, which time range.
//!
//! A scan takes the series list under the index lock, then reads each series' buffer under that
//! buffer's own short lock, so it runs beside writers. It sees every write acknowledged before
//! it began, possibly some that land while it runs, and never part of a point: a point's
//! fields are applied to its series' buffer under one lock, and read under one lock.

use crate::model::{FieldType, OwnedFieldValue};
use crate::series_index::SeriesEntry;

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
    And(Vec<TagPredicate>),
    Or(Vec<TagPredicate>),
}

impl TagPredicate {
    pub fn eq(k: impl Into<String>, v: impl Into<String>) -> Self {
        TagPredicate::Eq(k.into(), v.into())
    }

    pub fn matches(&self, series: &SeriesEntry) -> bool {
        match self {
            TagPredicate::All => true,
            TagPredicate::Eq(k, v) => series.tag(k).unwrap_or("") == v,
            TagPredicate::NotEq(k, v) => series.tag(k).unwrap_or("") != v,
            TagPredicate::And(ps) => ps.iter().all(|p| p.matches(series)),
            TagPredicate::Or(ps) => ps.iter().any(|p| p.matches(series)),
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
