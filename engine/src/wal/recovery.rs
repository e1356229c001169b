//! Replaying the WAL at open.
//!
//! Segments are read in sequence order and each whole, checksummed record is handed to the
//! caller. At the first bad frame of a segment (torn write, flipped bit, undecodable payload)
//! the segment is truncated back to the end of its last good record, the loss is reported in
//! [`RecoveryReport`], and replay goes on with the next segment. Nothing is silently dropped:
//! every truncation names the file, the offset and the reason.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::record::{self, Record};
use super::segment::{self, ScanEnd};
use crate::error::{Error, IoContext, Result};

/// What replaying the WAL found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments read.
    pub segments: usize,
    /// Whole records replayed.
    pub records: u64,
    /// Tails cut off because they were torn or corrupt.
    pub truncations: Vec<Truncation>,
    /// Points dropped because they referred to a series or field whose definition was lost
    /// with a truncated record (only possible after corruption in the middle of the WAL).
    pub orphaned_points: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    pub path: PathBuf,
    /// The file now ends here: every record before it was kept.
    pub offset: u64,
    /// Bytes cut off.
    pub discarded_bytes: u64,
    pub reason: String,
}

/// Deletes the segments numbered below `seq` (their records are in segment files now).
pub fn remove_before(dir: &Path, seq: u64) -> Result<()> {
    let mut removed = false;
    for old in list_segments(dir)?.into_iter().filter(|&s| s < seq) {
        let path = segment::path(dir, old);
        fs::remove_file(&path).at(&path)?;
        removed = true;
    }
    if removed {
        crate::wal::writer::sync_dir(dir)?;
    }
    Ok(())
}

/// The sequence numbers of the segments in `dir`, ascending.
pub fn list_segments(dir: &Path) -> Result<Vec<u64>> {
    let mut seqs = Vec::new();
    for entry in fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        if let Some(seq) = entry
            .file_name()
            .to_str()
            .and_then(segment::parse_file_name)
        {
            seqs.push(seq);
        }
    }
    seqs.sort_unstable();
    Ok(seqs)
}

/// Replays every segment in `dir` through `apply` (with the number of the segment holding the
/// record), truncating bad tails. Returns the highest segment number seen (0 if none).
pub fn replay(
    dir: &Path,
    report: &mut RecoveryReport,
    mut apply: impl FnMut(u64, Record),
) -> Result<u64> {
    let seqs = list_segments(dir)?;
    for &seq in &seqs {
        let path = segment::path(dir, seq);
        let bytes = fs::read(&path).at(&path)?;
        report.segments += 1;
        let (frames, end) = segment::scan(&bytes);
        let mut bad = match end {
            ScanEnd::Clean => None,
            ScanEnd::Bad { offset, reason } => Some((offset, reason)),
            ScanEnd::UnsupportedVersion(found) => {
                return Err(Error::UnsupportedVersion {
                    path,
                    found,
                    supported: segment::VERSION,
                })
            }
        };
        let mut frames_kept = 0usize;
        for (offset, payload) in frames {
            match record::decode_record(payload) {
                Ok(rec) => {
                    frames_kept += 1;
                    report.records += 1;
                    apply(seq, rec);
                }
                Err(e) => {
                    bad = Some((offset, format!("undecodable record: {e}")));
                    break;
                }
            }
        }
        let kept_any = frames_kept > 0;
        if let Some((offset, reason)) = bad {
            truncate(&path, bytes.len() as u64, offset, reason, report)?;
        }
        if !kept_any {
            // Nothing to replay in it (a segment opened but never written, or all cut away).
            fs::remove_file(&path).at(&path)?;
        }
    }
    Ok(seqs.last().copied().unwrap_or(0))
}

fn truncate(
    path: &Path,
    file_len: u64,
    offset: u64,
    reason: String,
    report: &mut RecoveryReport,
) -> Result<()> {
    let header_len = segment::HEADER_LEN as u64;
    let mut file = OpenOptions::new().write(true).open(path).at(path)?;
    if offset < header_len {
        // Even the header is bad: keep an empty but valid segment.
        file.set_len(0).at(path)?;
        file.write_all(&segment::header()).at(path)?;
    } else {
        file.set_len(offset).at(path)?;
    }
    file.sync_all().at(path)?;
    let kept = offset.max(header_len);
    report.truncations.push(Truncation {
        path: path.to_path_buf(),
        offset: kept,
        discarded_bytes: file_len.saturating_sub(kept),
        reason,
    });
    Ok(())
}
