//! One database: its series index, field schema and memtable.
//!
//! Lock order, always: `index` or `schema` (never both at once) before any memtable lock.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::batch::{Batch, DbId};
use crate::memtable::Memtable;
use crate::schema::Schema;
use crate::series_index::SeriesIndex;

#[derive(Debug)]
pub struct Database {
    pub id: DbId,
    pub name: String,
    pub index: RwLock<SeriesIndex>,
    pub schema: RwLock<Schema>,
    pub memtable: Memtable,
}

impl Database {
    pub fn new(id: DbId, name: String) -> Database {
        Database {
            id,
            name,
            index: RwLock::default(),
            schema: RwLock::default(),
            memtable: Memtable::default(),
        }
    }

    pub fn index(&self) -> RwLockReadGuard<'_, SeriesIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn index_mut(&self) -> RwLockWriteGuard<'_, SeriesIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn schema(&self) -> RwLockReadGuard<'_, Schema> {
        self.schema.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn schema_mut(&self) -> RwLockWriteGuard<'_, Schema> {
        self.schema.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a batch to the memtable; returns the values dropped (see `Memtable::apply`).
    pub fn apply(&self, batch: &Batch) -> u64 {
        let schema = self.schema();
        self.memtable
            .apply(batch, |fid| schema.by_id(fid).map(|f| f.field_type))
    }

    /// Registers the series and fields a replayed record defines. Returns why the record is
    /// inconsistent with the ones before it, if it is.
    pub fn define_replayed(&self, batch: &Batch) -> Result<(), String> {
        if !batch.new_series.is_empty() {
            let mut index = self.index_mut();
            for def in &batch.new_series {
                index.insert_replayed(def.id, &def.key)?;
            }
        }
        if !batch.new_fields.is_empty() {
            let mut schema = self.schema_mut();
            for def in &batch.new_fields {
                schema.insert_replayed(def)?;
            }
        }
        Ok(())
    }

    /// Applies a replayed batch, dropping points whose series is unknown (its definition was
    /// lost with a truncated record). Returns the points and values dropped.
    pub fn apply_replayed(&self, mut batch: Batch) -> u64 {
        let mut dropped = 0;
        {
            let index = self.index();
            if batch.series.iter().any(|s| index.by_id(*s).is_none()) {
                let mut kept = Batch::default();
                for i in 0..batch.point_count() {
                    if index.by_id(batch.series[i]).is_none() {
                        dropped += 1;
                        continue;
                    }
                    kept.push_point(batch.series[i], batch.times[i]);
                    let (ids, values) = batch.fields_of(i);
                    for (id, v) in ids.iter().zip(values) {
                        kept.push_field(*id, v.clone());
                    }
                }
                batch = kept;
            }
        }
        dropped + self.apply(&batch)
    }
}
