//! The series file: an immutable, memory-mapped index of a database's series, so that a million
//! series need not live on the heap.
//!
//! A series file is written once ([`SeriesFile::write`], from series sorted by key) and never
//! changed; a newer set of series is written as a new file (see [`merge_sorted`]) that replaces it
//! by rename. [`SeriesFile::open`] maps it and validates it completely before anything in it is
//! used; every query then binary-searches the mapped bytes. FORMAT.md has the byte layout.
//!
//! It answers: series id ↔ canonical series key; measurement → its series ids; (measurement,
//! tag key, tag value) → the ids of the series carrying that tag; the measurements, each
//! measurement's tag keys and each tag key's values. Names and values given to and returned by
//! queries are unescaped; series keys are canonical (escaped as in line protocol).
//!
//! Invariants:
//! - **Immutable**: a file is complete (fsynced) before it is renamed into place and is never
//!   written again; that is what makes mapping it sound.
//! - **Validated before use**: `open` checks the magic, the version, the header CRC, that the
//!   sections tile the file exactly (so every byte is under a CRC), every section's CRC, and then
//!   the structure: fixed-size sections have the sizes the counts give, every offset lies inside
//!   its section and offsets never decrease, names and keys are UTF-8 and strictly ascending
//!   (within their group), ids are strictly ascending and each maps back to the key that maps to
//!   it, and every posting list decodes exactly to its extent, non-empty and strictly ascending.
//!   Opening is O(file size) once and allocates nothing per series.
//! - **Lookups cannot panic**: every read goes through bounds-checked slicing and returns
//!   `None` (or an empty iterator) on an inconsistency. After validation that is unreachable in
//!   practice; it is what a wrong offset would cost instead of a panic.
//! - **O(1) memory**: a `SeriesFile` is the mapping, the path and a fixed-size section table;
//!   queries allocate nothing (iterators decode lazily from the mapping).
//! - Results are sorted: ids ascending, names bytewise ascending, [`SeriesFile::iter`] by key.

mod error;
mod format;
mod merge;
mod validate;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

pub use error::SeriesFileError;
pub use format::VERSION;
pub use merge::{merge_sorted, MergedKey};
pub use writer::FileStats;

use format::{
    search, span, u32_at, u64_at, Postings, Sec, Table, MEASUREMENT_FIELDS, SECTIONS,
    SECTION_COUNT, TAG_KEY_FIELDS, TAG_VALUE_FIELDS,
};

/// An open, validated series file. Cheap to share between threads (`Send + Sync`); every
/// query borrows from the mapping.
pub struct SeriesFile {
    path: PathBuf,
    map: Mmap,
    series: usize,
    /// Byte ranges of the sections in `map`, in [`SECTIONS`] order.
    sections: [Range<usize>; SECTION_COUNT],
}

impl fmt::Debug for SeriesFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeriesFile")
            .field("path", &self.path)
            .field("series", &self.series)
            .field("mapped_bytes", &self.map.len())
            .finish_non_exhaustive()
    }
}

impl SeriesFile {
    /// Writes a new file at `path` from `series` sorted by key, each `(id, key)`: keys strictly
    /// ascending (bytewise) and canonical, ids unique. The file is written as `path.tmp`,
    /// fsynced, renamed over `path`, and the directory fsynced. Memory use while writing is
    /// proportional to the input: about the file's size plus 30 bytes per tag (160 MB for a
    /// million series of two tags).
    pub fn write(
        path: &Path,
        series: impl Iterator<Item = (u64, impl AsRef<str>)>,
    ) -> Result<FileStats, SeriesFileError> {
        writer::write(path, series)
    }

    /// Maps the file at `path` and validates all of it (see the module documentation).
    pub fn open(path: &Path) -> Result<SeriesFile, SeriesFileError> {
        let (file, header) = SeriesFile::map(path)?;
        file.check_crcs(&header)?;
        validate::validate(&file).map_err(|c| file.corrupt(c.offset, c.reason))?;
        Ok(file)
    }

    /// Maps the file and checks its header, the section bounds and the sizes of the fixed-size
    /// sections; nothing inside a section.
    fn map(path: &Path) -> Result<(SeriesFile, format::Header), SeriesFileError> {
        let io = |source| SeriesFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: a series file is immutable once renamed into place: ganzhi never writes to it
        // again (a new set of series is a new file), and the data directory's LOCK keeps other
        // ganzhi processes out. If something else truncates the file while it is mapped, reads
        // of the lost pages raise SIGBUS; that is outside the engine's contract, as for any
        // mmap-based database.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let header = format::decode_header(&map).map_err(|e| match e {
            format::HeaderError::Corrupt { offset, reason } => SeriesFileError::Corrupt {
                path: path.to_path_buf(),
                offset,
                reason,
            },
            format::HeaderError::UnsupportedVersion(found) => SeriesFileError::UnsupportedVersion {
                path: path.to_path_buf(),
                found,
            },
        })?;
        // `decode_header` checked that every section lies inside the mapping.
        let sections = std::array::from_fn(|i| {
            let s = header.sections.get(i).copied().unwrap_or_default();
            s.offset as usize..(s.offset + s.len) as usize
        });
        let file = SeriesFile {
            path: path.to_path_buf(),
            map,
            series: header.series as usize,
            sections,
        };
        file.check_counts(&header)?;
        Ok((file, header))
    }

    /// Opens without checking CRCs or structure, to show that lookups survive anything.
    #[cfg(test)]
    fn open_unvalidated(path: &Path) -> Result<SeriesFile, SeriesFileError> {
        SeriesFile::map(path).map(|(file, _)| file)
    }

    /// The fixed-size sections must have exactly the sizes the header's counts give.
    fn check_counts(&self, h: &format::Header) -> Result<(), SeriesFileError> {
        let records = |count: u32, fields: usize| (u64::from(count) + 1) * 4 * fields as u64;
        let n = u64::from(h.series);
        let expected = [
            (Sec::KeyOffsets, (n + 1) * 4),
            (Sec::KeyIds, n * 8),
            (Sec::Ids, n * 8),
            (Sec::IdKeys, n * 4),
            (
                Sec::Measurements,
                records(h.measurements, MEASUREMENT_FIELDS),
            ),
            (Sec::TagKeys, records(h.tag_keys, TAG_KEY_FIELDS)),
            (Sec::TagValues, records(h.tag_values, TAG_VALUE_FIELDS)),
        ];
        for (sec, want) in expected {
            let entry = h.sections.get(sec as usize).copied().unwrap_or_default();
            if entry.len != want {
                return Err(self.corrupt(
                    entry.offset,
                    format!(
                        "section `{}` is {} bytes; the header's counts make it {want}",
                        sec.name(),
                        entry.len
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_crcs(&self, h: &format::Header) -> Result<(), SeriesFileError> {
        for (sec, entry) in SECTIONS.iter().zip(&h.sections) {
            let actual = crc32fast::hash(self.sec(*sec));
            if actual != entry.crc {
                return Err(self.corrupt(
                    entry.offset,
                    format!(
                        "section `{}` checksum mismatch: stored {:#010x}, computed {actual:#010x}",
                        sec.name(),
                        entry.crc
                    ),
                ));
            }
        }
        Ok(())
    }

    fn corrupt(&self, offset: u64, reason: String) -> SeriesFileError {
        SeriesFileError::Corrupt {
            path: self.path.clone(),
            offset,
            reason,
        }
    }

    /// The file this was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Series in the file.
    pub fn len(&self) -> usize {
        self.series
    }

    pub fn is_empty(&self) -> bool {
        self.series == 0
    }

    /// The id of the series with this canonical key.
    pub fn id_of(&self, key: &str) -> Option<u64> {
        let i = search(0, self.series, |i| {
            Some(self.key_bytes(i)?.cmp(key.as_bytes()))
        })?;
        u64_at(self.sec(Sec::KeyIds), i)
    }

    /// The canonical key of the series with this id.
    pub fn key_of(&self, id: u64) -> Option<&str> {
        let ids = self.sec(Sec::Ids);
        let j = search(0, self.series, |j| Some(u64_at(ids, j)?.cmp(&id)))?;
        self.key(u32_at(self.sec(Sec::IdKeys), j)? as usize)
    }

    /// The ids of the measurement's series, ascending; empty for an unknown measurement.
    pub fn measurement_series(&self, measurement: &str) -> impl Iterator<Item = u64> + '_ {
        Postings::new(self.measurement_postings(measurement).unwrap_or_default())
    }

    /// How many series the measurement has (0 if unknown), without decoding its list.
    pub fn measurement_series_count(&self, measurement: &str) -> u64 {
        Postings::new(self.measurement_postings(measurement).unwrap_or_default()).remaining()
    }

    /// The ids of the series of `measurement` whose tag `tag_key` is `tag_value`, ascending.
    pub fn postings(
        &self,
        measurement: &str,
        tag_key: &str,
        tag_value: &str,
    ) -> impl Iterator<Item = u64> + '_ {
        Postings::new(
            self.tag_value_postings(measurement, tag_key, tag_value)
                .unwrap_or_default(),
        )
    }

    /// Every measurement, ascending.
    pub fn measurements(&self) -> impl Iterator<Item = &str> + '_ {
        let t = self.measurement_table();
        t.names(0..t.len())
    }

    /// The measurement's tag keys, ascending; empty for an unknown measurement.
    pub fn tag_keys(&self, measurement: &str) -> impl Iterator<Item = &str> + '_ {
        let range = self.tag_key_range(measurement).unwrap_or_default();
        self.tag_key_table().names(range)
    }

    /// The values a tag key takes in a measurement, ascending.
    pub fn tag_values(&self, measurement: &str, tag_key: &str) -> impl Iterator<Item = &str> + '_ {
        let range = self
            .tag_value_range(measurement, tag_key)
            .unwrap_or_default();
        self.tag_value_table().names(range)
    }

    /// Every `(id, key)`, ascending by key.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &str)> + '_ {
        let ids = self.sec(Sec::KeyIds);
        (0..self.series).map_while(move |i| Some((u64_at(ids, i)?, self.key(i)?)))
    }

    /// Bytes of the mapping (the file's size).
    pub fn mapped_bytes(&self) -> usize {
        self.map.len()
    }

    /// Each section's name and size in bytes, in file order (for diagnostics).
    pub fn section_sizes(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        SECTIONS
            .iter()
            .zip(&self.sections)
            .map(|(sec, r)| (sec.name(), r.len()))
    }

    // ---- Reading the mapping; every step bounds-checked ------------------------------------

    fn sec(&self, sec: Sec) -> &[u8] {
        self.sections
            .get(sec as usize)
            .and_then(|r| self.map.get(r.clone()))
            .unwrap_or_default()
    }

    fn key_bytes(&self, i: usize) -> Option<&[u8]> {
        let offsets = self.sec(Sec::KeyOffsets);
        let r = span(u32_at(offsets, i)?, u32_at(offsets, i.checked_add(1)?)?)?;
        self.sec(Sec::Keys).get(r)
    }

    fn key(&self, i: usize) -> Option<&str> {
        std::str::from_utf8(self.key_bytes(i)?).ok()
    }

    fn measurement_table(&self) -> Table<'_> {
        Table {
            records: self.sec(Sec::Measurements),
            fields: MEASUREMENT_FIELDS,
            names: self.sec(Sec::MeasurementNames),
        }
    }

    fn tag_key_table(&self) -> Table<'_> {
        Table {
            records: self.sec(Sec::TagKeys),
            fields: TAG_KEY_FIELDS,
            names: self.sec(Sec::TagKeyNames),
        }
    }

    fn tag_value_table(&self) -> Table<'_> {
        Table {
            records: self.sec(Sec::TagValues),
            fields: TAG_VALUE_FIELDS,
            names: self.sec(Sec::TagValueNames),
        }
    }

    fn measurement_index(&self, measurement: &str) -> Option<usize> {
        let t = self.measurement_table();
        t.find(0..t.len(), measurement)
    }

    fn measurement_postings(&self, measurement: &str) -> Option<&[u8]> {
        let m = self.measurement_index(measurement)?;
        let range = self.measurement_table().range(m, 2)?;
        self.sec(Sec::MeasurementPostings).get(range)
    }

    fn tag_key_range(&self, measurement: &str) -> Option<Range<usize>> {
        let m = self.measurement_index(measurement)?;
        self.measurement_table().range(m, 1)
    }

    fn tag_value_range(&self, measurement: &str, tag_key: &str) -> Option<Range<usize>> {
        let keys = self.tag_key_table();
        let k = keys.find(self.tag_key_range(measurement)?, tag_key)?;
        keys.range(k, 1)
    }

    fn tag_value_postings(
        &self,
        measurement: &str,
        tag_key: &str,
        tag_value: &str,
    ) -> Option<&[u8]> {
        let values = self.tag_value_table();
        let v = values.find(self.tag_value_range(measurement, tag_key)?, tag_value)?;
        self.sec(Sec::TagValuePostings).get(values.range(v, 1)?)
    }
}
