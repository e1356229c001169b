//! End-to-end: the real `ganzhi` binary.
//!
//! - `demo` writes the tiny city into a fresh data directory, reads it back, and a second run
//!   replays the first run's WAL;
//! - `gen` prints line protocol that the engine accepts whole.

use std::process::Command;

use ganzhi::citygen::{CityConfig, Scale};
use ganzhi_engine::{Db, Options, Precision};

fn ganzhi(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ganzhi"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ganzhi {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn demo_writes_reads_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let values = CityConfig::scale(Scale::Tiny).expected_values();

    let first = ganzhi(&["demo", "--data-dir", data, "--scale", "tiny"]);
    assert!(first.contains("replayed 0 WAL records"), "{first}");
    assert!(
        first.contains(&format!("wrote {values} field values")),
        "{first}"
    );
    assert!(
        first.contains("scanned pm25 of 3 air-quality stations"),
        "{first}"
    );

    let second = ganzhi(&[
        "demo",
        "--data-dir",
        data,
        "--scale",
        "tiny",
        "--fsync",
        "never",
    ]);
    assert!(!second.contains("replayed 0 WAL records"), "{second}");
    assert!(!second.contains("truncated"), "{second}");
}

#[test]
fn gen_output_is_accepted_whole() {
    let body = ganzhi(&["gen", "--scale", "tiny"]);
    let config = CityConfig::scale(Scale::Tiny);
    assert_eq!(body.lines().count() as u64, config.expected_lines());
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    db.create_database("city").unwrap();
    let written = db
        .write_lines("city", body.as_bytes(), Precision::Nanoseconds)
        .unwrap();
    assert_eq!(written.values, config.expected_values());
    assert_eq!(written.points, config.expected_lines());
}
