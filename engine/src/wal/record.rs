//! The payload of a WAL record: a [`Batch`] in a compact binary form (kind 1), or a
//! [`Delete`] (kind 2).
//!
//! Raw line protocol costs about 44 bytes per field value; this form costs a few: series and
//! fields are referred to by id (their names are written once, in the first record that uses
//! them), timestamps are zigzag varint deltas from the previous point of the record, and a float
//! that is a short decimal (21.4, 0.125) is stored as its decimal exponent and integer mantissa.
//! FORMAT.md gives the byte layout.
//!
//! Invariant: `decode(encode(b)) == b` bit-exactly, floats included (NaN payloads, -0.0, ±inf),
//! and decoding never panics on arbitrary bytes.

use crate::batch::{Batch, DbId, Delete, FieldDef, FieldId, SeriesDef, SeriesId};
use crate::encoding::{
    decode_value, encode_value, put_bytes, put_ivarint, put_uvarint, DecodeError, Reader,
};
use crate::model::FieldType;

/// Record kind byte: a write batch.
pub const KIND_WRITE: u8 = 1;
/// Record kind byte: a delete (tombstone, hidden series, dropped fields).
pub const KIND_DELETE: u8 = 2;

/// Bit 0 of a delete record's flags: hide the series.
const DELETE_HIDE: u8 = 1;

/// The delete record of `db`, appended to `out` (which the caller frames).
pub fn encode_delete(db: DbId, d: &Delete, out: &mut Vec<u8>) {
    out.push(KIND_DELETE);
    put_uvarint(out, db.0);
    put_ivarint(out, d.min);
    put_ivarint(out, d.max);
    out.push(if d.hide { DELETE_HIDE } else { 0 });
    put_uvarint(out, d.series.len() as u64);
    let mut prev = 0;
    for (i, s) in d.series.iter().enumerate() {
        put_uvarint(out, if i == 0 { s.0 } else { s.0 - prev });
        prev = s.0;
    }
    put_uvarint(out, d.drop_fields.len() as u64);
    for f in &d.drop_fields {
        put_uvarint(out, u64::from(f.0));
    }
}

/// A decoded record of either kind.
#[derive(Debug, PartialEq)]
pub enum Record {
    Write(WriteRecord),
    Delete(DeleteRecord),
}

impl Record {
    pub fn db(&self) -> DbId {
        match self {
            Record::Write(w) => w.db,
            Record::Delete(d) => d.db,
        }
    }
}

/// A decoded delete record.
#[derive(Debug, PartialEq, Eq)]
pub struct DeleteRecord {
    pub db: DbId,
    pub delete: Delete,
}

/// Decodes a record payload of any kind (kind byte included).
pub fn decode_record(payload: &[u8]) -> Result<Record, DecodeError> {
    match payload.first() {
        Some(&KIND_DELETE) => decode_delete(payload).map(Record::Delete),
        _ => decode(payload).map(Record::Write),
    }
}

fn decode_delete(payload: &[u8]) -> Result<DeleteRecord, DecodeError> {
    let mut r = Reader::new(payload);
    let _kind = r.u8()?;
    let db = DbId(r.uvarint()?);
    let min = r.ivarint()?;
    let max = r.ivarint()?;
    let at = r.position();
    let flags = r.u8()?;
    if flags & !DELETE_HIDE != 0 {
        return Err(DecodeError {
            offset: at,
            reason: "unknown delete flags",
        });
    }
    let n = r.count(1)?;
    let mut series = Vec::with_capacity(n);
    for i in 0..n {
        let at = r.position();
        let v = r.uvarint()?;
        let id = match series.last() {
            None if i == 0 => v,
            Some(&SeriesId(prev)) if v > 0 => prev.checked_add(v).ok_or(DecodeError {
                offset: at,
                reason: "series id overflow",
            })?,
            _ => {
                return Err(DecodeError {
                    offset: at,
                    reason: "series ids not strictly ascending",
                })
            }
        };
        series.push(SeriesId(id));
    }
    let n = r.count(1)?;
    let mut drop_fields = Vec::with_capacity(n);
    for _ in 0..n {
        drop_fields.push(field_id(&mut r)?);
    }
    if !r.is_empty() {
        return Err(DecodeError {
            offset: r.position(),
            reason: "trailing bytes after record",
        });
    }
    Ok(DeleteRecord {
        db,
        delete: Delete {
            series,
            min,
            max,
            hide: flags & DELETE_HIDE != 0,
            drop_fields,
        },
    })
}

/// The write record of `db`'s batch, appended to `out` (which the caller frames).
pub fn encode_write(db: DbId, batch: &Batch, out: &mut Vec<u8>) {
    out.reserve(16 + batch.value_count() * 4 + batch.point_count() * 4);
    out.push(KIND_WRITE);
    put_uvarint(out, db.0);
    put_uvarint(out, batch.new_series.len() as u64);
    for s in &batch.new_series {
        put_uvarint(out, s.id.0);
        put_bytes(out, s.key.as_bytes());
    }
    put_uvarint(out, batch.new_fields.len() as u64);
    for f in &batch.new_fields {
        put_uvarint(out, u64::from(f.id.0));
        out.push(f.field_type.code());
        put_bytes(out, f.measurement.as_bytes());
        put_bytes(out, f.key.as_bytes());
    }
    put_uvarint(out, batch.point_count() as u64);
    let mut prev_time = 0i64;
    for i in 0..batch.point_count() {
        put_uvarint(out, batch.series[i].0);
        put_ivarint(out, batch.times[i].wrapping_sub(prev_time));
        prev_time = batch.times[i];
        let (ids, values) = batch.fields_of(i);
        put_uvarint(out, ids.len() as u64);
        for (id, value) in ids.iter().zip(values) {
            put_uvarint(out, u64::from(id.0));
            encode_value(value, out);
        }
    }
}

/// A decoded write record.
#[derive(Debug, PartialEq)]
pub struct WriteRecord {
    pub db: DbId,
    pub batch: Batch,
}

/// Decodes a write record payload (kind byte included); any other kind is an error.
pub fn decode(payload: &[u8]) -> Result<WriteRecord, DecodeError> {
    let mut r = Reader::new(payload);
    let kind = r.u8()?;
    if kind != KIND_WRITE {
        return Err(DecodeError {
            offset: 0,
            reason: "unknown record kind",
        });
    }
    let db = DbId(r.uvarint()?);
    let mut batch = Batch::default();
    let n = r.count(2)?;
    for _ in 0..n {
        let id = SeriesId(r.uvarint()?);
        let key = r.str()?.to_owned();
        batch.new_series.push(SeriesDef { id, key });
    }
    let n = r.count(4)?;
    for _ in 0..n {
        let id = field_id(&mut r)?;
        let offset = r.position();
        let field_type = FieldType::from_code(r.u8()?).ok_or(DecodeError {
            offset,
            reason: "unknown field type",
        })?;
        let measurement = r.str()?.to_owned();
        let key = r.str()?.to_owned();
        batch.new_fields.push(FieldDef {
            id,
            measurement,
            key,
            field_type,
        });
    }
    let n = r.count(3)?;
    batch.series.reserve(n);
    batch.times.reserve(n);
    batch.field_end.reserve(n);
    let mut time = 0i64;
    for _ in 0..n {
        let series = SeriesId(r.uvarint()?);
        time = time.wrapping_add(r.ivarint()?);
        batch.push_point(series, time);
        let fields = r.count(2)?;
        for _ in 0..fields {
            let id = field_id(&mut r)?;
            let value = decode_value(&mut r)?;
            batch.push_field(id, value);
        }
    }
    if !r.is_empty() {
        return Err(DecodeError {
            offset: r.position(),
            reason: "trailing bytes after record",
        });
    }
    Ok(WriteRecord { db, batch })
}

fn field_id(r: &mut Reader<'_>) -> Result<FieldId, DecodeError> {
    let offset = r.position();
    let v = r.uvarint()?;
    u32::try_from(v).map(FieldId).map_err(|_| DecodeError {
        offset,
        reason: "field id overflow",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::as_decimal;
    use crate::model::{FieldValue, OwnedFieldValue};
    use proptest::prelude::*;
    use std::borrow::Cow;

    fn value_strategy() -> impl Strategy<Value = OwnedFieldValue> {
        prop_oneof![
            any::<f64>().prop_map(FieldValue::Float),
            any::<u64>().prop_map(|b| FieldValue::Float(f64::from_bits(b))),
            (-100_000i64..100_000, 0u32..6)
                .prop_map(|(m, e)| FieldValue::Float(m as f64 / 10f64.powi(e as i32))),
            any::<i64>().prop_map(FieldValue::Integer),
            any::<u64>().prop_map(FieldValue::Unsigned),
            ".{0,12}".prop_map(|s| FieldValue::String(Cow::Owned(s))),
            any::<bool>().prop_map(FieldValue::Boolean),
        ]
    }

    fn batch_strategy() -> impl Strategy<Value = Batch> {
        let point = (
            0u64..1000,
            any::<i64>(),
            proptest::collection::vec((0u32..50, value_strategy()), 1..5),
        );
        (
            proptest::collection::vec((0u64..1000, ".{0,20}"), 0..3),
            proptest::collection::vec(point, 0..20),
        )
            .prop_map(|(series_defs, points)| {
                let mut b = Batch::default();
                for (id, key) in series_defs {
                    b.new_series.push(SeriesDef {
                        id: SeriesId(id),
                        key,
                    });
                }
                b.new_fields.push(FieldDef {
                    id: FieldId(7),
                    measurement: "air,quality".into(),
                    key: "pm25".into(),
                    field_type: FieldType::Float,
                });
                for (s, t, fields) in points {
                    b.push_point(SeriesId(s), t);
                    for (f, v) in fields {
                        b.push_field(FieldId(f), v);
                    }
                }
                b
            })
    }

    /// Batches compare with `bit_eq` for floats (NaN != NaN under `PartialEq`).
    fn assert_bit_equal(a: &Batch, b: &Batch) {
        assert_eq!(a.new_series, b.new_series);
        assert_eq!(a.new_fields, b.new_fields);
        assert_eq!(a.series, b.series);
        assert_eq!(a.times, b.times);
        assert_eq!(a.field_end, b.field_end);
        assert_eq!(a.field_ids, b.field_ids);
        assert_eq!(a.values.len(), b.values.len());
        for (x, y) in a.values.iter().zip(&b.values) {
            assert!(x.bit_eq(y), "{x:?} != {y:?}");
        }
    }

    proptest! {
        #[test]
        fn batches_round_trip_bit_exactly(batch in batch_strategy(), db in any::<u64>()) {
            let mut buf = Vec::new();
            encode_write(DbId(db), &batch, &mut buf);
            let rec = decode(&buf).unwrap();
            prop_assert_eq!(rec.db, DbId(db));
            assert_bit_equal(&rec.batch, &batch);
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }
    }

    proptest! {
        #[test]
        fn deletes_round_trip(
            series in proptest::collection::btree_set(any::<u64>(), 0..20),
            min in any::<i64>(),
            max in any::<i64>(),
            hide in any::<bool>(),
            fields in proptest::collection::vec(any::<u32>(), 0..5),
            db in any::<u64>(),
        ) {
            let d = Delete {
                series: series.into_iter().map(SeriesId).collect(),
                min,
                max,
                hide,
                drop_fields: fields.into_iter().map(FieldId).collect(),
            };
            let mut buf = Vec::new();
            encode_delete(DbId(db), &d, &mut buf);
            prop_assert_eq!(
                decode_record(&buf).unwrap(),
                Record::Delete(DeleteRecord { db: DbId(db), delete: d })
            );
            for cut in 0..buf.len() {
                prop_assert!(decode_record(&buf[..cut]).is_err());
            }
            prop_assert!(decode(&buf).is_err());
        }

        #[test]
        fn decoding_garbage_of_any_kind_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let _ = decode_record(&bytes);
            let mut with_kind = vec![KIND_DELETE];
            with_kind.extend_from_slice(&bytes);
            let _ = decode_record(&with_kind);
        }
    }

    #[test]
    fn special_floats_round_trip() {
        let specials = [
            0.0,
            -0.0,
            f64::NAN,
            f64::from_bits(0x7ff8_0000_dead_beef),
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
            5e-324,
            0.1,
            21.4,
            -1534.77,
        ];
        let mut b = Batch::default();
        b.push_point(SeriesId(1), 1);
        for (i, v) in specials.iter().enumerate() {
            b.push_field(FieldId(i as u32), FieldValue::Float(*v));
        }
        let mut buf = Vec::new();
        encode_write(DbId(1), &b, &mut buf);
        assert_bit_equal(&decode(&buf).unwrap().batch, &b);
    }

    #[test]
    fn sensor_decimals_take_a_few_bytes() {
        assert_eq!(as_decimal(21.4), Some((1, 214)));
        assert_eq!(as_decimal(0.125), Some((3, 125)));
        assert_eq!(as_decimal(37.0), Some((0, 37)));
        assert_eq!(as_decimal(-0.0), None);
        assert_eq!(as_decimal(f64::NAN), None);
        let mut out = Vec::new();
        encode_value(&FieldValue::Float(21.4), &mut out);
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn a_truncated_record_is_an_error_not_a_panic() {
        let mut b = Batch::default();
        b.push_point(SeriesId(3), 1_700_000_000_000_000_000);
        b.push_field(FieldId(1), FieldValue::Float(21.4));
        let mut buf = Vec::new();
        encode_write(DbId(1), &b, &mut buf);
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut]).is_err(), "cut at {cut} decoded");
        }
    }
}
