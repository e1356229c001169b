use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::batch::{FieldId, SeriesId};
use crate::error::Error;
use crate::memtable::{Column, Values};
use crate::model::FieldType;

fn column(t: FieldType, points: &BTreeMap<i64, u64>) -> Column {
    let times: Vec<i64> = points.keys().copied().collect();
    let raw: Vec<u64> = points.values().copied().collect();
    let values = match t {
        FieldType::Float => Values::Float(raw.iter().map(|&b| f64::from_bits(b)).collect()),
        FieldType::Integer => Values::Integer(raw.iter().map(|&b| b as i64).collect()),
        FieldType::Unsigned => Values::Unsigned(raw),
        FieldType::String => {
            Values::String(raw.iter().map(|b| format!("s{}", b % 7).into()).collect())
        }
        FieldType::Boolean => Values::Boolean(raw.iter().map(|b| b % 3 == 0).collect()),
    };
    Column::from_sorted(times, values)
}

const TYPES: [FieldType; 5] = [
    FieldType::Float,
    FieldType::Integer,
    FieldType::Unsigned,
    FieldType::String,
    FieldType::Boolean,
];

fn series_strategy() -> impl Strategy<Value = Vec<SeriesData>> {
    let field = proptest::collection::btree_map(-50i64..3000, any::<u64>(), 1..300);
    let series = proptest::collection::vec((0usize..5, field), 1..4);
    proptest::collection::vec(series, 1..4).prop_map(|all| {
        all.into_iter()
            .enumerate()
            .map(|(i, fields)| {
                let mut seen = std::collections::BTreeSet::new();
                let fields = fields
                    .into_iter()
                    .filter(|(t, _)| seen.insert(*t))
                    .map(|(t, pts)| (FieldId(t as u32), column(TYPES[t], &pts)))
                    .collect();
                SeriesData {
                    id: SeriesId(i as u64 * 3),
                    key: format!("m,s={i}"),
                    fields,
                }
            })
            .collect()
    })
}

fn read_back(seg: &Segment, meta: &SeriesMeta, field: FieldId, t: FieldType) -> Column {
    let mut times = Vec::new();
    let mut values = Values::new(t);
    let mut block_times = Vec::new();
    for b in &meta.blocks {
        seg.read_times(b, &mut block_times).unwrap();
        seg.read_field(b, &block_times, field, &mut times, &mut values)
            .unwrap();
    }
    Column::from_sorted(times, values)
}

fn same(a: &Column, b: &Column) -> bool {
    a.times == b.times
        && (0..a.len()).all(|i| a.values.get(i).bit_eq(&b.values.get(i)))
        && a.len() == b.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn segments_round_trip_bit_exactly(series in series_strategy(), block_rows in 1usize..200) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.seg");
        let summary = write_segment(&path, &series, block_rows).unwrap();
        let seg = Segment::open(&path).unwrap();
        prop_assert_eq!(seg.file_len(), summary.bytes);
        prop_assert_eq!(seg.series().len(), series.len());
        let mut total = 0;
        for s in &series {
            let meta = seg.find(s.id).unwrap();
            prop_assert_eq!(&meta.key, &s.key);
            for b in &meta.blocks {
                prop_assert!(b.rows as usize <= block_rows);
            }
            for (fid, col) in &s.fields {
                let back = read_back(&seg, meta, *fid, col.values.field_type());
                prop_assert!(same(&back, col), "field {:?} differs", fid);
                total += col.len() as u64;
            }
        }
        prop_assert_eq!(summary.values, total);
    }
}

fn sample() -> Vec<SeriesData> {
    (0..3)
        .map(|i| {
            let pts: BTreeMap<i64, u64> = (0..500)
                .map(|t| (t * 10, (21.4f64 + t as f64 / 10.0).to_bits()))
                .collect();
            SeriesData {
                id: SeriesId(i),
                key: format!("air,station=s{i}"),
                fields: vec![(FieldId(0), column(FieldType::Float, &pts))],
            }
        })
        .collect()
}

#[test]
fn stats_describe_each_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.seg");
    write_segment(&path, &sample(), 128).unwrap();
    let seg = Segment::open(&path).unwrap();
    let b = &seg.series()[0].blocks[0];
    let st = &b.fields[0].stats;
    assert_eq!(st.count, 128);
    assert_eq!((st.first_time, st.last_time), (0, 1270));
    match st.numeric {
        Some(NumericStats::Float { min, max, .. }) => {
            assert_eq!(min, 21.4);
            assert_eq!(max, 21.4 + 12.7);
        }
        ref other => panic!("{other:?}"),
    }
}

/// The sample written to `dir/a.seg` with one bit flipped in the first field chunk of its
/// second series: the file's path and that chunk's extent.
fn sample_with_a_flipped_chunk(
    dir: &tempfile::TempDir,
) -> (std::path::PathBuf, super::format::Extent) {
    let path = dir.path().join("a.seg");
    write_segment(&path, &sample(), 128).unwrap();
    let victim = {
        let seg = Segment::open(&path).unwrap();
        seg.series()[1].blocks[0].fields[0].extent
    };
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[victim.offset as usize + 1] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    (path, victim)
}

#[test]
fn a_flipped_data_byte_is_named_and_other_series_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (path, victim) = sample_with_a_flipped_chunk(&dir);

    let seg = Segment::open(&path).unwrap(); // the index is intact
    let mut times = Vec::new();
    let b = &seg.series()[1].blocks[0];
    seg.read_times(b, &mut times).unwrap();
    let mut out_t = Vec::new();
    let mut out_v = Values::new(FieldType::Float);
    match seg.read_field(b, &times, FieldId(0), &mut out_t, &mut out_v) {
        Err(Error::Corrupt {
            path: p,
            offset,
            reason,
        }) => {
            assert_eq!(p, path);
            assert_eq!(offset, victim.offset);
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    for i in [0, 2] {
        let back = read_back(&seg, &seg.series()[i], FieldId(0), FieldType::Float);
        assert_eq!(back.len(), 500);
    }
}

#[test]
fn a_corrupt_chunk_stays_refused_and_a_good_one_is_checked_once() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = sample_with_a_flipped_chunk(&dir);
    let seg = Segment::open(&path).unwrap();
    let checked = Segment::chunks_checked;
    assert_eq!(checked(&seg), 0, "opening checks no chunk");
    let b = &seg.series()[1].blocks[0];
    let (mut times, mut scratch) = (Vec::new(), Vec::new());
    let mut values = Values::new(FieldType::Float);
    for _ in 0..2 {
        let r = seg.read_field_alone(b, FieldId(0), &mut scratch, &mut times, &mut values);
        assert!(matches!(r, Err(Error::Corrupt { .. })), "{r:?}");
    }
    // The corrupt chunk is never marked as checked.
    assert_eq!(checked(&seg), 0);
    let good = &seg.series()[0].blocks[0];
    for round in 0..2 {
        times.clear();
        values = Values::new(FieldType::Float);
        seg.read_field_alone(good, FieldId(0), &mut scratch, &mut times, &mut values)
            .unwrap();
        assert_eq!(times.len(), 128, "round {round}");
        assert_eq!(values.len(), 128);
        assert_eq!(
            checked(&seg),
            2,
            "round {round}: timestamps and field, once"
        );
    }
}

#[test]
fn a_damaged_index_or_a_truncated_file_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.seg");
    write_segment(&path, &sample(), 128).unwrap();
    let good = std::fs::read(&path).unwrap();
    let trailer = good.len() - format::TRAILER_LEN;
    // Every byte of the index and trailer, flipped, and every truncation of the tail.
    let index_start = u64::from_le_bytes(good[trailer..trailer + 8].try_into().unwrap()) as usize;
    for i in (index_start..good.len()).step_by(7) {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        std::fs::write(&path, &bad).unwrap();
        assert!(
            matches!(
                Segment::open(&path),
                Err(Error::Corrupt { .. } | Error::UnsupportedVersion { .. })
            ),
            "flip at {i} accepted"
        );
    }
    for cut in [0, 10, index_start, good.len() - 1] {
        std::fs::write(&path, &good[..cut]).unwrap();
        match Segment::open(&path) {
            Err(Error::Corrupt { path: p, .. }) => assert_eq!(p, path),
            other => panic!("truncation to {cut} accepted: {other:?}"),
        }
    }
}

#[test]
fn an_index_with_blocks_out_of_time_order_is_refused() {
    let extent = |offset| format::Extent {
        offset,
        len: 4,
        crc: 0,
        ordinal: 0,
    };
    let block = |min_time, max_time, at| format::BlockMeta {
        min_time,
        max_time,
        rows: 2,
        timestamps: extent(at),
        fields: Vec::new(),
    };
    let index = |blocks| {
        let mut out = Vec::new();
        format::encode_index(
            &[SeriesMeta {
                id: SeriesId(1),
                key: "m,t=a".into(),
                blocks,
            }],
            &mut out,
        );
        out
    };
    let area = 0..100;
    let ordered = index(vec![block(10, 20, 0), block(21, 30, 8)]);
    assert_eq!(
        format::decode_index(&ordered, area.clone()).unwrap()[0]
            .blocks
            .len(),
        2
    );
    // Overlapping, then backwards: readers search blocks by time, so either is corrupt.
    for blocks in [
        vec![block(10, 20, 0), block(20, 30, 8)],
        vec![block(21, 30, 0), block(10, 20, 8)],
    ] {
        let err = format::decode_index(&index(blocks), area.clone()).unwrap_err();
        assert_eq!(err.reason, "blocks out of time order");
    }
}
