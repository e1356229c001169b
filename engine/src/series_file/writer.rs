//! Writing a series file. The input is checked and every section built in memory first, so an
//! input the format cannot hold leaves no file behind; then the sections are written to
//! `path.tmp` after a placeholder header, the header is written last, and the file is fsynced,
//! renamed over `path`, and the directory fsynced.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::line_protocol::{parse_series_key, series_key};

use super::format::{put_postings, Header, Sec, SectionEntry, HEADER_LEN, SECTIONS};
use super::SeriesFileError;

/// What [`SeriesFile::write`](super::SeriesFile::write) wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    pub series: u64,
    pub measurements: u64,
    /// (measurement, tag key) pairs.
    pub tag_keys: u64,
    /// (measurement, tag key, tag value) triples, that is, posting lists.
    pub tag_values: u64,
    /// Size of the file.
    pub bytes: u64,
}

pub fn write(
    path: &Path,
    series: impl Iterator<Item = (u64, impl AsRef<str>)>,
) -> Result<FileStats, SeriesFileError> {
    let invalid = |reason: String| SeriesFileError::InvalidInput {
        path: path.to_path_buf(),
        reason,
    };
    let sections = build(series).map_err(invalid)?;
    let tmp = tmp_path(path);
    let result = write_file(&tmp, path, &sections);
    if result.is_err() {
        // Best effort: the error that matters is the one being returned.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

fn write_file(tmp: &Path, path: &Path, s: &Sections) -> Result<FileStats, SeriesFileError> {
    let at = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SeriesFileError::Io { path: p, source }
    };
    let mut out = BufWriter::with_capacity(1 << 16, File::create(tmp).map_err(at(tmp))?);
    let header = write_body(&mut out, s).map_err(at(tmp))?;
    let mut file = out.into_inner().map_err(|e| at(tmp)(e.into_error()))?;
    let bytes = header.sections.last().map_or(0, |e| e.offset + e.len);
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.write_all(&header.encode()))
        .and_then(|()| file.sync_all())
        .map_err(at(tmp))?;
    drop(file);
    fs::rename(tmp, path).map_err(at(path))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(at(dir))?;
    Ok(FileStats {
        series: u64::from(header.series),
        measurements: u64::from(header.measurements),
        tag_keys: u64::from(header.tag_keys),
        tag_values: u64::from(header.tag_values),
        bytes,
    })
}

/// Writes a zeroed header, then every section; returns the real header.
fn write_body(out: &mut BufWriter<File>, s: &Sections) -> io::Result<Header> {
    out.write_all(&[0u8; HEADER_LEN])?;
    let mut header = Header {
        series: s.series,
        measurements: s.measurements,
        tag_keys: s.tag_keys,
        tag_values: s.tag_values,
        ..Header::default()
    };
    let mut offset = HEADER_LEN as u64;
    for (sec, entry) in SECTIONS.iter().zip(&mut header.sections) {
        let bytes = s.get(*sec);
        out.write_all(bytes)?;
        *entry = SectionEntry {
            offset,
            len: bytes.len() as u64,
            crc: crc32fast::hash(bytes),
        };
        offset += bytes.len() as u64;
    }
    out.flush()?;
    Ok(header)
}

/// Every section's bytes, and the header's counts.
#[derive(Default)]
struct Sections {
    series: u32,
    measurements: u32,
    tag_keys: u32,
    tag_values: u32,
    bytes: [Vec<u8>; SECTIONS.len()],
}

impl Sections {
    fn get(&self, sec: Sec) -> &[u8] {
        self.bytes.get(sec as usize).map_or(&[], |b| b.as_slice())
    }

    fn set(&mut self, sec: Sec, bytes: Vec<u8>) {
        if let Some(b) = self.bytes.get_mut(sec as usize) {
            *b = bytes;
        }
    }
}

/// One tag of one series, while writing.
struct TagEntry {
    /// Index into `Input::tag_keys`; once ranked, the tag key's index in the file.
    tag_key: u32,
    value_len: u32,
    /// In `Input::values`.
    value_start: usize,
    id: u64,
}

/// The input, parsed.
#[derive(Default)]
struct Input {
    keys: Vec<u8>,
    key_offsets: Vec<u8>,
    key_ids: Vec<u64>,
    measurement_index: HashMap<String, u32>,
    /// In order of first appearance.
    measurements: Vec<Measurement>,
    /// (measurement index, tag key), in order of first appearance.
    tag_keys: Vec<(u32, String)>,
    /// Every tag value, once per series that has it; `TagEntry` points into it.
    values: Vec<u8>,
    tags: Vec<TagEntry>,
}

struct Measurement {
    name: String,
    ids: Vec<u64>,
    /// Tag key → index in `Input::tag_keys`.
    tag_keys: HashMap<String, u32>,
}

/// `n` as a u32 field of the file, or why it does not fit.
fn fit(n: usize, what: &str) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| format!("{what} exceeds the format's limit of 2^32 - 1"))
}

fn put_u32(out: &mut Vec<u8>, n: usize, what: &str) -> Result<(), String> {
    out.extend_from_slice(&fit(n, what)?.to_le_bytes());
    Ok(())
}

fn build(series: impl Iterator<Item = (u64, impl AsRef<str>)>) -> Result<Sections, String> {
    let mut input = Input::default();
    input.key_offsets.extend_from_slice(&0u32.to_le_bytes());
    let mut prev_start = None;
    for (id, key) in series {
        input.add(id, key.as_ref(), &mut prev_start)?;
    }
    let mut s = Sections {
        series: fit(input.key_ids.len(), "the number of series")?,
        ..Sections::default()
    };
    let id_table = id_table(&input.key_ids)?;
    s.set(Sec::Keys, std::mem::take(&mut input.keys));
    s.set(Sec::KeyOffsets, std::mem::take(&mut input.key_offsets));
    s.set(Sec::KeyIds, le_u64s(input.key_ids.iter().copied()));
    input.key_ids = Vec::new();
    s.set(Sec::Ids, le_u64s(id_table.iter().map(|&(id, _)| id)));
    s.set(Sec::IdKeys, le_u32s(id_table.iter().map(|&(_, k)| k)));
    drop(id_table);
    input.tables(&mut s)?;
    Ok(s)
}

/// `(id, key index)` sorted by id; a repeated id is an error.
fn id_table(key_ids: &[u64]) -> Result<Vec<(u64, u32)>, String> {
    let mut t = Vec::with_capacity(key_ids.len());
    for (k, &id) in key_ids.iter().enumerate() {
        t.push((id, fit(k, "the number of series")?));
    }
    t.sort_unstable();
    if let Some(w) = t.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!("id {} is given to two series", w[0].0));
    }
    Ok(t)
}

impl Input {
    fn add(&mut self, id: u64, key: &str, prev_start: &mut Option<usize>) -> Result<(), String> {
        if let Some(prev) = prev_start.and_then(|p| self.keys.get(p..)) {
            if prev >= key.as_bytes() {
                return Err(format!(
                    "series keys not strictly ascending: {key:?} after {:?}",
                    String::from_utf8_lossy(prev)
                ));
            }
        }
        let (measurement, tags) =
            parse_series_key(key).ok_or_else(|| format!("{key:?} is not a series key"))?;
        if tags.windows(2).any(|w| w[0].0 >= w[1].0) || series_key(&measurement, &tags) != key {
            return Err(format!("{key:?} is not a canonical series key"));
        }
        *prev_start = Some(self.keys.len());
        self.keys.extend_from_slice(key.as_bytes());
        put_u32(
            &mut self.key_offsets,
            self.keys.len(),
            "the size of the keys",
        )?;
        self.key_ids.push(id);

        let m = match self.measurement_index.get(&measurement) {
            Some(&m) => m,
            None => {
                let m = fit(self.measurements.len(), "the number of measurements")?;
                self.measurement_index.insert(measurement.clone(), m);
                self.measurements.push(Measurement {
                    name: measurement,
                    ids: Vec::new(),
                    tag_keys: HashMap::new(),
                });
                m
            }
        };
        let meas = &mut self.measurements[m as usize];
        meas.ids.push(id);
        for (tag_key, value) in tags {
            let k = match meas.tag_keys.get(&tag_key) {
                Some(&k) => k,
                None => {
                    let k = fit(self.tag_keys.len(), "the number of tag keys")?;
                    meas.tag_keys.insert(tag_key.clone(), k);
                    self.tag_keys.push((m, tag_key));
                    k
                }
            };
            self.tags.push(TagEntry {
                tag_key: k,
                value_len: fit(value.len(), "a tag value's length")?,
                value_start: self.values.len(),
                id,
            });
            self.values.extend_from_slice(value.as_bytes());
        }
        Ok(())
    }

    fn value(&self, t: &TagEntry) -> &[u8] {
        &self.values[t.value_start..t.value_start + t.value_len as usize]
    }

    /// Builds the measurement, tag key and tag value tables with their names and posting
    /// lists. Measurements are ranked by name, tag keys by (measurement rank, name), tag values
    /// by (tag key rank, value); a record's children are the next run of the level below.
    fn tables(mut self, s: &mut Sections) -> Result<(), String> {
        let mut m_order: Vec<u32> = (0..self.measurements.len() as u32).collect();
        m_order.sort_unstable_by(|&a, &b| {
            let name = |m: u32| self.measurements[m as usize].name.as_str();
            name(a).cmp(name(b))
        });
        let m_rank = inverse(&m_order);
        let mut k_order: Vec<u32> = (0..self.tag_keys.len() as u32).collect();
        k_order.sort_unstable_by_key(|&k| {
            let (m, name) = &self.tag_keys[k as usize];
            (m_rank[*m as usize], name.as_str())
        });
        let k_rank = inverse(&k_order);
        let mut tags = std::mem::take(&mut self.tags);
        for t in &mut tags {
            t.tag_key = k_rank[t.tag_key as usize];
        }
        tags.sort_unstable_by(|a, b| {
            (a.tag_key, self.value(a), a.id).cmp(&(b.tag_key, self.value(b), b.id))
        });

        // Tag values: one record per run of equal (tag key, value).
        let (mut v_records, mut v_names, mut v_postings) = (Vec::new(), Vec::new(), Vec::new());
        let mut values_of_key = vec![0u32; k_order.len()];
        let mut ids = Vec::new();
        for run in tags.chunk_by(|a, b| a.tag_key == b.tag_key && self.value(a) == self.value(b)) {
            let first = &run[0];
            values_of_key[first.tag_key as usize] += 1;
            put_u32(&mut v_records, v_names.len(), "the tag value names")?;
            put_u32(&mut v_records, v_postings.len(), "the tag value postings")?;
            v_names.extend_from_slice(self.value(first));
            ids.clear();
            ids.extend(run.iter().map(|t| t.id));
            put_postings(&mut v_postings, &ids);
        }
        let values = v_records.len() / 8;
        put_u32(&mut v_records, v_names.len(), "the tag value names")?;
        put_u32(&mut v_records, v_postings.len(), "the tag value postings")?;
        drop(tags);

        // Tag keys.
        let (mut k_records, mut k_names) = (Vec::new(), Vec::new());
        let mut keys_of_measurement = vec![0u32; m_order.len()];
        let mut first_value = 0;
        for (rank, &k) in k_order.iter().enumerate() {
            let (m, name) = &self.tag_keys[k as usize];
            keys_of_measurement[m_rank[*m as usize] as usize] += 1;
            put_u32(&mut k_records, k_names.len(), "the tag key names")?;
            put_u32(&mut k_records, first_value, "the number of tag values")?;
            first_value += values_of_key[rank] as usize;
            k_names.extend_from_slice(name.as_bytes());
        }
        put_u32(&mut k_records, k_names.len(), "the tag key names")?;
        put_u32(&mut k_records, values, "the number of tag values")?;

        // Measurements.
        let (mut m_records, mut m_names, mut m_postings) = (Vec::new(), Vec::new(), Vec::new());
        let mut first_key = 0;
        for (rank, &m) in m_order.iter().enumerate() {
            let meas = &mut self.measurements[m as usize];
            put_u32(&mut m_records, m_names.len(), "the measurement names")?;
            put_u32(&mut m_records, first_key, "the number of tag keys")?;
            put_u32(&mut m_records, m_postings.len(), "the measurement postings")?;
            first_key += keys_of_measurement[rank] as usize;
            m_names.extend_from_slice(meas.name.as_bytes());
            meas.ids.sort_unstable();
            put_postings(&mut m_postings, &meas.ids);
        }
        put_u32(&mut m_records, m_names.len(), "the measurement names")?;
        put_u32(&mut m_records, k_order.len(), "the number of tag keys")?;
        put_u32(&mut m_records, m_postings.len(), "the measurement postings")?;

        s.measurements = fit(m_order.len(), "the number of measurements")?;
        s.tag_keys = fit(k_order.len(), "the number of tag keys")?;
        s.tag_values = fit(values, "the number of tag values")?;
        s.set(Sec::Measurements, m_records);
        s.set(Sec::MeasurementNames, m_names);
        s.set(Sec::MeasurementPostings, m_postings);
        s.set(Sec::TagKeys, k_records);
        s.set(Sec::TagKeyNames, k_names);
        s.set(Sec::TagValues, v_records);
        s.set(Sec::TagValueNames, v_names);
        s.set(Sec::TagValuePostings, v_postings);
        Ok(())
    }
}

/// `rank[order[i]] = i`.
fn inverse(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; order.len()];
    for (i, &x) in order.iter().enumerate() {
        rank[x as usize] = i as u32;
    }
    rank
}

fn le_u64s(v: impl ExactSizeIterator<Item = u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 8);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

fn le_u32s(v: impl ExactSizeIterator<Item = u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}
