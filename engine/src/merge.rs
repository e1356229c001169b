//! Merging runs of one field: "last write wins" across memtables and segments.
//!
//! A run is a [`Column`]: times strictly increasing. Runs are given oldest first; where
//! several hold the same timestamp, the newest run's value is kept. Flush, compaction and scan
//! all merge through here, so they agree on which write won.

use crate::memtable::{Column, Values};
use crate::model::FieldType;

/// Merges `runs` (oldest first, each sorted with unique times) into one run.
pub fn merge_runs(field_type: FieldType, runs: Vec<Column>) -> Column {
    let mut runs = runs.into_iter().filter(|c| !c.is_empty());
    let Some(mut acc) = runs.next() else {
        return Column::new(field_type);
    };
    for newer in runs {
        acc = merge_two(acc, newer);
    }
    acc
}

fn merge_two(older: Column, newer: Column) -> Column {
    // Disjoint and ordered: a plain append.
    if older.times.last() < newer.times.first() {
        let mut out = older;
        let n = newer.len();
        out.values.extend_from(&newer.values, 0..n);
        out.times.extend_from_slice(&newer.times);
        return Column::from_sorted(out.times, out.values);
    }
    let mut times = Vec::with_capacity(older.len() + newer.len());
    let mut values = Values::new(older.values.field_type());
    let (mut i, mut j) = (0, 0);
    while i < older.len() || j < newer.len() {
        let a = older.times.get(i).copied();
        let b = newer.times.get(j).copied();
        match (a, b) {
            (Some(a), Some(b)) if a == b => {
                times.push(b);
                values.push_from(&newer.values, j);
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                times.push(a);
                values.push_from(&older.values, i);
                i += 1;
            }
            (Some(a), None) => {
                times.push(a);
                values.push_from(&older.values, i);
                i += 1;
            }
            (_, Some(b)) => {
                times.push(b);
                values.push_from(&newer.values, j);
                j += 1;
            }
            (None, None) => break,
        }
    }
    Column::from_sorted(times, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    fn col(points: &BTreeMap<i64, i64>) -> Column {
        Column::from_sorted(
            points.keys().copied().collect(),
            Values::Integer(points.values().copied().collect()),
        )
    }

    proptest! {
        #[test]
        fn newest_run_wins(runs in proptest::collection::vec(
            proptest::collection::btree_map(0i64..60, any::<i64>(), 0..30), 0..5)) {
            let mut model = BTreeMap::new();
            for r in &runs {
                model.extend(r.iter().map(|(k, v)| (*k, *v)));
            }
            let merged = merge_runs(FieldType::Integer, runs.iter().map(col).collect());
            let got: BTreeMap<i64, i64> = merged
                .times
                .iter()
                .copied()
                .zip((0..merged.len()).map(|i| match merged.values.get(i) {
                    crate::model::FieldValue::Integer(v) => v,
                    other => panic!("{other:?}"),
                }))
                .collect();
            prop_assert_eq!(merged.len(), got.len());
            prop_assert_eq!(got, model);
        }
    }
}
