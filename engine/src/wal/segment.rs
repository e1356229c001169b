//! WAL segment files: naming, the 16-byte header, and record framing.
//!
//! A segment is `header | frame*`, a frame is `len: u32 LE | crc: u32 LE | payload[len]`, and
//! `crc` is CRC-32 (IEEE) over the four `len` bytes followed by the payload, so a flipped bit in
//! a length is caught like one in a payload. Frames never span segments.

use std::path::{Path, PathBuf};

pub const MAGIC: [u8; 8] = *b"GNZHWAL\0";
/// Written. Version 2 added the delete record (kind 2); version 1 segments (write records
/// only) are still read. A reader of version 1 refuses a version 2 segment rather than cut
/// it at the first record it does not know.
pub const VERSION: u32 = 2;
/// The oldest version read.
pub const OLDEST_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 16;
pub const FRAME_HEADER_LEN: usize = 8;
/// A record larger than this is refused when written and taken as corruption when read.
pub const MAX_RECORD_LEN: usize = 1 << 30;

/// The header every segment starts with.
pub fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// `00000000000000000042.wal`: zero-padded so names sort in sequence order.
pub fn file_name(seq: u64) -> String {
    format!("{seq:020}.wal")
}

pub fn path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(file_name(seq))
}

/// The sequence number of a segment file name, or `None` for any other file.
pub fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Appends one framed record.
pub fn append_frame(out: &mut Vec<u8>, payload: &[u8]) {
    let len = (payload.len() as u32).to_le_bytes();
    let mut h = crc32fast::Hasher::new();
    h.update(&len);
    h.update(payload);
    out.extend_from_slice(&len);
    out.extend_from_slice(&h.finalize().to_le_bytes());
    out.extend_from_slice(payload);
}

/// How a scan of a segment's bytes ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEnd {
    /// Every byte belonged to a whole, valid frame.
    Clean,
    /// The bytes from `offset` on are not a valid frame: a torn write or corruption.
    Bad { offset: u64, reason: String },
    /// The segment was written by another format version: not ours to truncate.
    UnsupportedVersion(u32),
}

/// Checks the header, then yields each frame's payload with its offset until the first bad
/// frame. Returns the payloads and how the scan ended.
pub fn scan(bytes: &[u8]) -> (Vec<(u64, &[u8])>, ScanEnd) {
    let mut frames = Vec::new();
    if bytes.len() < HEADER_LEN {
        let reason = format!(
            "segment header truncated ({} of {HEADER_LEN} bytes)",
            bytes.len()
        );
        return (frames, ScanEnd::Bad { offset: 0, reason });
    }
    if bytes[..8] != MAGIC {
        return (
            frames,
            ScanEnd::Bad {
                offset: 0,
                reason: "bad magic number".into(),
            },
        );
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return (frames, ScanEnd::UnsupportedVersion(version));
    }
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let bad = |reason: String| ScanEnd::Bad {
            offset: pos as u64,
            reason,
        };
        if rest.len() < FRAME_HEADER_LEN {
            return (
                frames,
                bad(format!("torn frame header ({} bytes)", rest.len())),
            );
        }
        let len_bytes = [rest[0], rest[1], rest[2], rest[3]];
        let len = u32::from_le_bytes(len_bytes) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD_LEN {
            return (frames, bad(format!("record length {len} is implausible")));
        }
        let Some(payload) = rest.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + len) else {
            let have = rest.len() - FRAME_HEADER_LEN;
            return (
                frames,
                bad(format!("torn record: {have} of {len} payload bytes")),
            );
        };
        let mut h = crc32fast::Hasher::new();
        h.update(&len_bytes);
        h.update(payload);
        let actual = h.finalize();
        if actual != crc {
            return (
                frames,
                bad(format!(
                    "checksum mismatch: stored {crc:#010x}, computed {actual:#010x}"
                )),
            );
        }
        frames.push((pos as u64, payload));
        pos += FRAME_HEADER_LEN + len;
    }
    (frames, ScanEnd::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_segments_are_read_and_unknown_versions_refused() {
        let mut s = header().to_vec();
        s[8..12].copy_from_slice(&1u32.to_le_bytes());
        append_frame(&mut s, b"abc");
        let (frames, end) = scan(&s);
        assert!(matches!(end, ScanEnd::Clean));
        assert_eq!(frames.len(), 1);
        s[8..12].copy_from_slice(&3u32.to_le_bytes());
        assert!(matches!(scan(&s).1, ScanEnd::UnsupportedVersion(3)));
    }

    fn segment_with(payloads: &[&[u8]]) -> Vec<u8> {
        let mut s = header().to_vec();
        for p in payloads {
            append_frame(&mut s, p);
        }
        s
    }

    #[test]
    fn whole_frames_scan_clean() {
        let s = segment_with(&[b"one", b"", b"three"]);
        let (frames, end) = scan(&s);
        assert_eq!(end, ScanEnd::Clean);
        let payloads: Vec<&[u8]> = frames.iter().map(|f| f.1).collect();
        assert_eq!(payloads, vec![&b"one"[..], b"", b"three"]);
    }

    #[test]
    fn every_truncation_keeps_the_whole_frames_before_it() {
        let s = segment_with(&[b"alpha", b"beta"]);
        let first_end = HEADER_LEN + FRAME_HEADER_LEN + 5;
        for cut in HEADER_LEN..s.len() {
            let (frames, end) = scan(&s[..cut]);
            let expect = if cut >= first_end { 1 } else { 0 };
            assert_eq!(frames.len(), expect, "cut {cut}");
            if cut == first_end || cut == HEADER_LEN {
                assert_eq!(end, ScanEnd::Clean);
            } else {
                assert!(matches!(end, ScanEnd::Bad { .. }), "cut {cut}");
            }
        }
    }

    #[test]
    fn every_bit_flip_is_detected() {
        let s = segment_with(&[b"alpha", b"beta"]);
        for byte in HEADER_LEN..s.len() {
            for bit in 0..8 {
                let mut t = s.clone();
                t[byte] ^= 1 << bit;
                let (frames, end) = scan(&t);
                assert!(
                    matches!(end, ScanEnd::Bad { .. }),
                    "flip {byte}:{bit} undetected"
                );
                assert!(frames.len() < 2);
            }
        }
    }

    #[test]
    fn file_names_sort_and_parse() {
        assert_eq!(parse_file_name(&file_name(42)), Some(42));
        assert_eq!(parse_file_name("42.wal"), None);
        assert_eq!(parse_file_name("00000000000000000042.tmp"), None);
        assert!(file_name(9) < file_name(10));
    }
}
