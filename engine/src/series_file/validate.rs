//! The structural checks `open` runs once the CRCs hold: everything the lookups rely on for
//! correct (not merely panic-free) answers. O(file size), no allocation.
//!
//! Not checked: that posting lists agree with the keys (that the series a posting list names do
//! carry that tag). That would cost a key parse per series; the CRCs vouch for it.

use super::format::{u32_at, u64_at, Postings, Sec, Table};
use super::SeriesFile;

/// Where (from the start of the file) and why the structure is wrong.
pub struct Corruption {
    pub offset: u64,
    pub reason: String,
}

type Result<T> = std::result::Result<T, Corruption>;

pub fn validate(f: &SeriesFile) -> Result<()> {
    let v = Validator { f };
    v.keys()?;
    v.ids()?;
    v.tables()
}

struct Validator<'a> {
    f: &'a SeriesFile,
}

impl Validator<'_> {
    /// The file offset of byte `pos` of `sec`.
    fn at(&self, sec: Sec, pos: usize) -> u64 {
        let start = self.f.sections.get(sec as usize).map_or(0, |r| r.start);
        (start + pos) as u64
    }

    fn err<T>(&self, sec: Sec, pos: usize, reason: String) -> Result<T> {
        Err(Corruption {
            offset: self.at(sec, pos),
            reason: format!("section `{}`: {reason}", sec.name()),
        })
    }

    /// The `i`-th u32 of `sec`; its size was checked against the counts, so this only fails on
    /// an index the caller got wrong.
    fn u32(&self, sec: Sec, i: usize) -> Result<u32> {
        match u32_at(self.f.sec(sec), i) {
            Some(v) => Ok(v),
            None => self.err(sec, i * 4, format!("no entry {i}")),
        }
    }

    fn u64(&self, sec: Sec, i: usize) -> Result<u64> {
        match u64_at(self.f.sec(sec), i) {
            Some(v) => Ok(v),
            None => self.err(sec, i * 8, format!("no entry {i}")),
        }
    }

    /// Key offsets start at 0, never decrease and end at the end of `keys`; each key is UTF-8
    /// and greater than the one before.
    fn keys(&self) -> Result<()> {
        let n = self.f.series;
        let keys = self.f.sec(Sec::Keys);
        if self.u32(Sec::KeyOffsets, 0)? != 0 {
            return self.err(
                Sec::KeyOffsets,
                0,
                "the first key does not start at 0".into(),
            );
        }
        let last = self.u32(Sec::KeyOffsets, n)?;
        if u64::from(last) != keys.len() as u64 {
            return self.err(
                Sec::KeyOffsets,
                n * 4,
                format!(
                    "keys end at {last}, not at the section's end {}",
                    keys.len()
                ),
            );
        }
        let mut prev: Option<&[u8]> = None;
        let mut start = 0;
        for i in 0..n {
            let end = self.u32(Sec::KeyOffsets, i + 1)?;
            let Some(key) = keys.get(start as usize..end as usize) else {
                return self.err(
                    Sec::KeyOffsets,
                    (i + 1) * 4,
                    format!("key {i} spans {start}..{end}"),
                );
            };
            if std::str::from_utf8(key).is_err() {
                return self.err(Sec::Keys, start as usize, format!("key {i} is not UTF-8"));
            }
            if prev.is_some_and(|p| p >= key) {
                return self.err(
                    Sec::Keys,
                    start as usize,
                    format!("key {i} is not greater than the key before it"),
                );
            }
            prev = Some(key);
            start = end;
        }
        Ok(())
    }

    /// Ids strictly ascending; each names a key whose id it is (so ids and keys are in
    /// one-to-one correspondence).
    fn ids(&self) -> Result<()> {
        let n = self.f.series;
        let mut prev = None;
        for j in 0..n {
            let id = self.u64(Sec::Ids, j)?;
            if prev.is_some_and(|p| p >= id) {
                return self.err(Sec::Ids, j * 8, "ids not strictly ascending".into());
            }
            prev = Some(id);
            let k = self.u32(Sec::IdKeys, j)? as usize;
            if k >= n {
                return self.err(Sec::IdKeys, j * 4, format!("key index {k} of {n} keys"));
            }
            let key_id = self.u64(Sec::KeyIds, k)?;
            if key_id != id {
                return self.err(
                    Sec::IdKeys,
                    j * 4,
                    format!("id {id} points to key {k}, whose id is {key_id}"),
                );
            }
        }
        Ok(())
    }

    fn tables(&self) -> Result<()> {
        let f = self.f;
        let (measurements, tag_keys, tag_values) = (
            f.measurement_table(),
            f.tag_key_table(),
            f.tag_value_table(),
        );
        let m_postings = f.sec(Sec::MeasurementPostings).len();
        let v_postings = f.sec(Sec::TagValuePostings).len();
        self.records(
            measurements,
            Sec::Measurements,
            &[measurements.names.len(), tag_keys.len(), m_postings],
        )?;
        self.records(
            tag_keys,
            Sec::TagKeys,
            &[tag_keys.names.len(), tag_values.len()],
        )?;
        self.records(
            tag_values,
            Sec::TagValues,
            &[tag_values.names.len(), v_postings],
        )?;

        self.names(
            measurements,
            Sec::Measurements,
            Sec::MeasurementNames,
            0..measurements.len(),
        )?;
        for m in 0..measurements.len() {
            let keys = measurements.range(m, 1).unwrap_or_default();
            self.names(tag_keys, Sec::TagKeys, Sec::TagKeyNames, keys)?;
        }
        for k in 0..tag_keys.len() {
            let values = tag_keys.range(k, 1).unwrap_or_default();
            if values.is_empty() {
                return self.err(Sec::TagKeys, k * 8, format!("tag key {k} has no values"));
            }
            self.names(tag_values, Sec::TagValues, Sec::TagValueNames, values)?;
        }

        let min_id = u64_at(f.sec(Sec::Ids), 0).unwrap_or(0);
        let max_id = f
            .series
            .checked_sub(1)
            .and_then(|last| u64_at(f.sec(Sec::Ids), last));
        let in_measurements =
            self.postings(measurements, 2, Sec::MeasurementPostings, min_id, max_id)?;
        if in_measurements != f.series as u64 {
            return self.err(
                Sec::MeasurementPostings,
                0,
                format!(
                    "the measurements hold {in_measurements} series, the file {}",
                    f.series
                ),
            );
        }
        self.postings(tag_values, 1, Sec::TagValuePostings, min_id, max_id)?;
        Ok(())
    }

    /// Every field starts at 0 in the first record, never decreases, and the sentinel's is
    /// `ends[field]`, the size of what the field indexes into.
    fn records(&self, t: Table<'_>, sec: Sec, ends: &[usize]) -> Result<()> {
        for (field, &end) in ends.iter().enumerate() {
            let mut prev = 0;
            for i in 0..=t.len() {
                let pos = (i * t.fields + field) * 4;
                let v = self.u32(sec, i * t.fields + field)?;
                if (i == 0 && v != 0) || v < prev {
                    return self.err(sec, pos, format!("record {i}: field {field} is {v}"));
                }
                prev = v;
            }
            if u64::from(prev) != end as u64 {
                return self.err(
                    sec,
                    (t.len() * t.fields + field) * 4,
                    format!("the last record's field {field} is {prev}, expected {end}"),
                );
            }
        }
        Ok(())
    }

    /// The names of the records `group` are UTF-8 and strictly ascending.
    fn names(
        &self,
        t: Table<'_>,
        sec: Sec,
        names: Sec,
        group: std::ops::Range<usize>,
    ) -> Result<()> {
        let mut prev: Option<&[u8]> = None;
        for i in group {
            let pos = t.field(i, 0).unwrap_or(0) as usize;
            let Some(name) = t.name_bytes(i) else {
                return self.err(sec, i * t.fields * 4, format!("record {i} has no name"));
            };
            if std::str::from_utf8(name).is_err() {
                return self.err(names, pos, format!("name {i} is not UTF-8"));
            }
            if prev.is_some_and(|p| p >= name) {
                return self.err(names, pos, format!("name {i} is out of order"));
            }
            prev = Some(name);
        }
        Ok(())
    }

    /// Every record's posting list (through `field`) decodes exactly to its extent, holds at
    /// least one id, strictly ascending, within the file's ids. Returns the ids counted.
    fn postings(
        &self,
        t: Table<'_>,
        field: usize,
        sec: Sec,
        min_id: u64,
        max_id: Option<u64>,
    ) -> Result<u64> {
        let bytes = self.f.sec(sec);
        let mut total = 0u64;
        for i in 0..t.len() {
            let range = t.range(i, field).unwrap_or_default();
            let start = range.start;
            let Some(list) = bytes.get(range) else {
                return self.err(sec, start, format!("posting list {i} out of bounds"));
            };
            let mut p = Postings::new(list);
            if p.remaining() == 0 {
                return self.err(sec, start, format!("posting list {i} is empty"));
            }
            total = total.saturating_add(p.remaining());
            loop {
                let pos = start + p.position();
                match p.try_next() {
                    Ok(None) => break,
                    Ok(Some(id)) if id < min_id || max_id.is_none_or(|max| id > max) => {
                        return self.err(sec, pos, format!("posting list {i}: unknown id {id}"))
                    }
                    Ok(Some(_)) => {}
                    Err(reason) => {
                        return self.err(sec, pos, format!("posting list {i}: {reason}"))
                    }
                }
            }
            if !p.at_end() {
                return self.err(
                    sec,
                    start + p.position(),
                    format!("posting list {i} has bytes after its last id"),
                );
            }
        }
        Ok(total)
    }
}
