//! Retention: whole partitions older than a database's retention are dropped; nothing inside
//! the window is touched. Tombstones that covered only dropped segments go with them.

use std::fs;
use std::sync::Arc;

use crate::database::{Activity, Database};
use crate::error::Result;

/// Drops `db`'s segments whose partition ends at or before `now - retention`; returns how many.
pub fn enforce(db: &Database, now: i64) -> Result<usize> {
    let mut manifest = db.maintenance();
    if manifest.retention_ns <= 0 || db.is_dropped() {
        return Ok(0);
    }
    let cutoff = now.saturating_sub(manifest.retention_ns);
    let partition_ns = manifest.partition_ns;
    let expired = |partition: i64| partition.saturating_add(partition_ns) <= cutoff;
    let doomed: Vec<u64> = manifest
        .segments
        .iter()
        .filter(|s| expired(s.partition))
        .map(|s| s.id)
        .collect();
    if doomed.is_empty() {
        return Ok(0);
    }
    let mut next = manifest.clone();
    next.segments.retain(|s| !doomed.contains(&s.id));
    let (live, tombstones) = {
        let st = db.state();
        let live: Vec<_> = st
            .segments
            .iter()
            .filter(|s| !doomed.contains(&s.entry.id))
            .cloned()
            .collect();
        (live, st.tombstones.clone())
    };
    next.tombstones = crate::tombstone::collect_garbage(&tombstones, &live, &next.segments)?;
    next.store(db.dir())?;
    {
        let mut st = db.state_mut();
        st.segments.retain(|s| !doomed.contains(&s.entry.id));
        st.tombstones = Arc::new(next.tombstones.clone());
    }
    *manifest = next;
    for id in &doomed {
        let path = db.segment_path(*id);
        let _ = fs::remove_file(path);
    }
    Activity::add(&db.activity.retention_dropped_segments, doomed.len() as u64);
    Ok(doomed.len())
}
