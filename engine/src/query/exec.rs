//! Windowed aggregation of one field, pushed down into the segments.
//!
//! Per series, a segment block that lies inside one window (and inside the time range), and
//! whose time span holds no point of the field in any other source (another segment, a
//! memtable), is aggregated from its statistics without being decoded. Everything else is
//! decoded (only the requested field), merged with last-write-wins across sources, and fed
//! in runs of one window each (as point by point, float sums up to rounding). Series are then
//! merged per `GROUP BY` tag values.
//!
//! A block that alone holds its span's points but spans several windows skips the merge
//! when the aggregate needs no point times (all but first and last, under `GROUP BY
//! time`): its values are fed by window straight from the block, and the window edges,
//! usually, from a line that bounds its timestamps, read from their column's header
//! (see [`Direct`]): on sensor data, the timestamps of most blocks are never decoded.
//!
//! Deleted points: a block that a tombstone covers (any part of its span) is never answered
//! from its statistics; it is decoded and the deleted points are left out.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::aggregate::{Acc, Aggregate, RunValue, SharedTime};
use super::limits::Budget;
use super::window::Windows;
use crate::batch::{FieldId, SeriesId};
use crate::database::{Database, Snapshot};
use crate::error::Result;
use crate::memtable::{Column, Values};
use crate::merge::merge_runs;
use crate::model::{FieldType, OwnedFieldValue};
use crate::scan::{TagPredicate, TimeRange};
use crate::segment::ChunkStats;
use crate::tombstone;

/// `SELECT <aggregate>(<field>) FROM <measurement> WHERE <tags> AND <range>
/// GROUP BY time(<window>), <group_by>`.
#[derive(Debug, Clone)]
pub struct AggregateQuery<'a> {
    pub measurement: &'a str,
    pub field: &'a str,
    pub tags: &'a TagPredicate,
    pub range: TimeRange,
    pub aggregate: Aggregate,
    /// `GROUP BY time(interval, offset)` in nanoseconds; `None`: one value for the range.
    pub window: Option<(i64, i64)>,
    pub group_by: &'a [&'a str],
}

/// One group's result: its `GROUP BY` tag values and one row per window (or one row).
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateSeries {
    pub tags: Vec<(String, String)>,
    /// Window start (or, for a selector without windows, the selected point's time) and the
    /// value; `None` for an empty window.
    pub rows: Vec<(i64, Option<OwnedFieldValue>)>,
}

/// What the execution did, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecStats {
    pub chunks_from_stats: u64,
    pub chunks_decoded: u64,
    pub values_decoded: u64,
    /// Decoded chunks fed by window without decoding their timestamps: a line bounding
    /// them decided every window edge inside the chunk (or none fell inside it).
    pub times_bounded: u64,
}

pub(crate) fn aggregate(
    db: &Database,
    q: &AggregateQuery<'_>,
    budget: &Budget,
) -> Result<(Vec<AggregateSeries>, ExecStats)> {
    let mut stats = ExecStats::default();
    let Some((fid, ftype)) = db
        .schema()
        .get(q.measurement, q.field)
        .map(|f| (f.id, f.field_type))
    else {
        return Ok((Vec::new(), stats));
    };
    if !matches!(
        ftype,
        FieldType::Float | FieldType::Integer | FieldType::Unsigned
    ) {
        return Ok((Vec::new(), stats)); // text and booleans have no numeric aggregates (yet)
    }
    let series: Vec<(SeriesId, Tags)> = db
        .index()
        .matching_series(q.measurement, q.tags)
        .into_iter()
        .map(|(id, _, tags)| (id, tags))
        .collect();
    let snapshot = db.snapshot();

    // Windows need a bounded range; an unbounded one is narrowed to the data first.
    let range = match (q.window, q.range.min == i64::MIN || q.range.max == i64::MAX) {
        (Some(_), true) => match data_extent(&snapshot, &series, fid, ftype, q.range)? {
            Some(r) => r,
            None => return Ok((Vec::new(), stats)),
        },
        _ => q.range,
    };
    let windows = match q.window {
        Some((interval, offset)) => match Windows::new(interval, offset, range.min, range.max) {
            Some(w) => Some(w),
            None => return Ok((Vec::new(), stats)),
        },
        None => None,
    };
    let nwin = windows.map_or(1, |w| w.count);
    // Min and max from statistics carry no point time: only when times are window starts.
    let min_or_max = matches!(q.aggregate, Aggregate::Min | Aggregate::Max);
    let stats_ok = q.aggregate.uses_stats() && (windows.is_some() || !min_or_max);

    // Series are split into contiguous runs (key order), one per core; each run fills its own
    // group accumulators, merged afterwards in run order (so ties break by series key).
    // Threads pay off only for real decoding work: estimate the points to decode first.
    let to_decode: u64 = series
        .iter()
        .flat_map(|(sid, _)| {
            snapshot
                .segments
                .iter()
                .filter_map(move |l| l.segment.find(*sid))
        })
        .flat_map(|meta| meta.blocks.iter())
        .filter(|b| b.max_time >= range.min && b.min_time <= range.max)
        .filter_map(|b| b.field(fid))
        .filter(|c| {
            let (a, b) = (c.stats.first_time, c.stats.last_time);
            !(stats_ok && windows.is_none_or(|w| w.index(a) == w.index(b)))
        })
        .map(|c| u64::from(c.stats.count))
        .sum();
    budget.check_decode(to_decode)?;
    let cores = budget.threads();
    let threads = if to_decode < PARALLEL_MIN_POINTS {
        1
    } else {
        cores.min(series.len()).max(1)
    };
    let per = series.len().div_ceil(threads);
    let ctx = Ctx {
        q,
        snapshot: &snapshot,
        fid,
        ftype,
        range,
        stats_ok,
        windows,
        nwin,
        budget,
        // Points one window of the single group should expect (a capacity hint).
        per_window_hint: if q.group_by.is_empty() {
            (to_decode as usize / nwin).saturating_mul(9) / 8
        } else {
            0
        },
    };
    let partials: Vec<Result<(Groups, ExecStats)>> = if threads <= 1 {
        vec![accumulate(&ctx, &series, ctx.per_window_hint)]
    } else {
        // On the engine's worker pool (threads started once, not per query).
        let hint = ctx.per_window_hint;
        series
            .par_chunks(per)
            .enumerate()
            .map(|(i, chunk)| {
                // The first part's accumulators receive the others' kept values at the
                // merge: room for a whole window there, for its share elsewhere.
                accumulate(&ctx, chunk, if i == 0 { hint } else { hint / threads })
            })
            .collect()
    };
    let mut groups = Groups::new();
    for partial in partials {
        let (part, st) = partial?;
        stats.chunks_from_stats += st.chunks_from_stats;
        stats.chunks_decoded += st.chunks_decoded;
        stats.values_decoded += st.values_decoded;
        stats.times_bounded += st.times_bounded;
        for (key, accs) in part {
            match groups.get_mut(&key) {
                Some(mine) => mine
                    .iter_mut()
                    .zip(accs)
                    .for_each(|(a, b)| a.merge_owned(b)),
                None => {
                    groups.insert(key, accs);
                }
            }
        }
    }

    // Finish every accumulator; medians and percentiles select over many kept values, so
    // big ones finish on all cores (windows and groups are independent).
    let mut groups: Vec<(GroupKey, Vec<Acc>)> = groups.into_iter().collect();
    let kept: usize = groups
        .iter()
        .flat_map(|(_, accs)| accs.iter())
        .map(Acc::kept)
        .sum();
    let agg = q.aggregate;
    let mut flat: Vec<&mut Acc> = groups
        .iter_mut()
        .flat_map(|(_, accs)| accs.iter_mut())
        .collect();
    let finished: Vec<Option<(OwnedFieldValue, Option<i64>)>> =
        if kept as u64 >= PARALLEL_MIN_POINTS && cores > 1 && flat.len() > 1 {
            let per = flat.len().div_ceil(cores);
            flat.par_chunks_mut(per)
                .flat_map_iter(|chunk| chunk.iter_mut().map(|a| a.finish(agg)).collect::<Vec<_>>())
                .collect()
        } else {
            flat.iter_mut().map(|a| a.finish(agg)).collect()
        };
    let mut finished = finished.into_iter();
    let mut out = Vec::with_capacity(groups.len());
    for (tags, accs) in groups {
        let rows: Vec<(i64, Option<OwnedFieldValue>)> = (0..accs.len())
            .map(|i| {
                let found = finished.next().flatten();
                match windows {
                    Some(w) => (w.start(i), found.map(|(v, _)| v)),
                    None => {
                        let default_time = if range.min == i64::MIN { 0 } else { range.min };
                        let time = found
                            .as_ref()
                            .and_then(|(_, t)| *t)
                            .filter(|_| q.aggregate.is_selector());
                        (time.unwrap_or(default_time), found.map(|(v, _)| v))
                    }
                }
            })
            .collect();
        // A group with no value at all is no result (as InfluxDB returns no series).
        if rows.iter().all(|(_, v)| v.is_none()) {
            continue;
        }
        out.push(AggregateSeries { tags, rows });
    }
    Ok((out, stats))
}

/// Chunks answered by their statistics, and the merged run of every other point of the field.
#[allow(clippy::too_many_arguments)]
fn collect(
    snapshot: &Snapshot,
    sid: SeriesId,
    fid: FieldId,
    ftype: FieldType,
    range: TimeRange,
    stats_ok: bool,
    windows: &Option<Windows>,
    mut direct: Option<Direct>,
    stats: &mut ExecStats,
) -> Result<(Vec<ChunkStats>, Column)> {
    // Every source's time spans holding the field, to prove a block has no overlap.
    let metas: Vec<_> = snapshot
        .segments
        .iter()
        .map(|s| s.segment.find(sid))
        .collect();
    let mut mem_runs: Vec<Column> = Vec::new();
    for m in &snapshot.memtables {
        let run = m.with_series(sid, |buffer| {
            Some(buffer.column(fid)?.copy_range(range.min, range.max))
        });
        mem_runs.extend(run.flatten());
    }
    let overlaps_elsewhere = |seg: usize, min: i64, max: i64| {
        metas.iter().enumerate().any(|(j, meta)| {
            j != seg
                && meta.is_some_and(|m| {
                    // Blocks are in time order without overlap: find the first that ends
                    // at or after `min`.
                    let from = m.blocks.partition_point(|b| b.max_time < min);
                    m.blocks[from..]
                        .iter()
                        .take_while(|b| b.min_time <= max)
                        .any(|b| b.field(fid).is_some())
                })
        }) || mem_runs.iter().any(|c| {
            let i = c.times.partition_point(|&t| t < min);
            c.times.get(i).is_some_and(|&t| t <= max)
        })
    };

    let mut pushed = Vec::new();
    let mut runs = Vec::new();
    let mut block_times = Vec::new();
    for (s, live) in snapshot.segments.iter().enumerate() {
        let Some(meta) = metas[s] else { continue };
        let cuts = snapshot.cuts(sid, live);
        // Room for every point this segment may give, so decoding appends without regrowing.
        let expect: usize = meta
            .blocks
            .iter()
            .filter(|b| b.max_time >= range.min && b.min_time <= range.max)
            .filter_map(|b| b.field(fid))
            .map(|c| c.stats.count as usize)
            .sum();
        let mut times = Vec::with_capacity(expect);
        let mut values = Values::new(ftype);
        match &mut values {
            Values::Float(v) => v.reserve(expect),
            Values::Integer(v) => v.reserve(expect),
            Values::Unsigned(v) => v.reserve(expect),
            Values::String(_) | Values::Boolean(_) => {}
        }
        for block in meta
            .blocks
            .iter()
            .filter(|b| b.max_time >= range.min && b.min_time <= range.max)
        {
            let Some(chunk) = block.field(fid) else {
                continue;
            };
            let st = &chunk.stats;
            let inside = st.first_time >= range.min && st.last_time <= range.max;
            let one_window =
                windows.is_none_or(|w| w.index(st.first_time) == w.index(st.last_time));
            // Its points are the series' only ones in its span, none of them deleted (looked
            // at only where statistics or the direct path could use it).
            let alone = inside
                && ((stats_ok && one_window) || direct.is_some())
                && !tombstone::overlaps(&cuts, block.min_time, block.max_time)
                && !overlaps_elsewhere(s, block.min_time, block.max_time);
            if stats_ok && one_window && alone {
                stats.chunks_from_stats += 1;
                pushed.push(st.clone());
                continue;
            }
            stats.chunks_decoded += 1;
            stats.values_decoded += u64::from(st.count);
            if let Some(d) = direct.as_mut().filter(|_| alone) {
                if d.feed(&live.segment, block, fid, stats)? {
                    continue;
                }
            }
            live.segment
                .read_field_alone(block, fid, &mut block_times, &mut times, &mut values)?;
        }
        tombstone::cut_tail(&mut times, &mut values, 0, &cuts);
        runs.push(Column::from_sorted(times, values));
    }
    runs.extend(mem_runs);
    Ok((pushed, merge_runs(ftype, runs)))
}

/// Feeds a block straight to a series' window accumulators, by window, without merging it
/// with other sources: for a block inside the range whose points are the series' only ones
/// in its span (no overlap, no tombstone), when the aggregate needs no point times (see
/// [`SharedTime`]).
///
/// Only the window edges inside the block matter, as the number of rows before each. They
/// usually come from a line bounding the timestamps, read from their column's header
/// ([`codec::timestamp_bound`](crate::codec::timestamp_bound)): sensor timestamps on a
/// jittered grid lie in a band as wide as their jitter, and an edge that does not fall
/// inside the band has as many rows before it as indices wholly before it. The timestamps
/// are decoded only when some edge falls inside the band (or no line bounds them).
struct Direct<'d> {
    accs: &'d mut [Acc],
    agg: Aggregate,
    windows: Windows,
    scratch: &'d mut DirectScratch,
}

/// Buffers [`Direct`] reuses from block to block.
struct DirectScratch {
    values: Values,
    times: Vec<i64>,
    /// Rows before each window edge inside the block, then the row count.
    cuts: Vec<usize>,
    /// Values fed since the caller last counted them against the budget.
    fed: u64,
}

impl DirectScratch {
    fn new(ftype: FieldType) -> DirectScratch {
        DirectScratch {
            values: Values::new(ftype),
            times: Vec::new(),
            cuts: Vec::new(),
            fed: 0,
        }
    }
}

impl Direct<'_> {
    /// Feeds `block`'s values of `fid`; `false` (nothing fed) when the field lacks a value on
    /// some row.
    fn feed(
        &mut self,
        segment: &crate::segment::Segment,
        block: &crate::segment::BlockMeta,
        fid: FieldId,
        stats: &mut ExecStats,
    ) -> Result<bool> {
        let Some(chunk) = block.field(fid) else {
            return Ok(false);
        };
        let sc = &mut *self.scratch;
        sc.values.clear();
        if !segment.read_dense_values(block, fid, &mut sc.values)? {
            return Ok(false);
        }
        let n = sc.values.len();
        let w = self.windows;
        let (first, last) = (
            w.index(chunk.stats.first_time),
            w.index(chunk.stats.last_time),
        );
        sc.cuts.clear();
        let bounded = first == last
            || match segment.time_bound(block)? {
                Some(b) => window_cuts(b, n, &w, first..last, &mut sc.cuts),
                None => false,
            };
        if bounded {
            stats.times_bounded += 1;
        } else {
            segment.read_times(block, &mut sc.times)?;
            sc.cuts.clear();
            sc.cuts
                .extend((first..last).map(|i| sc.times.partition_point(|&t| t < w.start(i + 1))));
        }
        sc.cuts.push(n);
        let mut start = 0;
        for (i, &end) in sc.cuts.iter().enumerate() {
            let (acc, at) = (&mut self.accs[first + i], SharedTime(w.start(first + i)));
            match &sc.values {
                Values::Float(v) => acc.add_run(self.agg, at, &v[start..end]),
                Values::Integer(v) => acc.add_run(self.agg, at, &v[start..end]),
                Values::Unsigned(v) => acc.add_run(self.agg, at, &v[start..end]),
                Values::String(_) | Values::Boolean(_) => {}
            }
            start = end;
        }
        sc.fed += n as u64;
        Ok(true)
    }
}

/// Pushes onto `cuts`, for the start of each window after those in `windows`, the number
/// of rows before it, when the line `bound` decides it for each of the `n` rows; `false`
/// (`cuts` then partly filled) when some edge falls inside the band.
fn window_cuts(
    bound: crate::codec::LinearBound,
    n: usize,
    w: &Windows,
    windows: std::ops::Range<usize>,
    cuts: &mut Vec<usize>,
) -> bool {
    if bound.step <= 0 {
        return false;
    }
    let step = i128::from(bound.step);
    // Rows `i` with `x + i·step < edge`, for `x` the band's edge: `ceil((edge − x) / step)`.
    let before = |edge: i128, x: i64| -> usize {
        let d = edge - i128::from(x);
        let i = if d <= 0 { 0 } else { (d + step - 1) / step };
        i.min(n as i128) as usize
    };
    for i in windows {
        let edge = i128::from(w.start(i + 1));
        let (surely, maybe) = (before(edge, bound.hi), before(edge, bound.lo));
        if surely != maybe {
            return false;
        }
        cuts.push(surely);
    }
    true
}

/// The first and last time of the field's data in `range` across the series.
fn data_extent(
    snapshot: &Snapshot,
    series: &[(SeriesId, Tags)],
    fid: FieldId,
    ftype: FieldType,
    range: TimeRange,
) -> Result<Option<TimeRange>> {
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    let (mut block_times, mut times) = (Vec::new(), Vec::new());
    for (sid, _) in series {
        for live in &snapshot.segments {
            let Some(meta) = live.segment.find(*sid) else {
                continue;
            };
            let cuts = snapshot.cuts(*sid, live);
            for b in &meta.blocks {
                let Some(c) = b.field(fid) else { continue };
                if !tombstone::overlaps(&cuts, c.stats.first_time, c.stats.last_time) {
                    min = min.min(c.stats.first_time.max(range.min));
                    max = max.max(c.stats.last_time.min(range.max));
                    continue;
                }
                // Deleted points in the block: only the surviving ones count.
                let mut values = Values::new(ftype);
                times.clear();
                live.segment.read_times(b, &mut block_times)?;
                live.segment
                    .read_field(b, &block_times, fid, &mut times, &mut values)?;
                tombstone::cut_tail(&mut times, &mut values, 0, &cuts);
                for &t in times.iter().filter(|&&t| range.contains(t)) {
                    min = min.min(t);
                    max = max.max(t);
                }
            }
        }
        for m in &snapshot.memtables {
            let span = m.with_series(*sid, |buffer| {
                let col = buffer.column(fid)?;
                let r = col.range(range.min, range.max);
                Some((*col.times[r.clone()].first()?, *col.times[r].last()?))
            });
            if let Some(Some((a, b))) = span {
                min = min.min(a);
                max = max.max(b);
            }
        }
    }
    Ok((min <= max).then_some(TimeRange::new(min, max)))
}

/// The end of the run of `times` (ascending) from `i` that is at most `last`: a few steps
/// looked at one by one (windows usually hold few points), then a binary search.
fn run_end(times: &[i64], i: usize, last: i64) -> usize {
    const LINEAR: usize = 16;
    let near = &times[i..times.len().min(i + LINEAR)];
    match near.iter().position(|&t| t > last) {
        Some(k) => i + k,
        None => i + near.len() + times[i + near.len()..].partition_point(|&t| t <= last),
    }
}

/// A series' tags, sorted by key (shared with the index's parsed series).
type Tags = std::sync::Arc<[(String, String)]>;

/// A group's `GROUP BY` tag values.
type GroupKey = Vec<(String, String)>;
type Groups = BTreeMap<GroupKey, Vec<Acc>>;

/// From this many points to decode, the work is split over the pool. Measured: analyst query
/// Q3 (69 120 points in 48 series) takes 0.46 ms on one thread and 0.28 ms on two; below a
/// few tens of microseconds of decoding, handing work to the pool costs about what it saves.
const PARALLEL_MIN_POINTS: u64 = 20_000;

/// What every thread of one query shares.
struct Ctx<'q, 'a> {
    q: &'q AggregateQuery<'a>,
    snapshot: &'q Snapshot,
    fid: FieldId,
    ftype: FieldType,
    range: TimeRange,
    stats_ok: bool,
    windows: Option<Windows>,
    nwin: usize,
    per_window_hint: usize,
    budget: &'q Budget,
}

/// Accumulates `series` into per-group, per-window accumulators.
fn accumulate(
    ctx: &Ctx<'_, '_>,
    series: &[(SeriesId, Tags)],
    reserve: usize,
) -> Result<(Groups, ExecStats)> {
    let (q, range, windows) = (ctx.q, ctx.range, ctx.windows);
    let win_of = |t: i64| windows.map_or(0, |w| w.index(t));
    let mut stats = ExecStats::default();
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<Acc>> = BTreeMap::new();
    let keeps_values = !q.aggregate.uses_stats();
    // Windowed aggregates other than first and last need no point times: clean blocks are
    // fed by window straight from their values (see `Direct`).
    let untimed = !matches!(q.aggregate, Aggregate::First | Aggregate::Last);
    let mut scratch = DirectScratch::new(ctx.ftype);
    for (sid, tags) in series {
        ctx.budget.check_time()?;
        let key: Vec<(String, String)> = q
            .group_by
            .iter()
            .map(|k| {
                let v = tags
                    .iter()
                    .find(|(tk, _)| tk == k)
                    .map_or(String::new(), |(_, v)| v.clone());
                (k.to_string(), v)
            })
            .collect();
        let accs = groups.entry(key).or_insert_with(|| {
            let acc = match ctx.windows {
                Some(_) => Acc::new(q.aggregate),
                None => Acc::with_point_times(q.aggregate),
            };
            let mut accs = vec![acc; ctx.nwin];
            accs.iter_mut().for_each(|a| a.reserve(reserve));
            accs
        });
        let direct = match (windows, untimed) {
            (Some(windows), true) => Some(Direct {
                accs: &mut accs[..],
                agg: q.aggregate,
                windows,
                scratch: &mut scratch,
            }),
            _ => None,
        };
        let (pushed, column) = collect(
            ctx.snapshot,
            *sid,
            ctx.fid,
            ctx.ftype,
            range,
            ctx.stats_ok,
            &windows,
            direct,
            &mut stats,
        )?;
        if keeps_values {
            ctx.budget.add_points(scratch.fed)?;
            scratch.fed = 0;
        }
        for s in &pushed {
            accs[win_of(s.first_time)].add_stats(s);
        }
        if keeps_values {
            ctx.budget.add_points(column.times.len() as u64)?;
        }
        let start = column.times.partition_point(|&t| t < range.min);
        let end = column.times.partition_point(|&t| t <= range.max);
        let times = &column.times[start..end];
        // Split the points into runs of one window each (times ascend), each added at once.
        fn feed<T: RunValue>(
            accs: &mut [Acc],
            agg: Aggregate,
            windows: Option<Windows>,
            times: &[i64],
            values: &[T],
        ) {
            let mut i = 0;
            while i < times.len() {
                let (w, end) = match windows {
                    Some(ws) => {
                        let w = ws.index(times[i]);
                        (w, run_end(times, i, ws.end(w)))
                    }
                    None => (0, times.len()),
                };
                accs[w].add_run(agg, &times[i..end], &values[i..end]);
                i = end;
            }
        }
        match &column.values {
            Values::Float(v) => feed(accs, q.aggregate, windows, times, &v[start..end]),
            Values::Integer(v) => feed(accs, q.aggregate, windows, times, &v[start..end]),
            Values::Unsigned(v) => feed(accs, q.aggregate, windows, times, &v[start..end]),
            _ => {}
        }
    }

    Ok((groups, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::LinearBound;

    #[test]
    fn window_edges_are_placed_only_when_the_band_decides_them() {
        // Rows every 10 ns from 5, exactly: edges every 25 ns from 0.
        let w = Windows::new(25, 0, 5, 95).unwrap();
        let exact = LinearBound {
            step: 10,
            lo: 5,
            hi: 5,
        };
        let mut cuts = Vec::new();
        assert!(window_cuts(exact, 10, &w, 0..3, &mut cuts));
        // Times 5 15 25 35 45 55 65 75 85 95: before 25, 50, 75.
        assert_eq!(cuts, [2, 5, 7]);
        // A band of ±3 ns: 25 may hold row 2 (22..28), so it is not decided; 50 is.
        let band = LinearBound {
            step: 10,
            lo: 2,
            hi: 8,
        };
        cuts.clear();
        assert!(!window_cuts(band, 10, &w, 0..3, &mut cuts));
        cuts.clear();
        assert!(window_cuts(band, 10, &w, 1..2, &mut cuts));
        assert_eq!(cuts, [5]);
        // Edges past the rows count them all; a line that does not rise decides nothing.
        cuts.clear();
        let far = Windows::new(1000, 0, 0, 5000).unwrap();
        assert!(window_cuts(exact, 10, &far, 0..2, &mut cuts));
        assert_eq!(cuts, [10, 10]);
        let flat = LinearBound {
            step: 0,
            lo: 5,
            hi: 5,
        };
        assert!(!window_cuts(flat, 10, &w, 0..1, &mut Vec::new()));
    }
}
