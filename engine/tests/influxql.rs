//! InfluxQL statements against hand-computed results on a small fixed dataset, the same before
//! and after a flush (memtable vs segments).

use ganzhi_engine::{Db, FieldValue, Fsync, Options, Precision, QueryError, ResultSeries};

const DATA: &str = "\
air_quality,district=d1,station=s1 pm25=10 0
air_quality,district=d1,station=s1 pm25=20 60
air_quality,district=d1,station=s1 pm25=30 120
air_quality,district=d1,station=s1 pm25=40 180
air_quality,district=d1,station=s2 pm25=5 0
air_quality,district=d1,station=s2 pm25=15 120
air_quality,district=d2,station=s3 pm25=100 60
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

fn one(db: &Db, q: &str) -> Vec<ResultSeries> {
    let mut results = db.query("city", q).unwrap_or_else(|e| panic!("{q}: {e}"));
    assert_eq!(results.len(), 1);
    results.remove(0).unwrap_or_else(|e| panic!("{q}: {e}"))
}

fn f(x: f64) -> Option<FieldValue<'static>> {
    Some(FieldValue::Float(x))
}

fn check_all(db: &Db) {
    let r = one(
        db,
        "SELECT mean(pm25) FROM air_quality WHERE time >= 0 AND time < 240s GROUP BY time(2m)",
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].columns, ["time", "mean"]);
    assert_eq!(
        r[0].rows,
        vec![(0, vec![f(33.75)]), (120 * S, vec![f(85.0 / 3.0)])]
    );

    let r = one(db, "SELECT mean(pm25) AS m FROM air_quality WHERE time >= 0 AND time < 240s GROUP BY time(2m), district");
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].tags, [("district".to_string(), "d1".to_string())]);
    assert_eq!(r[0].columns, ["time", "m"]);
    assert_eq!(
        r[0].rows,
        vec![(0, vec![f(35.0 / 3.0)]), (120 * S, vec![f(85.0 / 3.0)])]
    );
    assert_eq!(r[1].rows, vec![(0, vec![f(100.0)]), (120 * S, vec![None])]);

    let r = one(db, "SELECT mean(pm25) FROM air_quality WHERE time >= 0 AND time < 240s GROUP BY time(2m), district fill(none)");
    assert_eq!(r[1].rows, vec![(0, vec![f(100.0)])]);

    // A selector without GROUP BY time carries its point's time.
    let r = one(
        db,
        "SELECT max(pm25) FROM air_quality WHERE district = 'd1'",
    );
    assert_eq!(r[0].rows, vec![(180 * S, vec![f(40.0)])]);

    let r = one(
        db,
        "SELECT count(pm25) FROM air_quality WHERE district = 'd2' OR station = 's2'",
    );
    assert_eq!(r[0].rows, vec![(0, vec![Some(FieldValue::Integer(3))])]);

    let r = one(db, "SELECT pm25 FROM air_quality WHERE station = 's1' AND time >= 60s ORDER BY time DESC LIMIT 2");
    assert_eq!(r[0].columns, ["time", "pm25"]);
    assert_eq!(
        r[0].rows,
        vec![(180 * S, vec![f(40.0)]), (120 * S, vec![f(30.0)])]
    );

    let r = one(
        db,
        "SELECT percentile(pm25, 50) FROM air_quality WHERE district != 'd2'",
    );
    assert_eq!(r[0].rows[0].1, vec![f(15.0)]); // 5 10 15 20 30 40: nearest rank 3

    // Several statements, each with its own result.
    let all = db
        .query(
            "city",
            "SELECT sum(pm25) FROM air_quality; SELECT min(pm25) FROM air_quality",
        )
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].as_ref().unwrap()[0].rows[0].1, vec![f(220.0)]);
    assert_eq!(all[1].as_ref().unwrap()[0].rows[0], (0, vec![f(5.0)]));
}

#[test]
fn statements_give_hand_computed_results_from_memtable_and_segments() {
    let (_dir, db) = open();
    check_all(&db);
    db.flush().unwrap();
    check_all(&db);
}

#[test]
fn bad_queries_get_clear_errors() {
    let (_dir, db) = open();
    match db.query("city", "SELECT mean(pm25) FROM") {
        Err(QueryError::Parse(e)) => {
            let msg = QueryError::Parse(e).to_string();
            assert!(msg.starts_with("error parsing query: "), "{msg}");
            assert!(msg.contains("char"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    let r = db
        .query("city", "SELECT pm25 FROM air_quality GROUP BY time(1m)")
        .unwrap();
    assert!(
        matches!(&r[0], Err(QueryError::Invalid(m)) if m.contains("aggregate")),
        "{r:?}"
    );
    let r = db
        .query("city", "SELECT mean(pm25), pm25 FROM air_quality")
        .unwrap();
    assert!(matches!(&r[0], Err(QueryError::Invalid(_))), "{r:?}");
    let r = db
        .query("city", "SELECT pm25 FROM air_quality WHERE station =~ /s(/")
        .unwrap();
    assert!(
        matches!(&r[0], Err(QueryError::Invalid(m)) if m.contains("regular expression")),
        "{r:?}"
    );
    let r = db
        .query("city", "SELECT bogus(pm25) FROM air_quality")
        .unwrap();
    assert!(
        matches!(&r[0], Err(QueryError::Unsupported(m)) if m.contains("bogus")),
        "{r:?}"
    );
    let r = db
        .query("city", "SELECT percentile(pm25) FROM air_quality")
        .unwrap();
    assert!(
        matches!(&r[0], Err(QueryError::Invalid(m)) if m.contains("invalid number of arguments")),
        "{r:?}"
    );
    let r = db.query("", "SELECT pm25 FROM air_quality").unwrap();
    assert!(
        matches!(&r[0], Err(QueryError::Invalid(m)) if m == "database name required"),
        "{r:?}"
    );
    let r = db.query("", "SHOW MEASUREMENTS").unwrap();
    assert!(matches!(&r[0], Err(QueryError::Invalid(_))), "{r:?}");
    let r = db
        .query(
            "city",
            "SELECT pm25 FROM air_quality WHERE time > now() - 1h OR station = 's1'",
        )
        .unwrap();
    assert!(matches!(&r[0], Err(QueryError::Condition(_))), "{r:?}");
    let r = db.query("nope", "SELECT pm25 FROM air_quality").unwrap();
    assert!(
        matches!(&r[0], Err(QueryError::Engine(m)) if m.contains("not found")),
        "{r:?}"
    );
}

#[test]
fn small_queries_are_answered_whole_or_not_at_all() {
    use ganzhi_engine::{QueryLimits, SmallQuery};
    use std::time::Duration;
    let (_dir, db) = open();
    // In a segment, where the points to decode are known before reading.
    db.flush().unwrap();
    let small = SmallQuery {
        max_points: 4,
        max_time: Duration::from_secs(3600),
    };
    let run = |q: &str, small: SmallQuery| {
        db.try_query_small("city", q, QueryLimits::default(), small)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
    };
    // Small read-only statements: the same answers as a plain query.
    for q in [
        "SELECT pm25 FROM air_quality WHERE station = 's1'",
        "SELECT mean(pm25) FROM air_quality WHERE station = 's1' AND time <= 180s \
         GROUP BY time(2m)",
        "SHOW DATABASES; SELECT count(pm25) FROM air_quality WHERE station = 's2'",
        "SELECT nothing FROM nowhere",
    ] {
        assert_eq!(run(q, small), Some(db.query("city", q).unwrap()), "{q}");
    }
    // More points to decode than allowed: abandoned, whether raw or aggregated, and in a
    // later statement too.
    for q in [
        "SELECT pm25 FROM air_quality",
        "SELECT max(pm25) FROM air_quality GROUP BY time(1m)",
        "SELECT pm25 FROM air_quality WHERE station = 's2'; SELECT sum(pm25) FROM air_quality \
         GROUP BY time(1m)",
    ] {
        assert_eq!(run(q, small), None, "{q}");
    }
    // Out of time: abandoned.
    let no_time = SmallQuery {
        max_time: Duration::ZERO,
        ..small
    };
    assert_eq!(
        run("SELECT pm25 FROM air_quality WHERE station = 's2'", no_time),
        None
    );
    // Statements that change something never run as small queries, even behind a SELECT.
    assert_eq!(
        run(
            "SELECT pm25 FROM air_quality WHERE station = 's2'; DROP MEASUREMENT air_quality",
            small
        ),
        None
    );
    assert_eq!(run("CREATE DATABASE other", small), None);
    assert_eq!(
        one(&db, "SELECT count(pm25) FROM air_quality")[0].rows[0].1,
        vec![Some(FieldValue::Integer(7))]
    );
    let names = one(&db, "SHOW DATABASES");
    assert_eq!(names[0].rows.len(), 1, "{names:?}");
    // A query that does not parse fails as it would anyway.
    assert!(matches!(
        db.try_query_small("city", "SELEC 1", QueryLimits::default(), small),
        Err(QueryError::Parse(_))
    ));
}
