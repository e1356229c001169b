//! Compaction: merging a partition's small segments into one, resolving duplicates (last write
//! wins) and late points that landed in separate segments.
//!
//! [`pick`] decides what to merge and is a pure function of the manifest; [`compact`] does the
//! I/O. Inputs are always a contiguous run of a partition's segments in recency order, so the
//! output can take the run's highest order without jumping over a segment in between.
//!
//! Deleted points go for good here: each input leaves out what the tombstones covering it hide
//! (before the merge, so a deleted value never wins over an older one), and afterwards every
//! tombstone that no longer covers a point is discarded (`tombstone::collect_garbage`). An
//! output left with no point at all is not written.
//!
//! The manifest lock is held only to pick the inputs (reserving the output's id) and to swap
//! them for the output: a flush, a delete or a retention pass does not wait for a merge.
//! Compactions of one database run one at a time (`Database::merge_lock`). If the inputs are
//! no longer all live at the swap (retention dropped their partition), the output is thrown
//! away; a dropped database stops the merge at its next check. Tombstones added meanwhile
//! cover the output as they covered its inputs (its order is theirs).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::sync::Arc;

use crate::batch::{FieldId, SeriesId};
use crate::database::{Activity, Database, LiveSegment};
use crate::error::Result;
use crate::manifest::SegmentEntry;
use crate::memtable::Column;
use crate::merge::merge_runs;
use crate::model::FieldType;
use crate::segment::{Segment, SegmentWriter, SeriesData};
use crate::tombstone;

/// When a partition's segments are worth merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionPolicy {
    /// Merge a run once it has this many segments.
    pub min_inputs: usize,
    /// Segments at least this large are left alone by routine compaction.
    pub max_input_bytes: u64,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        CompactionPolicy {
            min_inputs: 4,
            max_input_bytes: 256 << 20,
        }
    }
}

/// How hard compaction should try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every partition with two or more segments merged whole (and lone dirty segments
    /// rewritten).
    Full,
    /// The merges the policy asks for (see [`pick`]).
    Routine,
    /// Writes are pressing: only partitions that have piled up [`backlog_limit`] segments.
    Busy,
}

/// Segments a partition may pile up while writes are pressing before it is merged anyway.
///
/// A backlog merge holds the maintenance thread, and so the next flush, for as long as it
/// takes (seconds for a few million values), and writers wait behind that flush: the limit is
/// high enough that a burst (the Day load: ~33 flushes of 12 MiB) never reaches it, and low
/// enough that reads under a sustained overload look at a bounded number of segments.
pub fn backlog_limit(policy: &CompactionPolicy) -> usize {
    policy.min_inputs.max(2) * 16
}

/// What to compact in `db` now: [`pick`] over its segments, with the segments still holding
/// deleted points as `dirty`.
pub fn plan(db: &Database, policy: &CompactionPolicy, mode: Mode) -> Result<Vec<Vec<u64>>> {
    let manifest = db.maintenance();
    let dirty = {
        let st = db.state();
        if st.tombstones.is_empty() {
            HashSet::new()
        } else {
            tombstone::dirty_segments(&st.tombstones, &st.segments)?
        }
    };
    Ok(pick(&manifest.segments, policy, mode, &dirty))
}

/// The runs of segment ids to merge, one run per partition at most.
///
/// - [`Mode::Full`]: every partition with two or more segments, whole, and every partition
///   whose one segment is a flush's (level 0).
/// - [`Mode::Routine`]: in each partition, tiered by level (a flush writes level 0, a merge
///   writes one more than its highest input): the longest contiguous run (by order; the
///   first on ties) of segments of one level, all smaller than `max_input_bytes`, if it has
///   at least `min_inputs`, trying the lowest level first. Each value is so rewritten about log(flushes)/log(min_inputs) times,
///   instead of at every merge. A partition that has piled up [`backlog_limit`] segments
///   (levels interleaved by late data, say) gets its longest run of small segments merged
///   whatever their levels.
/// - [`Mode::Busy`]: only that backlog rule.
///
/// In `Full` and `Routine`, a partition with nothing else to do but a `dirty` segment (one
/// holding deleted points) gets that segment rewritten alone, so deletes reclaim their space
/// and their tombstones go.
pub fn pick(
    segments: &[SegmentEntry],
    policy: &CompactionPolicy,
    mode: Mode,
    dirty: &HashSet<u64>,
) -> Vec<Vec<u64>> {
    let mut by_partition: BTreeMap<i64, Vec<&SegmentEntry>> = BTreeMap::new();
    for s in segments {
        by_partition.entry(s.partition).or_default().push(s);
    }
    let mut runs = Vec::new();
    for (_, mut segs) in by_partition {
        segs.sort_by_key(|s| s.order);
        let purge = segs
            .iter()
            .find(|s| dirty.contains(&s.id))
            .map(|s| vec![s.id]);
        if mode == Mode::Full {
            // A lone flush output is rewritten too: flushes encode for speed, merges for
            // size, and a full compaction leaves every partition in the compact form.
            if segs.len() >= 2 || segs.iter().all(|s| s.level == 0) {
                runs.push(segs.iter().map(|s| s.id).collect());
            } else {
                runs.extend(purge);
            }
            continue;
        }
        let small = |s: &SegmentEntry| s.bytes < policy.max_input_bytes;
        let min_inputs = policy.min_inputs.max(2);
        let chosen = if segs.len() >= backlog_limit(policy) {
            Some(longest_run(&segs, small))
        } else if mode == Mode::Routine {
            let mut levels: Vec<u8> = segs.iter().map(|s| s.level).collect();
            levels.sort_unstable();
            levels.dedup();
            levels.into_iter().find_map(|level| {
                let run = longest_run(&segs, |s| s.level == level && small(s));
                (run.len() >= min_inputs).then_some(run)
            })
        } else {
            None
        };
        match chosen {
            Some(run) if run.len() >= min_inputs => runs.push(run.iter().map(|s| s.id).collect()),
            _ if mode == Mode::Routine => runs.extend(purge),
            _ => {}
        }
    }
    runs
}

/// The longest contiguous run of `segs` whose members are all `eligible` (the first on ties).
fn longest_run<'a, 's>(
    segs: &'a [&'s SegmentEntry],
    eligible: impl Fn(&SegmentEntry) -> bool,
) -> &'a [&'s SegmentEntry] {
    let mut best: &[&SegmentEntry] = &[];
    let mut start = 0;
    for i in 0..=segs.len() {
        if !segs.get(i).is_some_and(|s| eligible(s)) {
            if i - start > best.len() {
                best = &segs[start..i];
            }
            start = i + 1;
        }
    }
    best
}

/// How many series a merge reads between two releases of its inputs' pages.
const RELEASE_EVERY_SERIES: usize = 64;

/// Merges the segments `ids` (one partition, a contiguous run) into one; a single segment is
/// rewritten without its deleted points.
pub fn compact(db: &Database, ids: &[u64], block_rows: usize) -> Result<()> {
    let started = std::time::Instant::now();
    let _one_at_a_time = db.merge_lock();
    let (inputs, tombstones, id) = {
        let mut manifest = db.maintenance();
        if db.is_dropped() {
            return Ok(());
        }
        let tombstones = db.state().tombstones.clone();
        let inputs: Vec<Arc<LiveSegment>> = {
            let st = db.state();
            st.segments
                .iter()
                .filter(|s| ids.contains(&s.entry.id))
                .cloned()
                .collect()
        };
        // Some gone since the plan (retention): what is left may not be contiguous in order.
        if inputs.is_empty() || inputs.len() != ids.len() {
            return Ok(());
        }
        // Reserved: the next manifest stored, whoever stores it, counts past it.
        let id = manifest.next_segment_id;
        manifest.next_segment_id += 1;
        (inputs, tombstones, id)
    };
    let ids: Vec<u64> = inputs.iter().map(|s| s.entry.id).collect();
    // Every series of any input, by key; inputs are in ascending order (oldest first).
    let mut series: BTreeMap<&str, SeriesId> = BTreeMap::new();
    for input in &inputs {
        for s in input.segment.series() {
            series.insert(&s.key, s.id);
        }
    }
    let path = db.segment_path(id);
    let mut writer = SegmentWriter::create(&path, block_rows)?;
    for (n, (key, sid)) in series.into_iter().enumerate() {
        // The inputs are read once, front to back: their pages need not stay resident.
        if n % RELEASE_EVERY_SERIES == RELEASE_EVERY_SERIES - 1 {
            inputs.iter().for_each(|i| i.segment.release_pages());
            if db.is_dropped() {
                // Its directory goes as soon as this returns (see `Db::drop_database`).
                return Ok(());
            }
        }
        let mut fields: BTreeMap<FieldId, Vec<Column>> = BTreeMap::new();
        for input in &inputs {
            let Some(meta) = input.segment.find(sid) else {
                continue;
            };
            let mut present: Vec<(FieldId, FieldType)> = meta
                .blocks
                .iter()
                .flat_map(|b| b.fields.iter().map(|c| (c.field, c.field_type)))
                .collect();
            present.sort_unstable();
            present.dedup();
            let cols = input
                .segment
                .read_columns(meta, &present, i64::MIN, i64::MAX)?;
            let cuts = tombstone::cuts(&tombstones, sid, input.entry.order);
            for ((fid, _), col) in present.into_iter().zip(cols) {
                fields
                    .entry(fid)
                    .or_default()
                    .push(tombstone::cut_column(col, &cuts));
            }
        }
        let fields: Vec<(FieldId, Column)> = fields
            .into_iter()
            .map(|(fid, runs)| {
                let t = runs[0].values.field_type();
                (fid, merge_runs(t, runs))
            })
            .filter(|(_, c)| !c.is_empty())
            .collect();
        if fields.is_empty() {
            continue;
        }
        writer.add(&SeriesData {
            id: sid,
            key: key.to_owned(),
            fields,
        })?;
    }
    inputs.iter().for_each(|i| i.segment.release_pages());
    if db.is_dropped() {
        return Ok(());
    }
    let summary = writer.finish()?;
    // Everything deleted: no output, the inputs just go.
    let output = if summary.values == 0 {
        let _ = fs::remove_file(&path);
        None
    } else {
        Some(Segment::open(&path)?)
    };

    let first = &inputs[0].entry;
    let entry = SegmentEntry {
        id,
        order: inputs
            .iter()
            .map(|s| s.entry.order)
            .max()
            .unwrap_or(first.order),
        partition: first.partition,
        level: inputs
            .iter()
            .map(|s| s.entry.level)
            .max()
            .unwrap_or(0)
            .saturating_add(1),
        min_time: summary.min_time,
        max_time: summary.max_time,
        bytes: summary.bytes,
        values: summary.values,
    };
    let entry_values = entry.values;
    let output = output.map(|segment| Arc::new(LiveSegment { entry, segment }));

    #[cfg(test)]
    tests::before_swap();
    let mut manifest = db.maintenance();
    let all_live = ids
        .iter()
        .all(|id| manifest.segments.iter().any(|s| s.id == *id));
    if db.is_dropped() || !all_live {
        drop(output);
        let _ = fs::remove_file(&path);
        return Ok(());
    }
    // The tombstones now, with any a delete added during the merge.
    let tombstones = db.state().tombstones.clone();
    let mut next = manifest.clone();
    next.segments.retain(|s| !ids.contains(&s.id));
    next.segments.extend(output.iter().map(|o| o.entry.clone()));
    let mut live: Vec<Arc<LiveSegment>> = db
        .state()
        .segments
        .iter()
        .filter(|s| !ids.contains(&s.entry.id))
        .cloned()
        .collect();
    live.extend(output.iter().cloned());
    next.tombstones = tombstone::collect_garbage(&tombstones, &live, &next.segments)?;
    next.store(db.dir())?;
    {
        let mut st = db.state_mut();
        st.segments.retain(|s| !ids.contains(&s.entry.id));
        st.segments.extend(output);
        st.segments.sort_by_key(|s| s.entry.order);
        st.tombstones = Arc::new(next.tombstones.clone());
    }
    *manifest = next;
    let a = &db.activity;
    Activity::add(&a.compactions, 1);
    Activity::add(&a.compacted_values, entry_values);
    Activity::add(&a.compaction_nanos, started.elapsed().as_nanos() as u64);
    // Readers still holding an input keep its mapping alive; the name can go now.
    for input in &inputs {
        let _ = fs::remove_file(input.segment.path());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Runs once on this thread between a merge and its swap (then is cleared).
        static BEFORE_SWAP: std::cell::RefCell<Option<Box<dyn FnOnce()>>> =
            const { std::cell::RefCell::new(None) };
    }

    pub(super) fn before_swap() {
        if let Some(hook) = BEFORE_SWAP.with(|h| h.borrow_mut().take()) {
            hook();
        }
    }

    /// A database with two flushed segments of `m v=…` (10 points each).
    fn two_segments() -> (tempfile::TempDir, crate::Db) {
        let dir = tempfile::tempdir().unwrap();
        let options = crate::Options {
            fsync: crate::Fsync::Never,
            background_maintenance: false,
            ..crate::Options::default()
        };
        let db = crate::Db::open(dir.path(), options).unwrap();
        db.create_database("city").unwrap();
        for round in 0..2 {
            write(&db, round * 10..round * 10 + 10);
            db.flush().unwrap();
        }
        (dir, db)
    }

    fn write(db: &crate::Db, times: std::ops::Range<i64>) {
        let body: String = times.map(|t| format!("m v={t} {t}\n")).collect();
        db.write_lines("city", body.as_bytes(), crate::Precision::Nanoseconds)
            .unwrap();
    }

    fn count(db: &crate::Db) -> Option<OwnedCount> {
        let r = db.query("city", "SELECT count(v) FROM m").unwrap();
        let series = r.into_iter().next()?.ok()?;
        series.first()?.rows.first()?.1.first()?.clone()
    }
    type OwnedCount = crate::model::OwnedFieldValue;

    fn segment_files(dir: &std::path::Path) -> usize {
        walk(dir)
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "seg"))
            .count()
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    /// Runs a full compaction of `db` on a thread of its own with `hook` between its merge
    /// and its swap; fails (instead of hanging) if it does not end.
    fn compact_with_hook(db: &crate::Db, hook: impl FnOnce() + Send + 'static) {
        let (done, ended) = std::sync::mpsc::channel();
        let db = db.clone();
        let thread = std::thread::spawn(move || {
            BEFORE_SWAP.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
            let _ = done.send(db.compact(true));
        });
        let result = ended
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the compaction ends: its hook could take the manifest lock");
        result.unwrap();
        // The thread's handle on the engine is gone once it is joined (the data directory
        // can be opened again).
        thread.join().unwrap();
    }

    #[test]
    fn a_flush_during_a_merge_does_not_wait_for_it_and_nothing_is_lost() {
        let (dir, db) = two_segments();
        let during = db.clone();
        compact_with_hook(&db, move || {
            // Needs the manifest lock: a merge holding it would deadlock here.
            write(&during, 20..30);
            during.flush().unwrap();
        });
        assert_eq!(count(&db), Some(crate::model::FieldValue::Integer(30)));
        // The merge's output and the flush's segment.
        assert_eq!(segment_files(dir.path()), 2);
        drop(db);
        let db = crate::Db::open(dir.path(), crate::Options::default()).unwrap();
        assert_eq!(count(&db), Some(crate::model::FieldValue::Integer(30)));
    }

    #[test]
    fn a_merge_whose_inputs_went_meanwhile_throws_its_output_away() {
        let (dir, db) = two_segments();
        db.set_retention("city", Some(std::time::Duration::from_secs(3600)))
            .unwrap();
        let database = db.database("city").unwrap();
        compact_with_hook(&db, move || {
            // Retention drops the inputs' partition (1970) while the merge runs.
            let dropped = crate::retention::enforce(&database, crate::db::now_nanos()).unwrap();
            assert_eq!(dropped, 2);
        });
        assert_eq!(count(&db), None);
        assert_eq!(
            segment_files(dir.path()),
            0,
            "the merge's output was removed"
        );
    }

    #[test]
    fn a_merge_of_a_database_dropped_meanwhile_leaves_no_output() {
        let (dir, db) = two_segments();
        let database = db.database("city").unwrap();
        let marked = database.clone();
        // What `Db::drop_database` does under the manifest lock before it waits for the merge.
        compact_with_hook(&db, move || marked.mark_dropped());
        assert_eq!(segment_files(dir.path()), 2, "inputs kept, no output");
        assert_eq!(database.maintenance().segments.len(), 2);
    }

    fn seg(id: u64, order: u64, partition: i64, bytes: u64) -> SegmentEntry {
        leveled(id, order, partition, bytes, 0)
    }

    fn leveled(id: u64, order: u64, partition: i64, bytes: u64, level: u8) -> SegmentEntry {
        SegmentEntry {
            id,
            order,
            partition,
            level,
            min_time: 0,
            max_time: 0,
            bytes,
            values: 1,
        }
    }

    fn none() -> HashSet<u64> {
        HashSet::new()
    }

    #[test]
    fn a_segment_with_deleted_points_is_rewritten_when_nothing_else_is() {
        let p = CompactionPolicy {
            min_inputs: 3,
            max_input_bytes: 100,
        };
        let dirty = HashSet::from([2, 7]);
        // Partition 0: too few to merge, so segment 2 alone; partition 10: a run wins.
        let segs = vec![
            seg(1, 1, 0, 10),
            seg(2, 2, 0, 500),
            seg(5, 1, 10, 10),
            seg(6, 2, 10, 10),
            seg(7, 3, 10, 10),
        ];
        assert_eq!(
            pick(&segs, &p, Mode::Routine, &dirty),
            vec![vec![2], vec![5, 6, 7]]
        );
        assert_eq!(
            pick(&[seg(2, 2, 0, 500)], &p, Mode::Full, &dirty),
            vec![vec![2]]
        );
        assert!(pick(&[leveled(3, 2, 0, 500, 1)], &p, Mode::Full, &dirty).is_empty());
    }

    #[test]
    fn routine_compaction_waits_for_enough_small_segments() {
        let p = CompactionPolicy {
            min_inputs: 3,
            max_input_bytes: 100,
        };
        let segs = vec![seg(1, 1, 0, 10), seg(2, 2, 0, 10)];
        assert!(pick(&segs, &p, Mode::Routine, &none()).is_empty());
        let segs = vec![seg(1, 1, 0, 10), seg(2, 2, 0, 10), seg(3, 3, 0, 10)];
        assert_eq!(pick(&segs, &p, Mode::Routine, &none()), vec![vec![1, 2, 3]]);
    }

    #[test]
    fn runs_are_contiguous_in_order_and_skip_big_segments() {
        let p = CompactionPolicy {
            min_inputs: 2,
            max_input_bytes: 100,
        };
        // Order 3 is big: the run may not jump over it.
        let segs = vec![
            seg(10, 4, 0, 5),
            seg(11, 1, 0, 5),
            seg(12, 3, 0, 500),
            seg(13, 5, 0, 5),
        ];
        assert_eq!(pick(&segs, &p, Mode::Routine, &none()), vec![vec![10, 13]]);
        let segs = vec![seg(1, 1, 0, 5), seg(2, 2, 0, 500), seg(3, 3, 0, 5)];
        assert!(pick(&segs, &p, Mode::Routine, &none()).is_empty());
    }

    #[test]
    fn partitions_are_compacted_separately_and_full_takes_everything() {
        let p = CompactionPolicy {
            min_inputs: 2,
            max_input_bytes: 100,
        };
        let segs = vec![
            seg(1, 1, 0, 5),
            seg(2, 1, 86_400, 5),
            seg(3, 2, 0, 500),
            seg(4, 2, 86_400, 5),
        ];
        assert_eq!(pick(&segs, &p, Mode::Routine, &none()), vec![vec![2, 4]]);
        assert_eq!(
            pick(&segs, &p, Mode::Full, &none()),
            vec![vec![1, 3], vec![2, 4]]
        );
        // A lone flush output is rewritten (in the compact encoding); a lone merge output is
        // left alone.
        assert_eq!(
            pick(&[seg(1, 1, 0, 5)], &p, Mode::Full, &none()),
            vec![vec![1]]
        );
        assert!(pick(&[leveled(1, 1, 0, 5, 1)], &p, Mode::Full, &none()).is_empty());
    }

    #[test]
    fn routine_merges_runs_of_one_level_lowest_first() {
        let p = CompactionPolicy {
            min_inputs: 2,
            max_input_bytes: 100,
        };
        // One level-1 segment, then level-0 flushes: only the flushes merge.
        let segs = vec![
            leveled(1, 1, 0, 40, 1),
            leveled(2, 2, 0, 5, 0),
            leveled(3, 3, 0, 5, 0),
        ];
        assert_eq!(pick(&segs, &p, Mode::Routine, &none()), vec![vec![2, 3]]);
        // A level-1 pair and a lone level-0: the pair.
        let segs = vec![
            leveled(1, 1, 0, 40, 1),
            leveled(2, 2, 0, 40, 1),
            leveled(3, 3, 0, 5, 0),
        ];
        assert_eq!(pick(&segs, &p, Mode::Routine, &none()), vec![vec![1, 2]]);
        // Levels alternating: nothing yet (the backlog rule takes over later).
        let segs: Vec<SegmentEntry> = (0..6).map(|i| leveled(i, i, 0, 5, (i % 2) as u8)).collect();
        assert!(pick(&segs, &p, Mode::Routine, &none()).is_empty());
    }

    #[test]
    fn a_backlog_is_merged_whatever_the_levels_and_even_when_busy() {
        let p = CompactionPolicy {
            min_inputs: 2,
            max_input_bytes: 100,
        };
        let n = backlog_limit(&p) as u64;
        let segs: Vec<SegmentEntry> = (0..n).map(|i| leveled(i, i, 0, 5, (i % 2) as u8)).collect();
        let all: Vec<u64> = (0..n).collect();
        assert_eq!(pick(&segs, &p, Mode::Routine, &none()), vec![all.clone()]);
        assert_eq!(pick(&segs, &p, Mode::Busy, &none()), vec![all]);
        // Below the backlog, busy merges nothing, not even a dirty segment.
        let segs = vec![seg(1, 1, 0, 5), seg(2, 2, 0, 5)];
        assert!(pick(&segs, &p, Mode::Busy, &HashSet::from([1])).is_empty());
        assert_eq!(pick(&segs, &p, Mode::Routine, &none()), vec![vec![1, 2]]);
    }
}
