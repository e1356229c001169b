//! The write path's cache of resolved series (`write_cache`): lines it serves land exactly
//! where lines resolved the slow way land, through field type conflicts, new fields, tag
//! orders, dropped measurements, flushes (new WAL epochs) and reopening.

use ganzhi_engine::model::Precision;
use ganzhi_engine::{Db, Error, Options};

fn open(dir: &std::path::Path) -> Db {
    let options = Options {
        background_maintenance: false,
        ..Options::default()
    };
    let db = Db::open(dir, options).unwrap();
    if !db.databases().contains(&"city".to_string()) {
        db.create_database("city").unwrap();
    }
    db
}

fn write(db: &Db, body: &str) -> Result<u64, Error> {
    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
        .map(|s| s.values)
}

/// `SELECT *` rows of a measurement as text, one per row, for comparing.
fn rows(db: &Db, measurement: &str) -> Vec<String> {
    let q = format!("SELECT * FROM {measurement} GROUP BY *");
    let results = db.query("city", &q).unwrap();
    let mut out = Vec::new();
    for r in results {
        for s in r.unwrap() {
            for row in s.rows {
                out.push(format!("{:?} {:?} {:?}", s.tags, s.columns, row));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn tag_orders_and_escapes_resolve_to_one_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    // Same series three ways: sorted tags, reversed tags, escaped measurement each time.
    let body = "air\\ q,station=a,district=x pm25=1 10\n\
                air\\ q,district=x,station=a pm25=2 20\n\
                air\\ q,station=a,district=x pm25=3 30\n\
                air\\ q,district=x,station=a pm25=4 40\n";
    for _ in 0..2 {
        write(&db, body).unwrap();
    }
    assert_eq!(db.series_count("city").unwrap().total, 1);
    let results = db
        .query("city", "SELECT count(pm25) FROM \"air q\"")
        .unwrap();
    let text = format!("{results:?}");
    assert!(text.contains("Integer(4)"), "{text}");
}

#[test]
fn a_cached_series_still_rejects_a_type_conflict_and_takes_new_fields() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(&db, "m,s=1 a=1.5 1\n").unwrap();
    write(&db, "m,s=1 a=2.5 2\n").unwrap();
    // The series is cached with `a` a float: an integer `a` is refused, naming its line,
    // while the lines around it (one adding field `b`) are written.
    let err = write(&db, "m,s=1 a=3.5 3\nm,s=1 a=4i 4\nm,s=1 a=5.5,b=true 5\n").unwrap_err();
    match err {
        Error::PartialWrite { accepted, rejected } => {
            assert_eq!(accepted.values, 3);
            assert_eq!(rejected.len(), 1);
            let msg = rejected[0].to_string();
            assert!(msg.contains("line 2") && msg.contains("float"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    write(&db, "m,s=1 b=false 6\n").unwrap();
    let rows = rows(&db, "m");
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().any(|r| r.contains("Boolean(true)")), "{rows:?}");
    assert!(
        rows.iter().any(|r| r.contains("Boolean(false)")),
        "{rows:?}"
    );
}

#[test]
fn a_dropped_measurement_can_come_back_with_other_types() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(&db, "m,s=1 v=1.5 1\nm,s=1 v=2.5 2\n").unwrap();
    db.query("city", "DROP MEASUREMENT m").unwrap();
    write(&db, "m,s=1 v=\"text\" 3\nm,s=1 v=\"more\" 4\n").unwrap();
    let rows = rows(&db, "m");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.contains("String")), "{rows:?}");
    drop(db);
    let db = open(dir.path());
    assert_eq!(self::rows(&db, "m"), rows);
}

#[test]
fn writes_across_flushes_replay_from_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    let mut expected = 0;
    for round in 0..4i64 {
        let mut body = String::new();
        for s in 0..5 {
            for t in 0..3 {
                body.push_str(&format!("m,s={s} v={round}.5,n={t}i {}\n", round * 10 + t));
                expected += 2;
            }
        }
        // A new series each round, beside the cached ones.
        body.push_str(&format!("m,s=new{round} v=1 {}\n", round * 10));
        expected += 1;
        write(&db, &body).unwrap();
        if round % 2 == 1 {
            db.flush().unwrap();
        }
    }
    let before = rows(&db, "m");
    let count = |db: &Db| {
        let r = db.query("city", "SELECT count(*) FROM m").unwrap();
        format!("{r:?}")
    };
    let counted = count(&db);
    // The last round is only in the WAL: reopening replays it.
    drop(db);
    let db = open(dir.path());
    assert!(db.recovery_report().truncations.is_empty());
    assert_eq!(rows(&db, "m"), before);
    assert_eq!(count(&db), counted);
    assert_eq!(before.len(), 4 * 15 + 4, "{expected} values");
}

#[test]
fn writers_racing_flushes_and_drops_lose_nothing_and_replay_cleanly() {
    // Writers repeat their series (cache hits) and add fields and series now and then, while
    // flushes start new WAL epochs and a drop of another measurement bumps the epoch too.
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    write(&db, "other,s=1 v=1 1\n").unwrap();
    std::thread::scope(|s| {
        for w in 0..3 {
            let db = db.clone();
            s.spawn(move || {
                for i in 0..150i64 {
                    let extra = if i % 10 == 0 {
                        format!(",x{}={i}i", i / 10)
                    } else {
                        String::new()
                    };
                    let body = format!(
                        "m,w={w},s=a v={i}.5{extra} {i}\nm,w={w},s=b{} v=1 {i}\n",
                        i % 7
                    );
                    write(&db, &body).unwrap();
                }
            });
        }
        for i in 0..15 {
            db.flush().unwrap();
            if i % 5 == 0 {
                db.query("city", "DROP MEASUREMENT other").unwrap();
            }
        }
    });
    let before = rows(&db, "m");
    // 3 writers × 150 rounds × 2 lines, each at its own time in its series.
    assert_eq!(before.len(), 3 * 150 * 2, "{} rows", before.len());
    drop(db);
    let db = open(dir.path());
    assert_eq!(db.recovery_report().orphaned_points, 0);
    assert_eq!(rows(&db, "m"), before);
}
