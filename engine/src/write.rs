//! Turning parsed lines into a [`Batch`]: series and fields resolved to ids (created when new),
//! values checked against their field's type.
//!
//! A line is all or nothing: if any of its fields conflicts with the field's type, the whole
//! line is rejected and nothing of it is written (as InfluxDB does), while the other lines of
//! the request go ahead.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use crate::batch::{Batch, FieldId, SeriesId};
use crate::database::Database;
use crate::error::RejectedLine;
use crate::line_protocol::{write_measurement, write_tag_component, Line};
use crate::model::{FieldValue, OwnedFieldValue};
use crate::schema::{FieldEntry, TypeConflict};
use crate::series_index::SeriesEntry;
use crate::write_cache::{CachedField, CachedSeries, Entries, Learned};

/// Builds one batch for one database.
pub struct Resolver<'d> {
    db: &'d Database,
    pub batch: Batch,
    /// Entries whose definitions this batch carries: marked logged once it is appended.
    pub defined_series: Vec<Arc<SeriesEntry>>,
    pub defined_fields: Vec<Arc<FieldEntry>>,
    seen_series: HashSet<SeriesId>,
    seen_fields: HashSet<FieldId>,
    key: String,
    /// The line's fields resolved: (id, index in `line.fields`).
    field_ids: Vec<(FieldId, usize)>,
    /// The WAL epoch this batch was resolved in (see `Db::commit`).
    epoch: u64,
    /// Series resolved without the write cache, for it to learn once the batch is logged.
    pub learned: Vec<Learned>,
    learned_bytes: usize,
}

impl<'d> Resolver<'d> {
    pub fn new(db: &'d Database, epoch: u64) -> Self {
        Resolver {
            epoch,
            db,
            batch: Batch::default(),
            defined_series: Vec::new(),
            defined_fields: Vec::new(),
            seen_series: HashSet::new(),
            seen_fields: HashSet::new(),
            key: String::with_capacity(128),
            field_ids: Vec::new(),
            learned: Vec::new(),
            learned_bytes: 0,
        }
    }

    /// Adds one line whose measurement and tags were written as `raw` (see
    /// `LineParser::series_bytes`; empty if unknown), using the write cache `cache` when it
    /// knows `raw` and every field of the line with the line's types; otherwise resolves the
    /// line as [`Resolver::add`] does and notes what it found for the cache to learn.
    pub fn add_line(
        &mut self,
        raw: &[u8],
        line: &Line<'_>,
        default_time: i64,
        cache: Option<&Entries>,
    ) -> Result<(), RejectedLine> {
        if let Some(known) = cache.and_then(|c| c.get(self.epoch, raw)) {
            if self.add_known(known, line, default_time) {
                return Ok(());
            }
        }
        self.add(line, default_time)?;
        if !raw.is_empty() && self.learned_bytes < crate::write_cache::MAX_BYTES {
            if let Some(&series) = self.batch.series.last() {
                let fields: Vec<CachedField> = self
                    .field_ids
                    .iter()
                    .map(|&(id, j)| {
                        let (key, value) = &line.fields[j];
                        CachedField {
                            key: key.as_ref().into(),
                            id,
                            field_type: value.field_type(),
                        }
                    })
                    .collect();
                self.learned_bytes += raw.len() + fields.len() * 32;
                self.learned.push(Learned {
                    raw: raw.into(),
                    series,
                    fields,
                });
            }
        }
        Ok(())
    }

    /// Adds one line whose series the write cache knows as `known`, if the entry also knows
    /// every field of the line with the line's types; returns whether it did. The line's
    /// measurement and tags are not looked at (they may be unparsed).
    pub fn add_known(&mut self, known: &CachedSeries, line: &Line<'_>, default_time: i64) -> bool {
        let Some(series) = known.id else {
            return false;
        };
        self.field_ids.clear();
        for (j, (key, value)) in line.fields.iter().enumerate() {
            let found = known
                .fields
                .iter()
                .find(|f| *f.key == **key && f.field_type == value.field_type());
            match found {
                Some(f) => self.field_ids.push((f.id, j)),
                None => return false,
            }
        }
        self.push_resolved(line, series, default_time);
        true
    }

    /// Adds one line, stamped `default_time` if it has no timestamp.
    pub fn add(&mut self, line: &Line<'_>, default_time: i64) -> Result<(), RejectedLine> {
        self.resolve_fields(line)?;
        let series = self.resolve_series(line);
        self.push_resolved(line, series, default_time);
        Ok(())
    }

    /// Pushes `line` as a point of `series`, its fields as resolved in `field_ids`.
    fn push_resolved(&mut self, line: &Line<'_>, series: SeriesId, default_time: i64) {
        self.batch
            .push_point(series, line.timestamp.unwrap_or(default_time));
        for &(id, j) in &self.field_ids {
            self.batch.push_field(id, owned(&line.fields[j].1));
        }
    }

    /// Makes this batch define field `e` if no WAL record has yet (once per batch).
    fn define_if_unlogged(&mut self, e: &Arc<FieldEntry>) {
        if !e.is_logged() && self.seen_fields.insert(e.id) {
            self.batch.new_fields.push(e.def());
            self.defined_fields.push(e.clone());
        }
    }

    /// Resolves every field of the line, creating new ones, before anything is pushed.
    fn resolve_fields(&mut self, line: &Line<'_>) -> Result<(), RejectedLine> {
        self.field_ids.clear();
        let measurement = line.measurement.as_ref();
        {
            let db = self.db;
            let schema = db.schema();
            for (j, (key, value)) in line.fields.iter().enumerate() {
                match schema.get(measurement, key) {
                    Some(e) if e.field_type == value.field_type() => {
                        self.field_ids.push((e.id, j));
                        self.define_if_unlogged(e);
                    }
                    Some(e) => {
                        return Err(conflict(
                            line,
                            j,
                            TypeConflict {
                                existing: e.field_type,
                            },
                        ))
                    }
                    None => {}
                }
            }
        }
        if self.field_ids.len() < line.fields.len() {
            let db = self.db;
            let mut schema = db.schema_mut();
            for (j, (key, value)) in line.fields.iter().enumerate() {
                if self.field_ids.iter().any(|(_, k)| *k == j) {
                    continue;
                }
                match schema.get_or_create(measurement, key, value.field_type()) {
                    Ok(e) => {
                        self.field_ids.push((e.id, j));
                        self.define_if_unlogged(&e);
                    }
                    Err(c) => return Err(conflict(line, j, c)),
                }
            }
        }
        Ok(())
    }

    fn resolve_series(&mut self, line: &Line<'_>) -> SeriesId {
        self.key.clear();
        write_measurement(&mut self.key, &line.measurement);
        for (k, v) in &line.tags {
            self.key.push(',');
            write_tag_component(&mut self.key, k);
            self.key.push('=');
            write_tag_component(&mut self.key, v);
        }
        let found = {
            let index = self.db.index();
            index.id_of(&self.key).map(|id| {
                let logged = index.is_logged(id);
                (
                    id,
                    logged,
                    (!logged).then(|| index.mem_entry(id).cloned()).flatten(),
                )
            })
        };
        let (id, logged, entry) = match found {
            Some(f) => f,
            None => {
                let (id, created) = self
                    .db
                    .index_mut()
                    .get_or_create(&self.key, &line.measurement);
                // Another writer may have created it first: then `created` is None and the
                // entry is looked up again.
                let entry = created.or_else(|| self.db.index().mem_entry(id).cloned());
                let logged = entry.as_ref().is_none_or(|e| e.is_logged());
                (id, logged, entry)
            }
        };
        if !logged && self.seen_series.insert(id) {
            self.batch.new_series.push(crate::batch::SeriesDef {
                id,
                key: self.key.clone(),
            });
            if let Some(e) = entry {
                self.defined_series.push(e);
            }
        }
        id
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Makes the batch define every series and field it uses, logged or not: for a batch that
    /// goes into a WAL segment started after it was resolved, or that was resolved before a
    /// `DROP MEASUREMENT` removed some of its fields (their values go: the drop came first).
    pub fn define_everything(&mut self) {
        self.drop_removed_fields();
        let index = self.db.index();
        for &sid in &self.batch.series {
            if self.seen_series.insert(sid) {
                if let Some(key) = index.key_of(sid) {
                    self.batch.new_series.push(crate::batch::SeriesDef {
                        id: sid,
                        key: key.to_owned(),
                    });
                }
                if let Some(e) = index.mem_entry(sid) {
                    self.defined_series.push(e.clone());
                }
            }
        }
        drop(index);
        let schema = self.db.schema();
        for &fid in &self.batch.field_ids {
            if self.seen_fields.insert(fid) {
                if let Some(e) = schema.by_id(fid) {
                    self.batch.new_fields.push(e.def());
                    self.defined_fields.push(e.clone());
                }
            }
        }
    }

    /// Leaves out of the batch the fields no longer in the schema (values, definitions, and
    /// points left without a field), so its record never defines a removed field again.
    fn drop_removed_fields(&mut self) {
        let schema = self.db.schema();
        let known = |id: FieldId| schema.by_id(id).is_some();
        if self.batch.field_ids.iter().all(|&f| known(f)) {
            return;
        }
        let mut kept = Batch {
            new_series: std::mem::take(&mut self.batch.new_series),
            new_fields: std::mem::take(&mut self.batch.new_fields),
            ..Batch::default()
        };
        kept.new_fields.retain(|d| known(d.id));
        self.defined_fields.retain(|e| known(e.id));
        for i in 0..self.batch.point_count() {
            let (ids, values) = self.batch.fields_of(i);
            if !ids.iter().any(|&f| known(f)) {
                continue;
            }
            kept.push_point(self.batch.series[i], self.batch.times[i]);
            for (&id, v) in ids.iter().zip(values) {
                if known(id) {
                    kept.push_field(id, v.clone());
                }
            }
        }
        self.batch = kept;
    }

    /// Marks this batch's definitions as logged: call once its record is appended to the WAL.
    pub fn mark_logged(&self) {
        for s in &self.defined_series {
            s.mark_logged();
        }
        for f in &self.defined_fields {
            f.mark_logged();
        }
    }
}

fn owned(v: &FieldValue<'_>) -> OwnedFieldValue {
    match v {
        FieldValue::Float(x) => FieldValue::Float(*x),
        FieldValue::Integer(x) => FieldValue::Integer(*x),
        FieldValue::Unsigned(x) => FieldValue::Unsigned(*x),
        FieldValue::String(s) => FieldValue::String(Cow::Owned(s.to_string())),
        FieldValue::Boolean(x) => FieldValue::Boolean(*x),
    }
}

fn conflict(line: &Line<'_>, j: usize, c: TypeConflict) -> RejectedLine {
    let (key, value) = &line.fields[j];
    RejectedLine::FieldTypeConflict {
        line: line.line_number,
        measurement: line.measurement.to_string(),
        field: key.to_string(),
        existing: c.existing,
        new: value.field_type(),
    }
}
