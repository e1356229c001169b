//! Torn and corrupt WAL tails: detected by checksum, truncated, reported; every whole batch
//! before the damage is kept, and the database keeps working.

use std::fs;
use std::path::{Path, PathBuf};

use ganzhi_engine::{Db, Fsync, Options, Precision, TagPredicate, TimeRange};

fn options() -> Options {
    Options {
        fsync: Fsync::Never,
        ..Options::default()
    }
}

/// Writes `batches` batches of 10 points each (batch `b` at times b*10..b*10+10), closes the
/// database and returns the path of the WAL segment holding them.
fn write_batches(dir: &Path, batches: i64) -> PathBuf {
    let db = Db::open(dir, options()).unwrap();
    db.create_database("city").unwrap();
    for b in 0..batches {
        let body: String = (0..10)
            .map(|i| format!("river,gauge=g1 level={b}.{i} {}\n", b * 10 + i))
            .collect();
        db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
            .unwrap();
    }
    drop(db);
    let mut segments: Vec<PathBuf> = fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| fs::metadata(p).unwrap().len() > 16)
        .collect();
    assert_eq!(segments.len(), 1);
    segments.pop().unwrap()
}

fn times(db: &Db) -> Vec<i64> {
    let series = db
        .scan("city", "river", &TagPredicate::All, &[], TimeRange::ALL)
        .unwrap();
    series
        .iter()
        .flat_map(|s| s.rows.iter().map(|r| r.time))
        .collect()
}

/// Byte offsets where each record ends, read from the frame headers.
fn record_ends(segment: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut pos = 16;
    while pos + 8 <= segment.len() {
        let len = u32::from_le_bytes(segment[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 8 + len;
        ends.push(pos);
    }
    ends
}

#[test]
fn every_truncation_keeps_the_whole_batches_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let wal = write_batches(dir.path(), 5);
    let original = fs::read(&wal).unwrap();
    let ends = record_ends(&original);
    assert_eq!(*ends.last().unwrap(), original.len());
    // Cut inside each record (and at its last byte), check what survives.
    for (r, &end) in ends.iter().enumerate() {
        let start = if r == 0 { 16 } else { ends[r - 1] };
        for cut in [start + 1, start + 8, end - 1] {
            fs::write(&wal, &original[..cut]).unwrap();
            let db = Db::open(dir.path(), options()).unwrap();
            let report = db.recovery_report();
            assert_eq!(report.truncations.len(), 1, "cut {cut}");
            assert_eq!(report.truncations[0].offset as usize, start);
            assert_eq!(report.truncations[0].discarded_bytes as usize, cut - start);
            let expected: Vec<i64> = (0..(r as i64 * 10)).collect();
            assert_eq!(times(&db), expected, "cut {cut}");
            drop(db);
            // The truncated segment is clean now, and writes resume in a new one.
            let db = Db::open(dir.path(), options()).unwrap();
            assert!(db.recovery_report().truncations.is_empty());
            drop(db);
            fs::remove_dir_all(dir.path()).unwrap();
            let wal2 = write_batches(dir.path(), 5);
            assert_eq!(wal2, wal);
        }
    }
}

#[test]
fn a_flipped_bit_in_the_last_record_is_detected_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    let wal = write_batches(dir.path(), 4);
    let mut bytes = fs::read(&wal).unwrap();
    let ends = record_ends(&bytes);
    let flip = ends[2] + 20; // inside the fourth record's payload
    bytes[flip] ^= 0x08;
    fs::write(&wal, &bytes).unwrap();

    let db = Db::open(dir.path(), options()).unwrap();
    let t = &db.recovery_report().truncations;
    assert_eq!(t.len(), 1);
    assert!(t[0].reason.contains("checksum"), "{}", t[0].reason);
    assert_eq!(t[0].path, wal);
    assert_eq!(times(&db), (0..30).collect::<Vec<i64>>());

    // New writes after recovery are durable across another reopen.
    db.write_lines(
        "city",
        b"river,gauge=g1 level=9.9 1000\n",
        Precision::Nanoseconds,
    )
    .unwrap();
    drop(db);
    let db = Db::open(dir.path(), options()).unwrap();
    let mut expected: Vec<i64> = (0..30).collect();
    expected.push(1000);
    assert_eq!(times(&db), expected);
}

#[test]
fn garbage_appended_after_the_last_record_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let wal = write_batches(dir.path(), 3);
    let len = fs::metadata(&wal).unwrap().len();
    let mut bytes = fs::read(&wal).unwrap();
    bytes.extend_from_slice(&[0xAB; 37]);
    fs::write(&wal, &bytes).unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    let t = &db.recovery_report().truncations;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].offset, len);
    assert_eq!(t[0].discarded_bytes, 37);
    assert_eq!(times(&db).len(), 30);
    assert_eq!(fs::metadata(&wal).unwrap().len(), len);
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _db = Db::open(dir.path(), options()).unwrap();
    match Db::open(dir.path(), options()) {
        Err(ganzhi_engine::Error::Locked { .. }) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
}
