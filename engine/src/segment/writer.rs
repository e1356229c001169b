//! Writing a segment: series data in, one immutable, fsynced file out.
//!
//! Per series, the timestamps of all its fields are merged into rows; rows are cut into blocks
//! of at most `block_rows`; per block, the timestamps are encoded once and each field's values
//! are encoded after a presence bitmap (omitted when every row has the field).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::batch::{FieldId, SeriesId};
use crate::codec::{self, Effort};
use crate::error::{IoContext, Result};
use crate::memtable::{Column, Values};

use super::format::{self, BlockMeta, Extent, FieldChunk, SeriesMeta};
use super::stats::ChunkStats;

/// One series to write. Each column is sorted by time with unique timestamps.
#[derive(Debug, Clone)]
pub struct SeriesData {
    pub id: SeriesId,
    pub key: String,
    pub fields: Vec<(FieldId, Column)>,
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSummary {
    pub bytes: u64,
    pub values: u64,
    pub min_time: i64,
    pub max_time: i64,
}

/// Writes `series` (sorted by key) to `path`; see [`SegmentWriter`].
pub fn write_segment(
    path: &Path,
    series: &[SeriesData],
    block_rows: usize,
) -> Result<SegmentSummary> {
    let mut w = SegmentWriter::create(path, block_rows)?;
    for s in series {
        w.add(s)?;
    }
    w.finish()
}

/// Streams series into a new segment: memory holds one series' blocks at a time plus the index.
/// The file is written under a temporary name, fsynced, and renamed into place by
/// [`SegmentWriter::finish`]; the caller fsyncs the directory (with its manifest update).
pub struct SegmentWriter {
    path: PathBuf,
    tmp: PathBuf,
    w: ChunkWriter,
    block_rows: usize,
    effort: Effort,
    metas: Vec<SeriesMeta>,
    summary: SegmentSummary,
    scratch: Scratch,
}

impl SegmentWriter {
    pub fn create(path: &Path, block_rows: usize) -> Result<SegmentWriter> {
        Self::create_with(path, block_rows, Effort::Thorough)
    }

    /// [`SegmentWriter::create`], encoding columns at `effort`.
    pub fn create_with(path: &Path, block_rows: usize, effort: Effort) -> Result<SegmentWriter> {
        let tmp = path.with_extension("tmp");
        let file = File::create(&tmp).at(&tmp)?;
        let mut w = ChunkWriter {
            out: BufWriter::with_capacity(1 << 20, file),
            pos: 0,
        };
        w.put(&format::header()).at(&tmp)?;
        Ok(SegmentWriter {
            path: path.to_path_buf(),
            tmp,
            w,
            block_rows: block_rows.max(1),
            effort,
            metas: Vec::new(),
            summary: SegmentSummary {
                bytes: 0,
                values: 0,
                min_time: i64::MAX,
                max_time: i64::MIN,
            },
            scratch: Scratch::default(),
        })
    }

    /// Adds a series; series must come in ascending key order. A series without points is
    /// skipped.
    pub fn add(&mut self, s: &SeriesData) -> Result<()> {
        debug_assert!(
            self.metas.last().is_none_or(|m| m.key < s.key),
            "series out of key order"
        );
        let blocks = write_series(
            &mut self.w,
            s,
            (self.block_rows, self.effort),
            &mut self.scratch,
        )
        .at(&self.tmp)?;
        if blocks.is_empty() {
            return Ok(());
        }
        for b in &blocks {
            self.summary.min_time = self.summary.min_time.min(b.min_time);
            self.summary.max_time = self.summary.max_time.max(b.max_time);
            self.summary.values += b
                .fields
                .iter()
                .map(|f| u64::from(f.stats.count))
                .sum::<u64>();
        }
        self.metas.push(SeriesMeta {
            id: s.id,
            key: s.key.clone(),
            blocks,
        });
        Ok(())
    }

    pub fn finish(mut self) -> Result<SegmentSummary> {
        let tmp = &self.tmp;
        let mut index = Vec::new();
        format::encode_index(&self.metas, &mut index);
        // The index is mostly small varints and statistics: zstd usually halves it.
        let (stored, raw_len) = match zstd::bulk::compress(&index, 3) {
            Ok(z) if z.len() < index.len() => (z, index.len() as u64),
            _ => (index, 0),
        };
        let trailer = format::Trailer {
            index_offset: self.w.pos,
            stored_len: stored.len() as u64,
            raw_len,
            crc: crc32fast::hash(&stored),
            version: format::VERSION,
        };
        self.w.put(&stored).at(tmp)?;
        self.w.put(&trailer.encode()).at(tmp)?;
        self.summary.bytes = self.w.pos;
        let file = self
            .w
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .at(tmp)?;
        file.sync_all().at(tmp)?;
        drop(file);
        fs::rename(tmp, &self.path).at(&self.path)?;
        Ok(self.summary)
    }
}

struct ChunkWriter {
    out: BufWriter<File>,
    pos: u64,
}

impl ChunkWriter {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn chunk(&mut self, bytes: &[u8]) -> std::io::Result<Extent> {
        let e = Extent {
            offset: self.pos,
            len: bytes.len() as u64,
            crc: crc32fast::hash(bytes),
            ordinal: 0,
        };
        self.put(bytes)?;
        Ok(e)
    }
}

#[derive(Default)]
struct Scratch {
    rows: Vec<i64>,
    buf: Vec<u8>,
    present: Vec<bool>,
}

fn write_series(
    w: &mut ChunkWriter,
    s: &SeriesData,
    (block_rows, effort): (usize, Effort),
    scratch: &mut Scratch,
) -> std::io::Result<Vec<BlockMeta>> {
    // Rows: the union of every field's timestamps.
    let rows = &mut scratch.rows;
    rows.clear();
    match s.fields.split_first() {
        // Fields sampled together (the usual case) share their times: no sort needed.
        Some(((_, first), rest)) if rest.iter().all(|(_, c)| c.times == first.times) => {
            rows.extend_from_slice(&first.times);
        }
        _ => {
            for (_, col) in &s.fields {
                rows.extend_from_slice(&col.times);
            }
            rows.sort_unstable();
            rows.dedup();
        }
    }

    let mut fields: Vec<&(FieldId, Column)> =
        s.fields.iter().filter(|(_, c)| !c.is_empty()).collect();
    fields.sort_by_key(|(id, _)| *id);
    let mut cursors = vec![0usize; fields.len()];
    let mut blocks = Vec::with_capacity(rows.len().div_ceil(block_rows));
    for block in rows.chunks(block_rows) {
        let (min_time, max_time) = (block[0], block[block.len() - 1]);
        scratch.buf.clear();
        codec::encode_timestamps_with(block, effort, &mut scratch.buf);
        let timestamps = w.chunk(&scratch.buf)?;
        let mut chunks = Vec::with_capacity(fields.len());
        for (f, (id, col)) in fields.iter().enumerate() {
            let start = cursors[f];
            let end = start + col.times[start..].partition_point(|&t| t <= max_time);
            cursors[f] = end;
            if start == end {
                continue;
            }
            let times = &col.times[start..end];
            scratch.buf.clear();
            let bitmap_len = if times.len() < block.len() {
                scratch.present.clear();
                let mut k = 0;
                for &t in block {
                    let here = times.get(k) == Some(&t);
                    scratch.present.push(here);
                    k += usize::from(here);
                }
                codec::encode_bools(&scratch.present, &mut scratch.buf);
                scratch.buf.len() as u64
            } else {
                0
            };
            let mut values = Values::new(col.values.field_type());
            values.extend_from(&col.values, start..end);
            encode_values(&values, effort, &mut scratch.buf);
            let extent = w.chunk(&scratch.buf)?;
            chunks.push(FieldChunk {
                field: *id,
                field_type: values.field_type(),
                bitmap_len,
                extent,
                stats: ChunkStats::compute(times, &values),
            });
        }
        blocks.push(BlockMeta {
            min_time,
            max_time,
            rows: block.len() as u32,
            timestamps,
            fields: chunks,
        });
    }
    Ok(blocks)
}

fn encode_values(values: &Values, effort: Effort, out: &mut Vec<u8>) {
    match values {
        Values::Float(v) => codec::encode_floats_with(v, effort, out),
        Values::Integer(v) => codec::encode_integers_with(v, effort, out),
        Values::Unsigned(v) => codec::encode_unsigned_with(v, effort, out),
        Values::String(v) => codec::encode_strings(v, out),
        Values::Boolean(v) => codec::encode_bools(v, out),
    }
}
