//! Reading a segment: the file is memory-mapped, its trailer and index validated (bounds,
//! checksum, version) before anything in it is trusted. Opening reads no data chunk; each chunk's
//! CRC is checked when the chunk is first decoded, and a bit per chunk remembers that it was
//! (the file never changes), so repeated queries do not checksum the same bytes again.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::Mmap;

use crate::batch::{FieldId, SeriesId};
use crate::codec;
use crate::encoding::DecodeError;
use crate::error::{Error, IoContext, Result};
use crate::memtable::{Column, Values};
use crate::model::FieldType;

use super::format::{self, BlockMeta, Extent, FieldChunk, SeriesMeta};

pub struct Segment {
    path: PathBuf,
    map: Mmap,
    series: Vec<SeriesMeta>,
    by_id: HashMap<SeriesId, usize>,
    /// Bit `i`: the chunk whose extent has ordinal `i` passed its CRC check.
    verified: Box<[AtomicU64]>,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Segment {
    /// Lets go of the pages of the file this process has touched, so they stop counting in
    /// its resident memory (the kernel keeps them in its page cache while it has room). For
    /// one pass over a whole segment, as compaction makes; later reads fault pages back in.
    /// Best effort: an error changes nothing.
    pub fn release_pages(&self) {
        #[cfg(unix)]
        // SAFETY: the mapping is read-only and shared, of a file no one writes (see `open`).
        // MADV_DONTNEED on such a mapping only drops this process's page-table entries: the
        // next read of a page maps it again from the page cache or the file, with the same
        // bytes. Nothing holds a reference into the mapping across a page drop that could
        // observe a change, because the bytes do not change.
        let _ = unsafe {
            self.map
                .unchecked_advise(memmap2::UncheckedAdvice::DontNeed)
        };
    }

    pub fn open(path: &Path) -> Result<Segment> {
        let file = File::open(path).at(path)?;
        // SAFETY: segment files are immutable once renamed into place: ganzhi never writes to
        // one again, and the data directory's LOCK keeps other ganzhi processes out. If
        // something else truncates the file while it is mapped, reads of the lost pages raise
        // SIGBUS; that is outside the engine's contract (as for any mmap-based database).
        let map = unsafe { Mmap::map(&file) }.at(path)?;
        let corrupt = |offset: u64, reason: String| Error::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason,
        };
        let len = map.len() as u64;
        if map.len() < format::HEADER_LEN + format::TRAILER_LEN {
            return Err(corrupt(
                0,
                format!("file of {len} bytes is too short for a segment"),
            ));
        }
        if map[..8] != format::MAGIC {
            return Err(corrupt(0, "bad magic number".into()));
        }
        let trailer_at = len - format::TRAILER_LEN as u64;
        let mut t = [0u8; format::TRAILER_LEN];
        t.copy_from_slice(&map[trailer_at as usize..]);
        let Some(t) = format::Trailer::decode(&t) else {
            return Err(corrupt(
                trailer_at,
                "bad trailer magic (truncated file?)".into(),
            ));
        };
        let header_version = u32::from_le_bytes([map[8], map[9], map[10], map[11]]);
        if t.version != format::VERSION || header_version != format::VERSION {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: t.version,
                supported: format::VERSION,
            });
        }
        let index_end = t.index_offset.checked_add(t.stored_len);
        if t.index_offset < format::HEADER_LEN as u64 || index_end != Some(trailer_at) {
            return Err(corrupt(
                trailer_at,
                "index bounds do not fit the file".into(),
            ));
        }
        let stored = &map[t.index_offset as usize..trailer_at as usize];
        let actual = crc32fast::hash(stored);
        if actual != t.crc {
            return Err(corrupt(
                t.index_offset,
                format!(
                    "index checksum mismatch: stored {:#010x}, computed {actual:#010x}",
                    t.crc
                ),
            ));
        }
        let decompressed;
        let index = if t.raw_len == 0 {
            stored
        } else {
            if t.raw_len > format::MAX_INDEX_BYTES {
                return Err(corrupt(
                    trailer_at,
                    format!("index length {} is implausible", t.raw_len),
                ));
            }
            decompressed = zstd::bulk::decompress(stored, t.raw_len as usize)
                .map_err(|e| corrupt(t.index_offset, format!("index does not decompress: {e}")))?;
            if decompressed.len() as u64 != t.raw_len {
                return Err(corrupt(
                    t.index_offset,
                    "index decompresses to the wrong length".into(),
                ));
            }
            &decompressed[..]
        };
        let series = format::decode_index(index, format::HEADER_LEN as u64..t.index_offset)
            .map_err(|e| {
                let at = if t.raw_len == 0 {
                    t.index_offset + e.offset as u64
                } else {
                    t.index_offset
                };
                corrupt(
                    at,
                    format!("bad index at byte {} of it: {}", e.offset, e.reason),
                )
            })?;
        let by_id = series.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        let extents: usize = series
            .iter()
            .flat_map(|s| &s.blocks)
            .map(|b| 1 + b.fields.len())
            .sum();
        let segment = Segment {
            path: path.to_path_buf(),
            map,
            series,
            by_id,
            verified: (0..extents.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
        };
        // The index now lives decoded on the heap: its pages (a large part of a small
        // segment) need not stay resident too.
        segment.release_pages();
        Ok(segment)
    }

    /// How many chunks have passed their CRC check so far.
    pub fn chunks_checked(&self) -> u32 {
        self.verified
            .iter()
            .map(|w| w.load(Ordering::Relaxed).count_ones())
            .sum()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file_len(&self) -> u64 {
        self.map.len() as u64
    }

    /// Every series, ascending by key.
    pub fn series(&self) -> &[SeriesMeta] {
        &self.series
    }

    pub fn find(&self, id: SeriesId) -> Option<&SeriesMeta> {
        self.by_id.get(&id).map(|&i| &self.series[i])
    }

    /// The points of each of `fields` in series `meta` with `min <= time <= max`, one run per
    /// field (empty where the field has none). Blocks outside the range are not read, and each
    /// block's timestamps are decoded once.
    pub fn read_columns(
        &self,
        meta: &SeriesMeta,
        fields: &[(FieldId, FieldType)],
        min: i64,
        max: i64,
    ) -> Result<Vec<Column>> {
        let mut out: Vec<(Vec<i64>, Values)> = fields
            .iter()
            .map(|(_, t)| (Vec::new(), Values::new(*t)))
            .collect();
        let mut block_times = Vec::new();
        for block in meta
            .blocks
            .iter()
            .filter(|b| b.max_time >= min && b.min_time <= max)
        {
            if !fields.iter().any(|(f, _)| block.field(*f).is_some()) {
                continue;
            }
            self.read_times(block, &mut block_times)?;
            for ((fid, _), (times, values)) in fields.iter().zip(out.iter_mut()) {
                let start = times.len();
                self.read_field(block, &block_times, *fid, times, values)?;
                if block.min_time < min || block.max_time > max {
                    trim(times, values, start, min, max);
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|(t, v)| Column::from_sorted(t, v))
            .collect())
    }

    /// The bytes of an extent, after checking their CRC.
    fn chunk(&self, e: &Extent) -> Result<&[u8]> {
        // In bounds: `decode_index` checked every extent against the chunk area.
        let bytes = &self.map[e.offset as usize..(e.offset + e.len) as usize];
        let word = self.verified.get(e.ordinal as usize / 64);
        let bit = 1u64 << (e.ordinal % 64);
        // Relaxed: the bit only says these immutable bytes were checked once.
        if word.is_some_and(|w| w.load(Ordering::Relaxed) & bit != 0) {
            return Ok(bytes);
        }
        let actual = crc32fast::hash(bytes);
        if actual != e.crc {
            return Err(Error::Corrupt {
                path: self.path.clone(),
                offset: e.offset,
                reason: format!(
                    "chunk checksum mismatch: stored {:#010x}, computed {actual:#010x}",
                    e.crc
                ),
            });
        }
        if let Some(w) = word {
            w.fetch_or(bit, Ordering::Relaxed);
        }
        Ok(bytes)
    }

    /// A chunk without a presence bitmap whose value count is not its block's row count.
    fn count_differs(&self, chunk: &FieldChunk) -> Error {
        self.decode_err(
            &chunk.extent,
            DecodeError {
                offset: 0,
                reason: "count differs from rows",
            },
        )
    }

    fn decode_err(&self, e: &Extent, d: DecodeError) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            offset: e.offset + d.offset as u64,
            reason: format!("undecodable chunk: {}", d.reason),
        }
    }

    /// Decodes a block's timestamps into `out` (cleared first).
    pub fn read_times(&self, block: &BlockMeta, out: &mut Vec<i64>) -> Result<()> {
        out.clear();
        let bytes = self.chunk(&block.timestamps)?;
        codec::decode_timestamps(bytes, block.rows as usize, out)
            .map_err(|d| self.decode_err(&block.timestamps, d))
    }

    /// Appends the points of `field` in `block` to `times` and `values`; `block_times` are the
    /// block's row timestamps (from [`Segment::read_times`]).
    pub fn read_field(
        &self,
        block: &BlockMeta,
        block_times: &[i64],
        field: FieldId,
        times: &mut Vec<i64>,
        values: &mut Values,
    ) -> Result<()> {
        let Some(chunk) = block.field(field) else {
            return Ok(());
        };
        self.read_chunk(block, chunk, block_times, times, values)
    }

    fn read_chunk(
        &self,
        block: &BlockMeta,
        chunk: &FieldChunk,
        block_times: &[i64],
        times: &mut Vec<i64>,
        values: &mut Values,
    ) -> Result<()> {
        let bytes = self.chunk(&chunk.extent)?;
        let (bitmap, payload) = bytes.split_at(chunk.bitmap_len as usize);
        let count = chunk.stats.count as usize;
        let err = |d| self.decode_err(&chunk.extent, d);
        if bitmap.is_empty() {
            if count != block_times.len() {
                return Err(self.count_differs(chunk));
            }
            times.extend_from_slice(block_times);
        } else {
            let mut present = Vec::with_capacity(block.rows as usize);
            codec::decode_bools(bitmap, block.rows as usize, &mut present).map_err(err)?;
            let before = times.len();
            times.extend(
                block_times
                    .iter()
                    .zip(&present)
                    .filter(|(_, p)| **p)
                    .map(|(t, _)| *t),
            );
            if times.len() - before != count {
                return Err(self.decode_err(
                    &chunk.extent,
                    DecodeError {
                        offset: 0,
                        reason: "bitmap disagrees with count",
                    },
                ));
            }
        }
        self.decode_values(chunk, bitmap.len(), payload, values)
    }

    /// [`Segment::read_field`] for a scan of one field: when the field has a value on every
    /// row, the block's timestamps are decoded straight onto `times` instead of into
    /// `scratch` and copied (a copy that took 4% of a full-decode aggregate).
    pub fn read_field_alone(
        &self,
        block: &BlockMeta,
        field: FieldId,
        scratch: &mut Vec<i64>,
        times: &mut Vec<i64>,
        values: &mut Values,
    ) -> Result<()> {
        let Some(chunk) = block.field(field) else {
            return Ok(());
        };
        if chunk.bitmap_len != 0 {
            self.read_times(block, scratch)?;
            return self.read_chunk(block, chunk, scratch, times, values);
        }
        let bytes = self.chunk(&chunk.extent)?;
        if chunk.stats.count != block.rows {
            return Err(self.count_differs(chunk));
        }
        let start = times.len();
        let stamps = self.chunk(&block.timestamps)?;
        codec::decode_timestamps(stamps, block.rows as usize, times)
            .map_err(|d| self.decode_err(&block.timestamps, d))?;
        self.decode_values(chunk, 0, bytes, values)
            .inspect_err(|_| times.truncate(start))
    }

    /// A line bounding the block's timestamps, read from their column's header without
    /// decoding it (see [`codec::timestamp_bound`]; the column's checksum is checked).
    pub fn time_bound(&self, block: &BlockMeta) -> Result<Option<codec::LinearBound>> {
        let bytes = self.chunk(&block.timestamps)?;
        Ok(codec::timestamp_bound(bytes, block.rows as usize))
    }

    /// Appends the values of `field` in `block` to `values` when the field has a value on
    /// every row (the `i`-th value is then the `i`-th row's); returns whether it had.
    pub fn read_dense_values(
        &self,
        block: &BlockMeta,
        field: FieldId,
        values: &mut Values,
    ) -> Result<bool> {
        let Some(chunk) = block.field(field) else {
            return Ok(false);
        };
        if chunk.bitmap_len != 0 {
            return Ok(false);
        }
        if chunk.stats.count != block.rows {
            return Err(self.count_differs(chunk));
        }
        let bytes = self.chunk(&chunk.extent)?;
        self.decode_values(chunk, 0, bytes, values)?;
        Ok(true)
    }

    /// Decodes a chunk's values (its `payload`, after a bitmap of `bitmap_len` bytes) onto
    /// `values`.
    fn decode_values(
        &self,
        chunk: &FieldChunk,
        bitmap_len: usize,
        payload: &[u8],
        values: &mut Values,
    ) -> Result<()> {
        let count = chunk.stats.count as usize;
        let payload_err = |d: DecodeError| {
            self.decode_err(
                &chunk.extent,
                DecodeError {
                    offset: d.offset + bitmap_len,
                    reason: d.reason,
                },
            )
        };
        let type_ok = values.field_type() == chunk.field_type;
        match values {
            Values::Float(v) if type_ok => {
                codec::decode_floats(payload, count, v).map_err(payload_err)
            }
            Values::Integer(v) if type_ok => {
                codec::decode_integers(payload, count, v).map_err(payload_err)
            }
            Values::Unsigned(v) if type_ok => {
                codec::decode_unsigned(payload, count, v).map_err(payload_err)
            }
            Values::Boolean(v) if type_ok => {
                codec::decode_bools(payload, count, v).map_err(payload_err)
            }
            Values::String(v) if type_ok => {
                let mut s = Vec::with_capacity(count);
                codec::decode_strings(payload, count, &mut s).map_err(payload_err)?;
                v.extend(s.into_iter().map(String::into_boxed_str));
                Ok(())
            }
            _ => Err(Error::Corrupt {
                path: self.path.clone(),
                offset: chunk.extent.offset,
                reason: format!(
                    "field {} stored as {}, schema says {}",
                    chunk.field.0,
                    chunk.field_type,
                    values.field_type()
                ),
            }),
        }
    }
}

/// Drops the points appended since `start` that fall outside `min..=max`.
fn trim(times: &mut Vec<i64>, values: &mut Values, start: usize, min: i64, max: i64) {
    let tail = &times[start..];
    let lo = start + tail.partition_point(|&t| t < min);
    let hi = start + tail.partition_point(|&t| t <= max);
    if lo == start && hi == times.len() {
        return;
    }
    let mut kept = Values::new(values.field_type());
    kept.extend_from(values, 0..start);
    kept.extend_from(values, lo..hi.max(lo));
    *values = kept;
    times.drain(hi.max(lo)..);
    times.drain(start..lo);
}
