//! Flush: frozen memtables become segments, one per time partition they touch.
//!
//! Order of durability: each segment file is written and fsynced, then the manifest naming them
//! (with the new `wal_replay_from`) replaces the old one; only then does the caller delete the
//! WAL segments they came from. A crash at any point leaves either the old state (the WAL still
//! holds everything, stray segment files are removed at open) or the new one.
//!
//! The same manifest update records the deletes made since the last one (tombstones, hidden
//! series, dropped fields), because the WAL segments holding their records are about to go; it
//! is written even when there is nothing to flush if one of those changed.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::codec::Effort;
use crate::database::{Activity, Database, LiveSegment};
use crate::error::Error;
use crate::error::Result;
use crate::manifest::{partition_of, SegmentEntry};
use crate::memtable::Column;
use crate::merge::merge_runs;
use crate::segment::{Segment, SegmentWriter, SeriesData};
use crate::series_file::{SeriesFile, SeriesFileError};
use crate::tombstone;

fn series_file_error(path: &std::path::Path, e: SeriesFileError) -> Error {
    match e {
        SeriesFileError::Io { path, source } => Error::Io { path, source },
        SeriesFileError::Corrupt {
            path,
            offset,
            reason,
        } => Error::Corrupt {
            path,
            offset,
            reason,
        },
        other => Error::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason: other.to_string(),
        },
    }
}

/// Writes `db`'s frozen memtables to segments and swaps them in. `wal_replay_from` is the
/// first WAL segment whose records are not in the frozen memtables.
pub fn flush_frozen(db: &Database, wal_replay_from: u64, block_rows: usize) -> Result<()> {
    let started = std::time::Instant::now();
    let mut manifest = db.maintenance();
    if db.is_dropped() {
        return Ok(());
    }
    let (frozen, tombstones, hidden) = {
        let st = db.state();
        (
            st.frozen.clone(),
            st.tombstones.clone(),
            st.hidden_at_freeze.clone(),
        )
    };
    if frozen.is_empty() {
        // Nothing to write; deletes since the last manifest must still reach it.
        let fields = db.schema().defs();
        if *tombstones == manifest.tombstones
            && hidden == manifest.hidden_series
            && fields == manifest.fields
        {
            return Ok(());
        }
        let mut next = manifest.clone();
        next.wal_replay_from = next.wal_replay_from.max(wal_replay_from);
        next.tombstones = {
            let live = db.state().segments.clone();
            tombstone::collect_garbage(&tombstones, &live, &next.segments)?
        };
        next.hidden_series = hidden;
        next.next_field_id = db.schema().next_id();
        next.fields = fields;
        next.store(db.dir())?;
        db.state_mut().tombstones = Arc::new(next.tombstones.clone());
        *manifest = next;
        return Ok(());
    }
    let partition_ns = manifest.partition_ns;

    // Series to write, in key order.
    let mut ids: Vec<_> = frozen.iter().flat_map(|m| m.series_ids()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut keyed: Vec<(String, crate::batch::SeriesId)> = {
        let index = db.index();
        ids.into_iter()
            .filter_map(|id| index.key_of(id).map(|k| (k.to_owned(), id)))
            .collect()
    };
    keyed.sort();

    let order = manifest.next_order;
    let mut next = manifest.clone();
    next.next_order += 1;
    // One writer per partition, fed series by series in key order: memory holds one series'
    // columns at a time (plus each writer's index), never a copy of the frozen memtables.
    let mut writers: BTreeMap<i64, (u64, SegmentWriter)> = BTreeMap::new();
    for (key, sid) in keyed {
        // Each field merged across the frozen memtables (later ones win).
        let mut fields: BTreeMap<crate::batch::FieldId, Vec<Column>> = BTreeMap::new();
        for m in &frozen {
            for (fid, col) in m.columns_of(sid) {
                fields.entry(fid).or_default().push(col);
            }
        }
        let mut parts: BTreeMap<i64, Vec<(crate::batch::FieldId, Column)>> = BTreeMap::new();
        for (fid, runs) in fields {
            let t = runs[0].values.field_type();
            let merged = merge_runs(t, runs);
            for (partition, part) in split_by_partition(merged, partition_ns) {
                parts.entry(partition).or_default().push((fid, part));
            }
        }
        for (partition, fields) in parts {
            let (_, writer) = match writers.entry(partition) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => {
                    let id = next.next_segment_id;
                    next.next_segment_id += 1;
                    v.insert((
                        id,
                        SegmentWriter::create_with(&db.segment_path(id), block_rows, Effort::Fast)?,
                    ))
                }
            };
            writer.add(&SeriesData {
                id: sid,
                key: key.clone(),
                fields,
            })?;
        }
    }

    let mut written = Vec::new();
    for (partition, (id, writer)) in writers {
        let summary = writer.finish()?;
        let path = db.segment_path(id);
        let entry = SegmentEntry {
            id,
            order,
            partition,
            level: 0,
            min_time: summary.min_time,
            max_time: summary.max_time,
            bytes: summary.bytes,
            values: summary.values,
        };
        next.segments.push(entry.clone());
        written.push(Arc::new(LiveSegment {
            entry,
            segment: Segment::open(&path)?,
        }));
    }
    // The series created since the last series file join it in a new one, named by the same
    // manifest as the segments that use them.
    let (new_series, old_file) = {
        let index = db.index();
        (index.memory_series(), index.file().cloned())
    };
    let mut series_file = None;
    if !new_series.is_empty() {
        let id = next.next_segment_id;
        next.next_segment_id += 1;
        let path = db.dir().join(crate::manifest::series_file_name(id));
        let new = new_series.iter().map(|(id, k)| (id.0, k.clone()));
        match &old_file {
            Some(f) => SeriesFile::write(&path, crate::series_file::merge_sorted(f, new)),
            None => SeriesFile::write(&path, new),
        }
        .map_err(|e| series_file_error(&path, e))?;
        let file = SeriesFile::open(&path).map_err(|e| series_file_error(&path, e))?;
        next.series_file = id;
        series_file = Some(Arc::new(file));
    }
    next.wal_replay_from = next.wal_replay_from.max(wal_replay_from);
    next.next_series_id = db.index().next_id();
    {
        let schema = db.schema();
        next.next_field_id = schema.next_id();
        next.fields = schema.defs();
    }
    next.hidden_series = hidden;
    // The new segments hold no deleted point (deletes clear the memtables), and no tombstone
    // covers them (their order is new); a tombstone that covers nothing goes now.
    next.tombstones = {
        let mut live = db.state().segments.clone();
        live.extend(written.iter().cloned());
        tombstone::collect_garbage(&tombstones, &live, &next.segments)?
    };
    next.store(db.dir())?;
    let old_series_file = manifest.series_file;
    *manifest = next;
    if let Some(file) = series_file {
        let written: Vec<_> = new_series.iter().map(|(id, _)| *id).collect();
        db.index_mut().adopt_file(file, &written);
        if old_series_file != 0 {
            // Readers holding the old file keep their mapping; the name can go.
            let _ = std::fs::remove_file(
                db.dir()
                    .join(crate::manifest::series_file_name(old_series_file)),
            );
        }
    }

    let values: u64 = written.iter().map(|s| s.entry.values).sum();
    let a = &db.activity;
    Activity::add(&a.flushes, 1);
    Activity::add(&a.flushed_values, values);
    Activity::add(&a.flush_nanos, started.elapsed().as_nanos() as u64);
    let mut st = db.state_mut();
    st.frozen.drain(..frozen.len());
    st.segments.extend(written);
    st.segments.sort_by_key(|s| s.entry.order);
    st.tombstones = Arc::new(manifest.tombstones.clone());
    Ok(())
}

/// Cuts a column at partition boundaries.
pub fn split_by_partition(col: Column, partition_ns: i64) -> Vec<(i64, Column)> {
    let (Some(&first), Some(&last)) = (col.times.first(), col.times.last()) else {
        return Vec::new();
    };
    if partition_of(first, partition_ns) == partition_of(last, partition_ns) {
        return vec![(partition_of(first, partition_ns), col)];
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < col.len() {
        let p = partition_of(col.times[start], partition_ns);
        let end = p.saturating_add(partition_ns);
        let stop = start + col.times[start..].partition_point(|&t| t < end);
        let mut values = crate::memtable::Values::new(col.values.field_type());
        values.extend_from(&col.values, start..stop);
        out.push((
            p,
            Column::from_sorted(col.times[start..stop].to_vec(), values),
        ));
        start = stop;
    }
    out
}
