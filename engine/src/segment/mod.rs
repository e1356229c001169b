//! Segments: immutable, columnar, compressed files of points, one time partition each.
//!
//! `writer` turns series data into a file; `reader` maps one and reads its chunks; `format`
//! holds the fixed parts and the footer index; `stats` the per-chunk statistics. FORMAT.md has
//! the bytes.
//!
//! Invariants:
//! - a segment never changes once renamed into place;
//! - within a segment, a series appears once, its blocks in time order without overlap, and
//!   each field column has unique timestamps;
//! - nothing read from a mapped file is used before its checksum is verified.

pub mod format;
pub mod reader;
pub mod stats;
pub mod writer;

pub use format::{BlockMeta, FieldChunk, SeriesMeta};
pub use reader::Segment;
pub use stats::{ChunkStats, NumericStats};
pub use writer::{write_segment, SegmentSummary, SegmentWriter, SeriesData};

#[cfg(test)]
mod tests;
