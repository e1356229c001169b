//! A write resolved against the catalog: series and field ids instead of names, every value
//! already checked against its field's type.
//!
//! A [`Batch`] is what the WAL logs (one checksummed record per batch) and what the memtable
//! applies, both when a write arrives and when the WAL is replayed: one type, one apply path.
//!
//! Invariants:
//! - every series id and field id a point uses is either defined in this batch (`new_series`,
//!   `new_fields`) or was defined by an earlier WAL record (see `catalog` on "logged" flags);
//! - points are stored flattened: point `i` has the fields `field_end[i-1]..field_end[i]`.

use crate::model::{FieldType, OwnedFieldValue};

/// A database's identity for its whole life. A database that is dropped and created again
/// gets a new id, so WAL records of the old one can never resurface in the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DbId(pub u64);

/// A series (measurement + sorted tag set) within one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesId(pub u64);

/// A field (measurement + field key) within one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

/// A series definition carried by the first WAL record that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesDef {
    pub id: SeriesId,
    /// Canonical series key: escaped `measurement,k=v,...` with tags sorted.
    pub key: String,
}

/// A field definition carried by the first WAL record that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub id: FieldId,
    pub measurement: String,
    pub key: String,
    pub field_type: FieldType,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub new_series: Vec<SeriesDef>,
    pub new_fields: Vec<FieldDef>,
    pub series: Vec<SeriesId>,
    pub times: Vec<i64>,
    pub field_end: Vec<u32>,
    pub field_ids: Vec<FieldId>,
    pub values: Vec<OwnedFieldValue>,
}

impl Batch {
    /// Empties the batch, keeping its vectors' capacity for the next one.
    pub fn clear(&mut self) {
        self.new_series.clear();
        self.new_fields.clear();
        self.series.clear();
        self.times.clear();
        self.field_end.clear();
        self.field_ids.clear();
        self.values.clear();
    }

    /// Bytes its vectors have allocated (roughly: strings not counted).
    pub fn capacity_bytes(&self) -> usize {
        self.series.capacity() * 8
            + self.times.capacity() * 8
            + self.field_end.capacity() * 4
            + self.field_ids.capacity() * 4
            + self.values.capacity() * std::mem::size_of::<OwnedFieldValue>()
    }

    pub fn point_count(&self) -> usize {
        self.series.len()
    }

    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.new_series.is_empty() && self.new_fields.is_empty()
    }

    /// Starts a point; follow with [`Batch::push_field`] for each of its fields.
    pub fn push_point(&mut self, series: SeriesId, time: i64) {
        self.series.push(series);
        self.times.push(time);
        self.field_end.push(self.field_ids.len() as u32);
    }

    pub fn push_field(&mut self, field: FieldId, value: OwnedFieldValue) {
        self.field_ids.push(field);
        self.values.push(value);
        if let Some(end) = self.field_end.last_mut() {
            *end = self.field_ids.len() as u32;
        }
    }

    /// Point `i`'s fields as (field ids, values).
    pub fn fields_of(&self, i: usize) -> (&[FieldId], &[OwnedFieldValue]) {
        let start = if i == 0 {
            0
        } else {
            self.field_end[i - 1] as usize
        };
        let end = self.field_end[i] as usize;
        (&self.field_ids[start..end], &self.values[start..end])
    }
}

/// A delete resolved to ids: what the WAL logs (record kind 2) and `tombstone::apply` applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delete {
    /// Ascending, unique.
    pub series: Vec<SeriesId>,
    /// The points with `min <= time <= max` go (none if `min > max`).
    pub min: i64,
    pub max: i64,
    /// Hide the series from the listings until they are written again (`DROP SERIES`).
    pub hide: bool,
    /// Fields removed from the schema (`DROP MEASUREMENT`).
    pub drop_fields: Vec<FieldId>,
}
