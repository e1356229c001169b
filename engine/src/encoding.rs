//! Byte-level building blocks shared by every on-disk format: LEB128 varints, zigzag, and a
//! bounds-checked reader.
//!
//! Invariant: decoding never panics and never reads past its slice; a short or malformed input
//! is a [`DecodeError`] that the caller turns into `Error::Corrupt` with a path and an offset.

use std::borrow::Cow;
use std::fmt;

use crate::model::{FieldValue, OwnedFieldValue};

/// Why bytes failed to decode, and where (offset from the start of the decoded slice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

#[inline]
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends `v` as an unsigned LEB128 varint (1 to 10 bytes).
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
pub fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

/// Appends a varint length and then the bytes.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A cursor over a byte slice whose every read is bounds-checked.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn err(&self, reason: &'static str) -> DecodeError {
        DecodeError {
            offset: self.pos,
            reason,
        }
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err("unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| self.err("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.err("unexpected end of data"))?;
        self.pos = end;
        Ok(s)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub fn u32_le(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            if shift == 63 && b > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    pub fn ivarint(&mut self) -> Result<i64, DecodeError> {
        Ok(unzigzag(self.uvarint()?))
    }

    /// A varint count that must fit in what is left of the buffer (each counted item takes at
    /// least `min_item_bytes`), so corrupt counts cannot trigger huge allocations.
    pub fn count(&mut self, min_item_bytes: usize) -> Result<usize, DecodeError> {
        let n = self.uvarint()?;
        let max = self.remaining() / min_item_bytes.max(1);
        if n > max as u64 {
            return Err(self.err("count larger than the remaining data"));
        }
        Ok(n as usize)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| self.err("length overflow"))?;
        self.take(n)
    }

    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| DecodeError {
            offset: start,
            reason: "invalid UTF-8",
        })
    }
}

// ---- Field values, self-describing -------------------------------------------------------
//
// A tag byte, then the value. A float that is a short decimal (21.4, 0.125) is stored as its
// decimal exponent (the tag, 0..=18) and a zigzag varint mantissa: 3 bytes instead of 8 for a
// typical sensor reading. Used by WAL records and segment statistics; FORMAT.md has the table.

/// Value tags. `0..=MAX_DECIMAL_EXPONENT` is a decimal float with that many decimal places.
const MAX_DECIMAL_EXPONENT: u8 = 18;
const TAG_FLOAT_RAW: u8 = 0x20;
const TAG_INTEGER: u8 = 0x21;
const TAG_UNSIGNED: u8 = 0x22;
const TAG_STRING: u8 = 0x23;
const TAG_FALSE: u8 = 0x24;
const TAG_TRUE: u8 = 0x25;

const POW10: [f64; MAX_DECIMAL_EXPONENT as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// Integers up to 2^53 convert to f64 exactly.
const MAX_EXACT_MANTISSA: f64 = 9_007_199_254_740_992.0;

/// The smallest `e` such that `v == m / 10^e` exactly for an integer `m` below 2^53.
pub fn as_decimal(v: f64) -> Option<(u8, i64)> {
    if !v.is_finite() {
        return None;
    }
    for (e, pow) in POW10.iter().enumerate() {
        let scaled = v * pow;
        if scaled.abs() >= MAX_EXACT_MANTISSA {
            return None;
        }
        if scaled.fract() == 0.0 {
            let m = scaled as i64;
            if ((m as f64) / pow).to_bits() == v.to_bits() {
                return Some((e as u8, m));
            }
        }
    }
    None
}

pub fn encode_value(value: &OwnedFieldValue, out: &mut Vec<u8>) {
    match value {
        FieldValue::Float(v) => match as_decimal(*v) {
            Some((e, m)) => {
                out.push(e);
                put_ivarint(out, m);
            }
            None => {
                out.push(TAG_FLOAT_RAW);
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        },
        FieldValue::Integer(v) => {
            out.push(TAG_INTEGER);
            put_ivarint(out, *v);
        }
        FieldValue::Unsigned(v) => {
            out.push(TAG_UNSIGNED);
            put_uvarint(out, *v);
        }
        FieldValue::String(s) => {
            out.push(TAG_STRING);
            put_bytes(out, s.as_bytes());
        }
        FieldValue::Boolean(b) => out.push(if *b { TAG_TRUE } else { TAG_FALSE }),
    }
}

pub fn decode_value(r: &mut Reader<'_>) -> Result<OwnedFieldValue, DecodeError> {
    let offset = r.position();
    let tag = r.u8()?;
    Ok(match tag {
        0..=MAX_DECIMAL_EXPONENT => {
            let m = r.ivarint()?;
            FieldValue::Float((m as f64) / POW10[tag as usize])
        }
        TAG_FLOAT_RAW => FieldValue::Float(f64::from_bits(r.u64_le()?)),
        TAG_INTEGER => FieldValue::Integer(r.ivarint()?),
        TAG_UNSIGNED => FieldValue::Unsigned(r.uvarint()?),
        TAG_STRING => FieldValue::String(Cow::Owned(r.str()?.to_owned())),
        TAG_FALSE => FieldValue::Boolean(false),
        TAG_TRUE => FieldValue::Boolean(true),
        _ => {
            return Err(DecodeError {
                offset,
                reason: "unknown value tag",
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip(u in any::<u64>(), i in any::<i64>()) {
            let mut out = Vec::new();
            put_uvarint(&mut out, u);
            put_ivarint(&mut out, i);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.uvarint().unwrap(), u);
            prop_assert_eq!(r.ivarint().unwrap(), i);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            let _ = r.uvarint();
            let _ = r.str();
            let _ = r.count(1);
            let _ = r.u64_le();
        }
    }

    #[test]
    fn zigzag_small_magnitudes_are_small() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(unzigzag(zigzag(i64::MIN)), i64::MIN);
    }

    #[test]
    fn truncated_varint_is_an_error() {
        let mut r = Reader::new(&[0x80, 0x80]);
        assert_eq!(r.uvarint().unwrap_err().reason, "unexpected end of data");
        let mut r = Reader::new(&[0xff; 11]);
        assert!(r.uvarint().is_err());
    }

    #[test]
    fn huge_count_is_refused() {
        let mut out = Vec::new();
        put_uvarint(&mut out, 1 << 40);
        assert!(Reader::new(&out).count(1).is_err());
    }
}
