//! The fixed parts of a series file: header, section table, record layouts, and the
//! bounds-checked readers every lookup goes through.
//!
//! ```text
//! header (296) | keys | key_offsets | key_ids | ids | id_keys | measurements | measurement_names
//!              | measurement_postings | tag_keys | tag_key_names | tag_values | tag_value_names
//!              | tag_value_postings
//! ```
//! Every reader here returns `None` on an out-of-range index or an inconsistent range instead of
//! panicking; after validation at open none of them can fail.

use std::cmp::Ordering;
use std::ops::Range;

use crate::encoding::{put_uvarint, Reader};

pub const MAGIC: [u8; 8] = *b"GNZHSER\0";
pub const VERSION: u32 = 1;

/// The sections of version 1, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sec {
    Keys = 0,
    KeyOffsets,
    KeyIds,
    Ids,
    IdKeys,
    Measurements,
    MeasurementNames,
    MeasurementPostings,
    TagKeys,
    TagKeyNames,
    TagValues,
    TagValueNames,
    TagValuePostings,
}

pub const SECTION_COUNT: usize = 13;

pub const SECTIONS: [Sec; SECTION_COUNT] = [
    Sec::Keys,
    Sec::KeyOffsets,
    Sec::KeyIds,
    Sec::Ids,
    Sec::IdKeys,
    Sec::Measurements,
    Sec::MeasurementNames,
    Sec::MeasurementPostings,
    Sec::TagKeys,
    Sec::TagKeyNames,
    Sec::TagValues,
    Sec::TagValueNames,
    Sec::TagValuePostings,
];

impl Sec {
    pub fn name(self) -> &'static str {
        match self {
            Sec::Keys => "keys",
            Sec::KeyOffsets => "key_offsets",
            Sec::KeyIds => "key_ids",
            Sec::Ids => "ids",
            Sec::IdKeys => "id_keys",
            Sec::Measurements => "measurements",
            Sec::MeasurementNames => "measurement_names",
            Sec::MeasurementPostings => "measurement_postings",
            Sec::TagKeys => "tag_keys",
            Sec::TagKeyNames => "tag_key_names",
            Sec::TagValues => "tag_values",
            Sec::TagValueNames => "tag_value_names",
            Sec::TagValuePostings => "tag_value_postings",
        }
    }
}

/// u32 fields per record of the three name tables.
pub const MEASUREMENT_FIELDS: usize = 3; // name, first tag key, postings
pub const TAG_KEY_FIELDS: usize = 2; // name, first tag value
pub const TAG_VALUE_FIELDS: usize = 2; // name, postings

/// One entry of the section table: `offset u64 | length u64 | CRC-32 u32`.
pub const SECTION_ENTRY_LEN: usize = 20;
/// Bytes of the header before the section table.
const FIXED_LEN: usize = 32;
const TABLE_END: usize = FIXED_LEN + SECTION_COUNT * SECTION_ENTRY_LEN;
/// The header: fixed fields, section table, CRC-32 of everything before it.
pub const HEADER_LEN: usize = TABLE_END + 4;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SectionEntry {
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
}

/// The decoded header. Counts are u32 because every index in the file is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header {
    pub series: u32,
    pub measurements: u32,
    pub tag_keys: u32,
    pub tag_values: u32,
    pub sections: [SectionEntry; SECTION_COUNT],
}

impl Header {
    pub fn encode(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER_LEN);
        h.extend_from_slice(&MAGIC);
        h.extend_from_slice(&VERSION.to_le_bytes());
        h.extend_from_slice(&(SECTION_COUNT as u32).to_le_bytes());
        for count in [
            self.series,
            self.measurements,
            self.tag_keys,
            self.tag_values,
        ] {
            h.extend_from_slice(&count.to_le_bytes());
        }
        for s in &self.sections {
            h.extend_from_slice(&s.offset.to_le_bytes());
            h.extend_from_slice(&s.len.to_le_bytes());
            h.extend_from_slice(&s.crc.to_le_bytes());
        }
        let crc = crc32fast::hash(&h);
        h.extend_from_slice(&crc.to_le_bytes());
        h
    }
}

/// Why the header cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum HeaderError {
    Corrupt { offset: u64, reason: String },
    UnsupportedVersion(u32),
}

/// Decodes and checks the header of a file of `bytes`: magic, version, header CRC, section
/// count, and that the sections tile the rest of the file exactly (so every byte of the file is
/// covered by the header CRC or by one section's CRC). Section CRCs are not checked here.
pub fn decode_header(bytes: &[u8]) -> Result<Header, HeaderError> {
    let corrupt = |offset: u64, reason: String| HeaderError::Corrupt { offset, reason };
    let short = || {
        corrupt(
            0,
            format!(
                "file of {} bytes is shorter than a series file header ({HEADER_LEN} bytes)",
                bytes.len()
            ),
        )
    };
    match bytes.get(..8) {
        None => return Err(short()),
        Some(magic) if magic != MAGIC => {
            return Err(corrupt(0, "bad magic number (not a series file)".into()))
        }
        Some(_) => {}
    }
    let version = u32_at(bytes, 2).ok_or_else(short)?;
    if version != VERSION {
        return Err(HeaderError::UnsupportedVersion(version));
    }
    let covered = bytes.get(..TABLE_END).ok_or_else(short)?;
    let stored_crc = u32_at(bytes, TABLE_END / 4).ok_or_else(short)?;
    let actual = crc32fast::hash(covered);
    if actual != stored_crc {
        return Err(corrupt(
            0,
            format!("header checksum mismatch: stored {stored_crc:#010x}, computed {actual:#010x}"),
        ));
    }
    // The checksum holds, so the rest of the header is what a writer wrote.
    let mut r = Reader::new(covered);
    r.take(12).map_err(|_| short())?;
    let section_count = r.u32_le().map_err(|_| short())?;
    if section_count as usize != SECTION_COUNT {
        return Err(corrupt(
            12,
            format!("{section_count} sections; version 1 has {SECTION_COUNT}"),
        ));
    }
    let mut h = Header::default();
    for count in [
        &mut h.series,
        &mut h.measurements,
        &mut h.tag_keys,
        &mut h.tag_values,
    ] {
        *count = r.u32_le().map_err(|_| short())?;
    }
    let file_len = bytes.len() as u64;
    let mut expected_offset = HEADER_LEN as u64;
    for (i, (entry, sec)) in h.sections.iter_mut().zip(SECTIONS).enumerate() {
        entry.offset = r.u64_le().map_err(|_| short())?;
        entry.len = r.u64_le().map_err(|_| short())?;
        entry.crc = r.u32_le().map_err(|_| short())?;
        if entry.offset != expected_offset {
            return Err(corrupt(
                (FIXED_LEN + i * SECTION_ENTRY_LEN) as u64,
                format!(
                    "section `{}` starts at {}, expected {expected_offset}",
                    sec.name(),
                    entry.offset
                ),
            ));
        }
        match entry.offset.checked_add(entry.len) {
            Some(end) if end <= file_len => expected_offset = end,
            _ => {
                return Err(corrupt(
                    file_len,
                    format!(
                        "section `{}` ({} bytes at {}) extends past the end of the file of \
                         {file_len} bytes (truncated?)",
                        sec.name(),
                        entry.len,
                        entry.offset,
                    ),
                ))
            }
        }
    }
    if expected_offset != file_len {
        return Err(corrupt(
            expected_offset,
            format!(
                "{} bytes after the last section",
                file_len - expected_offset
            ),
        ));
    }
    Ok(h)
}

// ---- Bounds-checked little-endian reads ---------------------------------------------------

/// The `i`-th little-endian u32 of `b`.
#[inline]
pub fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    let start = i.checked_mul(4)?;
    let s = b.get(start..start.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

/// The `i`-th little-endian u64 of `b`.
#[inline]
pub fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    let start = i.checked_mul(8)?;
    let s = b.get(start..start.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

/// `start..end` from two positions read from the file; `None` unless `start <= end`.
#[inline]
pub fn span(start: u32, end: u32) -> Option<Range<usize>> {
    (start <= end).then_some(start as usize..end as usize)
}

/// Binary search over the indexes `lo..hi`: `probe(i)` orders element `i` against the target.
/// `None` if not found, or if a probe could not read its element.
#[inline]
pub fn search(
    mut lo: usize,
    mut hi: usize,
    mut probe: impl FnMut(usize) -> Option<Ordering>,
) -> Option<usize> {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match probe(mid)? {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Some(mid),
        }
    }
    None
}

/// One of the three name tables (measurements, tag keys, tag values): `count + 1` records of
/// `fields` u32s each, the last a sentinel; field 0 of record `i` is where its name starts in
/// `names`, and the name ends where record `i + 1`'s starts. Other fields are likewise starts
/// of ranges that end at the next record's value.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    pub records: &'a [u8],
    pub fields: usize,
    pub names: &'a [u8],
}

impl<'a> Table<'a> {
    /// Records, not counting the sentinel.
    pub fn len(&self) -> usize {
        (self.records.len() / (4 * self.fields)).saturating_sub(1)
    }

    #[inline]
    pub fn field(&self, i: usize, f: usize) -> Option<u32> {
        u32_at(self.records, i.checked_mul(self.fields)?.checked_add(f)?)
    }

    /// The range record `i` owns through field `f`: from its value to the next record's.
    #[inline]
    pub fn range(&self, i: usize, f: usize) -> Option<Range<usize>> {
        span(self.field(i, f)?, self.field(i.checked_add(1)?, f)?)
    }

    #[inline]
    pub fn name_bytes(&self, i: usize) -> Option<&'a [u8]> {
        self.names.get(self.range(i, 0)?)
    }

    #[inline]
    pub fn name(&self, i: usize) -> Option<&'a str> {
        std::str::from_utf8(self.name_bytes(i)?).ok()
    }

    /// The record named `name` among `within` (whose names are sorted).
    pub fn find(&self, within: Range<usize>, name: &str) -> Option<usize> {
        let hi = within.end.min(self.len());
        search(within.start, hi, |i| {
            Some(self.name_bytes(i)?.cmp(name.as_bytes()))
        })
    }

    /// The names of the records `within`, in order; stops early at an inconsistency.
    pub fn names(self, within: Range<usize>) -> Names<'a> {
        let end = within.end.min(self.len());
        Names {
            table: self,
            next: within.start,
            end,
        }
    }
}

/// Names of a run of records of a [`Table`].
pub struct Names<'a> {
    table: Table<'a>,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Names<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.next >= self.end {
            return None;
        }
        match self.table.name(self.next) {
            Some(name) => {
                self.next += 1;
                Some(name)
            }
            None => {
                self.next = self.end;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.end.saturating_sub(self.next)))
    }
}

// ---- Posting lists --------------------------------------------------------------------------

/// Appends a posting list: varint count, the first id as a varint, then each following id as
/// a varint gap (>= 1) from the one before. `ids` must be strictly ascending and non-empty.
pub fn put_postings(out: &mut Vec<u8>, ids: &[u64]) {
    put_uvarint(out, ids.len() as u64);
    let mut prev = None;
    for &id in ids {
        put_uvarint(out, prev.map_or(id, |p| id - p));
        prev = Some(id);
    }
}

/// Decodes a posting list without allocating. Stops (fused) at the first inconsistency: a
/// truncated varint, a zero gap, or an id past `u64::MAX`.
pub struct Postings<'a> {
    list: &'a [u8],
    pos: usize,
    remaining: u64,
    prev: Option<u64>,
}

impl<'a> Postings<'a> {
    pub fn new(list: &'a [u8]) -> Postings<'a> {
        let mut p = Postings {
            list,
            pos: 0,
            remaining: 0,
            prev: None,
        };
        p.remaining = p.varint().unwrap_or(0);
        p
    }

    /// Ids not yet returned, as the list's count says.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Whether every byte of the list has been consumed.
    pub fn at_end(&self) -> bool {
        self.pos >= self.list.len()
    }

    /// Bytes of the list consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Most gaps fit one byte: decode those inline, the rest with the general reader.
    #[inline]
    fn varint(&mut self) -> Result<u64, &'static str> {
        match self.list.get(self.pos) {
            Some(&b) if b < 0x80 => {
                self.pos += 1;
                Ok(u64::from(b))
            }
            _ => {
                let mut r = Reader::new(self.list.get(self.pos..).unwrap_or_default());
                let v = r.uvarint().map_err(|e| e.reason)?;
                self.pos += r.position();
                Ok(v)
            }
        }
    }

    /// The next id, or why the list is inconsistent.
    #[inline]
    pub fn try_next(&mut self) -> Result<Option<u64>, &'static str> {
        if self.remaining == 0 {
            return Ok(None);
        }
        let v = self.varint()?;
        let id = match self.prev {
            None => v,
            Some(_) if v == 0 => return Err("posting ids not strictly ascending"),
            Some(p) => p.checked_add(v).ok_or("posting id overflows u64")?,
        };
        self.prev = Some(id);
        self.remaining -= 1;
        Ok(Some(id))
    }
}

impl Iterator for Postings<'_> {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        match self.try_next() {
            Ok(id) => id,
            Err(_) => {
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Each id takes at least one byte, which bounds a corrupt count.
        let upper = (self.remaining as usize).min(self.list.len().saturating_sub(self.pos));
        (0, Some(upper))
    }
}
