//! Many writer threads with readers running: readers always see whole points in time order
//! and never lose what they saw; writers share fsyncs through group commit; at the end every
//! point is there.

use std::sync::atomic::{AtomicBool, Ordering};

use ganzhi_engine::{Db, FieldValue, Fsync, Options, Precision, TagPredicate, TimeRange};

const WRITERS: usize = 6;
const BATCHES: usize = 40;
const LINES: usize = 50;

fn body(writer: usize, batch: usize) -> String {
    (0..LINES)
        .map(|i| {
            let t = (batch * LINES + i) as i64;
            // Three fields always written together: a reader must never see one without the others.
            format!("traffic,detector=d{writer} vehicle_count={t}i,avg_speed={t}.5,occupancy=0.{i:02} {t}\n")
        })
        .collect()
}

#[test]
fn writers_and_readers_run_together() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            fsync: Fsync::Always,
            ..Options::default()
        },
    )
    .unwrap();
    db.create_database("city").unwrap();
    let done = AtomicBool::new(false);

    std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let db = db.clone();
                s.spawn(move || {
                    for b in 0..BATCHES {
                        db.write_lines("city", body(w, b).as_bytes(), Precision::Nanoseconds)
                            .unwrap();
                    }
                })
            })
            .collect();
        for _ in 0..2 {
            let db = db.clone();
            let done = &done;
            s.spawn(move || {
                let mut last_seen = [0usize; WRITERS];
                let mut scans = 0;
                while !done.load(Ordering::Acquire) || scans == 0 {
                    scans += 1;
                    let all = db
                        .scan("city", "traffic", &TagPredicate::All, &[], TimeRange::ALL)
                        .unwrap();
                    for series in &all {
                        assert!(series.rows.windows(2).all(|w| w[0].time < w[1].time));
                        for row in &series.rows {
                            assert!(row.values.iter().all(Option::is_some), "torn point {row:?}");
                        }
                        let w: usize = series
                            .key
                            .trim_start_matches("traffic,detector=d")
                            .parse()
                            .unwrap();
                        // Acknowledged data never disappears.
                        assert!(series.rows.len() >= last_seen[w]);
                        last_seen[w] = series.rows.len();
                    }
                }
            });
        }
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Release);
    });

    let all = db
        .scan(
            "city",
            "traffic",
            &TagPredicate::All,
            &["vehicle_count"],
            TimeRange::ALL,
        )
        .unwrap();
    assert_eq!(all.len(), WRITERS);
    for series in &all {
        assert_eq!(series.rows.len(), BATCHES * LINES);
        for (i, row) in series.rows.iter().enumerate() {
            assert_eq!(row.values[0], Some(FieldValue::Integer(i as i64)));
        }
    }
    // Group commit: concurrent writers shared fsyncs (each batch is one record).
    let stats = db.wal_stats();
    let records = stats.records.load(Ordering::Relaxed);
    let fsyncs = stats.fsyncs.load(Ordering::Relaxed);
    assert_eq!(records, (WRITERS * BATCHES) as u64);
    assert!(
        fsyncs < records,
        "{fsyncs} fsyncs for {records} records: no group commit"
    );
}

#[test]
fn scan_filters_by_tags_fields_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            fsync: Fsync::Never,
            ..Options::default()
        },
    )
    .unwrap();
    db.create_database("city").unwrap();
    let body = "air,district=haidian,station=a pm25=10,pm10=20 100\n\
                air,district=haidian,station=b pm25=11 100\n\
                air,district=chaoyang,station=c pm25=12,pm10=22 100\n\
                air,district=haidian,station=a pm25=13 200\n\
                air,district=haidian,station=a pm10=24 300\n";
    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
        .unwrap();
    let haidian = TagPredicate::eq("district", "haidian");
    let got = db
        .scan("city", "air", &haidian, &["pm10"], TimeRange::new(0, 250))
        .unwrap();
    // Station b has no pm10 in range: it yields no series.
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].key, "air,district=haidian,station=a");
    assert_eq!(got[0].rows.len(), 1);
    assert_eq!(got[0].rows[0].time, 100);
    let not_a = TagPredicate::NotEq("station".into(), "a".into());
    let got = db.scan("city", "air", &not_a, &[], TimeRange::ALL).unwrap();
    let keys: Vec<&str> = got.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "air,district=chaoyang,station=c",
            "air,district=haidian,station=b"
        ]
    );
    let fields: Vec<&str> = got[0].fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(fields, ["pm10", "pm25"]);
    assert!(matches!(
        db.scan("nope", "air", &haidian, &[], TimeRange::ALL),
        Err(ganzhi_engine::Error::DatabaseNotFound { .. })
    ));
}

/// Readers during flushes and compactions: never a point twice, never one missing.
#[test]
fn readers_see_consistent_snapshots_through_flush_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fsync: Fsync::Never,
        background_maintenance: false,
        block_rows: 32,
        ..Options::default()
    };
    let db = Db::open(dir.path(), options).unwrap();
    db.create_database("city").unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = {
            let db = db.clone();
            s.spawn(move || {
                for b in 0..BATCHES {
                    db.write_lines("city", body(0, b).as_bytes(), Precision::Nanoseconds)
                        .unwrap();
                    // Rewrite an earlier batch too: duplicates that later segments must win.
                    if b > 0 {
                        db.write_lines("city", body(0, b - 1).as_bytes(), Precision::Nanoseconds)
                            .unwrap();
                    }
                }
            })
        };
        let maintainer = {
            let db = db.clone();
            let done = &done;
            s.spawn(move || {
                let mut rounds = 0;
                while !done.load(Ordering::Acquire) || rounds < 3 {
                    db.flush().unwrap();
                    db.compact(rounds % 2 == 0).unwrap();
                    rounds += 1;
                }
            })
        };
        let reader = {
            let db = db.clone();
            let done = &done;
            s.spawn(move || {
                let mut last = 0;
                while !done.load(Ordering::Acquire) {
                    let all = db
                        .scan(
                            "city",
                            "traffic",
                            &TagPredicate::All,
                            &["vehicle_count"],
                            TimeRange::ALL,
                        )
                        .unwrap();
                    let rows = all.first().map_or(&[][..], |s| &s.rows[..]);
                    for (i, row) in rows.iter().enumerate() {
                        // Times 0..n each once, each value equal to its time.
                        assert_eq!(row.time, i as i64, "a point missing or seen twice");
                        assert_eq!(row.values[0], Some(FieldValue::Integer(i as i64)));
                    }
                    assert!(
                        rows.len() >= last,
                        "points disappeared: {} after {last}",
                        rows.len()
                    );
                    last = rows.len();
                }
            })
        };
        writer.join().unwrap();
        done.store(true, Ordering::Release);
        maintainer.join().unwrap();
        reader.join().unwrap();
    });
    let all = db
        .scan("city", "traffic", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    assert_eq!(all[0].rows.len(), BATCHES * LINES);
}

/// Writers outpacing the background flush of a tiny memtable are held back until it ends
/// (`Maintenance::wait_for_room`): every write still completes, none is lost, and the active
/// memtable stays within a bound instead of growing with the input.
#[test]
fn writers_wait_for_a_flush_when_the_memtable_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 16 << 10;
    let db = Db::open(
        dir.path(),
        Options {
            fsync: Fsync::Never,
            memtable_bytes: limit,
            ..Options::default()
        },
    )
    .unwrap();
    db.create_database("city").unwrap();
    let peak = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for w in 0..4 {
            let (db, peak) = (db.clone(), &peak);
            s.spawn(move || {
                for b in 0..BATCHES {
                    db.write_lines("city", body(w, b).as_bytes(), Precision::Nanoseconds)
                        .unwrap();
                    peak.fetch_max(db.memtable_bytes(), Ordering::Relaxed);
                }
            });
        }
    });
    // Twice the limit before a writer waits, plus what the four writers add meanwhile.
    let peak = peak.load(Ordering::Relaxed);
    assert!(peak < 8 * limit, "active memtable reached {peak} bytes");
    db.flush().unwrap();
    let all = db
        .scan("city", "traffic", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    let points: usize = all.iter().map(|s| s.rows.len()).sum();
    assert_eq!(points, 4 * BATCHES * LINES);
}
