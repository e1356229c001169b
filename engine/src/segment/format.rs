//! The segment file's fixed parts (header, trailer) and its footer index.
//!
//! ```text
//! header (16) | chunks ... | index | trailer (32)
//! ```
//! The index lists, per series (ascending key), its blocks; per block, its time range, row
//! count, timestamp chunk and field chunks with their statistics. Every extent is checked to lie
//! inside the chunk area when the index is decoded, so a reader can trust offsets afterwards.

use crate::batch::{FieldId, SeriesId};
use crate::encoding::{put_bytes, put_ivarint, put_uvarint, DecodeError, Reader};
use crate::model::FieldType;

use super::stats::ChunkStats;

pub const MAGIC: [u8; 8] = *b"GNZHSEG\0";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 16;
pub const TRAILER_LEN: usize = 40;

pub fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Where the index is and how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    pub index_offset: u64,
    /// Bytes of the index as stored.
    pub stored_len: u64,
    /// Bytes of the index once decompressed; 0 when it is stored uncompressed.
    pub raw_len: u64,
    /// CRC-32 of the stored bytes.
    pub crc: u32,
    pub version: u32,
}

impl Trailer {
    /// `index offset u64 | stored length u64 | raw length u64 | CRC-32 u32 | version u32 |
    /// magic [8]`.
    pub fn encode(&self) -> [u8; TRAILER_LEN] {
        let mut t = [0u8; TRAILER_LEN];
        t[0..8].copy_from_slice(&self.index_offset.to_le_bytes());
        t[8..16].copy_from_slice(&self.stored_len.to_le_bytes());
        t[16..24].copy_from_slice(&self.raw_len.to_le_bytes());
        t[24..28].copy_from_slice(&self.crc.to_le_bytes());
        t[28..32].copy_from_slice(&self.version.to_le_bytes());
        t[32..40].copy_from_slice(&MAGIC);
        t
    }

    /// `None` if the magic is wrong (not a segment's end: a truncated file, most often).
    pub fn decode(t: &[u8; TRAILER_LEN]) -> Option<Trailer> {
        if t[32..40] != MAGIC {
            return None;
        }
        let u64_at = |i: usize| u64::from_le_bytes(t[i..i + 8].try_into().unwrap_or([0; 8]));
        let u32_at = |i: usize| u32::from_le_bytes(t[i..i + 4].try_into().unwrap_or([0; 4]));
        Some(Trailer {
            index_offset: u64_at(0),
            stored_len: u64_at(8),
            raw_len: u64_at(16),
            crc: u32_at(24),
            version: u32_at(28),
        })
    }
}

/// Largest decompressed index accepted (a defence against corrupt lengths).
pub const MAX_INDEX_BYTES: u64 = 1 << 32;

/// A byte range of the file with the CRC-32 of its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Extent {
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
    /// Its position among the extents of the decoded index (0 for one being written): in
    /// memory only, not stored, and not compared.
    pub ordinal: u32,
}

impl PartialEq for Extent {
    fn eq(&self, other: &Extent) -> bool {
        (self.offset, self.len, self.crc) == (other.offset, other.len, other.crc)
    }
}

impl Eq for Extent {}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldChunk {
    pub field: FieldId,
    pub field_type: FieldType,
    /// Bytes of the presence bitmap at the start of the extent; 0 when every row has a value.
    pub bitmap_len: u64,
    pub extent: Extent,
    pub stats: ChunkStats,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlockMeta {
    pub min_time: i64,
    pub max_time: i64,
    pub rows: u32,
    pub timestamps: Extent,
    /// Ascending field id.
    pub fields: Vec<FieldChunk>,
}

impl BlockMeta {
    pub fn field(&self, id: FieldId) -> Option<&FieldChunk> {
        self.fields.iter().find(|f| f.field == id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesMeta {
    pub id: SeriesId,
    pub key: String,
    /// In time order, not overlapping.
    pub blocks: Vec<BlockMeta>,
}

impl SeriesMeta {
    pub fn min_time(&self) -> i64 {
        self.blocks.first().map_or(i64::MAX, |b| b.min_time)
    }

    pub fn max_time(&self) -> i64 {
        self.blocks.last().map_or(i64::MIN, |b| b.max_time)
    }
}

fn put_extent(e: &Extent, out: &mut Vec<u8>) {
    put_uvarint(out, e.offset);
    put_uvarint(out, e.len);
    out.extend_from_slice(&e.crc.to_le_bytes());
}

pub fn encode_index(series: &[SeriesMeta], out: &mut Vec<u8>) {
    put_uvarint(out, series.len() as u64);
    for s in series {
        put_uvarint(out, s.id.0);
        put_bytes(out, s.key.as_bytes());
        put_uvarint(out, s.blocks.len() as u64);
        for b in &s.blocks {
            put_ivarint(out, b.min_time);
            put_uvarint(out, b.max_time.wrapping_sub(b.min_time) as u64);
            put_uvarint(out, u64::from(b.rows));
            put_extent(&b.timestamps, out);
            put_uvarint(out, b.fields.len() as u64);
            for f in &b.fields {
                put_uvarint(out, u64::from(f.field.0));
                out.push(f.field_type.code());
                put_uvarint(out, f.bitmap_len);
                put_extent(&f.extent, out);
                f.stats.encode(b.min_time, out);
            }
        }
    }
}

/// Decodes the index, checking that every extent lies in `chunk_area` (byte offsets).
pub fn decode_index(
    bytes: &[u8],
    chunk_area: std::ops::Range<u64>,
) -> Result<Vec<SeriesMeta>, DecodeError> {
    let mut r = Reader::new(bytes);
    let mut ordinal = 0u32;
    let mut extent = |r: &mut Reader<'_>| -> Result<Extent, DecodeError> {
        let at = r.position();
        let e = Extent {
            offset: r.uvarint()?,
            len: r.uvarint()?,
            crc: r.u32_le()?,
            ordinal,
        };
        ordinal = ordinal.wrapping_add(1);
        let end = e.offset.checked_add(e.len);
        if e.offset < chunk_area.start || end.is_none_or(|end| end > chunk_area.end) {
            return Err(DecodeError {
                offset: at,
                reason: "extent outside the chunk area",
            });
        }
        Ok(e)
    };
    let n = r.count(3)?;
    let mut series = Vec::with_capacity(n);
    for _ in 0..n {
        let id = SeriesId(r.uvarint()?);
        let key = r.str()?.to_owned();
        let nb = r.count(8)?;
        let mut blocks = Vec::with_capacity(nb);
        for _ in 0..nb {
            let at = r.position();
            let min_time = r.ivarint()?;
            let max_time = min_time.wrapping_add(r.uvarint()? as i64);
            if max_time < min_time {
                return Err(DecodeError {
                    offset: at,
                    reason: "block time range inverted",
                });
            }
            // Readers search a series' blocks by time.
            if blocks
                .last()
                .is_some_and(|b: &BlockMeta| b.max_time >= min_time)
            {
                return Err(DecodeError {
                    offset: at,
                    reason: "blocks out of time order",
                });
            }
            let rows = u32::try_from(r.uvarint()?).map_err(|_| DecodeError {
                offset: at,
                reason: "row count overflow",
            })?;
            let timestamps = extent(&mut r)?;
            let nf = r.count(8)?;
            let mut fields = Vec::with_capacity(nf);
            for _ in 0..nf {
                let at = r.position();
                let field = u32::try_from(r.uvarint()?)
                    .map(FieldId)
                    .map_err(|_| DecodeError {
                        offset: at,
                        reason: "field id overflow",
                    })?;
                let field_type = FieldType::from_code(r.u8()?).ok_or(DecodeError {
                    offset: at,
                    reason: "unknown field type",
                })?;
                let bitmap_len = r.uvarint()?;
                let extent = extent(&mut r)?;
                if bitmap_len > extent.len {
                    return Err(DecodeError {
                        offset: at,
                        reason: "bitmap longer than chunk",
                    });
                }
                let stats = ChunkStats::decode(&mut r, field_type, min_time)?;
                if stats.count == 0 || stats.count > rows {
                    return Err(DecodeError {
                        offset: at,
                        reason: "chunk count out of range",
                    });
                }
                fields.push(FieldChunk {
                    field,
                    field_type,
                    bitmap_len,
                    extent,
                    stats,
                });
            }
            blocks.push(BlockMeta {
                min_time,
                max_time,
                rows,
                timestamps,
                fields,
            });
        }
        series.push(SeriesMeta { id, key, blocks });
    }
    if !r.is_empty() {
        return Err(DecodeError {
            offset: r.position(),
            reason: "trailing bytes after index",
        });
    }
    Ok(series)
}
