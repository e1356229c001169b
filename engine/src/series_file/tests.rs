//! Series file tests: a model test against `BTreeMap`s, damaged files (every truncation, every
//! flipped byte, structural damage under valid CRCs), input the writer refuses, merging, and a
//! 1M-series scale test (ignored by default; run it in release, see `one_million_series`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::format::{self, Sec, HEADER_LEN, SECTIONS};
use super::*;
use crate::line_protocol::series_key;

/// What every query should answer, built from `(id, key)` pairs the simple way.
#[derive(Default, Debug)]
struct Model {
    by_key: BTreeMap<String, u64>,
    by_id: BTreeMap<u64, String>,
    measurements: BTreeMap<String, BTreeSet<u64>>,
    /// measurement → tag key → tag value → ids
    tags: BTreeMap<String, BTreeMap<String, BTreeMap<String, BTreeSet<u64>>>>,
}

impl Model {
    fn new(series: &[(u64, String)]) -> Model {
        let mut m = Model::default();
        for (id, key) in series {
            let (measurement, tags) = crate::line_protocol::parse_series_key(key).unwrap();
            m.by_key.insert(key.clone(), *id);
            m.by_id.insert(*id, key.clone());
            m.measurements
                .entry(measurement.clone())
                .or_default()
                .insert(*id);
            let per_m = m.tags.entry(measurement).or_default();
            for (k, v) in tags {
                per_m
                    .entry(k)
                    .or_default()
                    .entry(v)
                    .or_default()
                    .insert(*id);
            }
        }
        m
    }

    /// The input `write` wants: sorted by key.
    fn sorted(&self) -> Vec<(u64, String)> {
        self.by_key.iter().map(|(k, id)| (*id, k.clone())).collect()
    }
}

fn check(file: &SeriesFile, model: &Model) {
    assert_eq!(file.len(), model.by_key.len());
    assert_eq!(file.is_empty(), model.by_key.is_empty());
    let all: Vec<(u64, String)> = file.iter().map(|(id, k)| (id, k.to_owned())).collect();
    assert_eq!(all, model.sorted());
    for (key, &id) in &model.by_key {
        assert_eq!(file.id_of(key), Some(id), "id_of({key:?})");
        assert_eq!(file.key_of(id), Some(key.as_str()), "key_of({id})");
        // Neighbours of a present key are absent (unless present themselves).
        let shorter = &key[..key.char_indices().last().map_or(0, |(i, _)| i)];
        for probe in [format!("{key}x"), format!("{key}\0"), shorter.to_owned()] {
            assert_eq!(file.id_of(&probe), model.by_key.get(&probe).copied());
        }
    }
    for id in [0, 1, u64::MAX, u64::MAX - 1, 12345] {
        assert_eq!(file.key_of(id), model.by_id.get(&id).map(String::as_str));
    }
    assert_eq!(file.id_of(""), model.by_key.get("").copied());
    assert_eq!(
        file.measurements().collect::<Vec<_>>(),
        model
            .measurements
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for (m, ids) in &model.measurements {
        assert_eq!(
            file.measurement_series(m).collect::<Vec<_>>(),
            ids.iter().copied().collect::<Vec<_>>(),
            "measurement_series({m:?})"
        );
        let tags = model.tags.get(m).cloned().unwrap_or_default();
        assert_eq!(
            file.tag_keys(m).collect::<Vec<_>>(),
            tags.keys().map(String::as_str).collect::<Vec<_>>(),
            "tag_keys({m:?})"
        );
        for (k, values) in &tags {
            assert_eq!(
                file.tag_values(m, k).collect::<Vec<_>>(),
                values.keys().map(String::as_str).collect::<Vec<_>>(),
                "tag_values({m:?}, {k:?})"
            );
            for (v, ids) in values {
                assert_eq!(
                    file.postings(m, k, v).collect::<Vec<_>>(),
                    ids.iter().copied().collect::<Vec<_>>(),
                    "postings({m:?}, {k:?}, {v:?})"
                );
            }
            assert_eq!(file.postings(m, k, "\u{10FFFF}absent").count(), 0);
        }
        assert_eq!(file.tag_values(m, "\u{10FFFF}absent").count(), 0);
        assert_eq!(file.postings(m, "\u{10FFFF}absent", "v").count(), 0);
    }
    let absent = "\u{10FFFF}absent";
    assert_eq!(file.measurement_series(absent).count(), 0);
    assert_eq!(file.tag_keys(absent).count(), 0);
    assert_eq!(file.tag_values(absent, "k").count(), 0);
    assert_eq!(file.postings(absent, "k", "v").count(), 0);
}

fn write_and_open(dir: &Path, series: &[(u64, String)]) -> (PathBuf, SeriesFile) {
    let path = dir.join("series");
    let stats = SeriesFile::write(&path, series.iter().map(|(id, k)| (*id, k))).unwrap();
    let file = SeriesFile::open(&path).unwrap();
    assert_eq!(stats.series, series.len() as u64);
    assert_eq!(stats.bytes, file.mapped_bytes() as u64);
    assert_eq!(stats.bytes, std::fs::metadata(&path).unwrap().len());
    assert!(!tmp_of(&path).exists());
    (path, file)
}

fn tmp_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Series whose components need every kind of escape, and some that need none.
fn tricky_series() -> Vec<(u64, String)> {
    let specs: &[(&str, &[(&str, &str)])] = &[
        ("cpu", &[("host", "a"), ("region", "eu")]),
        ("cpu", &[("host", "b"), ("region", "eu")]),
        ("cpu", &[("host", "a b"), ("region", "us,west")]),
        ("cpu", &[]),
        ("c,p u", &[("k=1", "v=2"), ("z", "C:\\temp\\")]),
        ("m=eq", &[("\\", "\\\\")]),
        ("水", &[("é", "ü"), ("地区", "北京")]),
        ("cpu2", &[("host", "a")]),
    ];
    let mut series: Vec<(u64, String)> = specs
        .iter()
        .enumerate()
        .map(|(i, (m, tags))| ((i as u64) * 1000 + 7, series_key(m, tags)))
        .collect();
    series.push((u64::MAX, series_key("max", &[("id", "max")])));
    series.push((0, series_key("min", &[("id", "0")])));
    series.sort_by(|a, b| a.1.cmp(&b.1));
    series
}

#[test]
fn series_file_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SeriesFile>();
    assert_send_sync::<SeriesFileError>();
}

#[test]
fn empty_file_answers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = write_and_open(dir.path(), &[]);
    check(&file, &Model::default());
    assert_eq!(file.mapped_bytes(), HEADER_LEN + 4 + 12 + 8 + 8);
}

#[test]
fn escaped_names_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let series = tricky_series();
    let (_, file) = write_and_open(dir.path(), &series);
    let model = Model::new(&series);
    check(&file, &model);
    // Queries take and return unescaped names.
    assert_eq!(
        file.postings("cpu", "region", "us,west")
            .collect::<Vec<_>>(),
        [2007]
    );
    assert_eq!(file.postings("c,p u", "z", "C:\\temp\\").count(), 1);
    assert_eq!(
        file.tag_values("cpu", "host").collect::<Vec<_>>(),
        ["a", "a b", "b"]
    );
    assert_eq!(file.tag_keys("水").collect::<Vec<_>>(), ["é", "地区"]);
    assert_eq!(file.tag_keys("cpu2").collect::<Vec<_>>(), ["host"]);
}

fn component() -> impl Strategy<Value = String> {
    // Few letters, so that names repeat and posting lists hold several ids; and every byte
    // line protocol escapes.
    "[ab,= \\\\é水]{1,3}"
}

fn series_strategy() -> impl Strategy<Value = Vec<(u64, String)>> {
    let one = (
        component(),
        prop::collection::btree_map(component(), component(), 0..4),
    )
        .prop_map(|(m, tags)| series_key(&m, &tags.into_iter().collect::<Vec<_>>()));
    (
        prop::collection::vec(one, 0..60),
        prop::collection::btree_set(prop_oneof![0..1000u64, any::<u64>()], 60),
        any::<u64>(),
    )
        .prop_map(|(keys, ids, seed)| {
            // Pair the keys with the ids in a shuffled order, so ids are not sorted like keys.
            let mut ids: Vec<u64> = ids.into_iter().collect();
            let len = ids.len();
            for i in 0..len {
                let j = (seed.wrapping_mul(i as u64 + 1) >> 7) as usize % len;
                ids.swap(i, j);
            }
            let keys: BTreeSet<String> = keys.into_iter().collect();
            keys.into_iter().zip(ids).map(|(k, id)| (id, k)).collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_query_agrees_with_the_model(series in series_strategy()) {
        let dir = tempfile::tempdir().unwrap();
        let model = Model::new(&series);
        let (_, file) = write_and_open(dir.path(), &model.sorted());
        check(&file, &model);
    }

    /// Whatever the damage, lookups on a file opened without any validation return something
    /// or nothing, never panic; and a damaged file whose CRCs are recomputed either opens
    /// (if the damage kept the structure valid) or is `Corrupt`.
    #[test]
    fn damaged_sections_never_panic(
        series in series_strategy(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let model = Model::new(&series);
        let (path, file) = write_and_open(dir.path(), &model.sorted());
        drop(file);
        let mut bytes = std::fs::read(&path).unwrap();
        let body = bytes.len() - HEADER_LEN;
        prop_assume!(body > 0);
        for (at, xor) in &flips {
            bytes[HEADER_LEN + at.index(body)] ^= xor;
        }
        std::fs::write(&path, &bytes).unwrap();
        let damaged = SeriesFile::open_unvalidated(&path).unwrap();
        exercise(&damaged, &model);
        drop(damaged);
        reseal(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        match SeriesFile::open(&path) {
            Ok(f) => exercise(&f, &model),
            Err(SeriesFileError::Corrupt { path: p, .. }) => prop_assert_eq!(p, path),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

/// Runs every query, with the model's names, on a possibly damaged file.
fn exercise(file: &SeriesFile, model: &Model) {
    let _ = file.len();
    let _ = file.iter().count();
    let _ = file.measurements().count();
    for (key, &id) in &model.by_key {
        let _ = file.id_of(key);
        let _ = file.key_of(id);
    }
    for (m, tags) in &model.tags {
        let _ = file.measurement_series(m).count();
        let _ = file.tag_keys(m).count();
        for (k, values) in tags {
            let _ = file.tag_values(m, k).count();
            for v in values.keys() {
                let _ = file.postings(m, k, v).count();
            }
        }
    }
    for m in file.measurements() {
        for k in file.tag_keys(m) {
            for v in file.tag_values(m, k) {
                let _ = file.postings(m, k, v).count();
            }
        }
    }
}

/// Recomputes every section CRC and the header CRC, as a buggy writer would have written them.
fn reseal(bytes: &mut [u8]) {
    let mut header = format::decode_header(bytes).unwrap();
    for entry in &mut header.sections {
        let start = entry.offset as usize;
        entry.crc = crc32fast::hash(&bytes[start..start + entry.len as usize]);
    }
    bytes[..HEADER_LEN].copy_from_slice(&header.encode());
}

fn section_range(bytes: &[u8], sec: Sec) -> std::ops::Range<usize> {
    let e = format::decode_header(bytes).unwrap().sections[sec as usize];
    e.offset as usize..(e.offset + e.len) as usize
}

fn assert_damaged(path: &Path, bytes: &[u8], what: &str) {
    std::fs::write(path, bytes).unwrap();
    match SeriesFile::open(path) {
        Err(SeriesFileError::Corrupt { path: p, .. }) => assert_eq!(p, path, "{what}"),
        Err(SeriesFileError::UnsupportedVersion { path: p, .. }) => assert_eq!(p, path, "{what}"),
        Err(e) => panic!("{what}: unexpected error {e}"),
        Ok(_) => panic!("{what}: damage not detected"),
    }
}

#[test]
fn every_truncation_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = write_and_open(dir.path(), &tricky_series());
    drop(file);
    let bytes = std::fs::read(&path).unwrap();
    for len in 0..bytes.len() {
        assert_damaged(&path, &bytes[..len], &format!("truncated to {len}"));
    }
}

#[test]
fn every_flipped_byte_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = write_and_open(dir.path(), &tricky_series());
    drop(file);
    let bytes = std::fs::read(&path).unwrap();
    // Every section of this file holds bytes, so every section is damaged in turn.
    for sec in SECTIONS {
        assert!(!section_range(&bytes, sec).is_empty(), "{}", sec.name());
    }
    for i in 0..bytes.len() {
        for xor in [0x01, 0x80] {
            let mut damaged = bytes.clone();
            damaged[i] ^= xor;
            assert_damaged(&path, &damaged, &format!("byte {i} ^ {xor:#x}"));
        }
    }
}

#[test]
fn damage_is_reported_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = write_and_open(dir.path(), &tricky_series());
    drop(file);
    let bytes = std::fs::read(&path).unwrap();
    let postings = section_range(&bytes, Sec::TagValuePostings);
    let mut damaged = bytes.clone();
    damaged[postings.start + 1] ^= 0x10;
    std::fs::write(&path, &damaged).unwrap();
    let err = SeriesFile::open(&path).unwrap_err();
    let text = err.to_string();
    match err {
        SeriesFileError::Corrupt { offset, reason, .. } => {
            assert_eq!(offset, postings.start as u64);
            assert!(reason.contains("tag_value_postings"), "{reason}");
        }
        e => panic!("{e}"),
    }
    assert!(text.contains(&path.display().to_string()), "{text}");
}

#[test]
fn trailing_bytes_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = write_and_open(dir.path(), &tricky_series());
    drop(file);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(0);
    assert_damaged(&path, &bytes, "one byte appended");
}

#[test]
fn another_version_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = write_and_open(dir.path(), &tricky_series());
    drop(file);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    match SeriesFile::open(&path) {
        Err(SeriesFileError::UnsupportedVersion { found: 2, path: p }) => assert_eq!(p, path),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent");
    match SeriesFile::open(&path) {
        Err(SeriesFileError::Io { path: p, source }) => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
}

/// Changes a file's bytes in place.
type Damage = fn(&mut [u8]);

/// Damage that keeps valid CRCs (a writer bug, not a disk error) is caught by the structural
/// checks, each named here after the rule it breaks.
#[test]
fn structural_damage_under_valid_crcs_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (path, file) = write_and_open(dir.path(), &tricky_series());
    drop(file);
    let good = std::fs::read(&path).unwrap();
    let cases: [(&str, Damage); 9] = [
        ("keys out of order", |b| {
            let r = section_range(b, Sec::Keys);
            b[r.start] = b'z';
        }),
        ("key not UTF-8", |b| {
            let r = section_range(b, Sec::Keys);
            b[r.end - 1] = 0xff;
        }),
        ("key offset past the keys", |b| {
            let r = section_range(b, Sec::KeyOffsets);
            b[r.start + 4..r.start + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        }),
        ("id points to the wrong key", |b| {
            let r = section_range(b, Sec::IdKeys);
            b.swap(r.start, r.start + 4);
        }),
        ("ids not ascending", |b| {
            // Swap the first two ids, and their key indexes with them.
            for (sec, width) in [(Sec::Ids, 8), (Sec::IdKeys, 4)] {
                let r = section_range(b, sec);
                let (first, second) = b[r.start..r.start + 2 * width].split_at_mut(width);
                first.swap_with_slice(second);
            }
        }),
        ("measurement names out of order", |b| {
            let r = section_range(b, Sec::MeasurementNames);
            b[r.start] = b'z';
        }),
        ("tag key without values", |b| {
            // The second tag key starts its values where the first does.
            let r = section_range(b, Sec::TagKeys);
            let first = b[r.start + 4..r.start + 8].to_vec();
            b[r.start + 12..r.start + 16].copy_from_slice(&first);
        }),
        ("posting list with a zero gap", |b| {
            // region=eu holds ids 7 and 1007: count 2, id 7, gap 1000 (2 bytes).
            let r = section_range(b, Sec::TagValuePostings);
            let pos = r.start + b[r.clone()].windows(2).position(|w| w == [2, 7]).unwrap();
            b[pos + 2] = 0;
        }),
        ("measurement sentinel not at the end", |b| {
            let r = section_range(b, Sec::Measurements);
            b[r.end - 4] ^= 1;
        }),
    ];
    for (what, damage) in cases {
        let mut bytes = good.clone();
        damage(&mut bytes);
        assert_ne!(bytes, good, "{what}");
        reseal(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        match SeriesFile::open(&path) {
            Err(SeriesFileError::Corrupt { reason, .. }) => {
                eprintln!("{what}: {reason}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[test]
fn writer_refuses_what_it_cannot_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series");
    let cases: &[(&str, &[(u64, &str)])] = &[
        ("keys out of order", &[(1, "b"), (2, "a")]),
        ("repeated key", &[(1, "a"), (2, "a")]),
        ("repeated id", &[(1, "a"), (1, "b")]),
        ("tags out of order", &[(1, "m,b=1,a=2")]),
        ("repeated tag key", &[(1, "m,a=1,a=2")]),
        ("needless escape", &[(1, "m\\=x")]),
        ("unescaped space", &[(1, "m,a=x y")]),
        ("tag without value", &[(1, "m,a")]),
    ];
    for (what, series) in cases {
        match SeriesFile::write(&path, series.iter().copied()) {
            Err(SeriesFileError::InvalidInput { path: p, reason }) => {
                assert_eq!(p, path, "{what}");
                eprintln!("{what}: {reason}");
            }
            other => panic!("{what}: {other:?}"),
        }
        assert!(!path.exists(), "{what}");
        assert!(!tmp_of(&path).exists(), "{what}");
    }
    // `C:\temp` needs no escape: a backslash before an ordinary byte is literal.
    let ok = [(1, "m,a=C:\\temp")];
    SeriesFile::write(&path, ok.iter().copied()).unwrap();
    let file = SeriesFile::open(&path).unwrap();
    assert_eq!(file.tag_values("m", "a").collect::<Vec<_>>(), ["C:\\temp"]);
}

#[test]
fn write_replaces_the_file_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let (path, old) = write_and_open(dir.path(), &tricky_series());
    // A leftover temporary file from a crash is overwritten.
    std::fs::write(tmp_of(&path), b"leftover").unwrap();
    let new = [(5u64, "new,k=v")];
    SeriesFile::write(&path, new.iter().copied()).unwrap();
    assert!(!tmp_of(&path).exists());
    // The old mapping still reads the old file (the rename replaced the name, not the inode).
    assert_eq!(old.len(), tricky_series().len());
    assert_eq!(old.id_of("new,k=v"), None);
    let file = SeriesFile::open(&path).unwrap();
    assert_eq!(file.iter().collect::<Vec<_>>(), [(5, "new,k=v")]);
}

#[test]
fn merge_sorted_adds_new_series() {
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = write_and_open(dir.path(), &tricky_series());
    let fresh = vec![
        (100_001u64, series_key("cpu", &[("host", "c")])),
        (100_002, series_key("aaa", &[("k", "v")])),
        (100_003, series_key("zzz", &[] as &[(&str, &str)])),
    ];
    // A series already in the file, with its id: comes once.
    let mut new = fresh.clone();
    new.push(
        file.iter()
            .nth(2)
            .map(|(id, k)| (id, k.to_owned()))
            .unwrap(),
    );
    new.sort_by(|a, b| a.1.cmp(&b.1));
    let merged: Vec<(u64, String)> = merge_sorted(&file, new.clone())
        .map(|(id, k)| (id, k.as_ref().to_owned()))
        .collect();
    let mut expected = tricky_series();
    expected.extend(fresh);
    let expected = Model::new(&expected);
    assert_eq!(merged, expected.sorted());
    let path2 = dir.path().join("series2");
    SeriesFile::write(&path2, merge_sorted(&file, new)).unwrap();
    check(&SeriesFile::open(&path2).unwrap(), &expected);

    // The same key with another id is refused by the writer.
    let conflict = vec![(999_999u64, file.key_of(0).unwrap().to_owned())];
    let path3 = dir.path().join("series3");
    match SeriesFile::write(&path3, merge_sorted(&file, conflict)) {
        Err(SeriesFileError::InvalidInput { reason, .. }) => {
            assert!(reason.contains("ascending"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

// ---- Scale ----------------------------------------------------------------------------------

/// A field of /proc/self/status in kB (Linux), e.g. `RssAnon`.
fn proc_status_kb(field: &str) -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A deterministic pseudo-random sequence (SplitMix64) for lookup order.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn ns_per(start: std::time::Instant, n: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / n as f64
}

/// One million series of `power,district=dN,meter=mNNNNNN` (100 districts, one meter per
/// series, ids in meter order). Reports size, heap after open and lookup latency:
/// `cargo test --release -p ganzhi-engine --lib one_million_series -- --ignored --nocapture`
#[test]
#[ignore = "scale test: run in release with --ignored --nocapture"]
fn one_million_series() {
    const N: usize = 1_000_000;
    const DISTRICTS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series");
    let key = |i: usize| format!("power,district=d{},meter=m{i:06}", i % DISTRICTS);
    let mut series: Vec<(u64, String)> = (0..N).map(|i| (i as u64, key(i))).collect();
    series.sort_unstable_by(|a, b| a.1.cmp(&b.1));
    let key_bytes: usize = series.iter().map(|(_, k)| k.len()).sum();

    let t = std::time::Instant::now();
    let stats = SeriesFile::write(&path, series.iter().map(|(id, k)| (*id, k))).unwrap();
    let write_ms = t.elapsed().as_millis();
    drop(series);

    let anon_before = proc_status_kb("RssAnon:");
    let t = std::time::Instant::now();
    let file = SeriesFile::open(&path).unwrap();
    let open_ms = t.elapsed().as_millis();
    let anon_after = proc_status_kb("RssAnon:");

    println!("series file, {N} series of `power,district=dN,meter=mNNNNNN`:");
    println!(
        "  file {} bytes = {:.1} bytes/series (the keys alone: {:.1} bytes/series); \
         write {write_ms} ms, open (full validation) {open_ms} ms",
        stats.bytes,
        stats.bytes as f64 / N as f64,
        key_bytes as f64 / N as f64
    );
    for (name, bytes) in file.section_sizes() {
        println!(
            "    {name:<22} {bytes:>10} bytes  {:>6.2} /series",
            bytes as f64 / N as f64
        );
    }
    println!(
        "  heap after open: size_of::<SeriesFile>() = {} bytes + path {} bytes; \
         RssAnon before/after open: {anon_before:?}/{anon_after:?} kB",
        std::mem::size_of::<SeriesFile>(),
        path.as_os_str().len()
    );

    let mut rng = 42;
    let probes: Vec<usize> = (0..200_000)
        .map(|_| (splitmix(&mut rng) % N as u64) as usize)
        .collect();
    let keys: Vec<String> = probes.iter().map(|&i| key(i)).collect();
    let t = std::time::Instant::now();
    let mut found = 0;
    for k in &keys {
        found += usize::from(file.id_of(k).is_some());
    }
    let id_of_ns = ns_per(t, keys.len());
    assert_eq!(found, keys.len());
    let t = std::time::Instant::now();
    let mut len = 0;
    for &i in &probes {
        len += file.key_of(i as u64).map_or(0, str::len);
    }
    let key_of_ns = ns_per(t, probes.len());
    assert!(len > 0);
    let meters: Vec<String> = probes.iter().map(|&i| format!("m{i:06}")).collect();
    let t = std::time::Instant::now();
    let mut ids = 0;
    for m in &meters {
        ids += file.postings("power", "meter", m).count();
    }
    let meter_ns = ns_per(t, meters.len());
    assert_eq!(ids, meters.len());
    let t = std::time::Instant::now();
    let mut ids = 0;
    for d in 0..DISTRICTS {
        ids += file.postings("power", "district", &format!("d{d}")).count();
    }
    let t_district = t.elapsed();
    assert_eq!(ids, N);
    let t = std::time::Instant::now();
    let sum: u64 = file.measurement_series("power").sum();
    let series_ns = ns_per(t, N);
    assert_eq!(sum, (N as u64 - 1) * N as u64 / 2);
    // The same ids as a plain little-endian u64 array, for comparison.
    let plain: Vec<u8> = (0..N as u64).flat_map(u64::to_le_bytes).collect();
    let t = std::time::Instant::now();
    let plain_sum: u64 = plain
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .sum();
    let plain_ns = ns_per(t, N);
    assert_eq!(plain_sum, sum);
    let t = std::time::Instant::now();
    let values = file.tag_values("power", "meter").count();
    let values_ns = ns_per(t, values);
    assert_eq!(values, N);

    println!("  id_of (random key)             {id_of_ns:>8.0} ns");
    println!("  key_of (random id)             {key_of_ns:>8.0} ns");
    println!("  postings(meter=…) + 1 id       {meter_ns:>8.0} ns");
    println!(
        "  postings(district=…), 100 lists of 10,000 ids: {:.2} ns/id",
        t_district.as_nanos() as f64 / N as f64
    );
    println!(
        "  measurement_series, 1M ids: {series_ns:.2} ns/id delta+varint ({} bytes) vs \
         {plain_ns:.2} ns/id as plain u64 ({} bytes)",
        file.section_sizes()
            .find(|(n, _)| *n == "measurement_postings")
            .map_or(0, |(_, b)| b),
        N * 8
    );
    println!("  tag_values(meter), 1M values: {values_ns:.2} ns/value");
    if let Some(peak) = proc_status_kb("VmHWM:") {
        println!("  peak RSS of the test process: {} MB", peak / 1024);
    }
}
