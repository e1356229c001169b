//! Crash test for deletes: a child process writes batches and deletes some of them, with
//! flushes and compactions, until killed with SIGKILL; reopening its data must show every
//! acknowledged write and every acknowledged delete, and each batch and delete whole or not at
//! all.
//!
//! The child is this test binary, re-run on `delete_crash_child` with an environment variable
//! naming its data directory. (A test binary of its own: a child spawned while another test
//! reopens a `Db` would hold that directory's lock for an instant.)

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use ganzhi_engine::{CompactionPolicy, Db, Fsync, Options, Precision, TagPredicate, TimeRange};

const CHILD_DIR_VAR: &str = "GANZHI_DELETE_CRASH_CHILD_DIR";
const BATCH: i64 = 50;
const METERS: usize = 3;

/// Batch `b`: every meter gets `BATCH` points at `b * BATCH + i`.
fn crash_batch(b: i64) -> String {
    let mut body = String::new();
    for m in 0..METERS {
        for i in 0..BATCH {
            body.push_str(&format!("power,meter=m{m} kwh={b}i {}\n", b * BATCH + i));
        }
    }
    body
}

/// The child: writes batch b, then deletes meter m1's points of batch b - 1, and so on;
/// prints `W b` and `D b` once each is acknowledged.
#[test]
fn delete_crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_VAR) else {
        return;
    };
    let options = Options {
        fsync: Fsync::Always,
        memtable_bytes: 64 << 10,
        compaction: CompactionPolicy {
            min_inputs: 2,
            max_input_bytes: 1 << 30,
        },
        ..Options::default()
    };
    let db = Db::open(&dir, options).unwrap();
    db.create_database("city").unwrap();
    let mut out = std::io::stdout();
    for b in 0.. {
        db.write_lines("city", crash_batch(b).as_bytes(), Precision::Nanoseconds)
            .unwrap();
        writeln!(out, "W {b}").unwrap();
        if b > 0 {
            let prev = b - 1;
            db.delete(
                "city",
                Some("power"),
                &TagPredicate::eq("meter", "m1"),
                TimeRange::new(prev * BATCH, prev * BATCH + BATCH - 1),
            )
            .unwrap();
            writeln!(out, "D {prev}").unwrap();
        }
        if b % 7 == 3 {
            db.flush().unwrap();
        }
        if b % 11 == 5 {
            db.compact(false).unwrap();
        }
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_between_writes_and_deletes_keeps_every_acknowledged_one() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "delete_crash_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_VAR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (mut written, mut deleted) = (BTreeSet::new(), BTreeSet::new());
        let kill_after = 30 + round * 23;
        for line in stdout.lines() {
            let line = line.unwrap();
            // The harness may print on the same line ("test delete_crash_child ... W 0").
            let words: Vec<&str> = line.split_whitespace().collect();
            for pair in words.windows(2) {
                match (pair[0], pair[1].parse::<i64>()) {
                    ("W", Ok(b)) => written.insert(b),
                    ("D", Ok(b)) => deleted.insert(b),
                    _ => continue,
                };
            }
            if written.len() + deleted.len() >= kill_after {
                child.kill().unwrap();
                break;
            }
        }
        child.wait().unwrap();
        assert!(
            written.len() + deleted.len() >= kill_after,
            "child stopped early"
        );

        let db = Db::open(dir.path(), Options::default()).unwrap();
        let series = db
            .scan("city", "power", &TagPredicate::All, &[], TimeRange::ALL)
            .unwrap();
        // Points per (meter, batch).
        let mut found = BTreeMap::<(String, i64), i64>::new();
        for s in &series {
            for row in &s.rows {
                *found.entry((s.key.clone(), row.time / BATCH)).or_default() += 1;
            }
        }
        let count = |m: usize, b: i64| {
            found
                .get(&(format!("power,meter=m{m}"), b))
                .copied()
                .unwrap_or(0)
        };
        let last = *written.last().unwrap();
        // The write or the delete that was in flight may have happened, whole, or not.
        let next_write = last + 1;
        let next_delete = deleted.last().map_or(0, |d| d + 1);
        for b in 0..=last + 2 {
            for m in 0..METERS {
                let n = count(m, b);
                assert!(n == 0 || n == BATCH, "meter {m} batch {b}: {n} points");
                let expected = if written.contains(&b) && !(m == 1 && deleted.contains(&b)) {
                    BATCH
                } else {
                    0
                };
                let in_flight =
                    (b == next_write && !written.contains(&b)) || (m == 1 && b == next_delete);
                assert!(
                    n == expected || in_flight,
                    "meter {m} batch {b}: {n} points, expected {expected} (written {:?}, deleted {:?})",
                    written.last(),
                    deleted.last()
                );
            }
        }
    }
}
