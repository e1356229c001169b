//! Per-chunk statistics: what a query can answer from the footer without decoding a block.
//!
//! Every chunk records its count and the time and value of its first and last point. Numeric
//! chunks add min, max and sum (float sum in f64; integer and unsigned sums wrap as InfluxDB's
//! do). The encoding is in FORMAT.md.

use crate::encoding::{decode_value, encode_value, put_ivarint, put_uvarint, DecodeError, Reader};
use crate::memtable::Values;
use crate::model::{FieldType, FieldValue, OwnedFieldValue};

#[derive(Debug, Clone, PartialEq)]
pub struct ChunkStats {
    pub count: u32,
    pub first_time: i64,
    pub last_time: i64,
    pub first: OwnedFieldValue,
    pub last: OwnedFieldValue,
    pub numeric: Option<NumericStats>,
}

/// Min, max and sum of a numeric chunk, in the chunk's own type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumericStats {
    Float { min: f64, max: f64, sum: f64 },
    Integer { min: i64, max: i64, sum: i64 },
    Unsigned { min: u64, max: u64, sum: u64 },
}

impl ChunkStats {
    /// Statistics of a non-empty chunk.
    pub fn compute(times: &[i64], values: &Values) -> ChunkStats {
        let n = times.len();
        debug_assert!(n > 0 && values.len() == n);
        let numeric = match values {
            Values::Float(v) => {
                // NaN never wins min/max (f64::min/max skip it); the sum carries it.
                let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
                for &x in v {
                    min = min.min(x);
                    max = max.max(x);
                    sum += x;
                }
                Some(NumericStats::Float { min, max, sum })
            }
            Values::Integer(v) => Some(NumericStats::Integer {
                min: v.iter().copied().min().unwrap_or(0),
                max: v.iter().copied().max().unwrap_or(0),
                sum: v.iter().fold(0i64, |a, &b| a.wrapping_add(b)),
            }),
            Values::Unsigned(v) => Some(NumericStats::Unsigned {
                min: v.iter().copied().min().unwrap_or(0),
                max: v.iter().copied().max().unwrap_or(0),
                sum: v.iter().fold(0u64, |a, &b| a.wrapping_add(b)),
            }),
            Values::String(_) | Values::Boolean(_) => None,
        };
        ChunkStats {
            count: n as u32,
            first_time: times[0],
            last_time: times[n - 1],
            first: values.get(0),
            last: values.get(n - 1),
            numeric,
        }
    }

    /// Appends the stats; `base_time` is the block's min time (times are stored from it).
    pub fn encode(&self, base_time: i64, out: &mut Vec<u8>) {
        put_uvarint(out, u64::from(self.count));
        put_uvarint(out, self.first_time.wrapping_sub(base_time) as u64);
        put_uvarint(out, self.last_time.wrapping_sub(base_time) as u64);
        put_value(&self.first, out);
        put_value(&self.last, out);
        match self.numeric {
            None => {}
            Some(NumericStats::Float { min, max, sum }) => {
                // min and max are readings, usually short decimals; the sum rarely is.
                encode_value(&FieldValue::Float(min), out);
                encode_value(&FieldValue::Float(max), out);
                out.extend_from_slice(&sum.to_bits().to_le_bytes());
            }
            Some(NumericStats::Integer { min, max, sum }) => {
                for x in [min, max, sum] {
                    put_ivarint(out, x);
                }
            }
            Some(NumericStats::Unsigned { min, max, sum }) => {
                for x in [min, max, sum] {
                    put_uvarint(out, x);
                }
            }
        }
    }

    pub fn decode(r: &mut Reader<'_>, t: FieldType, base_time: i64) -> Result<Self, DecodeError> {
        let at = r.position();
        let count = u32::try_from(r.uvarint()?).map_err(|_| DecodeError {
            offset: at,
            reason: "chunk count overflow",
        })?;
        let first_time = base_time.wrapping_add(r.uvarint()? as i64);
        let last_time = base_time.wrapping_add(r.uvarint()? as i64);
        let first = get_value(r, t)?;
        let last = get_value(r, t)?;
        let numeric = match t {
            FieldType::Float => Some(NumericStats::Float {
                min: get_float(r)?,
                max: get_float(r)?,
                sum: f64::from_bits(r.u64_le()?),
            }),
            FieldType::Integer => Some(NumericStats::Integer {
                min: r.ivarint()?,
                max: r.ivarint()?,
                sum: r.ivarint()?,
            }),
            FieldType::Unsigned => Some(NumericStats::Unsigned {
                min: r.uvarint()?,
                max: r.uvarint()?,
                sum: r.uvarint()?,
            }),
            FieldType::String | FieldType::Boolean => None,
        };
        Ok(ChunkStats {
            count,
            first_time,
            last_time,
            first,
            last,
            numeric,
        })
    }
}

fn put_value(v: &OwnedFieldValue, out: &mut Vec<u8>) {
    encode_value(v, out);
}

fn get_value(r: &mut Reader<'_>, t: FieldType) -> Result<OwnedFieldValue, DecodeError> {
    let at = r.position();
    let v = decode_value(r)?;
    if v.field_type() != t {
        return Err(DecodeError {
            offset: at,
            reason: "statistic of another type than its chunk",
        });
    }
    Ok(v)
}

fn get_float(r: &mut Reader<'_>) -> Result<f64, DecodeError> {
    let at = r.position();
    match decode_value(r)? {
        FieldValue::Float(x) => Ok(x),
        _ => Err(DecodeError {
            offset: at,
            reason: "float statistic of another type",
        }),
    }
}
