//! Crash test: a child process ingests with several writer threads and is killed with SIGKILL
//! mid-ingest; reopening its data must show every acknowledged batch whole, and every batch
//! all-or-nothing.
//!
//! The child is this same test binary, re-run on the `crash_child` test with an environment
//! variable naming its data directory; it prints `ACK <thread> <batch>` after each
//! acknowledged write.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use ganzhi_engine::{Db, Fsync, Options, Precision, TagPredicate, TimeRange};

const CHILD_DIR_VAR: &str = "GANZHI_CRASH_CHILD_DIR";
/// Set: the child flushes and compacts in the background while it ingests.
const CHILD_FLUSH_VAR: &str = "GANZHI_CRASH_CHILD_FLUSH";
const THREADS: usize = 4;
const LINES_PER_BATCH: usize = 200;

fn batch_body(thread: usize, batch: usize) -> String {
    let mut body = String::new();
    for i in 0..LINES_PER_BATCH {
        // One series per (thread, i % 10); timestamps unique per (thread, batch, i).
        let t = (batch * LINES_PER_BATCH + i) as i64 * 1_000;
        body.push_str(&format!(
            "power,meter=m{thread}-{} energy_kwh={}.{:02},batch={batch}i,thread={thread}i {t}\n",
            i % 10,
            batch,
            i
        ));
    }
    body
}

/// The child: ingest until killed.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_VAR) else {
        return;
    };
    let mut options = Options {
        fsync: Fsync::Always,
        ..Options::default()
    };
    if std::env::var_os(CHILD_FLUSH_VAR).is_some() {
        options.memtable_bytes = 96 << 10;
        options.compaction.min_inputs = 2;
    }
    let db = Db::open(&dir, options).unwrap();
    db.create_database("city").unwrap();
    let stdout = std::sync::Mutex::new(std::io::stdout());
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let db = db.clone();
            let stdout = &stdout;
            s.spawn(move || {
                for batch in 0.. {
                    let body = batch_body(thread, batch);
                    db.write_lines("city", body.as_bytes(), Precision::Nanoseconds)
                        .unwrap();
                    let mut out = stdout.lock().unwrap();
                    writeln!(out, "ACK {thread} {batch}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

#[test]
fn sigkill_mid_ingest_loses_no_acknowledged_write() {
    crash_rounds(false);
}

#[test]
fn sigkill_during_background_flushes_loses_no_acknowledged_write() {
    crash_rounds(true);
}

fn crash_rounds(flushing: bool) {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.args(["crash_child", "--exact", "--nocapture", "--test-threads=1"]);
        if flushing {
            command.env(CHILD_FLUSH_VAR, "1");
        }
        let mut child = command
            .env(CHILD_DIR_VAR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut acked = BTreeSet::new();
        let kill_after = if flushing {
            150 + round * 97
        } else {
            40 + round * 37
        };
        for line in stdout.lines() {
            let line = line.unwrap();
            let mut parts = line.split_whitespace();
            if parts.next() != Some("ACK") {
                continue;
            }
            let thread: usize = parts.next().unwrap().parse().unwrap();
            let batch: usize = parts.next().unwrap().parse().unwrap();
            acked.insert((thread, batch));
            if acked.len() >= kill_after {
                child.kill().unwrap(); // SIGKILL on Unix
                break;
            }
        }
        child.wait().unwrap();
        assert!(
            acked.len() >= kill_after,
            "child stopped early after {} acks",
            acked.len()
        );

        if flushing {
            let db_dir = dir.path().join("db").join("1");
            let segments = std::fs::read_dir(&db_dir)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "seg")
                })
                .count();
            assert!(segments > 0, "the child never flushed before it was killed");
        }
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let series = db
            .scan("city", "power", &TagPredicate::All, &[], TimeRange::ALL)
            .unwrap();
        // Count the points of each (thread, batch) found.
        let mut found = std::collections::BTreeMap::<(usize, usize), usize>::new();
        for s in &series {
            let batch_col = s.fields.iter().position(|(k, _)| k == "batch").unwrap();
            let thread_col = s.fields.iter().position(|(k, _)| k == "thread").unwrap();
            for row in &s.rows {
                let get = |c: usize| match row.values[c] {
                    Some(ganzhi_engine::FieldValue::Integer(v)) => v as usize,
                    ref other => panic!("unexpected value {other:?}"),
                };
                *found.entry((get(thread_col), get(batch_col))).or_default() += 1;
            }
        }
        for key in &acked {
            assert_eq!(
                found.get(key),
                Some(&LINES_PER_BATCH),
                "acked batch {key:?} incomplete"
            );
        }
        for (key, n) in &found {
            assert_eq!(*n, LINES_PER_BATCH, "batch {key:?} is partly present");
        }
    }
}
