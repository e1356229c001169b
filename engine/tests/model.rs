//! Property test: the engine against a simple in-memory model.
//!
//! Random sequences of writes (line protocol and embedded points, out of order, duplicate
//! timestamps, type conflicts), flushes, compactions and reopens, checked after every step
//! against a `BTreeMap`. Partitions are 16 ns wide and blocks 4 rows, so the small time range
//! spreads over several partitions, segments and blocks.

mod common;

use std::collections::BTreeMap;

use ganzhi_engine::{
    Db, Error, FieldValue, OwnedFieldValue, Point, Precision, RejectedLine, TagPredicate, TimeRange,
};
use proptest::prelude::*;

const SERIES: [(&str, &str); 4] = [
    ("air", "station=a"),
    ("air", "station=b"),
    ("air", "district=x\\,y,station=c"),
    ("noise", "site=n\\ 1"),
];

/// The field's type is fixed by its index: f0 float, f1 integer, f2 string, f3 boolean,
/// f4 unsigned.
fn value_of(field: usize, seed: i64) -> OwnedFieldValue {
    match field {
        0 => FieldValue::Float(seed as f64 / 10.0),
        1 => FieldValue::Integer(seed * 7 - 100),
        2 => FieldValue::String(format!("s \"{seed}\"\\").into()),
        3 => FieldValue::Boolean(seed % 2 == 0),
        _ => FieldValue::Unsigned(seed.unsigned_abs() * 3),
    }
}

/// A value of a type the field does not have.
fn wrong_value_of(field: usize) -> OwnedFieldValue {
    match field {
        0 => FieldValue::Integer(1),
        _ => FieldValue::Float(1.5),
    }
}

fn lp_value(v: &OwnedFieldValue) -> String {
    match v {
        FieldValue::Float(x) => format!("{x:?}"),
        FieldValue::Integer(x) => format!("{x}i"),
        FieldValue::Unsigned(x) => format!("{x}u"),
        FieldValue::String(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        FieldValue::Boolean(b) => b.to_string(),
    }
}

#[derive(Debug, Clone)]
struct WritePoint {
    series: usize,
    time: i64,
    fields: Vec<(usize, i64)>,
    conflict: Option<usize>,
}

#[derive(Debug, Clone)]
enum Op {
    Lines(Vec<WritePoint>),
    Points(Vec<WritePoint>),
    Flush,
    Compact { full: bool },
    Reopen,
}

fn point_strategy() -> impl Strategy<Value = WritePoint> {
    (
        0..SERIES.len(),
        0i64..40,
        proptest::collection::btree_map(0usize..5, -50i64..50, 1..4),
        proptest::option::weighted(0.1, 0usize..5),
    )
        .prop_map(|(series, time, fields, conflict)| WritePoint {
            series,
            time,
            fields: fields.into_iter().collect(),
            conflict,
        })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => proptest::collection::vec(point_strategy(), 1..12).prop_map(Op::Lines),
        2 => proptest::collection::vec(point_strategy(), 1..6).prop_map(Op::Points),
        1 => Just(Op::Reopen),
        2 => Just(Op::Flush),
        1 => any::<bool>().prop_map(|full| Op::Compact { full }),
    ]
}

type Model = BTreeMap<(usize, usize), BTreeMap<i64, OwnedFieldValue>>;

fn fields_of(p: &WritePoint) -> Vec<(usize, OwnedFieldValue)> {
    let mut fields: Vec<(usize, OwnedFieldValue)> = p
        .fields
        .iter()
        .map(|&(f, seed)| (f, value_of(f, seed)))
        .collect();
    if let Some(c) = p.conflict {
        match fields.iter_mut().find(|(f, _)| *f == c) {
            Some(slot) => slot.1 = wrong_value_of(c),
            None => fields.push((c, wrong_value_of(c))),
        }
    }
    fields
}

fn open(dir: &std::path::Path) -> Db {
    common::open_tiny(dir, 4, 16)
}

fn apply_to_model(model: &mut Model, points: &[WritePoint]) -> Vec<usize> {
    let mut rejected = Vec::new();
    for (i, p) in points.iter().enumerate() {
        if p.conflict.is_some() {
            rejected.push(i + 1);
            continue;
        }
        for (f, v) in fields_of(p) {
            model.entry((p.series, f)).or_default().insert(p.time, v);
        }
    }
    rejected
}

fn check(db: &Db, model: &Model) {
    for (s, (measurement, tags)) in SERIES.iter().enumerate() {
        let key = format!("{measurement},{tags}");
        let got = db
            .scan("city", measurement, &TagPredicate::All, &[], TimeRange::ALL)
            .unwrap();
        let series = got.iter().find(|r| r.key == key);
        for f in 0..5 {
            let expected = model.get(&(s, f)).cloned().unwrap_or_default();
            let actual: BTreeMap<i64, OwnedFieldValue> = series
                .map(|sr| {
                    let col = sr.fields.iter().position(|(k, _)| *k == format!("f{f}"));
                    sr.rows
                        .iter()
                        .filter_map(|r| Some((r.time, col.and_then(|c| r.values[c].clone())?)))
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(actual, expected, "series {key} field f{f}");
        }
        if let Some(sr) = series {
            assert!(
                sr.rows.windows(2).all(|w| w[0].time < w[1].time),
                "rows out of order"
            );
        }
    }
}

fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path());
    // Fix each field's type in both measurements, on series the checks do not look at.
    let all_fields: Vec<String> = (0..5)
        .map(|f| format!("f{f}={}", lp_value(&value_of(f, 1))))
        .collect();
    let seed = format!(
        "air,station=seed {0} 0\nnoise,site=seed {0} 0\n",
        all_fields.join(",")
    );
    db.write_lines("city", seed.as_bytes(), Precision::Nanoseconds)
        .unwrap();
    let mut model = Model::new();
    for op in ops {
        match op {
            Op::Lines(points) => {
                let mut body = String::new();
                for p in &points {
                    let (m, tags) = SERIES[p.series];
                    let fields: Vec<String> = fields_of(p)
                        .iter()
                        .map(|(f, v)| format!("f{f}={}", lp_value(v)))
                        .collect();
                    body.push_str(&format!("{m},{tags} {} {}\n", fields.join(","), p.time));
                }
                let expected_rejects = apply_to_model(&mut model, &points);
                let result = db.write_lines("city", body.as_bytes(), Precision::Nanoseconds);
                check_result(result, &expected_rejects);
            }
            Op::Points(points) => {
                let pts: Vec<Point> = points
                    .iter()
                    .map(|p| {
                        let (m, tags) = SERIES[p.series];
                        let mut point = Point::new(m).timestamp(p.time);
                        let (_, parsed) =
                            ganzhi_engine::line_protocol::parse_series_key(&format!("{m},{tags}"))
                                .unwrap();
                        for (k, v) in parsed {
                            point = point.tag(k, v);
                        }
                        for (f, v) in fields_of(p) {
                            point = point.field(format!("f{f}"), v);
                        }
                        point
                    })
                    .collect();
                let expected_rejects = apply_to_model(&mut model, &points);
                check_result(db.write("city", &pts), &expected_rejects);
            }
            Op::Flush => {
                db.flush().unwrap();
                let segments = walk_count(dir.path(), "seg");
                assert!(model.is_empty() || segments > 0, "flush wrote no segment");
            }
            Op::Compact { full } => db.compact(full).unwrap(),
            Op::Reopen => {
                drop(db);
                db = open(dir.path());
                assert!(db.recovery_report().truncations.is_empty());
            }
        }
        check(&db, &model);
    }
}

fn check_result(result: ganzhi_engine::Result<ganzhi_engine::WriteSummary>, rejects: &[usize]) {
    match result {
        Ok(_) => assert!(rejects.is_empty(), "expected rejections {rejects:?}"),
        Err(Error::PartialWrite { rejected, .. }) => {
            let lines: Vec<usize> = rejected.iter().map(RejectedLine::line).collect();
            assert_eq!(lines, rejects);
            assert!(rejected
                .iter()
                .all(|r| matches!(r, RejectedLine::FieldTypeConflict { .. })));
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn engine_matches_model(ops in proptest::collection::vec(op_strategy(), 1..25)) {
        run(ops);
    }
}

/// Files under `dir` with extension `ext`.
fn walk_count(dir: &std::path::Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                walk_count(&p, ext)
            } else {
                usize::from(p.extension().is_some_and(|e| e == ext))
            }
        })
        .sum()
}
