//! Boolean columns: constant, bitmap, run-length.

use crate::encoding::{put_uvarint, DecodeError, Reader};

use super::bitpack::packed_len;
use super::{int, zst};

pub(crate) const BITMAP: u8 = 0x20;
pub(crate) const RUNS: u8 = 0x21;
pub(crate) const CONST: u8 = 0x22;

pub(crate) fn encode(v: &[bool], out: &mut Vec<u8>) {
    let n = v.len();
    if v.iter().all(|&b| b == v.first().copied().unwrap_or(false)) {
        out.push(CONST);
        out.push(u8::from(v.first().copied().unwrap_or(false)));
        return;
    }
    let mut bitmap = Vec::with_capacity(1 + packed_len(n, 1));
    bitmap.push(BITMAP);
    for chunk in v.chunks(8) {
        let mut b = 0u8;
        for (i, &x) in chunk.iter().enumerate() {
            b |= u8::from(x) << i;
        }
        bitmap.push(b);
    }
    let mut runs = vec![RUNS, u8::from(v[0])];
    let mut lens = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && v[j] == v[i] {
            j += 1;
        }
        lens.push(j - i - 1);
        i = j;
    }
    put_uvarint(&mut runs, lens.len() as u64);
    for l in lens {
        put_uvarint(&mut runs, l as u64);
    }
    let mut best = if runs.len() < bitmap.len() {
        runs
    } else {
        bitmap
    };
    if best.len() > 32 {
        zst::wrap_if_smaller(&mut best, int::ZSTD, |_, _| true);
    }
    out.extend_from_slice(&best);
}

fn err(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError { offset, reason }
}

pub(crate) fn decode(buf: &[u8], n: usize, out: &mut Vec<bool>) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf);
    let scheme = r.u8()?;
    if scheme & int::ZSTD != 0 {
        let mut payload = Vec::new();
        zst::decompress_into(&buf[1..], int::max_payload(n), &mut payload, 1)?;
        return decode_payload(scheme & !int::ZSTD, &payload, n, out).map_err(|e| err(1, e.reason));
    }
    decode_payload(scheme, &buf[1..], n, out).map_err(|e| err(e.offset + 1, e.reason))
}

fn decode_payload(
    scheme: u8,
    buf: &[u8],
    n: usize,
    out: &mut Vec<bool>,
) -> Result<(), DecodeError> {
    let mut r = Reader::new(buf);
    match scheme {
        CONST => {
            let b = r.u8()?;
            if b > 1 {
                return Err(err(0, "boolean byte not 0 or 1"));
            }
            out.resize(out.len() + n, b == 1);
        }
        BITMAP => {
            let bytes = r.take(packed_len(n, 1))?;
            out.extend(
                bytes
                    .iter()
                    .flat_map(|&b| (0..8).map(move |i| (b >> i) & 1 == 1))
                    .take(n),
            );
        }
        RUNS => {
            let first = r.u8()?;
            if first > 1 {
                return Err(err(0, "boolean byte not 0 or 1"));
            }
            let count = r.count(1)?;
            let mut value = first == 1;
            let mut left = n;
            for _ in 0..count {
                let at = r.position();
                let len = r.uvarint()?;
                if len >= left as u64 {
                    return Err(err(at, "run longer than the column"));
                }
                let len = len as usize + 1;
                out.resize(out.len() + len, value);
                left -= len;
                value = !value;
            }
            if left != 0 {
                return Err(err(r.position(), "runs shorter than the column"));
            }
        }
        _ => return Err(err(0, "unknown boolean scheme")),
    }
    if !r.is_empty() {
        return Err(err(r.position(), "trailing bytes after the column"));
    }
    Ok(())
}
