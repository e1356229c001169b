//! Deletes: `Db::delete` (DELETE FROM … WHERE time …), `drop_series`, `drop_measurement` and
//! `drop_database`: what scans and aggregates see, durability across reopen, what compaction
//! does with tombstones, the listings, and a property test against a model. (The crash test
//! is `delete_crash.rs`: a child spawned while another test reopens a `Db` would hold the
//! directory's lock for an instant.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ganzhi_engine::manifest::Manifest;
use ganzhi_engine::{
    Aggregate, AggregateQuery, CompactionPolicy, DatabaseOptions, Db, Error, FieldValue, Fsync,
    Options, OwnedFieldValue, Precision, TagPredicate, TimeRange,
};
use proptest::prelude::*;

fn options() -> Options {
    Options {
        fsync: Fsync::Never,
        background_maintenance: false,
        block_rows: 4,
        compaction: CompactionPolicy {
            min_inputs: 2,
            max_input_bytes: 1 << 20,
        },
        ..Options::default()
    }
}

/// A database `city` with 1000 ns partitions.
fn open(dir: &Path) -> Db {
    let db = Db::open(dir, options()).unwrap();
    db.create_database_with(
        "city",
        DatabaseOptions {
            partition: Duration::from_nanos(1000),
            retention: None,
        },
    )
    .unwrap();
    db
}

fn write(db: &Db, body: &str) {
    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
        .unwrap();
}

/// `air,station=<s> v=<t/10> <t>` for each t.
fn write_station(db: &Db, station: &str, times: impl IntoIterator<Item = i64>) {
    let body: String = times
        .into_iter()
        .map(|t| format!("air,station={station} v={} {t}\n", t as f64 / 10.0))
        .collect();
    write(db, &body);
}

/// Series key → times of field `v` of `measurement`.
fn times(db: &Db, measurement: &str) -> BTreeMap<String, Vec<i64>> {
    db.scan(
        "city",
        measurement,
        &TagPredicate::All,
        &["v"],
        TimeRange::ALL,
    )
    .unwrap()
    .into_iter()
    .map(|s| {
        let t = s
            .rows
            .iter()
            .filter(|r| r.values[0].is_some())
            .map(|r| r.time)
            .collect();
        (s.key, t)
    })
    .collect()
}

fn station(db: &Db, s: &str) -> Vec<i64> {
    times(db, "air")
        .remove(&format!("air,station={s}"))
        .unwrap_or_default()
}

fn db_dir(dir: &Path, id: u64) -> PathBuf {
    dir.join("db").join(id.to_string())
}

fn manifest(dir: &Path) -> Manifest {
    Manifest::load(&db_dir(dir, 1)).unwrap().unwrap()
}

fn station_a() -> TagPredicate {
    TagPredicate::eq("station", "a")
}

fn range(min: i64, max: i64) -> TimeRange {
    TimeRange::new(min, max)
}

fn without(all: impl IntoIterator<Item = i64>, min: i64, max: i64) -> Vec<i64> {
    all.into_iter().filter(|t| *t < min || *t > max).collect()
}

#[test]
fn a_delete_removes_the_range_from_segments_and_memtables_alike() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write_station(&db, "a", (0..20).map(|i| i * 10));
    write_station(&db, "b", (0..20).map(|i| i * 10));
    db.flush().unwrap(); // 0..=190 in segments
    write_station(&db, "a", (20..40).map(|i| i * 10));
    write_station(&db, "b", (20..40).map(|i| i * 10)); // 200..=390 in the memtable

    // Both sides of the range survive; the range spans segment and memtable data.
    let n = db
        .delete("city", Some("air"), &station_a(), range(95, 255))
        .unwrap();
    assert_eq!(n, 1);
    let expected = without((0..40).map(|i| i * 10), 95, 255);
    assert_eq!(station(&db, "a"), expected);
    assert_eq!(station(&db, "b").len(), 40, "the other series is untouched");

    // A write after the delete, inside its range, stays.
    write_station(&db, "a", [100, 250]);
    let mut with_new = expected.clone();
    with_new.extend([100, 250]);
    with_new.sort();
    assert_eq!(station(&db, "a"), with_new);

    // Durable: reopened from the WAL, then from segments, then compacted.
    drop(db);
    let db = open(dir.path());
    assert_eq!(station(&db, "a"), with_new);
    db.flush().unwrap();
    drop(db);
    let db = open(dir.path());
    assert_eq!(station(&db, "a"), with_new);
    db.compact(true).unwrap();
    assert_eq!(station(&db, "a"), with_new);
    assert_eq!(station(&db, "b").len(), 40);
}

#[test]
fn a_delete_with_no_match_or_an_empty_range_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write_station(&db, "a", [1, 2, 3]);
    db.flush().unwrap();
    assert_eq!(
        db.delete("city", Some("air"), &station_a(), range(5, 4))
            .unwrap(),
        0
    );
    assert_eq!(
        db.delete("city", Some("nothing"), &TagPredicate::All, TimeRange::ALL)
            .unwrap(),
        0
    );
    assert_eq!(
        db.delete("city", Some("air"), &station_a(), range(10, 20))
            .unwrap(),
        0
    );
    assert_eq!(station(&db, "a"), vec![1, 2, 3]);
    assert!(matches!(
        db.delete("nope", None, &TagPredicate::All, TimeRange::ALL),
        Err(Error::DatabaseNotFound { .. })
    ));
}

#[test]
fn a_delete_without_a_measurement_takes_every_measurement() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(
        &db,
        "air,station=a v=1 10\nnoise,station=a v=2 10\nnoise,station=b v=3 10\n",
    );
    db.flush().unwrap();
    write(&db, "air,station=a v=1 20\nnoise,station=a v=2 20\n");
    assert_eq!(
        db.delete("city", None, &station_a(), TimeRange::ALL)
            .unwrap(),
        2
    );
    assert!(times(&db, "air").is_empty());
    assert_eq!(
        times(&db, "noise"),
        BTreeMap::from([("noise,station=b".to_string(), vec![10])])
    );
    // A delete keeps the series listed; only DROP SERIES hides them.
    assert_eq!(db.measurements("city").unwrap(), vec!["air", "noise"]);
}

/// Count, sum, min, max, first and last per window, from the engine.
fn window_aggregates(db: &Db, agg: Aggregate, window: i64) -> (Vec<(i64, Option<f64>)>, u64) {
    let (series, stats) = db
        .aggregate(
            "city",
            &AggregateQuery {
                measurement: "air",
                field: "v",
                tags: &station_a(),
                range: TimeRange::ALL,
                aggregate: agg,
                window: Some((window, 0)),
                group_by: &[],
            },
        )
        .unwrap();
    let rows = series
        .into_iter()
        .flat_map(|s| s.rows)
        .map(|(t, v)| {
            let v = v.map(|v| match v {
                FieldValue::Float(x) => x,
                FieldValue::Integer(x) => x as f64,
                other => panic!("{other:?}"),
            });
            (t, v)
        })
        .collect();
    (rows, stats.chunks_from_stats)
}

/// The same, computed from the surviving points.
fn naive_aggregates(points: &[i64], agg: Aggregate, window: i64) -> Vec<(i64, Option<f64>)> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    let start = first.div_euclid(window) * window;
    let mut out = Vec::new();
    let mut w = start;
    while w <= *last {
        let vals: Vec<f64> = points
            .iter()
            .filter(|t| (w..w + window).contains(*t))
            .map(|t| *t as f64 / 10.0)
            .collect();
        let v = if vals.is_empty() {
            None
        } else {
            Some(match agg {
                Aggregate::Count => vals.len() as f64,
                Aggregate::Sum => vals.iter().sum(),
                Aggregate::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
                Aggregate::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                Aggregate::First => vals[0],
                Aggregate::Last => vals[vals.len() - 1],
                other => panic!("{other:?}"),
            })
        };
        out.push((w, v));
        w += window;
    }
    out
}

#[test]
fn aggregates_never_take_deleted_points_from_block_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let all: Vec<i64> = (0..64).map(|i| i * 5).collect();
    write_station(&db, "a", all.clone());
    db.flush().unwrap();
    // Blocks of 4 rows (20 ns) lie inside 40 ns windows: answered from statistics.
    let (_, from_stats) = window_aggregates(&db, Aggregate::Count, 40);
    assert!(from_stats > 0);

    // Cut inside blocks, and the whole start (the first windows must disappear).
    db.delete("city", Some("air"), &station_a(), range(0, 42))
        .unwrap();
    db.delete("city", Some("air"), &station_a(), range(101, 118))
        .unwrap();
    let left = without(without(all.clone(), 0, 42), 101, 118);
    assert_eq!(station(&db, "a"), left);
    for agg in [
        Aggregate::Count,
        Aggregate::Sum,
        Aggregate::Min,
        Aggregate::Max,
        Aggregate::First,
        Aggregate::Last,
    ] {
        let (got, _) = window_aggregates(&db, agg, 40);
        assert_eq!(got, naive_aggregates(&left, agg, 40), "{agg:?}");
    }
    db.compact(true).unwrap();
    for agg in [Aggregate::Count, Aggregate::Sum, Aggregate::First] {
        let (got, _) = window_aggregates(&db, agg, 40);
        assert_eq!(got, naive_aggregates(&left, agg, 40), "{agg:?} compacted");
    }
}

#[test]
fn compaction_drops_deleted_points_and_then_the_tombstone() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    for round in 0..3 {
        write_station(&db, "a", (0..50).map(|i| i * 10 + round));
        write_station(&db, "b", (0..50).map(|i| i * 10 + round));
        db.flush().unwrap();
    }
    let values_before: u64 = manifest(dir.path()).segments.iter().map(|s| s.values).sum();
    assert_eq!(values_before, 300);

    db.delete("city", Some("air"), &station_a(), range(100, 299))
        .unwrap();
    db.flush().unwrap(); // nothing to flush, but the tombstone reaches the manifest
    let m = manifest(dir.path());
    assert_eq!(m.tombstones.len(), 1);
    assert_eq!((m.tombstones[0].min, m.tombstones[0].max), (100, 299));
    // Still there after a reopen (from the manifest, the WAL segment is gone).
    drop(db);
    let db = open(dir.path());
    assert_eq!(station(&db, "a").len(), 90);

    db.compact(true).unwrap();
    let m = manifest(dir.path());
    assert!(m.tombstones.is_empty(), "{:?}", m.tombstones);
    let values_after: u64 = m.segments.iter().map(|s| s.values).sum();
    assert_eq!(values_after, 300 - 60);
    assert_eq!(station(&db, "a").len(), 90);
    drop(db);
    let db = open(dir.path());
    assert_eq!(
        station(&db, "a"),
        without(
            (0..50).flat_map(|i| (0..3).map(move |r| i * 10 + r)),
            100,
            299
        )
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
}

#[test]
fn a_lone_segment_with_deleted_points_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    // Partition 0 gets two segments, partition 1000 one.
    write_station(&db, "a", [10, 1010, 1011, 1012]);
    db.flush().unwrap();
    write_station(&db, "a", [11]);
    db.flush().unwrap();
    db.delete("city", Some("air"), &station_a(), range(0, 1010))
        .unwrap();
    assert_eq!(station(&db, "a"), vec![1011, 1012]);
    let lone = |m: &Manifest| -> (u64, u64) {
        let s = m.segments.iter().find(|s| s.partition == 1000).unwrap();
        (s.id, s.values)
    };
    let (before, values) = lone(&manifest(dir.path()));
    assert_eq!(values, 3);

    // Routine compaction: partition 0 is merged to nothing (no output at all), the lone
    // segment of partition 1000 is rewritten without its deleted point.
    db.compact(false).unwrap();
    let m = manifest(dir.path());
    assert!(
        m.segments.iter().all(|s| s.partition == 1000),
        "{:?}",
        m.segments
    );
    let (after, values) = lone(&m);
    assert_ne!(after, before);
    assert_eq!(values, 2);
    assert!(m.tombstones.is_empty());
    drop(db);
    let db = open(dir.path());
    assert_eq!(station(&db, "a"), vec![1011, 1012]);
    // Nothing left to do.
    db.compact(false).unwrap();
    assert_eq!(lone(&manifest(dir.path())).0, after);
}

#[test]
fn retention_takes_the_tombstones_of_the_partitions_it_drops() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    db.set_retention("city", Some(Duration::from_secs(3600)))
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    write_station(&db, "a", [10, 11, now]);
    db.flush().unwrap();
    db.delete("city", Some("air"), &station_a(), range(0, 10))
        .unwrap();
    db.flush().unwrap();
    assert_eq!(manifest(dir.path()).tombstones.len(), 1);
    assert_eq!(db.enforce_retention().unwrap(), 1);
    assert!(manifest(dir.path()).tombstones.is_empty());
    assert_eq!(station(&db, "a"), vec![now]);
}

#[test]
fn deleting_data_only_in_the_memtable_leaves_no_tombstone() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write_station(&db, "a", [1, 2, 3]);
    db.flush().unwrap();
    write_station(&db, "a", [10, 11]);
    assert_eq!(
        db.delete("city", Some("air"), &station_a(), range(10, 20))
            .unwrap(),
        1
    );
    assert_eq!(station(&db, "a"), vec![1, 2, 3]);
    db.flush().unwrap();
    assert!(manifest(dir.path()).tombstones.is_empty());
    drop(db);
    let db = open(dir.path());
    assert_eq!(station(&db, "a"), vec![1, 2, 3]);
}

#[test]
fn a_rewritten_timestamp_survives_a_compaction_with_the_deleted_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(&db, "air,station=a v=1 5\nair,station=a v=1 6\n");
    db.flush().unwrap();
    db.delete("city", Some("air"), &station_a(), range(5, 5))
        .unwrap();
    write(&db, "air,station=a v=2 5\n");
    db.flush().unwrap();
    db.compact(true).unwrap();
    let rows = db
        .scan("city", "air", &station_a(), &["v"], TimeRange::ALL)
        .unwrap();
    let got: Vec<(i64, Option<OwnedFieldValue>)> = rows[0]
        .rows
        .iter()
        .map(|r| (r.time, r.values[0].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (5, Some(FieldValue::Float(2.0))),
            (6, Some(FieldValue::Float(1.0)))
        ]
    );
}

#[test]
fn dropped_series_leave_the_listings_until_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(
        &db,
        "air,station=a v=1 1\nair,station=b v=1 1\nnoise,station=a v=1 1\n",
    );
    db.flush().unwrap();
    write(&db, "air,station=a v=1 2\ntraffic,lane=1 v=1 2\n");

    assert_eq!(db.drop_series("city", None, &station_a()).unwrap(), 2);
    assert_eq!(db.measurements("city").unwrap(), vec!["air", "traffic"]);
    assert_eq!(
        times(&db, "air").keys().collect::<Vec<_>>(),
        vec!["air,station=b"]
    );
    // Unknown selections drop nothing.
    assert_eq!(
        db.drop_series("city", Some("air"), &TagPredicate::eq("station", "zz"))
            .unwrap(),
        0
    );
    // A series that only lives in memory (no series file yet) can be dropped too.
    assert_eq!(
        db.drop_series("city", Some("traffic"), &TagPredicate::All)
            .unwrap(),
        1
    );
    assert_eq!(db.measurements("city").unwrap(), vec!["air"]);

    let mut db = db;
    for step in ["reopen", "flush", "reopen", "compact", "reopen"] {
        match step {
            "flush" => db.flush().unwrap(),
            "compact" => db.compact(true).unwrap(),
            _ => {
                drop(db);
                db = open(dir.path());
            }
        }
        assert_eq!(db.measurements("city").unwrap(), vec!["air"], "{step}");
        assert_eq!(times(&db, "noise"), BTreeMap::new(), "{step}");
        assert_eq!(times(&db, "air").len(), 1, "{step}");
    }
    // Written again: back, with only the new point.
    write(&db, "noise,station=a v=5 7\n");
    assert_eq!(db.measurements("city").unwrap(), vec!["air", "noise"]);
    assert_eq!(
        times(&db, "noise"),
        BTreeMap::from([("noise,station=a".to_string(), vec![7])])
    );
    drop(db);
    let db = open(dir.path());
    assert_eq!(db.measurements("city").unwrap(), vec!["air", "noise"]);
    db.flush().unwrap();
    drop(db);
    let db = open(dir.path());
    assert_eq!(db.measurements("city").unwrap(), vec!["air", "noise"]);
    assert_eq!(times(&db, "noise").len(), 1);
}

#[test]
fn a_dropped_measurement_and_its_fields_are_gone_and_may_come_back_with_other_types() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(
        &db,
        "air,station=a v=1.5,n=3i 1\nair,station=b v=2.5 2\nnoise,site=x v=1 1\n",
    );
    db.flush().unwrap();
    write(&db, "air,station=a v=3.5 3\n");
    db.drop_measurement("city", "air").unwrap();
    db.drop_measurement("city", "never-written").unwrap();
    assert_eq!(db.measurements("city").unwrap(), vec!["noise"]);
    assert!(db
        .scan("city", "air", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap()
        .is_empty());
    // `v` was a float: now it can be a string.
    write(&db, "air,station=a v=\"up\" 10\n");
    let check = |db: &Db| {
        assert_eq!(db.measurements("city").unwrap(), vec!["air", "noise"]);
        let rows = db
            .scan("city", "air", &TagPredicate::All, &[], TimeRange::ALL)
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].key, "air,station=a");
        assert_eq!(
            rows[0].fields,
            vec![("v".to_string(), ganzhi_engine::FieldType::String)]
        );
        assert_eq!(rows[0].rows.len(), 1);
        assert_eq!(rows[0].rows[0].time, 10);
    };
    check(&db);
    drop(db);
    let db = open(dir.path()); // from the WAL
    check(&db);
    db.flush().unwrap();
    drop(db);
    let db = open(dir.path()); // from the manifest
    check(&db);
    db.compact(true).unwrap();
    check(&db);
    assert!(manifest(dir.path()).tombstones.is_empty());
    assert_eq!(times(&db, "noise").len(), 1);
}

#[test]
fn a_batch_resolved_before_a_drop_measurement_loses_the_dropped_fields() {
    // Many writers race a drop: whatever happens, reopening must work and agree with what
    // was seen before (a removed field must never be defined twice in the WAL).
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(&db, "air,station=a v=1 1\n");
    std::thread::scope(|s| {
        for w in 0..3 {
            let db = db.clone();
            s.spawn(move || {
                for i in 0..200 {
                    let body = format!("air,station=w{w} v={i},u{w}={i}i {}\n", i + 10);
                    let _ = db.write_lines("city", body.as_bytes(), Precision::Nanoseconds);
                }
            });
        }
        for _ in 0..20 {
            db.drop_measurement("city", "air").unwrap();
        }
    });
    let before = times(&db, "air");
    drop(db);
    let db = open(dir.path());
    assert_eq!(db.recovery_report().orphaned_points, 0);
    assert_eq!(times(&db, "air"), before);
}

/// A SHOW statement's result, one "measurement: values" line per row.
fn show(db: &Db, q: &str) -> Vec<String> {
    let mut results = db.query("city", q).unwrap();
    assert_eq!(results.len(), 1);
    let mut out = Vec::new();
    for s in results.remove(0).unwrap() {
        for (_, row) in &s.rows {
            let values: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Some(FieldValue::String(s)) => s.to_string(),
                    Some(other) => format!("{other:?}"),
                    None => "-".into(),
                })
                .collect();
            out.push(format!("{}: {}", s.name, values.join(",")));
        }
    }
    out
}

#[test]
fn influxql_listings_leave_out_dropped_series_and_measurements() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(
        &db,
        "air,station=a,district=n pm25=1 1\nair,station=b pm25=2 1\nnoise,station=a db=3i 1\n",
    );
    db.flush().unwrap();
    write(&db, "air,station=c pm25=4 2\n");
    db.drop_series("city", Some("air"), &station_a()).unwrap();
    db.drop_series("city", Some("air"), &TagPredicate::eq("station", "c"))
        .unwrap();
    let check = |db: &Db| {
        assert_eq!(
            show(db, "SHOW MEASUREMENTS"),
            vec!["measurements: air", "measurements: noise"]
        );
        assert_eq!(
            show(db, "SHOW SERIES"),
            vec![": air,station=b", ": noise,station=a"]
        );
        assert_eq!(show(db, "SHOW TAG KEYS FROM air"), vec!["air: station"]);
        assert_eq!(
            show(db, "SHOW TAG VALUES FROM air WITH KEY = \"station\""),
            vec!["air: station,b"]
        );
        assert_eq!(
            show(db, "SHOW FIELD KEYS FROM air"),
            vec!["air: pm25,float"]
        );
    };
    check(&db);
    drop(db);
    let db = open(dir.path());
    check(&db);

    db.drop_measurement("city", "air").unwrap();
    let check = |db: &Db| {
        assert_eq!(show(db, "SHOW MEASUREMENTS"), vec!["measurements: noise"]);
        assert_eq!(show(db, "SHOW SERIES"), vec![": noise,station=a"]);
        assert!(show(db, "SHOW FIELD KEYS FROM air").is_empty());
        assert!(show(db, "SHOW TAG KEYS FROM air").is_empty());
    };
    check(&db);
    db.flush().unwrap();
    drop(db);
    let db = open(dir.path());
    check(&db);
}

#[test]
fn a_dropped_database_stays_dropped_and_its_name_can_be_reused() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write_station(&db, "a", [1, 2]);
    db.flush().unwrap();
    write_station(&db, "a", [3]); // in the WAL only
    db.create_database("other").unwrap();
    db.write_lines("other", b"air,station=z v=1 1\n", Precision::Nanoseconds)
        .unwrap();

    db.drop_database("city").unwrap();
    db.drop_database("city").unwrap(); // not an error
    db.drop_database("never").unwrap();
    assert_eq!(db.databases(), vec!["other"]);
    assert!(!db_dir(dir.path(), 1).exists());
    assert!(matches!(
        db.write_lines("city", b"air v=1 1\n", Precision::Nanoseconds),
        Err(Error::DatabaseNotFound { .. })
    ));
    db.flush().unwrap();
    db.compact(true).unwrap();
    drop(db);

    // The WAL record of point 3 does not resurrect it.
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(db.databases(), vec!["other"]);
    assert!(matches!(
        db.scan("city", "air", &TagPredicate::All, &[], TimeRange::ALL),
        Err(Error::DatabaseNotFound { .. })
    ));
    db.create_database("city").unwrap();
    assert!(times(&db, "air").is_empty());
    write_station(&db, "a", [9]);
    drop(db);
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(station(&db, "a"), vec![9]);
    assert_eq!(db.databases(), vec!["city", "other"]);
    let rows = db
        .scan("other", "air", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    assert_eq!(rows.len(), 1);
}

#[test]
fn a_leftover_directory_of_a_dropped_database_goes_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write_station(&db, "a", [1]);
    db.flush().unwrap();
    drop(db);
    // As if a crash came between the catalog update and the directory's removal.
    let stray = db_dir(dir.path(), 77);
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join("MANIFEST"), b"junk").unwrap();
    let keep = dir.path().join("db").join("notes");
    std::fs::create_dir_all(&keep).unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    assert!(!stray.exists());
    assert!(keep.exists(), "only directories named by an id are touched");
    assert_eq!(station(&db, "a"), vec![1]);
}

#[test]
fn deletes_race_writers_flushes_compactions_and_scans() {
    // Writers write batches of their own series and report them; a deleter deletes some of
    // the reported batches; a maintenance thread flushes and compacts; a reader scans. At the
    // end exactly the batches not deleted are there, whole.
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path());
    const WRITERS: usize = 3;
    const BATCHES: i64 = 400;
    let (tx, rx) = std::sync::mpsc::channel::<(usize, i64)>();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let deleted = std::thread::scope(|s| {
        for w in 0..WRITERS {
            let (db, tx) = (db.clone(), tx.clone());
            s.spawn(move || {
                for b in 0..BATCHES {
                    let body: String = (0..10)
                        .map(|i| format!("air,station=w{w} v={b} {}\n", b * 10 + i))
                        .collect();
                    write(&db, &body);
                    tx.send((w, b)).unwrap();
                }
            });
        }
        drop(tx);
        let maintenance = s.spawn(|| {
            let mut rounds = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                rounds += 1;
                db.flush().unwrap();
                db.compact(false).unwrap();
                for series in times(&db, "air").values() {
                    assert!(series.windows(2).all(|w| w[0] < w[1]));
                }
            }
            rounds
        });
        let mut deleted = BTreeSet::new();
        for (w, b) in rx {
            if b % 3 == 0 {
                let tags = TagPredicate::eq("station", format!("w{w}"));
                let n = db
                    .delete("city", Some("air"), &tags, range(b * 10, b * 10 + 9))
                    .unwrap();
                assert_eq!(n, 1, "batch {b} of w{w} was acknowledged: it has points");
                deleted.insert((w, b));
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let rounds: u32 = maintenance.join().unwrap();
        assert!(rounds > 3, "{rounds} maintenance rounds");
        deleted
    });
    let expected: BTreeMap<String, Vec<i64>> = (0..WRITERS)
        .map(|w| {
            let t = (0..BATCHES)
                .filter(|b| !deleted.contains(&(w, *b)))
                .flat_map(|b| b * 10..b * 10 + 10)
                .collect();
            (format!("air,station=w{w}"), t)
        })
        .collect();
    assert_eq!(times(&db, "air"), expected);
    drop(db);
    db = open(dir.path());
    assert_eq!(times(&db, "air"), expected);
    db.flush().unwrap();
    db.compact(true).unwrap();
    assert_eq!(times(&db, "air"), expected);
    assert!(manifest(dir.path()).tombstones.is_empty());
}

// ---- Property test: deletes against a model ------------------------------------------------

const SERIES: [(&str, &str); 4] = [
    ("air", "station=a"),
    ("air", "station=b"),
    ("noise", "station=a"),
    ("noise", "station=c"),
];

#[derive(Debug, Clone)]
enum Op {
    /// (series, time, value)
    Write(Vec<(usize, i64, i64)>),
    Flush,
    Compact(bool),
    Reopen,
    /// measurement (None: all), station (None: all), min, max
    Delete(Option<usize>, Option<usize>, i64, i64),
    DropSeries(Option<usize>, Option<usize>),
    DropMeasurement(usize),
}

const MEASUREMENTS: [&str; 2] = ["air", "noise"];
const STATIONS: [&str; 3] = ["a", "b", "c"];

fn op_strategy() -> impl Strategy<Value = Op> {
    let write = proptest::collection::vec((0..SERIES.len(), 0i64..64, -50i64..50), 1..16)
        .prop_map(Op::Write);
    let m = proptest::option::weighted(0.8, 0..MEASUREMENTS.len());
    let s = proptest::option::weighted(0.7, 0..STATIONS.len());
    prop_oneof![
        6 => write,
        2 => Just(Op::Flush),
        1 => any::<bool>().prop_map(Op::Compact),
        1 => Just(Op::Reopen),
        3 => (m.clone(), s.clone(), 0i64..64, 0i64..24)
            .prop_map(|(m, s, min, len)| Op::Delete(m, s, min, min + len)),
        1 => (m, s).prop_map(|(m, s)| Op::DropSeries(m, s)),
        1 => (0..MEASUREMENTS.len()).prop_map(Op::DropMeasurement),
    ]
}

#[derive(Default, Debug)]
struct Model {
    points: BTreeMap<usize, BTreeMap<i64, i64>>,
    /// Series written and not dropped since.
    listed: BTreeSet<usize>,
}

impl Model {
    fn selected(m: Option<usize>, s: Option<usize>) -> Vec<usize> {
        (0..SERIES.len())
            .filter(|&i| {
                m.is_none_or(|m| SERIES[i].0 == MEASUREMENTS[m])
                    && s.is_none_or(|s| SERIES[i].1 == format!("station={}", STATIONS[s]))
            })
            .collect()
    }

    fn measurements(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self.listed.iter().map(|&i| SERIES[i].0).collect();
        set.into_iter().map(str::to_owned).collect()
    }
}

fn predicate(s: Option<usize>) -> TagPredicate {
    s.map_or(TagPredicate::All, |s| {
        TagPredicate::eq("station", STATIONS[s])
    })
}

fn check_model(db: &Db, model: &Model) {
    assert_eq!(db.measurements("city").unwrap(), model.measurements());
    for (i, (m, tags)) in SERIES.iter().enumerate() {
        let key = format!("{m},{tags}");
        let rows = db
            .scan("city", m, &TagPredicate::All, &["v"], TimeRange::ALL)
            .unwrap();
        let got: BTreeMap<i64, i64> = rows
            .iter()
            .find(|r| r.key == key)
            .map(|r| {
                r.rows
                    .iter()
                    .filter_map(|row| match &row.values[0] {
                        Some(FieldValue::Integer(v)) => Some((row.time, *v)),
                        None => None,
                        other => panic!("{other:?}"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let expected = model.points.get(&i).cloned().unwrap_or_default();
        assert_eq!(got, expected, "series {key}");
        // Windowed count and sum, with statistics pushdown, per series.
        let tags = TagPredicate::eq("station", tags.trim_start_matches("station="));
        for agg in [Aggregate::Count, Aggregate::Sum, Aggregate::Last] {
            let (series, _) = db
                .aggregate(
                    "city",
                    &AggregateQuery {
                        measurement: m,
                        field: "v",
                        tags: &tags,
                        range: TimeRange::new(0, 63),
                        aggregate: agg,
                        window: Some((8, 0)),
                        group_by: &[],
                    },
                )
                .unwrap();
            let got: Vec<(i64, Option<i64>)> = series
                .into_iter()
                .flat_map(|s| s.rows)
                .map(|(t, v)| {
                    let v = v.map(|v| match v {
                        FieldValue::Integer(x) => x,
                        other => panic!("{other:?}"),
                    });
                    (t, v)
                })
                .collect();
            let want: Vec<(i64, Option<i64>)> = if expected.is_empty() {
                Vec::new()
            } else {
                (0..8)
                    .map(|w| {
                        let vals: Vec<i64> =
                            expected.range(w * 8..w * 8 + 8).map(|(_, v)| *v).collect();
                        let v = (!vals.is_empty()).then(|| match agg {
                            Aggregate::Count => vals.len() as i64,
                            Aggregate::Sum => vals.iter().sum(),
                            _ => vals[vals.len() - 1],
                        });
                        (w * 8, v)
                    })
                    .collect()
            };
            assert_eq!(got, want, "{agg:?} of {key}");
        }
    }
}

fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(dir.path());
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Write(points) => {
                let mut body = String::new();
                for &(s, t, v) in &points {
                    let (m, tags) = SERIES[s];
                    body.push_str(&format!("{m},{tags} v={v}i {t}\n"));
                    model.points.entry(s).or_default().insert(t, v);
                    model.listed.insert(s);
                }
                write(&db, &body);
            }
            Op::Flush => db.flush().unwrap(),
            Op::Compact(full) => db.compact(full).unwrap(),
            Op::Reopen => {
                drop(db);
                db = open(dir.path());
            }
            Op::Delete(m, s, min, max) => {
                let mut affected = 0;
                for i in Model::selected(m, s) {
                    if !model.listed.contains(&i) {
                        continue;
                    }
                    let p = model.points.entry(i).or_default();
                    let before = p.len();
                    p.retain(|t, _| *t < min || *t > max);
                    affected += u64::from(p.len() != before);
                }
                let got = db
                    .delete(
                        "city",
                        m.map(|m| MEASUREMENTS[m]),
                        &predicate(s),
                        TimeRange::new(min, max),
                    )
                    .unwrap();
                assert_eq!(got, affected, "series with points deleted");
            }
            Op::DropSeries(m, s) => {
                let mut dropped = 0;
                for i in Model::selected(m, s) {
                    if model.listed.remove(&i) {
                        dropped += 1;
                    }
                    model.points.remove(&i);
                }
                let got = db
                    .drop_series("city", m.map(|m| MEASUREMENTS[m]), &predicate(s))
                    .unwrap();
                assert_eq!(got, dropped);
            }
            Op::DropMeasurement(m) => {
                for i in Model::selected(Some(m), None) {
                    model.listed.remove(&i);
                    model.points.remove(&i);
                }
                db.drop_measurement("city", MEASUREMENTS[m]).unwrap();
            }
        }
        check_model(&db, &model);
    }
    // Compaction leaves no tombstone behind, and the same answers.
    db.flush().unwrap();
    db.compact(true).unwrap();
    check_model(&db, &model);
    assert!(manifest(dir.path()).tombstones.is_empty());
    drop(db);
    let db = open(dir.path());
    check_model(&db, &model);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn deletes_match_the_model(ops in proptest::collection::vec(op_strategy(), 1..30)) {
        run(ops);
    }
}
