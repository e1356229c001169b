//! A database's manifest: which segments are live, what the schema is, and where WAL replay
//! starts. Replaced whole and atomically (write temp, fsync, rename, fsync directory), so a
//! crash leaves the old manifest or the new one.
//!
//! Invariants:
//! - a segment file not named in the manifest is garbage (a flush or compaction that crashed
//!   before its manifest landed) and is deleted at open;
//! - WAL records of this database in WAL segments numbered below `wal_replay_from` are already
//!   in segments and are not replayed;
//! - a tombstone covers only segments whose order is at most its `max_order` (see `tombstone`).
//!
//! Version 2 added the tombstones and the hidden series; version 1 files (neither) still load.

use std::path::Path;

use crate::batch::{FieldDef, FieldId, SeriesId};
use crate::encoding::{put_bytes, put_ivarint, put_uvarint, DecodeError, Reader};
use crate::envelope;
use crate::error::{Error, Result};
use crate::model::FieldType;
use crate::tombstone::Tombstone;

const MAGIC: [u8; 8] = *b"GNZHMAN\0";
/// Written; version 1 (no tombstones, no hidden series) is still read.
const VERSION: u32 = 2;
pub const FILE_NAME: &str = "MANIFEST";

/// One live segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentEntry {
    /// Names the file (see [`segment_file_name`]).
    pub id: u64,
    /// Recency: a segment with a higher `order` holds later writes than one with a lower
    /// order in the same partition. A flush gets the next order; a compaction output takes
    /// the highest order of its inputs, which are always a contiguous run of orders.
    pub order: u64,
    /// Start of the time partition (nanoseconds, a multiple of the partition duration).
    pub partition: i64,
    /// 0 for a flush, one more than its highest input for a compaction.
    pub level: u8,
    pub min_time: i64,
    pub max_time: i64,
    pub bytes: u64,
    pub values: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub wal_replay_from: u64,
    pub next_segment_id: u64,
    pub next_order: u64,
    pub next_series_id: u64,
    pub next_field_id: u32,
    /// The series file (`series-<id>.idx`), 0 if none has been written yet.
    pub series_file: u64,
    pub partition_ns: i64,
    /// 0: keep forever.
    pub retention_ns: i64,
    pub fields: Vec<FieldDef>,
    pub segments: Vec<SegmentEntry>,
    /// Deletes not yet compacted away.
    pub tombstones: Vec<Tombstone>,
    /// Series dropped (`DROP SERIES`) and not written since: out of the listings. Ascending.
    pub hidden_series: Vec<SeriesId>,
}

pub const DEFAULT_PARTITION_NS: i64 = 24 * 3600 * 1_000_000_000;

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            wal_replay_from: 0,
            next_segment_id: 1,
            next_order: 1,
            next_series_id: 0,
            next_field_id: 0,
            series_file: 0,
            partition_ns: DEFAULT_PARTITION_NS,
            retention_ns: 0,
            fields: Vec::new(),
            segments: Vec::new(),
            tombstones: Vec::new(),
            hidden_series: Vec::new(),
        }
    }
}

pub fn segment_file_name(id: u64) -> String {
    format!("{id:016}.seg")
}

pub fn series_file_name(id: u64) -> String {
    format!("series-{id:016}.idx")
}

pub fn parse_series_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("series-")?.strip_suffix(".idx")?;
    (digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())?
}

pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    (digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())?
}

/// The start of the partition holding `t`.
pub fn partition_of(t: i64, partition_ns: i64) -> i64 {
    t.div_euclid(partition_ns).saturating_mul(partition_ns)
}

impl Manifest {
    /// Reads `dir/MANIFEST`; `None` if the database has none yet.
    pub fn load(dir: &Path) -> Result<Option<Manifest>> {
        let Some((version, body)) = envelope::load_versions(dir, FILE_NAME, MAGIC, 1..=VERSION)?
        else {
            return Ok(None);
        };
        let path = dir.join(FILE_NAME);
        let m = decode(&body, version).map_err(|d| envelope::body_error(&path, d))?;
        if m.partition_ns <= 0 {
            return Err(Error::Corrupt {
                path,
                offset: envelope::BODY_OFFSET,
                reason: "partition duration must be positive".into(),
            });
        }
        Ok(Some(m))
    }

    /// Replaces `dir/MANIFEST` atomically and durably.
    pub fn store(&self, dir: &Path) -> Result<()> {
        envelope::store(dir, FILE_NAME, MAGIC, VERSION, &self.encode())
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_uvarint(&mut b, self.wal_replay_from);
        put_uvarint(&mut b, self.next_segment_id);
        put_uvarint(&mut b, self.next_order);
        put_uvarint(&mut b, self.next_series_id);
        put_uvarint(&mut b, u64::from(self.next_field_id));
        put_uvarint(&mut b, self.series_file);
        put_ivarint(&mut b, self.partition_ns);
        put_ivarint(&mut b, self.retention_ns);
        put_uvarint(&mut b, self.fields.len() as u64);
        for f in &self.fields {
            put_uvarint(&mut b, u64::from(f.id.0));
            b.push(f.field_type.code());
            put_bytes(&mut b, f.measurement.as_bytes());
            put_bytes(&mut b, f.key.as_bytes());
        }
        put_uvarint(&mut b, self.segments.len() as u64);
        for s in &self.segments {
            put_uvarint(&mut b, s.id);
            put_uvarint(&mut b, s.order);
            put_ivarint(&mut b, s.partition);
            b.push(s.level);
            put_ivarint(&mut b, s.min_time);
            put_ivarint(&mut b, s.max_time);
            put_uvarint(&mut b, s.bytes);
            put_uvarint(&mut b, s.values);
        }
        put_uvarint(&mut b, self.tombstones.len() as u64);
        for t in &self.tombstones {
            put_ivarint(&mut b, t.min);
            put_ivarint(&mut b, t.max);
            put_uvarint(&mut b, t.max_order);
            put_ids(&mut b, &t.series);
        }
        put_ids(&mut b, &self.hidden_series);
        b
    }
}

/// Ascending ids: count, the first id, then the gaps (each at least 1).
fn put_ids(b: &mut Vec<u8>, ids: &[SeriesId]) {
    put_uvarint(b, ids.len() as u64);
    let mut prev = 0;
    for (i, id) in ids.iter().enumerate() {
        put_uvarint(b, if i == 0 { id.0 } else { id.0 - prev });
        prev = id.0;
    }
}

fn ids(r: &mut Reader<'_>) -> Result<Vec<SeriesId>, DecodeError> {
    let n = r.count(1)?;
    let mut out: Vec<SeriesId> = Vec::with_capacity(n);
    for _ in 0..n {
        let at = r.position();
        let v = r.uvarint()?;
        let id = match out.last() {
            None => Some(v),
            Some(_) if v == 0 => None,
            Some(p) => p.0.checked_add(v),
        }
        .ok_or(DecodeError {
            offset: at,
            reason: "series ids not strictly ascending",
        })?;
        out.push(SeriesId(id));
    }
    Ok(out)
}

fn decode(body: &[u8], version: u32) -> Result<Manifest, DecodeError> {
    let mut r = Reader::new(body);
    let mut m = Manifest {
        wal_replay_from: r.uvarint()?,
        next_segment_id: r.uvarint()?,
        next_order: r.uvarint()?,
        next_series_id: r.uvarint()?,
        next_field_id: field_id(&mut r)?.0,
        series_file: r.uvarint()?,
        partition_ns: r.ivarint()?,
        retention_ns: r.ivarint()?,
        fields: Vec::new(),
        segments: Vec::new(),
        tombstones: Vec::new(),
        hidden_series: Vec::new(),
    };
    for _ in 0..r.count(4)? {
        let id = field_id(&mut r)?;
        let at = r.position();
        let field_type = FieldType::from_code(r.u8()?).ok_or(DecodeError {
            offset: at,
            reason: "unknown field type",
        })?;
        let measurement = r.str()?.to_owned();
        let key = r.str()?.to_owned();
        m.fields.push(FieldDef {
            id,
            measurement,
            key,
            field_type,
        });
    }
    for _ in 0..r.count(8)? {
        m.segments.push(SegmentEntry {
            id: r.uvarint()?,
            order: r.uvarint()?,
            partition: r.ivarint()?,
            level: r.u8()?,
            min_time: r.ivarint()?,
            max_time: r.ivarint()?,
            bytes: r.uvarint()?,
            values: r.uvarint()?,
        });
    }
    if version >= 2 {
        for _ in 0..r.count(4)? {
            let min = r.ivarint()?;
            let max = r.ivarint()?;
            let max_order = r.uvarint()?;
            let at = r.position();
            let series = ids(&mut r)?;
            if series.is_empty() {
                return Err(DecodeError {
                    offset: at,
                    reason: "tombstone without series",
                });
            }
            m.tombstones.push(Tombstone {
                series,
                min,
                max,
                max_order,
            });
        }
        m.hidden_series = ids(&mut r)?;
    }
    if !r.is_empty() {
        return Err(DecodeError {
            offset: r.position(),
            reason: "trailing bytes",
        });
    }
    Ok(m)
}

fn field_id(r: &mut Reader<'_>) -> Result<FieldId, DecodeError> {
    let at = r.position();
    u32::try_from(r.uvarint()?)
        .map(FieldId)
        .map_err(|_| DecodeError {
            offset: at,
            reason: "field id overflow",
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn store_load_round_trip_and_corruption_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), None);
        let m = Manifest {
            wal_replay_from: 7,
            fields: vec![FieldDef {
                id: FieldId(3),
                measurement: "air".into(),
                key: "pm25".into(),
                field_type: FieldType::Float,
            }],
            segments: vec![SegmentEntry {
                id: 4,
                order: 4,
                partition: -DEFAULT_PARTITION_NS,
                level: 1,
                min_time: -5,
                max_time: 9,
                bytes: 1000,
                values: 77,
            }],
            tombstones: vec![Tombstone {
                series: vec![SeriesId(2), SeriesId(9), SeriesId(300)],
                min: i64::MIN,
                max: 17,
                max_order: 4,
            }],
            hidden_series: vec![SeriesId(0), SeriesId(9)],
            ..Manifest::default()
        };
        m.store(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Some(m));
        let path = dir.path().join(FILE_NAME);
        let mut bytes = fs::read(&path).unwrap();
        bytes[20] ^= 1;
        fs::write(&path, bytes).unwrap();
        assert!(matches!(
            Manifest::load(dir.path()),
            Err(Error::Corrupt { .. })
        ));
    }

    /// A version 1 manifest (before tombstones) still loads, with none.
    #[test]
    fn version_1_loads_without_tombstones() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            wal_replay_from: 3,
            segments: vec![SegmentEntry {
                id: 1,
                order: 1,
                partition: 0,
                level: 0,
                min_time: 1,
                max_time: 2,
                bytes: 10,
                values: 2,
            }],
            ..Manifest::default()
        };
        let mut body = m.encode();
        body.truncate(body.len() - 2); // no tombstones, no hidden series: the v1 body
        envelope::store(dir.path(), FILE_NAME, MAGIC, 1, &body).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Some(m));
        envelope::store(dir.path(), FILE_NAME, MAGIC, 3, &body).unwrap();
        assert!(matches!(
            Manifest::load(dir.path()),
            Err(Error::UnsupportedVersion { found: 3, .. })
        ));
    }

    #[test]
    fn partitions_align_for_negative_times_too() {
        let day = DEFAULT_PARTITION_NS;
        assert_eq!(partition_of(0, day), 0);
        assert_eq!(partition_of(day - 1, day), 0);
        assert_eq!(partition_of(day, day), day);
        assert_eq!(partition_of(-1, day), -day);
        assert_eq!(segment_file_name(12), "0000000000000012.seg");
        assert_eq!(parse_segment_file_name("0000000000000012.seg"), Some(12));
        assert_eq!(parse_segment_file_name("12.seg"), None);
    }
}
