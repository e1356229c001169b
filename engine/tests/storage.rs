//! Segments, flush, compaction, retention and corruption, through the public API.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ganzhi_engine::{
    DatabaseOptions, Db, Error, FieldValue, Fsync, Options, Precision, TagPredicate, TimeRange,
};

fn options() -> Options {
    Options {
        fsync: Fsync::Never,
        background_maintenance: false,
        block_rows: 64,
        ..Options::default()
    }
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p, ext));
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn levels(db: &Db, measurement: &str) -> Vec<(i64, f64)> {
    let series = db
        .scan(
            "city",
            measurement,
            &TagPredicate::All,
            &["level"],
            TimeRange::ALL,
        )
        .unwrap();
    series
        .iter()
        .flat_map(|s| s.rows.iter())
        .map(|r| match r.values[0] {
            Some(FieldValue::Float(v)) => (r.time, v),
            ref other => panic!("{other:?}"),
        })
        .collect()
}

fn write(db: &Db, lines: &str) {
    db.write_lines("city", lines.as_bytes(), Precision::Seconds)
        .unwrap();
}

#[test]
fn flush_moves_data_to_segments_and_empties_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    db.create_database("city").unwrap();
    let body: String = (0..500)
        .map(|i| format!("river,gauge=g1 level={}.25 {i}\n", i % 7))
        .collect();
    write(&db, &body);
    let before = levels(&db, "river");
    db.flush().unwrap();
    assert_eq!(files(dir.path(), "seg").len(), 1);
    // Only the fresh, empty WAL segment is left.
    let wal = files(&dir.path().join("wal"), "wal");
    assert_eq!(wal.len(), 1);
    assert_eq!(fs::metadata(&wal[0]).unwrap().len(), 16);
    assert_eq!(levels(&db, "river"), before);
    drop(db);

    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(db.recovery_report().records, 0);
    assert_eq!(levels(&db, "river"), before);
    // Writes after the flush land in the new WAL and survive a reopen next to the segment.
    write(&db, "river,gauge=g1 level=99 1000\n");
    drop(db);
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(levels(&db, "river").len(), 501);
}

#[test]
fn compaction_resolves_duplicates_and_late_points_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    db.create_database("city").unwrap();
    let run = |range: std::ops::Range<i64>, v: f64| -> String {
        range
            .map(|t| format!("river,gauge=g1 level={v} {t}\n"))
            .collect()
    };
    write(&db, &run(10..20, 1.0));
    db.flush().unwrap();
    write(&db, &run(15..25, 2.0)); // overwrites 15..20
    db.flush().unwrap();
    write(&db, &run(0..3, 3.0)); // late
    db.flush().unwrap();
    assert_eq!(files(dir.path(), "seg").len(), 3);
    let expected: Vec<(i64, f64)> = (0..3)
        .map(|t| (t, 3.0))
        .chain((10..15).map(|t| (t, 1.0)))
        .chain((15..25).map(|t| (t, 2.0)))
        .collect();
    let expected: Vec<(i64, f64)> = expected
        .into_iter()
        .map(|(t, v)| (t * 1_000_000_000, v))
        .collect();
    assert_eq!(levels(&db, "river"), expected);
    db.compact(true).unwrap();
    assert_eq!(files(dir.path(), "seg").len(), 1);
    assert_eq!(levels(&db, "river"), expected);
    drop(db);
    let db = Db::open(dir.path(), options()).unwrap();
    assert_eq!(levels(&db, "river"), expected);
}

#[test]
fn retention_drops_whole_old_partitions_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    let hour = Duration::from_secs(3600);
    db.create_database_with(
        "city",
        DatabaseOptions {
            partition: hour,
            retention: Some(2 * hour),
        },
    )
    .unwrap();
    let now = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()) as i64;
    let hour_start = now - now % 3600;
    // One point five hours back (expired), one in the partition that straddles the cutoff
    // (kept whole), one now.
    let old = hour_start - 5 * 3600;
    let straddling = hour_start - 2 * 3600;
    write(&db, &format!("river,gauge=g1 level=1 {old}\nriver,gauge=g1 level=2 {straddling}\nriver,gauge=g1 level=3 {now}\n"));
    db.flush().unwrap();
    assert_eq!(files(dir.path(), "seg").len(), 3);
    assert_eq!(db.enforce_retention().unwrap(), 1);
    let kept: Vec<f64> = levels(&db, "river").into_iter().map(|(_, v)| v).collect();
    assert_eq!(kept, vec![2.0, 3.0]);
    assert_eq!(files(dir.path(), "seg").len(), 2);
    assert_eq!(db.enforce_retention().unwrap(), 0);
}

fn two_segments(dir: &Path) -> (PathBuf, PathBuf) {
    let db = Db::open(dir, options()).unwrap();
    db.create_database("city").unwrap();
    write(
        &db,
        &(0..100)
            .map(|t| format!("river,gauge=g1 level={t} {t}\n"))
            .collect::<String>(),
    );
    db.flush().unwrap();
    write(
        &db,
        &(0..100)
            .map(|t| format!("noise,site=n1 laeq={t} {t}\n"))
            .collect::<String>(),
    );
    db.flush().unwrap();
    let segs = files(dir, "seg");
    assert_eq!(segs.len(), 2);
    (segs[0].clone(), segs[1].clone())
}

#[test]
fn a_flipped_byte_in_a_segment_is_named_and_other_data_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (river, _noise) = two_segments(dir.path());
    let mut bytes = fs::read(&river).unwrap();
    bytes[40] ^= 0x20; // inside the first data chunk
    fs::write(&river, &bytes).unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    match db.scan("city", "river", &TagPredicate::All, &[], TimeRange::ALL) {
        Err(Error::Corrupt { path, .. }) => assert_eq!(path, river),
        other => panic!("expected the corruption to be reported, got {other:?}"),
    }
    let noise = db
        .scan("city", "noise", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    assert_eq!(noise[0].rows.len(), 100);
}

#[test]
fn a_truncated_segment_is_reported_and_the_database_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (river, _noise) = two_segments(dir.path());
    let len = fs::metadata(&river).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&river)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    let damaged = db.damaged_segments();
    assert_eq!(damaged.len(), 1);
    assert_eq!(damaged[0].0, river);
    assert!(damaged[0].1.contains("corrupt"), "{}", damaged[0].1);
    let noise = db
        .scan("city", "noise", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    assert_eq!(noise[0].rows.len(), 100);
    // The damaged file is kept for inspection, even through compaction.
    db.compact(true).unwrap();
    drop(db);
    assert!(river.exists());
}

#[test]
fn leftovers_of_an_interrupted_flush_are_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let (river, _) = two_segments(dir.path());
    let db_dir = river.parent().unwrap();
    let stray = db_dir.join("0000000000000099.seg");
    let tmp = db_dir.join("0000000000000100.tmp");
    fs::copy(&river, &stray).unwrap();
    fs::write(&tmp, b"half a segment").unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    assert!(!stray.exists() && !tmp.exists());
    assert_eq!(
        levels(&db, "river").len(),
        100,
        "the stray copy must not double the data"
    );
}

/// Waits (at most 60 s) until the background thread has done what `done` checks; the test's
/// outcome is then decided by what it did. The thread signals nothing a test could await.
fn wait_for_background(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "no background {what} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn background_maintenance_flushes_a_full_memtable() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        background_maintenance: true,
        memtable_bytes: 64 << 10,
        ..options()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    db.create_database("city").unwrap();
    let body: String = (0..20_000)
        .map(|t| format!("noise,site=n1 laeq={}.5 {t}\n", t % 90))
        .collect();
    write(&db, &body);
    wait_for_background("a flush", || !files(dir.path(), "seg").is_empty());
    assert_eq!(db.maintenance_error(), None);
    let series = db
        .scan("city", "noise", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    assert_eq!(series[0].rows.len(), 20_000);
}

#[test]
fn background_compaction_catches_up_once_a_burst_of_writes_ends() {
    // Memtables filled back to back are a burst: compaction stays out of the flushes' way,
    // then merges the flushed segments once writes stop (within seconds, not never).
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        background_maintenance: true,
        memtable_bytes: 32 << 10,
        compaction: ganzhi_engine::CompactionPolicy {
            min_inputs: 2,
            max_input_bytes: 64 << 20,
        },
        ..options()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    db.create_database("city").unwrap();
    for burst in 0..8 {
        let body: String = (0..4_000)
            .map(|t| {
                format!(
                    "noise,site=n{} laeq={}.5 {}
",
                    t % 4,
                    t % 90,
                    burst * 4_000 + t
                )
            })
            .collect();
        write(&db, &body);
    }
    wait_for_background("a compaction after the burst", || {
        db.maintenance_stats().compactions > 0
    });
    assert_eq!(db.maintenance_error(), None);
    let s = db.maintenance_stats();
    assert!(s.flushes >= 2, "{s:?}");
    let series = db
        .scan("city", "noise", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    let rows: usize = series.iter().map(|s| s.rows.len()).sum();
    assert_eq!(rows, 32_000);
}

#[test]
fn flushed_series_move_to_the_mapped_series_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    db.create_database("city").unwrap();
    let body: String = (0..300)
        .map(|i| format!("power,district=d{},meter=m{i:04} kw={i} 1\n", i % 7))
        .collect();
    write(&db, &body);
    let before = db.series_count("city").unwrap();
    assert_eq!(
        (before.total, before.on_heap, before.file_bytes),
        (300, 300, 0)
    );
    db.flush().unwrap();
    let after = db.series_count("city").unwrap();
    assert_eq!((after.total, after.on_heap), (300, 0));
    assert!(after.file_bytes > 0);
    assert_eq!(files(dir.path(), "idx").len(), 1);
    // A new series lives on the heap until the next flush, which rewrites the file.
    write(&db, "power,district=d0,meter=new kw=1 2\n");
    assert_eq!(db.series_count("city").unwrap().on_heap, 1);
    db.flush().unwrap();
    assert_eq!(db.series_count("city").unwrap().on_heap, 0);
    assert_eq!(
        files(dir.path(), "idx").len(),
        1,
        "the old series file is removed"
    );
    drop(db);
    let db = Db::open(dir.path(), options()).unwrap();
    let count = db.series_count("city").unwrap();
    assert_eq!((count.total, count.on_heap), (301, 0));
    let d0 = TagPredicate::eq("district", "d0");
    let series = db.scan("city", "power", &d0, &[], TimeRange::ALL).unwrap();
    assert_eq!(series.len(), 43 + 1);
    // New writes to known series add nothing to the heap.
    write(&db, "power,district=d0,meter=m0000 kw=5 3\n");
    assert_eq!(db.series_count("city").unwrap().on_heap, 0);
}

#[test]
fn a_damaged_series_file_is_rebuilt_from_the_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (river, _) = two_segments(dir.path());
    let idx = files(dir.path(), "idx");
    assert_eq!(idx.len(), 1);
    let mut bytes = fs::read(&idx[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(&idx[0], &bytes).unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    let damaged = db.damaged_segments();
    assert_eq!(damaged.len(), 1);
    assert_eq!(damaged[0].0, idx[0]);
    assert_eq!(levels(&db, "river").len(), 100);
    let noise = db
        .scan("city", "noise", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    assert_eq!(noise[0].rows.len(), 100);
    // The next flush writes a good series file again.
    write(&db, "river,gauge=g2 level=1 5\n");
    db.flush().unwrap();
    drop(db);
    let db = Db::open(dir.path(), options()).unwrap();
    assert!(db.damaged_segments().is_empty());
    assert_eq!(db.series_count("city").unwrap().total, 3);
    assert!(river.exists());
}

#[test]
fn maintenance_stats_count_flushes_and_compactions() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    db.create_database("city").unwrap();
    assert_eq!(
        db.maintenance_stats(),
        ganzhi_engine::MaintenanceStats::default()
    );
    for part in 0..2 {
        let body: String = (0..10)
            .map(|i| format!("river,gauge=g level={i} {}\n", part * 1000 + i))
            .collect();
        db.write_lines("city", body.as_bytes(), Precision::Seconds)
            .unwrap();
        db.flush().unwrap();
    }
    db.flush().unwrap(); // nothing to write: not counted
    let s = db.maintenance_stats();
    assert_eq!((s.flushes, s.flushed_values), (2, 20));
    assert!(s.flush_seconds > 0.0);
    db.compact(true).unwrap();
    let s = db.maintenance_stats();
    assert!(s.compactions >= 1, "{s:?}");
    assert_eq!(s.compacted_values, 20);
}
