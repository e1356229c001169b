//! The field schema of one database: each (measurement, field key) has an id and a type that
//! never changes once the field is first written.
//!
//! Invariants: a field id is never reused within a database; `logged` follows the same rule as
//! for series (see `series_index`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::batch::{FieldDef, FieldId};
use crate::model::FieldType;

#[derive(Debug)]
pub struct FieldEntry {
    pub id: FieldId,
    pub measurement: Box<str>,
    pub key: Box<str>,
    pub field_type: FieldType,
    logged: AtomicBool,
}

impl FieldEntry {
    pub fn is_logged(&self) -> bool {
        self.logged.load(Ordering::Acquire)
    }

    pub fn mark_logged(&self) {
        self.logged.store(true, Ordering::Release);
    }

    pub fn def(&self) -> FieldDef {
        FieldDef {
            id: self.id,
            measurement: self.measurement.to_string(),
            key: self.key.to_string(),
            field_type: self.field_type,
        }
    }
}

/// A write of a type other than the field's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeConflict {
    pub existing: FieldType,
}

#[derive(Debug, Default)]
pub struct Schema {
    /// measurement → field key → entry; sorted so listings come out in order.
    measurements: HashMap<Box<str>, BTreeMap<Box<str>, Arc<FieldEntry>>>,
    by_id: HashMap<FieldId, Arc<FieldEntry>>,
    next_id: u32,
}

impl Schema {
    pub fn get(&self, measurement: &str, key: &str) -> Option<&Arc<FieldEntry>> {
        self.measurements.get(measurement)?.get(key)
    }

    pub fn by_id(&self, id: FieldId) -> Option<&Arc<FieldEntry>> {
        self.by_id.get(&id)
    }

    /// The field's entry, created with `field_type` if new; a conflict if it has another type.
    pub fn get_or_create(
        &mut self,
        measurement: &str,
        key: &str,
        field_type: FieldType,
    ) -> Result<Arc<FieldEntry>, TypeConflict> {
        if let Some(e) = self.get(measurement, key) {
            return if e.field_type == field_type {
                Ok(e.clone())
            } else {
                Err(TypeConflict {
                    existing: e.field_type,
                })
            };
        }
        let id = FieldId(self.next_id);
        self.next_id += 1;
        let entry = Arc::new(FieldEntry {
            id,
            measurement: measurement.into(),
            key: key.into(),
            field_type,
            logged: AtomicBool::new(false),
        });
        self.insert(entry.clone());
        Ok(entry)
    }

    /// Adds a field defined by a replayed WAL record; a conflicting redefinition is an error.
    pub fn insert_replayed(&mut self, def: &FieldDef) -> Result<(), String> {
        if let Some(e) = self.by_id.get(&def.id) {
            let same = *e.measurement == *def.measurement
                && *e.key == *def.key
                && e.field_type == def.field_type;
            return if same {
                Ok(())
            } else {
                Err(format!("field id {} defined twice", def.id.0))
            };
        }
        if let Some(e) = self.get(&def.measurement, &def.key) {
            return Err(format!(
                "field {:?} of {:?} defined as both id {} and id {}",
                def.key, def.measurement, e.id.0, def.id.0
            ));
        }
        self.next_id = self.next_id.max(def.id.0 + 1);
        self.insert(Arc::new(FieldEntry {
            id: def.id,
            measurement: def.measurement.as_str().into(),
            key: def.key.as_str().into(),
            field_type: def.field_type,
            logged: AtomicBool::new(true),
        }));
        Ok(())
    }

    fn insert(&mut self, entry: Arc<FieldEntry>) {
        self.measurements
            .entry(entry.measurement.clone())
            .or_default()
            .insert(entry.key.clone(), entry.clone());
        self.by_id.insert(entry.id, entry);
    }

    /// Removes fields (`DROP MEASUREMENT`): their ids stay retired, and the next write of the
    /// same key creates a new field, of any type.
    pub fn remove(&mut self, ids: &[FieldId]) {
        for id in ids {
            if let Some(e) = self.by_id.remove(id) {
                if let Some(m) = self.measurements.get_mut(&e.measurement) {
                    m.remove(&e.key);
                    if m.is_empty() {
                        self.measurements.remove(&e.measurement);
                    }
                }
            }
        }
    }

    /// Makes sure ids below `next` are never handed out again.
    pub fn reserve_ids(&mut self, next: u32) {
        self.next_id = self.next_id.max(next);
    }

    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// Clears every field's logged flag.
    pub fn reset_logged(&self) {
        for e in self.by_id.values() {
            e.logged.store(false, Ordering::Release);
        }
    }

    /// Every field's definition, by id.
    pub fn defs(&self) -> Vec<FieldDef> {
        let mut defs: Vec<FieldDef> = self.by_id.values().map(|e| e.def()).collect();
        defs.sort_by_key(|d| d.id);
        defs
    }

    /// The fields of a measurement, sorted by key.
    pub fn fields_of(&self, measurement: &str) -> impl Iterator<Item = &Arc<FieldEntry>> {
        self.measurements
            .get(measurement)
            .into_iter()
            .flat_map(|m| m.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_keeps_its_first_type() {
        let mut s = Schema::default();
        let a = s.get_or_create("air", "pm25", FieldType::Float).unwrap();
        assert_eq!(
            s.get_or_create("air", "pm25", FieldType::Float).unwrap().id,
            a.id
        );
        assert_eq!(
            s.get_or_create("air", "pm25", FieldType::Integer)
                .unwrap_err(),
            TypeConflict {
                existing: FieldType::Float
            }
        );
        // The same key in another measurement is another field.
        let b = s
            .get_or_create("noise", "pm25", FieldType::Integer)
            .unwrap();
        assert_ne!(a.id, b.id);
    }

    #[test]
    fn replayed_definitions_must_agree() {
        let mut s = Schema::default();
        let def = FieldDef {
            id: FieldId(4),
            measurement: "air".into(),
            key: "pm25".into(),
            field_type: FieldType::Float,
        };
        s.insert_replayed(&def).unwrap();
        s.insert_replayed(&def).unwrap();
        let other = FieldDef {
            field_type: FieldType::String,
            ..def.clone()
        };
        assert!(s.insert_replayed(&other).is_err());
        // New fields continue after the highest replayed id.
        assert_eq!(
            s.get_or_create("air", "pm10", FieldType::Float).unwrap().id,
            FieldId(5)
        );
    }

    #[test]
    fn a_removed_field_comes_back_with_a_new_id_and_any_type() {
        let mut s = Schema::default();
        let a = s.get_or_create("air", "pm25", FieldType::Float).unwrap();
        s.remove(&[a.id]);
        assert!(s.get("air", "pm25").is_none() && s.by_id(a.id).is_none());
        assert_eq!(s.fields_of("air").count(), 0);
        let b = s.get_or_create("air", "pm25", FieldType::String).unwrap();
        assert!(b.id > a.id);
        assert_eq!(s.defs().len(), 1);
    }
}
