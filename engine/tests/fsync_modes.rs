//! The three durability modes: what each fsyncs, and that every one of them keeps acknowledged
//! writes across a reopen.

use std::sync::atomic::Ordering;
use std::time::Duration;

use ganzhi_engine::{Db, Fsync, Options, Precision, TagPredicate, TimeRange};

fn write_and_reopen(fsync: Fsync) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            fsync,
            ..Options::default()
        },
    )
    .unwrap();
    db.create_database("city").unwrap();
    for i in 0..20 {
        let line = format!("noise,site=n1 laeq={i}.5 {i}\n");
        db.write_lines("city", line.as_bytes(), Precision::Seconds)
            .unwrap();
    }
    let stats = db.wal_stats();
    let counts = (
        stats.records.load(Ordering::Relaxed),
        stats.fsyncs.load(Ordering::Relaxed),
    );
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let rows = db
        .scan("city", "noise", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    assert_eq!(rows[0].rows.len(), 20, "{fsync:?}");
    assert_eq!(rows[0].rows[19].time, 19_000_000_000);
    counts
}

#[test]
fn always_fsyncs_every_lone_write() {
    let (records, fsyncs) = write_and_reopen(Fsync::Always);
    assert_eq!(records, 20);
    assert!(fsyncs >= 20, "{fsyncs} fsyncs for 20 sequential writes");
}

#[test]
fn never_does_not_fsync_but_keeps_writes_across_reopen() {
    let (records, fsyncs) = write_and_reopen(Fsync::Never);
    assert_eq!(records, 20);
    assert_eq!(fsyncs, 0);
}

#[test]
fn interval_keeps_writes_across_reopen() {
    // An interval longer than the test: only the closing sync on drop makes writes durable.
    let (records, fsyncs) = write_and_reopen(Fsync::Interval(Duration::from_secs(3600)));
    assert_eq!(records, 20);
    assert_eq!(fsyncs, 0, "no fsync may happen before the interval");
}

#[test]
fn interval_syncer_fsyncs_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            fsync: Fsync::Interval(Duration::from_millis(1)),
            ..Options::default()
        },
    )
    .unwrap();
    db.create_database("city").unwrap();
    db.write_lines("city", b"noise,site=n1 laeq=1 1\n", Precision::Seconds)
        .unwrap();
    // Wait (bounded) for the background thread's fsync; no fixed sleep decides the outcome.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while db.wal_stats().fsyncs.load(Ordering::Relaxed) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no background fsync within 10 s"
        );
        std::thread::yield_now();
    }
}
