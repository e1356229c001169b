//! One test per InfluxQL statement form, against results computed by hand on a small fixed
//! dataset; each runs on the memtable and again after a flush (segments).

use ganzhi_engine::query::output::{to_json, Epoch};
use ganzhi_engine::{Db, FieldValue, Fsync, Options, Precision, QueryError, ResultSeries};

const DATA: &str = "\
air_quality,district=d1,station=s1 pm25=10,no2=1i 0
air_quality,district=d1,station=s1 pm25=20,no2=2i 60
air_quality,district=d1,station=s1 pm25=30,no2=3i 120
air_quality,district=d1,station=s1 pm25=40,no2=4i 180
air_quality,district=d1,station=s2 pm25=5 0
air_quality,district=d1,station=s2 pm25=15 120
air_quality,district=d2,station=s3 pm25=100 60
noise,site=a level=50,label=\"ok\",alarm=false 0
noise,site=a level=70,label=\"loud\",alarm=true 60
noise,site=b level=50,label=\"ok\",alarm=false 60
";

const S: i64 = 1_000_000_000;

fn open() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fsync: Fsync::Never,
        background_maintenance: false,
        ..Options::default()
    };
    let db = Db::open(dir.path(), options).unwrap();
    db.create_database("city").unwrap();
    db.write_lines("city", DATA.as_bytes(), Precision::Seconds)
        .unwrap();
    (dir, db)
}

/// Runs `check` on the memtable and again after a flush.
fn both(check: impl Fn(&Db)) {
    let (_dir, db) = open();
    check(&db);
    db.flush().unwrap();
    check(&db);
}

fn one(db: &Db, q: &str) -> Vec<ResultSeries> {
    let mut results = db.query("city", q).unwrap_or_else(|e| panic!("{q}: {e}"));
    assert_eq!(results.len(), 1);
    results.remove(0).unwrap_or_else(|e| panic!("{q}: {e}"))
}

fn err(db: &Db, q: &str) -> QueryError {
    let mut results = db.query("city", q).unwrap_or_else(|e| panic!("{q}: {e}"));
    match results.remove(0) {
        Err(e) => e,
        Ok(r) => panic!("{q}: expected an error, got {r:?}"),
    }
}

fn f(x: f64) -> Option<FieldValue<'static>> {
    Some(FieldValue::Float(x))
}
fn i(x: i64) -> Option<FieldValue<'static>> {
    Some(FieldValue::Integer(x))
}
fn s(x: &str) -> Option<FieldValue<'static>> {
    Some(FieldValue::String(x.to_owned().into()))
}
fn b(x: bool) -> Option<FieldValue<'static>> {
    Some(FieldValue::Boolean(x))
}
fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
/// The single-column values of a SHOW result.
fn texts(r: &ResultSeries) -> Vec<String> {
    r.rows
        .iter()
        .map(|(_, v)| match &v[0] {
            Some(FieldValue::String(s)) => s.to_string(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn regex_tag_conditions() {
    both(|db| {
        let r = one(
            db,
            "SELECT count(pm25) FROM air_quality WHERE station =~ /^s[12]$/",
        );
        assert_eq!(r[0].rows[0].1, vec![i(6)]);
        let r = one(
            db,
            "SELECT count(pm25) FROM air_quality WHERE station !~ /1|2/",
        );
        assert_eq!(r[0].rows[0].1, vec![i(1)]);
        // A missing tag is the empty string: it matches /^$/.
        let r = one(db, "SELECT count(level) FROM noise WHERE nothing =~ /^$/");
        assert_eq!(r[0].rows[0].1, vec![i(3)]);
    });
}

#[test]
fn field_conditions_in_raw_and_aggregate_queries() {
    both(|db| {
        let r = one(db, "SELECT pm25 FROM air_quality WHERE pm25 > 25");
        assert_eq!(
            r[0].rows,
            vec![
                (60 * S, vec![f(100.0)]),
                (120 * S, vec![f(30.0)]),
                (180 * S, vec![f(40.0)])
            ]
        );
        let r = one(
            db,
            "SELECT count(pm25) FROM air_quality WHERE pm25 > 25 AND district = 'd1'",
        );
        assert_eq!(r[0].rows[0].1, vec![i(2)]);
        // Fields and tags under OR.
        let r = one(
            db,
            "SELECT sum(pm25) FROM air_quality WHERE pm25 >= 40 OR station = 's2'",
        );
        assert_eq!(r[0].rows[0].1, vec![f(160.0)]);
        let r = one(db, "SELECT level FROM noise WHERE label = 'loud'");
        assert_eq!(r[0].rows, vec![(60 * S, vec![f(70.0)])]);
        let r = one(
            db,
            "SELECT level FROM noise WHERE alarm = false AND label =~ /o/",
        );
        assert_eq!(r[0].rows.len(), 2);
    });
}

#[test]
fn several_aggregates_and_arithmetic() {
    both(|db| {
        let r = one(
            db,
            "SELECT min(pm25), max(pm25), mean(pm25) FROM air_quality \
             WHERE time >= 0 AND time < 240s GROUP BY time(2m)",
        );
        assert_eq!(r[0].columns, ["time", "min", "max", "mean"]);
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![f(5.0), f(100.0), f(33.75)]),
                (120 * S, vec![f(15.0), f(40.0), f(85.0 / 3.0)])
            ]
        );
        let r = one(
            db,
            "SELECT max(pm25) - min(pm25) AS range, mean(pm25), mean(pm25) * 2 FROM air_quality \
             WHERE station = 's1'",
        );
        assert_eq!(r[0].columns, ["time", "range", "mean", "mean_1"]);
        assert_eq!(r[0].rows, vec![(0, vec![f(30.0), f(25.0), f(50.0)])]);
        // Raw arithmetic: integer / integer is a float, as in InfluxDB.
        let r = one(
            db,
            "SELECT no2 / 2, no2 + 1, pm25 * no2 FROM air_quality WHERE no2 < 3",
        );
        assert_eq!(r[0].columns, ["time", "no2", "no2_1", "pm25_no2"]);
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![f(0.5), i(2), f(10.0)]),
                (60 * S, vec![f(1.0), i(3), f(40.0)])
            ]
        );
    });
}

#[test]
fn selecting_tags_wildcards_and_group_by_star() {
    both(|db| {
        let r = one(
            db,
            "SELECT pm25, station FROM air_quality WHERE district = 'd2'",
        );
        assert_eq!(r[0].columns, ["time", "pm25", "station"]);
        assert_eq!(r[0].rows, vec![(60 * S, vec![f(100.0), s("s3")])]);

        let r = one(db, "SELECT * FROM air_quality WHERE station = 's2'");
        assert_eq!(r[0].columns, ["time", "district", "no2", "pm25", "station"]);
        assert_eq!(r[0].rows[0], (0, vec![s("d1"), None, f(5.0), s("s2")]));
        let r = one(db, "SELECT *::field FROM noise WHERE site = 'b'");
        assert_eq!(r[0].columns, ["time", "alarm", "label", "level"]);
        assert_eq!(r[0].rows, vec![(60 * S, vec![b(false), s("ok"), f(50.0)])]);

        let r = one(
            db,
            "SELECT pm25 FROM air_quality WHERE time <= 0s GROUP BY *",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].tags, tags(&[("district", "d1"), ("station", "s1")]));
        assert_eq!(r[1].tags, tags(&[("district", "d1"), ("station", "s2")]));
        assert_eq!(r[1].rows, vec![(0, vec![f(5.0)])]);

        // GROUP BY a tag in a raw query: one series per value, rows merged by time.
        let r = one(
            db,
            "SELECT pm25 FROM air_quality WHERE time = 60s GROUP BY district",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].tags, tags(&[("district", "d2")]));
        // SELECT * with GROUP BY leaves the grouped tag out of the columns.
        let r = one(db, "SELECT * FROM noise GROUP BY site");
        assert_eq!(r[0].columns, ["time", "alarm", "label", "level"]);
    });
}

#[test]
fn fills() {
    both(|db| {
        let q = |fill: &str| {
            one(
                db,
                &format!(
                    "SELECT mean(pm25) FROM air_quality WHERE station = 's2' \
                     AND time >= 0 AND time < 180s GROUP BY time(1m) fill({fill})"
                ),
            )
            .remove(0)
            .rows
        };
        assert_eq!(q("null")[1], (60 * S, vec![None]));
        assert_eq!(q("none").len(), 2);
        assert_eq!(q("previous")[1], (60 * S, vec![f(5.0)]));
        assert_eq!(q("linear")[1], (60 * S, vec![f(10.0)]));
        assert_eq!(q("-1")[1], (60 * S, vec![f(-1.0)]));
        // An integer column filled with a number stays integer.
        let r = one(
            db,
            "SELECT count(pm25) FROM air_quality WHERE station = 's2' AND time >= 0 \
             AND time < 180s GROUP BY time(1m) fill(0)",
        );
        assert_eq!(r[0].rows[1], (60 * S, vec![i(0)]));
        // The fill applies to the calls' values, before arithmetic: 0 · 2 + 1.
        let r = one(
            db,
            "SELECT mean(pm25) * 2 + 1 FROM air_quality WHERE station = 's2' AND time >= 0 \
             AND time < 180s GROUP BY time(1m) fill(0)",
        );
        assert_eq!(r[0].rows[1], (60 * S, vec![f(1.0)]));
        // And in output order: under DESC, fill(previous) takes the later window's value.
        let r = one(
            db,
            "SELECT mean(pm25) FROM air_quality WHERE station = 's2' AND time >= 0 \
             AND time < 180s GROUP BY time(1m) fill(previous) ORDER BY time DESC",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (120 * S, vec![f(15.0)]),
                (60 * S, vec![f(15.0)]),
                (0, vec![f(5.0)]),
            ]
        );
        // A window with points keeps its row under fill(none) even where stddev is null (one
        // point), and so does the series; other fills leave such a null alone.
        let r = one(
            db,
            "SELECT stddev(pm25) FROM air_quality WHERE station = 's2' AND time >= 0 \
             AND time < 180s GROUP BY time(1m) fill(none)",
        );
        assert_eq!(r[0].rows, vec![(0, vec![None]), (120 * S, vec![None])]);
        let r = one(
            db,
            "SELECT stddev(pm25) FROM air_quality WHERE station = 's2' AND time >= 0 \
             AND time < 180s GROUP BY time(1m) fill(3)",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![None]),
                (60 * S, vec![f(3.0)]),
                (120 * S, vec![None])
            ]
        );
        // A percentile below its first rank is a missing value instead: filled (beside a
        // count that keeps the series, as InfluxDB showed with sum(); a column without any
        // value takes an integral fill number as an integer).
        let r = one(
            db,
            "SELECT count(pm25), percentile(pm25, 5) FROM air_quality WHERE station = 's2' \
             AND time >= 0 AND time < 180s GROUP BY time(1m) fill(3)",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![i(1), i(3)]),
                (60 * S, vec![i(3), i(3)]),
                (120 * S, vec![i(1), i(3)]),
            ]
        );
        // fill(linear) of an integer truncates the line's value, in output order: under
        // DESC, from 3 at 120 s to 2 at 40 s, 80 s is 2.5, so 2.
        let r = one(
            db,
            "SELECT max(no2) FROM air_quality WHERE station = 's1' AND time >= 0 \
             AND time < 200s GROUP BY time(40s) fill(linear) ORDER BY time DESC",
        );
        let at_80: Vec<_> = r[0].rows.iter().filter(|r| r.0 == 80 * S).collect();
        assert_eq!(at_80, vec![&(80 * S, vec![i(2)])]);
    });
}

#[test]
fn mode_distinct_integral_and_text_fields() {
    both(|db| {
        let r = one(db, "SELECT mode(level) FROM noise");
        assert_eq!(r[0].rows[0].1, vec![f(50.0)]);
        let r = one(db, "SELECT distinct(label) FROM noise");
        assert_eq!(r[0].columns, ["time", "distinct"]);
        // In order of first appearance, as InfluxDB lists them.
        assert_eq!(
            r[0].rows.iter().map(|r| r.1[0].clone()).collect::<Vec<_>>(),
            vec![s("ok"), s("loud")]
        );
        for q in [
            "SELECT count(distinct(label)) FROM noise GROUP BY site",
            "SELECT count(DISTINCT label) FROM noise GROUP BY site",
        ] {
            let r = one(db, q);
            assert_eq!(r[0].columns, ["time", "count"]);
            let counts: Vec<_> = r.iter().map(|s| s.rows[0].1[0].clone()).collect();
            assert_eq!(counts, vec![i(2), i(1)], "{q}");
        }
        let r = one(
            db,
            "SELECT count(label), first(label), last(alarm) FROM noise",
        );
        // last(alarm): at 60 s, true (site a) and false (site b): true, as InfluxDB.
        assert_eq!(r[0].rows[0].1, vec![i(3), s("ok"), b(true)]);
        // Percentile is a selector: an integer field gives an integer; median is a float.
        let r = one(
            db,
            "SELECT percentile(no2, 50), median(no2) FROM air_quality",
        );
        assert_eq!(r[0].rows[0].1, vec![i(2), f(2.5)]);
        // Alone, a percentile carries its point's time, as max does.
        let r = one(
            db,
            "SELECT percentile(pm25, 50) FROM air_quality WHERE station = 's1'",
        );
        assert_eq!(r[0].rows, vec![(60 * S, vec![f(20.0)])]);
        let r = one(
            db,
            "SELECT percentile(pm25, 100) FROM air_quality GROUP BY station",
        );
        let times: Vec<i64> = r.iter().map(|s| s.rows[0].0).collect();
        assert_eq!(times, vec![180 * S, 120 * S, 60 * S]);
        // Trapezoids: (10+20)/2*60 + (20+30)/2*60 + (30+40)/2*60 = 4500 value·s = 75 value·min.
        let r = one(
            db,
            "SELECT integral(pm25, 1m) FROM air_quality WHERE station = 's1'",
        );
        assert_eq!(r[0].rows[0].1, vec![f(75.0)]);
        assert!(matches!(
            err(db, "SELECT mean(label) FROM noise"),
            QueryError::Invalid(m) if m.contains("string")
        ));
    });
}

/// Behaviours read off a real InfluxDB 1.6 by `tests/compat/semantics.py`.
#[test]
fn influxdb_counts_empty_windows_orders_desc_and_keeps_null_expression_rows() {
    both(|db| {
        // With fill(null), count() is 0 in an empty window (also under arithmetic), while
        // other calls stay null.
        let r = one(
            db,
            "SELECT count(pm25), count(pm25) * 2, mean(pm25) FROM air_quality \
             WHERE station = 's2' AND time >= 0 AND time < 180s GROUP BY time(1m)",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![i(1), i(2), f(5.0)]),
                (60 * S, vec![i(0), i(0), None]),
                (120 * S, vec![i(1), i(2), f(15.0)]),
            ]
        );
        let r = one(
            db,
            "SELECT count(pm25) FROM air_quality WHERE station = 's2' AND time >= 0 \
             AND time < 180s GROUP BY time(1m) fill(none)",
        );
        assert_eq!(r[0].rows.len(), 2);
        // A point holding any field a column reads is a row, even where the column's
        // expression is null (s2 has no no2).
        let r = one(
            db,
            "SELECT no2 + pm25 FROM air_quality WHERE district = 'd1' AND time >= 0 \
             AND time < 200s",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![f(11.0)]),
                (0, vec![None]),
                (60 * S, vec![f(22.0)]),
                (120 * S, vec![f(33.0)]),
                (120 * S, vec![None]),
                (180 * S, vec![f(44.0)]),
            ]
        );
        let r = one(db, "SELECT no2 FROM air_quality WHERE district = 'd1'");
        assert_eq!(r[0].rows.len(), 4);
        // ORDER BY time DESC reverses the order of the series as well as their rows.
        let r = one(
            db,
            "SELECT max(pm25) FROM air_quality GROUP BY station ORDER BY time DESC",
        );
        let stations: Vec<&str> = r.iter().map(|s| s.tags[0].1.as_str()).collect();
        assert_eq!(stations, ["s3", "s2", "s1"]);
        let r = one(
            db,
            "SELECT pm25 FROM air_quality GROUP BY station ORDER BY time DESC LIMIT 1",
        );
        let firsts: Vec<_> = r.iter().map(|s| s.rows[0].clone()).collect();
        assert_eq!(
            firsts,
            vec![
                (60 * S, vec![f(100.0)]),
                (120 * S, vec![f(15.0)]),
                (180 * S, vec![f(40.0)]),
            ]
        );
        let r = one(
            db,
            "SELECT count(level) FROM noise, air_quality ORDER BY time DESC",
        );
        assert_eq!(r.len(), 1);
        let r = one(
            db,
            "SELECT max(*) FROM noise, air_quality ORDER BY time DESC",
        );
        let names: Vec<&str> = r.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["noise", "air_quality"]);
        // Over several measurements, `*` stands for all their fields (and tags): every series
        // has every column, null where its measurement lacks the field.
        // (max takes booleans too.)
        for s in &r {
            assert_eq!(
                s.columns,
                ["time", "max_alarm", "max_level", "max_no2", "max_pm25"]
            );
        }
        assert_eq!(r[0].rows[0].1, vec![b(true), f(70.0), None, None]);
        // count(*) per window over several measurements: a field the measurement lacks stays
        // null, the others count 0 in an empty window.
        let r = one(
            db,
            "SELECT count(*) FROM noise, air_quality WHERE time >= 0 AND time < 120s \
             GROUP BY time(30s)",
        );
        assert_eq!(r[0].name, "air_quality");
        assert_eq!(r[0].rows[1], (30 * S, vec![None, None, None, i(0), i(0)]));
        let r = one(db, "SELECT * FROM noise, air_quality WHERE time < 1s");
        assert_eq!(
            r[0].columns,
            ["time", "alarm", "district", "label", "level", "no2", "pm25", "site", "station"]
        );
    });
}

/// One selector beside raw fields and tags: they take the selected point's values (its
/// time, or its window's start), as in InfluxDB.
#[test]
fn a_selector_beside_fields_and_tags() {
    both(|db| {
        let r = one(db, "SELECT max(pm25), station, no2 FROM air_quality");
        assert_eq!(r[0].columns, ["time", "max", "station", "no2"]);
        assert_eq!(r[0].rows, vec![(60 * S, vec![f(100.0), s("s3"), None])]);
        let r = one(
            db,
            "SELECT min(pm25), station FROM air_quality GROUP BY district",
        );
        assert_eq!(r[0].rows, vec![(0, vec![f(5.0), s("s2")])]);
        assert_eq!(r[1].rows, vec![(60 * S, vec![f(100.0), s("s3")])]);
        let r = one(
            db,
            "SELECT first(pm25), no2 * 10 AS x FROM air_quality WHERE station = 's1'",
        );
        assert_eq!(r[0].columns, ["time", "first", "x"]);
        assert_eq!(r[0].rows, vec![(0, vec![f(10.0), i(10)])]);
        let r = one(
            db,
            "SELECT last(pm25), station FROM air_quality WHERE district = 'd1' \
             AND time >= 0 AND time < 240s GROUP BY time(2m)",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![f(20.0), s("s1")]),
                (120 * S, vec![f(40.0), s("s1")]),
            ]
        );
        // A tie goes to the earliest point: 50 at 0 s (site a) and at 60 s (site b).
        let r = one(db, "SELECT min(level), site FROM noise");
        assert_eq!(r[0].rows, vec![(0, vec![f(50.0), s("a")])]);
        // The median rank of 5 10 15 20 30 40 100 is the 4th: 20, s1's point at 60 s.
        let r = one(db, "SELECT percentile(pm25, 50), station FROM air_quality");
        assert_eq!(r[0].rows, vec![(60 * S, vec![f(20.0), s("s1")])]);
        // An empty window is filled whole.
        let r = one(
            db,
            "SELECT max(pm25), no2 FROM air_quality WHERE station = 's1' AND time >= 0 \
             AND time < 300s GROUP BY time(2m) fill(0)",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![f(20.0), i(2)]),
                (120 * S, vec![f(40.0), i(4)]),
                (240 * S, vec![f(0.0), i(0)]),
            ]
        );
        // A group none of whose points passes the condition has no series, even with a fill.
        let r = one(
            db,
            "SELECT max(pm25), no2 FROM air_quality WHERE pm25 > 50 AND time >= 0 \
             AND time < 300s GROUP BY time(2m), station fill(0)",
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].tags, tags(&[("station", "s3")]));
        // fill(linear) interpolates the selector only; the other columns stay null.
        let r = one(
            db,
            "SELECT first(pm25), no2 FROM air_quality WHERE station = 's1' AND time >= 0 \
             AND time < 240s GROUP BY time(40s) fill(linear)",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![f(10.0), i(1)]),
                (40 * S, vec![f(20.0), i(2)]),
                (80 * S, vec![f(25.0), None]),
                (120 * S, vec![f(30.0), i(3)]),
                (160 * S, vec![f(40.0), i(4)]),
                (200 * S, vec![None, None]),
            ]
        );
        assert!(matches!(
            err(db, "SELECT max(pm25), min(pm25), station FROM air_quality"),
            QueryError::Invalid(m) if m.contains("multiple selector functions")
        ));
        assert!(matches!(
            err(db, "SELECT mean(pm25), station FROM air_quality"),
            QueryError::Invalid(m) if m.contains("mixing aggregate and non-aggregate")
        ));
        assert!(matches!(
            err(db, "SELECT max(label), site FROM noise"),
            QueryError::Invalid(m) if m.contains("string")
        ));
    });
}

/// Points of several series at one time: first() and last() take the largest value there, as
/// InfluxDB does (s1 and s2 both have points at 0 s and 120 s).
#[test]
fn first_and_last_break_ties_at_one_time_by_value() {
    both(|db| {
        let r = one(
            db,
            "SELECT last(pm25) FROM air_quality WHERE district = 'd1' AND time < 150s",
        );
        assert_eq!(r[0].rows, vec![(120 * S, vec![f(30.0)])]);
        let r = one(
            db,
            "SELECT first(pm25), last(pm25) FROM air_quality WHERE district = 'd1' \
             AND time >= 0 AND time < 180s GROUP BY time(1m) fill(none)",
        );
        assert_eq!(
            r[0].rows,
            vec![
                (0, vec![f(10.0), f(10.0)]),
                (60 * S, vec![f(20.0), f(20.0)]),
                (120 * S, vec![f(30.0), f(30.0)]),
            ]
        );
        // Through the row scan too (a field condition), and for text.
        let r = one(
            db,
            "SELECT last(pm25) FROM air_quality WHERE district = 'd1' AND pm25 > 0 \
             AND time < 150s",
        );
        assert_eq!(r[0].rows, vec![(120 * S, vec![f(30.0)])]);
        let r = one(
            db,
            "SELECT last(label), first(label) FROM noise WHERE time >= 60s",
        );
        assert_eq!(r[0].rows[0].1, vec![s("ok"), s("ok")]);
        let r = one(
            db,
            "SELECT last(pm25), station FROM air_quality WHERE district = 'd1' AND time < 150s",
        );
        assert_eq!(r[0].rows, vec![(120 * S, vec![f(30.0), s("s1")])]);
    });
}

/// `integral()` per window closes each window with a value interpolated toward the next
/// point, as InfluxDB does: s1 is 10, 20, 30, 40 at 0, 60, 120, 180 s. Window [0, 90):
/// 15 + (20 + 25) / 2 · 0.5 = 26.25 value·min; [90, 180): (25 + 30) / 2 · 0.5 + 35 = 48.75;
/// [180, 270) holds one point at its start, so no area and no row (an integral's windows are
/// never filled). The areas sum to the whole range's 75.
#[test]
fn integral_per_window_interpolates_at_window_ends() {
    both(|db| {
        for fill in ["", " fill(0)"] {
            let r = one(
                db,
                &format!(
                    "SELECT integral(pm25, 1m) FROM air_quality WHERE station = 's1' \
                     AND time >= 0 AND time < 240s GROUP BY time(90s){fill}"
                ),
            );
            assert_eq!(r[0].rows.len(), 2);
        }
        let r = one(
            db,
            "SELECT integral(pm25, 1m) FROM air_quality WHERE station = 's1' \
             AND time >= 0 AND time < 240s GROUP BY time(90s)",
        );
        let rows = &r[0].rows;
        for ((t, v), (want_t, want)) in rows.iter().zip([(0, 26.25), (90 * S, 48.75)]) {
            assert_eq!(*t, want_t);
            match v[0] {
                Some(FieldValue::Float(x)) => assert!((x - want).abs() < 1e-9, "{x} vs {want}"),
                ref other => panic!("{other:?}"),
            }
        }
        // s2 is 5 at 0 s and 15 at 120 s: [0, 60) closes at the interpolated 10, (5 + 10) / 2
        // = 7.5; the trapezoid from 60 s to 120 s goes to [120, 180), whose only point is at
        // its start, so it gets no row (InfluxDB's reducer drops it too).
        let r = one(
            db,
            "SELECT integral(pm25, 1m) FROM air_quality WHERE station = 's2' \
             AND time >= 0 AND time < 180s GROUP BY time(1m)",
        );
        assert_eq!(r[0].rows, vec![(0, vec![f(7.5)])]);
        // Beside another call, an integral's empty windows are null.
        let r = one(
            db,
            "SELECT integral(pm25, 1m), count(pm25) FROM air_quality WHERE station = 's2' \
             AND time >= 0 AND time < 180s GROUP BY time(1m)",
        );
        assert_eq!(r[0].rows[1], (60 * S, vec![None, i(0)]));
    });
}

/// SLIMIT/SOFFSET count a group with points in range even when a field condition drops them
/// all, for aggregates as for raw statements (as InfluxDB counts it): s1 (10–40) and s2 (5, 15)
/// have no pm25 above 50, s3 has 100.
#[test]
fn slimit_counts_groups_whose_points_a_condition_drops() {
    both(|db| {
        let q = |paging: &str| {
            one(
                db,
                &format!(
                    "SELECT max(pm25) FROM air_quality WHERE pm25 > 50 GROUP BY station {paging}"
                ),
            )
        };
        assert!(q("SLIMIT 1").is_empty());
        assert!(q("SLIMIT 1 SOFFSET 1").is_empty());
        let r = q("SLIMIT 1 SOFFSET 2");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].rows, vec![(60 * S, vec![f(100.0)])]);
        // Without paging only the group with rows shows.
        assert_eq!(q("").len(), 1);
        let r = q("ORDER BY time DESC SLIMIT 1 SOFFSET 2");
        assert_eq!(r.len(), 1);
    });
}

#[test]
fn several_sources_slimit_and_soffset() {
    both(|db| {
        let r = one(
            db,
            "SELECT count(pm25), count(level) FROM air_quality, noise",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, "air_quality");
        assert_eq!(r[0].rows[0].1, vec![i(7), None]);
        assert_eq!(r[1].name, "noise");
        assert_eq!(r[1].rows[0].1, vec![None, i(3)]);
        // At 60 s site a has 70 and site b 50: the larger, as InfluxDB breaks the tie.
        let r = one(db, "SELECT last(level) FROM /^noi/");
        assert_eq!(r[0].rows, vec![(60 * S, vec![f(70.0)])]);

        let r = one(
            db,
            "SELECT max(pm25) FROM air_quality GROUP BY station SLIMIT 2 SOFFSET 1",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].tags, tags(&[("station", "s2")]));
        assert_eq!(r[1].tags, tags(&[("station", "s3")]));
    });
}

#[test]
fn show_statements() {
    both(|db| {
        let r = one(db, "SHOW DATABASES");
        assert_eq!(r[0].name, "databases");
        assert_eq!(r[0].columns, ["name"]);
        assert_eq!(texts(&r[0]), ["city"]);

        let r = one(db, "SHOW MEASUREMENTS");
        assert_eq!(r[0].name, "measurements");
        assert_eq!(texts(&r[0]), ["air_quality", "noise"]);
        let r = one(db, "SHOW MEASUREMENTS WHERE site = 'b'");
        assert_eq!(texts(&r[0]), ["noise"]);
        let r = one(db, "SHOW MEASUREMENTS WITH MEASUREMENT =~ /air/");
        assert_eq!(texts(&r[0]), ["air_quality"]);

        let r = one(db, "SHOW TAG KEYS");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].columns, ["tagKey"]);
        assert_eq!(texts(&r[0]), ["district", "station"]);
        assert_eq!(texts(&r[1]), ["site"]);

        let r = one(
            db,
            "SHOW TAG VALUES FROM air_quality WITH KEY = station WHERE district = 'd1'",
        );
        assert_eq!(r[0].columns, ["key", "value"]);
        let pairs: Vec<_> = r[0].rows.iter().map(|r| r.1.clone()).collect();
        assert_eq!(
            pairs,
            vec![vec![s("station"), s("s1")], vec![s("station"), s("s2")]]
        );
        let r = one(db, "SHOW TAG VALUES WITH KEY IN (district, site)");
        assert_eq!(r[0].rows.len(), 2);
        assert_eq!(r[1].rows.len(), 2);

        let r = one(db, "SHOW FIELD KEYS FROM noise");
        assert_eq!(r[0].columns, ["fieldKey", "fieldType"]);
        let pairs: Vec<_> = r[0].rows.iter().map(|r| r.1.clone()).collect();
        assert_eq!(
            pairs,
            vec![
                vec![s("alarm"), s("boolean")],
                vec![s("label"), s("string")],
                vec![s("level"), s("float")]
            ]
        );

        let r = one(db, "SHOW SERIES FROM air_quality WHERE station =~ /s[13]/");
        assert_eq!(r[0].name, "");
        assert_eq!(
            texts(&r[0]),
            [
                "air_quality,district=d1,station=s1",
                "air_quality,district=d2,station=s3"
            ]
        );
        let r = one(db, "SHOW SERIES LIMIT 2 OFFSET 3");
        assert_eq!(texts(&r[0]), ["noise,site=a", "noise,site=b"]);

        let r = one(db, "SHOW RETENTION POLICIES");
        assert_eq!(r[0].columns[..2], ["name", "duration"]);
        assert_eq!(r[0].rows[0].1[..3], [s("autogen"), s("0s"), s("24h0m0s")]);
    });
}

#[test]
fn create_database_with_duration() {
    let (_dir, db) = open();
    let r = db
        .query(
            "",
            "CREATE DATABASE river WITH DURATION 30d SHARD DURATION 1h; SHOW DATABASES",
        )
        .unwrap();
    assert_eq!(r[0], Ok(vec![]));
    assert_eq!(texts(&r[1].as_ref().unwrap()[0]), ["city", "river"]);
    let r = db.query("", "SHOW RETENTION POLICIES ON river").unwrap();
    assert_eq!(
        r[0].as_ref().unwrap()[0].rows[0].1[1..3],
        [s("720h0m0s"), s("1h0m0s")]
    );
    // Creating it again is not an error (InfluxDB's behaviour).
    assert_eq!(
        db.query("", "CREATE DATABASE river").unwrap()[0],
        Ok(vec![])
    );
}

#[test]
fn json_output_of_a_real_query() {
    let (_dir, db) = open();
    let results = db
        .query(
            "city",
            "SELECT mean(pm25) FROM air_quality WHERE time >= 0 AND time < 120s \
             GROUP BY time(1m), district; SELECT nope FROM",
        )
        .map(|r| r.to_vec());
    // The second statement does not parse: the whole query fails, as in InfluxDB.
    assert!(results.is_err());
    let results = db
        .query(
            "city",
            "SELECT mean(pm25) FROM air_quality WHERE time >= 0 AND time < 120s \
             GROUP BY time(1m), district fill(none)",
        )
        .unwrap();
    let json = String::from_utf8(to_json(&results, Epoch::Seconds, false)).unwrap();
    assert_eq!(
        json,
        "{\"results\":[{\"statement_id\":0,\"series\":[\
         {\"name\":\"air_quality\",\"tags\":{\"district\":\"d1\"},\"columns\":[\"time\",\"mean\"],\
         \"values\":[[0,7.5],[60,20]]},\
         {\"name\":\"air_quality\",\"tags\":{\"district\":\"d2\"},\"columns\":[\"time\",\"mean\"],\
         \"values\":[[60,100]]}]}]}\n"
    );
}

#[test]
fn delete_and_drop_statements() {
    let (_dir, db) = open();
    db.flush().unwrap(); // half the data in segments, the rest written after
    db.write_lines(
        "city",
        b"air_quality,district=d1,station=s1 pm25=50 240\n",
        Precision::Seconds,
    )
    .unwrap();
    // DELETE by time and tag: s1's points before 2 minutes go, nothing else.
    let r = db
        .query(
            "city",
            "DELETE FROM air_quality WHERE station = 's1' AND time < 120s",
        )
        .unwrap();
    assert_eq!(r[0], Ok(vec![]));
    let r = one(&db, "SELECT pm25 FROM air_quality WHERE station = 's1'");
    let times: Vec<i64> = r[0].rows.iter().map(|r| r.0).collect();
    assert_eq!(times, [120 * S, 180 * S, 240 * S]);
    assert_eq!(
        one(&db, "SELECT count(pm25) FROM air_quality")[0].rows[0].1,
        vec![i(6)]
    );
    // Fields are refused in a deletion condition.
    assert!(matches!(
        err(&db, "DELETE FROM air_quality WHERE pm25 > 10"),
        QueryError::Invalid(m) if m.contains("fields not supported")
    ));
    // DROP SERIES: the series leave SHOW SERIES and their points go.
    db.query("city", "DROP SERIES FROM air_quality WHERE station = 's2'")
        .unwrap()[0]
        .clone()
        .unwrap();
    let r = one(&db, "SHOW SERIES FROM air_quality");
    assert_eq!(
        texts(&r[0]),
        [
            "air_quality,district=d1,station=s1",
            "air_quality,district=d2,station=s3"
        ]
    );
    assert!(matches!(
        err(&db, "DROP SERIES FROM air_quality WHERE time > 0"),
        QueryError::Invalid(m) if m.contains("time")
    ));
    // DROP MEASUREMENT: gone from the listings and the data.
    db.query("city", "DROP MEASUREMENT noise").unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(texts(&one(&db, "SHOW MEASUREMENTS")[0]), ["air_quality"]);
    assert!(one(&db, "SELECT * FROM noise").is_empty());
    // Survives a compaction and a reopen (the tombstones are durable, then applied).
    db.compact(true).unwrap();
    assert_eq!(
        one(&db, "SELECT count(pm25) FROM air_quality")[0].rows[0].1,
        vec![i(4)]
    );
    // DROP DATABASE, then it is gone; dropping again is not an error.
    let r = db
        .query("", "DROP DATABASE city; DROP DATABASE city; SHOW DATABASES")
        .unwrap();
    assert_eq!(r[0], Ok(vec![]));
    assert_eq!(r[1], Ok(vec![]));
    assert!(texts(&r[2].as_ref().unwrap()[0]).is_empty());
}

#[test]
fn query_limits_refuse_before_reading_and_stop_late_queries() {
    use ganzhi_engine::QueryLimits;
    both(|db| {
        let limits = QueryLimits {
            max_points: 5,
            ..QueryLimits::default()
        };
        let run = |q: &str| db.query_with("city", q, limits).unwrap().remove(0);
        // 7 points of pm25: a raw read and kept-values aggregates go over, refused.
        for q in [
            "SELECT pm25 FROM air_quality",
            "SELECT median(pm25) FROM air_quality",
            "SELECT median(pm25) FROM air_quality WHERE pm25 > 0",
            "SELECT mode(pm25) FROM air_quality WHERE pm25 > 0",
        ] {
            match run(q) {
                Err(QueryError::Limit(m)) => assert!(m.contains("max-select-point"), "{m}"),
                other => panic!("{q}: {other:?}"),
            }
        }
        // Accumulator aggregates hold no points, with a row filter or without: allowed; so
        // is a narrow raw read.
        assert_eq!(
            run("SELECT count(pm25) FROM air_quality WHERE pm25 > 0").unwrap()[0].rows[0].1,
            vec![i(7)]
        );
        assert_eq!(
            run("SELECT sum(pm25) FROM air_quality").unwrap()[0].rows[0].1,
            vec![f(220.0)]
        );
        assert_eq!(
            run("SELECT pm25 FROM air_quality WHERE station = 's2'").unwrap()[0]
                .rows
                .len(),
            2
        );
        let late = QueryLimits {
            timeout: Some(std::time::Duration::ZERO),
            ..QueryLimits::default()
        };
        let r = db
            .query_with("city", "SELECT sum(pm25) FROM air_quality", late)
            .unwrap();
        assert!(
            matches!(&r[0], Err(QueryError::Limit(m)) if m.contains("timeout")),
            "{r:?}"
        );
    });
}

#[test]
fn builder_runs_like_the_same_text() {
    use ganzhi_engine::influxql::Fill;
    use ganzhi_engine::query::Select;
    use std::time::Duration;
    both(|db| {
        let q = Select::aggregate("mean", "pm25")
            .and_aggregate("max", "pm25")
            .alias("peak")
            .from("air_quality")
            .where_tag_matches("station", "^s[12]$")
            .range(0, 240 * S)
            .every(Duration::from_secs(60))
            .group_by(&["district"])
            .fill(Fill::Previous);
        let built = db.select("city", &q).unwrap();
        assert_eq!(built, one(db, &q.to_string()));
        assert_eq!(built[0].columns, ["time", "mean", "peak"]);
        assert_eq!(built[0].rows[1], (60 * S, vec![f(20.0), f(20.0)]));
        let p = Select::percentile("pm25", 50.0).from("air_quality");
        assert_eq!(db.select("city", &p).unwrap()[0].rows[0].1, vec![f(20.0)]); // rank 4 of 7
        let raw = Select::fields(&["pm25"])
            .from("air_quality")
            .where_tag("station", "s1")
            .descending()
            .limit(1);
        assert_eq!(
            db.select("city", &raw).unwrap()[0].rows,
            vec![(180 * S, vec![f(40.0)])]
        );
    });
}

#[test]
fn wildcard_and_regex_calls() {
    both(|db| {
        let r = one(db, "SELECT count(*) FROM noise");
        assert_eq!(
            r[0].columns,
            ["time", "count_alarm", "count_label", "count_level"]
        );
        assert_eq!(r[0].rows[0].1, vec![i(3), i(3), i(3)]);
        let r = one(db, "SELECT max(*) FROM air_quality WHERE station = 's1'");
        assert_eq!(r[0].columns, ["time", "max_no2", "max_pm25"]);
        assert_eq!(r[0].rows[0].1, vec![i(4), f(40.0)]);
        let r = one(
            db,
            "SELECT mean(/^pm/) FROM air_quality WHERE station = 's2'",
        );
        assert_eq!(r[0].columns, ["time", "mean_pm25"]);
        assert_eq!(r[0].rows[0].1, vec![f(10.0)]);
        // Over several measurements, each gets the fields of all (as InfluxDB 1.6 does),
        // null where it lacks one.
        let r = one(db, "SELECT count(*) FROM /.*/");
        assert_eq!(r.len(), 2);
        for s in &r {
            assert_eq!(
                s.columns,
                [
                    "time",
                    "count_alarm",
                    "count_label",
                    "count_level",
                    "count_no2",
                    "count_pm25"
                ]
            );
        }
        assert_eq!(r[0].rows[0].1, vec![None, None, None, i(4), i(7)]);
        assert_eq!(r[1].rows[0].1, vec![i(3), i(3), i(3), None, None]);
    });
}

/// Every combination of SELECT pieces runs to a result or a clear error, never a panic, on the
/// memtable and on segments.
#[test]
fn statement_combinations_never_panic() {
    let selects = [
        "pm25",
        "*",
        "pm25, station",
        "pm25 * 2 + no2",
        "mean(pm25)",
        "count(*)",
        "max(pm25) - min(no2)",
        "percentile(pm25, 90), first(no2)",
        "distinct(pm25)",
        "mode(label)",
        "integral(pm25)",
        "sum(label)",
        "last(alarm), count(label)",
        "median(nothing)",
        "nothing",
    ];
    let froms = [
        "air_quality",
        "noise",
        "air_quality, noise",
        "/.*/",
        "missing",
    ];
    let wheres = [
        "",
        " WHERE time >= 30s AND time < 150s",
        " WHERE station =~ /s[12]/ OR pm25 > 20",
        " WHERE pm25 > 10 AND (district = 'd1' OR level < 60)",
        " WHERE alarm = true",
        " WHERE time > 1000s",
    ];
    let groups = [
        "",
        " GROUP BY time(1m)",
        " GROUP BY time(45s, 10s), district",
        " GROUP BY *",
        " GROUP BY /st/ fill(linear)",
        " GROUP BY time(2m) fill(previous) ORDER BY time DESC LIMIT 2 SLIMIT 1",
        " GROUP BY time(1m) fill(7) OFFSET 1 SOFFSET 1",
    ];
    for flushed in [false, true] {
        let (_dir, db) = open();
        if flushed {
            db.flush().unwrap();
        }
        let mut answered = 0;
        for s in selects {
            for f in froms {
                for w in wheres {
                    for g in groups {
                        let q = format!("SELECT {s} FROM {f}{w}{g}");
                        let r = db.query("city", &q).unwrap_or_else(|e| panic!("{q}: {e}"));
                        assert_eq!(r.len(), 1, "{q}");
                        if let Ok(series) = &r[0] {
                            answered += 1;
                            for s in series {
                                for (_, row) in &s.rows {
                                    assert_eq!(row.len() + 1, s.columns.len(), "{q}");
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(answered > 1000, "only {answered} statements answered");
    }
}
