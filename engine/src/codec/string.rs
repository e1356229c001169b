//! String columns: plain (length-prefixed) and dictionary, each optionally in a zstd frame.

use std::collections::HashMap;

use crate::encoding::{put_bytes, put_uvarint, DecodeError, Reader};

use super::{int, zst};

pub(crate) const PLAIN: u8 = 0x30;
pub(crate) const DICT: u8 = 0x31;

/// Largest decompressed payload accepted for a zstd frame of `frame_len` bytes. The encoder
/// never writes a frame beyond it, so every encoding decodes; the limit only stops corrupt
/// frames from claiming huge outputs.
pub(crate) fn zstd_limit(frame_len: usize) -> usize {
    frame_len.saturating_mul(4096).max(1 << 20)
}

pub(crate) fn encode<S: AsRef<str>>(v: &[S], out: &mut Vec<u8>) {
    let mut plain = vec![PLAIN];
    for s in v {
        put_bytes(&mut plain, s.as_ref().as_bytes());
    }
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut dict: Vec<&str> = Vec::new();
    let mut idx: Vec<i64> = Vec::with_capacity(v.len());
    for s in v {
        let s = s.as_ref();
        let id = *ids.entry(s).or_insert_with(|| {
            dict.push(s);
            dict.len() - 1
        });
        idx.push(id as i64);
    }
    let mut best = plain;
    if dict.len() < v.len() {
        let mut d = vec![DICT];
        put_uvarint(&mut d, dict.len() as u64);
        for s in &dict {
            put_bytes(&mut d, s.as_bytes());
        }
        int::encode(&idx, super::Effort::Thorough, &mut d);
        if d.len() < best.len() {
            best = d;
        }
    }
    if best.len() > 32 {
        zst::wrap_if_smaller(&mut best, int::ZSTD, |payload, frame| {
            payload <= zstd_limit(frame)
        });
    }
    out.extend_from_slice(&best);
}

fn err(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError { offset, reason }
}

pub(crate) fn decode(buf: &[u8], n: usize, out: &mut Vec<String>) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf);
    let scheme = r.u8()?;
    if scheme & int::ZSTD != 0 {
        let frame = &buf[1..];
        let mut payload = Vec::new();
        zst::decompress_into(frame, zstd_limit(frame.len()), &mut payload, 1)?;
        return decode_payload(scheme & !int::ZSTD, &payload, n, out).map_err(|e| err(1, e.reason));
    }
    decode_payload(scheme, &buf[1..], n, out).map_err(|e| err(e.offset + 1, e.reason))
}

fn decode_payload(
    scheme: u8,
    buf: &[u8],
    n: usize,
    out: &mut Vec<String>,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf);
    match scheme {
        PLAIN => {
            for _ in 0..n {
                out.push(r.str()?.to_owned());
            }
            if !r.is_empty() {
                return Err(err(r.position(), "trailing bytes after the column"));
            }
            Ok(())
        }
        DICT => {
            let count = r.count(1)?;
            let mut dict = Vec::with_capacity(count);
            for _ in 0..count {
                dict.push(r.str()?);
            }
            let at = r.position();
            let mut bad = false;
            int::decode(&buf[at..], n, &mut |ids: &[u64]| {
                for &id in ids {
                    match usize::try_from(id).ok().and_then(|i| dict.get(i)) {
                        Some(s) => out.push((*s).to_owned()),
                        None => bad = true,
                    }
                }
            })
            .map_err(|e| err(e.offset + at, e.reason))?;
            if bad {
                return Err(err(at, "dictionary index out of range"));
            }
            Ok(())
        }
        _ => Err(err(0, "unknown string scheme")),
    }
}
