//! Aggregate functions and their accumulators.
//!
//! An [`Acc`] takes points one at a time ([`Acc::add`]) or a whole chunk through its statistics
//! ([`Acc::add_stats`], when the chunk lies inside one window and nothing else overlaps it), and
//! accumulators of several series merge ([`Acc::merge`]) for `GROUP BY` tags. Numbers keep their
//! type as InfluxDB keeps them: the sum, min, max, first, last and spread of integers are
//! integers; count is an integer; mean, stddev, median and percentile are floats.

use std::cmp::Ordering;

use crate::model::{FieldValue, OwnedFieldValue};
use crate::segment::{ChunkStats, NumericStats};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Aggregate {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    First,
    Last,
    Spread,
    Stddev,
    Median,
    /// The nearest-rank percentile, `0 < p <= 100`, as InfluxDB computes it.
    Percentile(f64),
}

impl Aggregate {
    /// Whether block statistics can stand in for the block's points.
    pub fn uses_stats(self) -> bool {
        !matches!(
            self,
            Aggregate::Stddev | Aggregate::Median | Aggregate::Percentile(_)
        )
    }

    /// Selectors return a point's own value (and, without `GROUP BY time`, its time).
    pub fn is_selector(self) -> bool {
        matches!(
            self,
            Aggregate::Min
                | Aggregate::Max
                | Aggregate::First
                | Aggregate::Last
                | Aggregate::Percentile(_)
        )
    }

    pub fn needs_values(self) -> bool {
        !self.uses_stats()
    }
}

/// A numeric value in its field's type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    F(f64),
    I(i64),
    U(u64),
}

impl Num {
    pub fn from_value(v: &OwnedFieldValue) -> Option<Num> {
        match v {
            FieldValue::Float(x) => Some(Num::F(*x)),
            FieldValue::Integer(x) => Some(Num::I(*x)),
            FieldValue::Unsigned(x) => Some(Num::U(*x)),
            _ => None,
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Num::F(x) => x,
            Num::I(x) => x as f64,
            Num::U(x) => x as f64,
        }
    }

    fn cmp(self, other: Num) -> Ordering {
        match (self, other) {
            (Num::I(a), Num::I(b)) => a.cmp(&b),
            (Num::U(a), Num::U(b)) => a.cmp(&b),
            (a, b) => a.as_f64().total_cmp(&b.as_f64()),
        }
    }

    pub fn to_value(self) -> OwnedFieldValue {
        match self {
            Num::F(x) => FieldValue::Float(x),
            Num::I(x) => FieldValue::Integer(x),
            Num::U(x) => FieldValue::Unsigned(x),
        }
    }
}

/// A value type of a numeric column, for [`Acc::add_run`].
pub trait RunValue: Copy {
    fn num(self) -> Num;
    fn is_nan(self) -> bool;
    /// `self < other` in the type's own order.
    fn lt(self, other: Self) -> bool;
    fn sum_into(values: &[Self], acc: &mut Acc);
}

impl RunValue for f64 {
    fn num(self) -> Num {
        Num::F(self)
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn lt(self, other: Self) -> bool {
        self < other
    }
    fn sum_into(values: &[f64], acc: &mut Acc) {
        acc.is_float = true;
        // Eight running sums, added lane by lane (so they vectorise without reassociation),
        // keep eight additions in flight instead of waiting on one chain: a run is summed
        // pairwise-ish rather than strictly left to right, which is no less accurate.
        let mut lanes = [0.0f64; 8];
        let mut chunks = values.chunks_exact(8);
        for c in &mut chunks {
            for (l, v) in lanes.iter_mut().zip(c) {
                *l += v;
            }
        }
        let mut sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
            + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
        for v in chunks.remainder() {
            sum += v;
        }
        acc.sum_f += sum;
    }
}

impl RunValue for i64 {
    fn num(self) -> Num {
        Num::I(self)
    }
    fn is_nan(self) -> bool {
        false
    }
    fn lt(self, other: Self) -> bool {
        self < other
    }
    fn sum_into(values: &[i64], acc: &mut Acc) {
        acc.sum_i += values.iter().map(|&v| i128::from(v)).sum::<i128>();
    }
}

impl RunValue for u64 {
    fn num(self) -> Num {
        Num::U(self)
    }
    fn is_nan(self) -> bool {
        false
    }
    fn lt(self, other: Self) -> bool {
        self < other
    }
    fn sum_into(values: &[u64], acc: &mut Acc) {
        acc.is_unsigned = true;
        acc.sum_i += values.iter().map(|&v| i128::from(v)).sum::<i128>();
    }
}

/// The best of `values` (the first not NaN, then each that `better(best, v)`), from four
/// running bests.
#[inline(always)]
fn extreme<T: RunValue>(values: &[T], better: impl Fn(T, T) -> bool) -> T {
    let mut lanes = [values[0]; 4];
    let mut chunks = values.chunks_exact(4);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            if better(*l, v) {
                *l = v;
            }
        }
    }
    for &v in chunks.remainder() {
        if better(lanes[0], v) {
            lanes[0] = v;
        }
    }
    lanes
        .into_iter()
        .reduce(|a, b| if better(a, b) { b } else { a })
        .unwrap_or(values[0])
}

/// The times of a run's points, for [`Acc::add_run`].
pub trait RunTimes: Copy {
    /// How many points it has times for.
    fn count(self) -> usize;
    /// The time of point `i`.
    fn at(self, i: usize) -> i64;
    /// Appends the times of the first `n` points to `out`.
    fn extend_into(self, n: usize, out: &mut Vec<i64>);
    /// Whether every point has the same time.
    fn shared(self) -> bool {
        false
    }
}

/// Each point's own time.
impl RunTimes for &[i64] {
    fn count(self) -> usize {
        <[i64]>::len(self)
    }
    fn at(self, i: usize) -> i64 {
        self[i]
    }
    fn extend_into(self, n: usize, out: &mut Vec<i64>) {
        out.extend_from_slice(&self[..n]);
    }
}

/// One time standing in for every point of a run, for runs whose point times are not
/// known: valid where only the window counts, that is for the aggregates that compute
/// from values alone (count, sum, mean, spread, stddev, median, percentile), and for min
/// and max whose rows show their window's start (the stand-in then only breaks ties
/// between equal values, which give the same row).
#[derive(Debug, Clone, Copy)]
pub struct SharedTime(pub i64);

impl RunTimes for SharedTime {
    fn count(self) -> usize {
        usize::MAX
    }
    fn at(self, _: usize) -> i64 {
        self.0
    }
    fn extend_into(self, n: usize, out: &mut Vec<i64>) {
        out.extend(std::iter::repeat_n(self.0, n));
    }
    fn shared(self) -> bool {
        true
    }
}

/// The running state of one aggregate over one window (of one series or of a group).
#[derive(Debug, Clone, Default)]
pub struct Acc {
    count: u64,
    sum_f: f64,
    sum_i: i128,
    is_float: bool,
    is_unsigned: bool,
    min: Option<(Num, i64)>,
    max: Option<(Num, i64)>,
    first: Option<(i64, Num)>,
    last: Option<(i64, Num)>,
    values: Vec<f64>,
    keep_values: bool,
    /// The time of each kept value, for a percentile that reports its point's time.
    times: Vec<i64>,
    keep_times: bool,
}

impl Acc {
    pub fn new(agg: Aggregate) -> Acc {
        Acc {
            keep_values: agg.needs_values(),
            ..Acc::default()
        }
    }

    /// An accumulator whose result carries its point's time where `agg` selects a kept value
    /// (percentile): for results without `GROUP BY time`, whose rows show that time.
    pub fn with_point_times(agg: Aggregate) -> Acc {
        Acc {
            keep_times: matches!(agg, Aggregate::Percentile(_)),
            ..Acc::new(agg)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn add(&mut self, t: i64, v: Num) {
        if self.keep_values {
            // Stddev, median and percentile need the values (and their type) only.
            self.count += 1;
            self.is_float |= matches!(v, Num::F(_));
            self.is_unsigned |= matches!(v, Num::U(_));
            self.values.push(v.as_f64());
            if self.keep_times {
                self.times.push(t);
            }
            return;
        }
        self.count += 1;
        self.add_sum(v);
        if let Num::F(x) = v {
            if x.is_nan() {
                return; // counted and summed, never a min, max, first or last
            }
        }
        if beats(Ordering::Less, (v, t), self.min) {
            self.min = Some((v, t));
        }
        if beats(Ordering::Greater, (v, t), self.max) {
            self.max = Some((v, t));
        }
        if takes(Ordering::Less, (t, v), self.first) {
            self.first = Some((t, v));
        }
        if takes(Ordering::Greater, (t, v), self.last) {
            self.last = Some((t, v));
        }
    }

    /// Adds a run of points of one window, times ascending: what [`Acc::add`] does point by
    /// point (float sums up to rounding: they add in eight lanes), with only the work `agg`
    /// needs (this accumulator must serve `agg` alone).
    pub fn add_run<T: RunValue, R: RunTimes>(&mut self, agg: Aggregate, times: R, values: &[T]) {
        let n = values.len().min(times.count());
        if n == 0 {
            return;
        }
        let values = &values[..n];
        self.count += n as u64;
        match agg {
            Aggregate::Count => {}
            Aggregate::Sum | Aggregate::Mean => T::sum_into(values, self),
            Aggregate::Min | Aggregate::Max | Aggregate::Spread => {
                let Some(start) = values.iter().position(|v| !v.is_nan()) else {
                    return;
                };
                let want_min = !matches!(agg, Aggregate::Max);
                let want_max = !matches!(agg, Aggregate::Min);
                // The running best stays in a register; strict comparisons keep the earliest
                // of equal values, as point-by-point adding does. With one time for every
                // point, which of equal values wins does not matter: four running bests
                // then keep four comparisons in flight.
                let rest = &values[start..];
                let shared = times.shared();
                if want_min && shared {
                    let lo_v = extreme(rest, |a, b| b.lt(a));
                    if beats(Ordering::Less, (lo_v.num(), times.at(0)), self.min) {
                        self.min = Some((lo_v.num(), times.at(0)));
                    }
                }
                if want_max && shared {
                    let hi_v = extreme(rest, |a, b| a.lt(b));
                    if beats(Ordering::Greater, (hi_v.num(), times.at(0)), self.max) {
                        self.max = Some((hi_v.num(), times.at(0)));
                    }
                }
                if want_min && !shared {
                    let (mut lo, mut lo_v) = (start, values[start]);
                    for (i, &v) in values.iter().enumerate().skip(start + 1) {
                        if v.lt(lo_v) {
                            lo = i;
                            lo_v = v;
                        }
                    }
                    let min = lo_v.num();
                    if beats(Ordering::Less, (min, times.at(lo)), self.min) {
                        self.min = Some((min, times.at(lo)));
                    }
                }
                if want_max && !shared {
                    let (mut hi, mut hi_v) = (start, values[start]);
                    for (i, &v) in values.iter().enumerate().skip(start + 1) {
                        if hi_v.lt(v) {
                            hi = i;
                            hi_v = v;
                        }
                    }
                    let max = hi_v.num();
                    if beats(Ordering::Greater, (max, times.at(hi)), self.max) {
                        self.max = Some((max, times.at(hi)));
                    }
                }
            }
            Aggregate::First => {
                if let Some(i) = values.iter().position(|v| !v.is_nan()) {
                    if takes(Ordering::Less, (times.at(i), values[i].num()), self.first) {
                        self.first = Some((times.at(i), values[i].num()));
                    }
                }
            }
            Aggregate::Last => {
                if let Some(i) = values.iter().rposition(|v| !v.is_nan()) {
                    if takes(Ordering::Greater, (times.at(i), values[i].num()), self.last) {
                        self.last = Some((times.at(i), values[i].num()));
                    }
                }
            }
            Aggregate::Stddev | Aggregate::Median | Aggregate::Percentile(_) => {
                match values[0].num() {
                    Num::F(_) => self.is_float = true,
                    Num::U(_) => self.is_unsigned = true,
                    Num::I(_) => {}
                }
                self.values.extend(values.iter().map(|v| v.num().as_f64()));
                if self.keep_times {
                    times.extend_into(n, &mut self.times);
                }
            }
        }
    }

    fn add_sum(&mut self, v: Num) {
        match v {
            Num::F(x) => {
                self.is_float = true;
                self.sum_f += x;
            }
            Num::I(x) => self.sum_i += i128::from(x),
            Num::U(x) => {
                self.is_unsigned = true;
                self.sum_i += i128::from(x);
            }
        }
    }

    /// Adds a whole chunk through its statistics. Only for aggregates that
    /// [`Aggregate::uses_stats`], and only when the chunk lies in one window and no other source
    /// has points in its time range. Min and max then carry the chunk's first time: callers use
    /// stats for them only when output times are window starts.
    pub fn add_stats(&mut self, s: &ChunkStats) {
        let (Some(first), Some(last)) = (Num::from_value(&s.first), Num::from_value(&s.last))
        else {
            return;
        };
        self.count += u64::from(s.count);
        let (min, max) = match s.numeric {
            Some(NumericStats::Float { min, max, sum }) => {
                self.is_float = true;
                self.sum_f += sum;
                (Num::F(min), Num::F(max))
            }
            Some(NumericStats::Integer { min, max, sum }) => {
                self.sum_i += i128::from(sum);
                (Num::I(min), Num::I(max))
            }
            Some(NumericStats::Unsigned { min, max, sum }) => {
                self.is_unsigned = true;
                self.sum_i += i128::from(sum);
                (Num::U(min), Num::U(max))
            }
            None => return,
        };
        if !min.as_f64().is_nan() && self.min.is_none_or(|(m, _)| min.cmp(m) == Ordering::Less) {
            self.min = Some((min, s.first_time));
        }
        if !max.as_f64().is_nan()
            && self
                .max
                .is_none_or(|(m, _)| max.cmp(m) == Ordering::Greater)
        {
            self.max = Some((max, s.first_time));
        }
        if takes(Ordering::Less, (s.first_time, first), self.first) {
            self.first = Some((s.first_time, first));
        }
        if takes(Ordering::Greater, (s.last_time, last), self.last) {
            self.last = Some((s.last_time, last));
        }
    }

    pub fn merge(&mut self, o: &Acc) {
        self.count += o.count;
        self.sum_f += o.sum_f;
        self.sum_i += o.sum_i;
        self.is_float |= o.is_float;
        self.is_unsigned |= o.is_unsigned;
        if let Some(p) = o.min {
            if beats(Ordering::Less, p, self.min) {
                self.min = Some(p);
            }
        }
        if let Some(p) = o.max {
            if beats(Ordering::Greater, p, self.max) {
                self.max = Some(p);
            }
        }
        if let Some((t, v)) = o.first {
            if takes(Ordering::Less, (t, v), self.first) {
                self.first = Some((t, v));
            }
        }
        // Ties between series (one time): the larger value, as InfluxDB.
        if let Some((t, v)) = o.last {
            if takes(Ordering::Greater, (t, v), self.last) {
                self.last = Some((t, v));
            }
        }
        self.values.extend_from_slice(&o.values);
        self.times.extend_from_slice(&o.times);
    }

    /// [`Acc::merge`], taking `o`'s kept values without a copy when this one has none.
    pub fn merge_owned(&mut self, mut o: Acc) {
        if self.values.is_empty() {
            std::mem::swap(&mut self.values, &mut o.values);
            std::mem::swap(&mut self.times, &mut o.times);
        }
        self.merge(&o);
    }

    /// How many values this accumulator keeps (for median, percentile and stddev).
    pub fn kept(&self) -> usize {
        self.values.len()
    }

    /// Room for `n` kept values (for the aggregates that keep them), so a big window does not
    /// grow its buffer by copying.
    pub fn reserve(&mut self, n: usize) {
        if self.keep_values {
            self.values.reserve(n);
        }
        if self.keep_times {
            self.times.reserve(n);
        }
    }

    /// The aggregate's value and, for selectors, the time of the selected point.
    pub fn finish(&mut self, agg: Aggregate) -> Option<(OwnedFieldValue, Option<i64>)> {
        if self.count == 0 {
            return None;
        }
        let sum = || -> Num {
            if self.is_float {
                Num::F(self.sum_f + self.sum_i as f64)
            } else if self.is_unsigned {
                Num::U(self.sum_i as u64)
            } else {
                Num::I(self.sum_i as i64)
            }
        };
        Some(match agg {
            Aggregate::Count => (FieldValue::Integer(self.count as i64), None),
            Aggregate::Sum => (sum().to_value(), None),
            Aggregate::Mean => (FieldValue::Float(sum().as_f64() / self.count as f64), None),
            Aggregate::Min => self.min.map(|(v, t)| (v.to_value(), Some(t)))?,
            Aggregate::Max => self.max.map(|(v, t)| (v.to_value(), Some(t)))?,
            Aggregate::First => self.first.map(|(t, v)| (v.to_value(), Some(t)))?,
            Aggregate::Last => self.last.map(|(t, v)| (v.to_value(), Some(t)))?,
            Aggregate::Spread => {
                let (min, max) = (self.min?.0, self.max?.0);
                let v = match (min, max) {
                    (Num::I(a), Num::I(b)) => Num::I(b.wrapping_sub(a)),
                    (Num::U(a), Num::U(b)) => Num::U(b.wrapping_sub(a)),
                    (a, b) => Num::F(b.as_f64() - a.as_f64()),
                };
                (v.to_value(), None)
            }
            Aggregate::Stddev => {
                let n = self.values.len();
                if n < 2 {
                    return None; // InfluxDB: the sample stddev of one point is null
                }
                let mean = self.values.iter().sum::<f64>() / n as f64;
                let var = self
                    .values
                    .iter()
                    .map(|x| (x - mean) * (x - mean))
                    .sum::<f64>()
                    / (n - 1) as f64;
                (FieldValue::Float(var.sqrt()), None)
            }
            Aggregate::Median => {
                let v = &mut self.values;
                if v.is_empty() {
                    return None;
                }
                // Selection, not a sort: O(n).
                let n = v.len();
                let (lower, upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
                let upper = *upper;
                let m = if n % 2 == 1 {
                    upper
                } else {
                    let below = lower
                        .iter()
                        .copied()
                        .max_by(f64::total_cmp)
                        .unwrap_or(upper);
                    (below + upper) / 2.0
                };
                (FieldValue::Float(m), None)
            }
            Aggregate::Percentile(p) => {
                let v = &mut self.values;
                let i = percentile_rank(v.len(), p)?;
                let (x, time) = if self.keep_times && self.times.len() == v.len() {
                    // Select among the points, so the chosen value keeps its time; points
                    // of equal value rank by time (InfluxDB leaves that order unspecified).
                    let times = &self.times;
                    let mut order: Vec<u32> = (0..v.len() as u32).collect();
                    let (_, &mut k, _) = order.select_nth_unstable_by(i, |&a, &b| {
                        let (a, b) = (a as usize, b as usize);
                        v[a].total_cmp(&v[b]).then(times[a].cmp(&times[b]))
                    });
                    (v[k as usize], Some(times[k as usize]))
                } else {
                    (*v.select_nth_unstable_by(i, f64::total_cmp).1, None)
                };
                // A selector: the point's own value, in its field's type (integers are exact
                // in the f64 they were kept as up to 2^53).
                let value = if self.is_float {
                    FieldValue::Float(x)
                } else if self.is_unsigned {
                    FieldValue::Unsigned(x as u64)
                } else {
                    FieldValue::Integer(x as i64)
                };
                (value, time)
            }
        })
    }
}

/// Whether the point `(v, t)` should replace `best` as a minimum (`want` = `Less`) or maximum
/// (`Greater`): a better value, or an equal one earlier, as InfluxDB breaks ties (series are
/// fed one after another into a group's accumulator, so times do not arrive in order).
fn beats(want: Ordering, (v, t): (Num, i64), best: Option<(Num, i64)>) -> bool {
    best.is_none_or(|(m, mt)| match v.cmp(m) {
        Ordering::Equal => t < mt,
        o => o == want,
    })
}

/// Whether the point `(t, v)` should replace `best` as the first (`want` = `Less`) or last
/// (`Greater`) point: an earlier (later) time, or the same time and a larger value, as
/// InfluxDB breaks ties between series.
fn takes(want: Ordering, (t, v): (i64, Num), best: Option<(i64, Num)>) -> bool {
    best.is_none_or(|(bt, bv)| match t.cmp(&bt) {
        Ordering::Equal => v.cmp(bv) == Ordering::Greater,
        o => o == want,
    })
}

/// The rank (0-based, in value order) of the `p`th percentile of `n` values, as InfluxDB
/// computes it: `floor(n · p / 100 + 0.5) − 1`. None when that falls before the first value
/// (a small `p` over few values: InfluxDB answers null), for no values, and for `p` outside
/// (0, 100].
pub fn percentile_rank(n: usize, p: f64) -> Option<usize> {
    if n == 0 || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let i = (n as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
    usize::try_from(i).ok().map(|i| i.min(n - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc_of(agg: Aggregate, points: &[(i64, f64)]) -> Acc {
        let mut a = Acc::new(agg);
        for &(t, v) in points {
            a.add(t, Num::F(v));
        }
        a
    }

    #[test]
    fn percentile_ranks_as_influxdb_computes_them() {
        assert_eq!(percentile_rank(6, 50.0), Some(2));
        assert_eq!(percentile_rank(4, 100.0), Some(3));
        assert_eq!(percentile_rank(3, 20.0), Some(0));
        // Below the first value: null, as InfluxDB answers (read off influxd 1.6).
        assert_eq!(percentile_rank(1, 5.0), None);
        assert_eq!(percentile_rank(3, 10.0), None);
        assert_eq!(percentile_rank(0, 50.0), None);
        assert_eq!(percentile_rank(5, 0.0), None);
        assert_eq!(percentile_rank(5, 101.0), None);
    }

    /// `values` added point by point (each at its own time) and as one run with a shared
    /// time give the same value.
    fn same_both_ways<T: RunValue + std::fmt::Debug>(agg: Aggregate, values: &[T]) {
        let mut by_point = Acc::new(agg);
        for (i, &v) in values.iter().enumerate() {
            by_point.add(i as i64, v.num());
        }
        let mut shared = Acc::new(agg);
        shared.add_run(agg, SharedTime(7), values);
        let (a, b) = (by_point.finish(agg), shared.finish(agg));
        assert_eq!(a.map(|r| r.0), b.map(|r| r.0), "{agg:?} of {values:?}");
    }

    #[test]
    fn runs_with_a_shared_time_give_point_by_point_values() {
        // Runs of every length up to 40 (the four-lane paths and their remainders), NaN
        // anywhere, integers near the extremes.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in 0..40usize {
            let floats: Vec<f64> = (0..n)
                .map(|_| match next() % 9 {
                    0 => f64::NAN,
                    k => (next() % 50) as f64 - 25.0 + k as f64 / 8.0,
                })
                .collect();
            let ints: Vec<i64> = (0..n).map(|_| next() as i64 >> (next() % 64)).collect();
            for agg in [
                Aggregate::Min,
                Aggregate::Max,
                Aggregate::Spread,
                Aggregate::Count,
            ] {
                same_both_ways(agg, &floats);
                same_both_ways(agg, &ints);
            }
        }
    }

    #[test]
    fn aggregates_of_a_few_points() {
        let pts = [(10, 3.0), (20, 1.0), (30, 4.0), (40, 1.0), (50, 5.0)];
        let f = |agg| acc_of(agg, &pts).finish(agg).unwrap();
        assert_eq!(f(Aggregate::Count).0, FieldValue::Integer(5));
        assert_eq!(f(Aggregate::Sum).0, FieldValue::Float(14.0));
        assert_eq!(f(Aggregate::Mean).0, FieldValue::Float(2.8));
        assert_eq!(f(Aggregate::Min), (FieldValue::Float(1.0), Some(20)));
        assert_eq!(f(Aggregate::Max), (FieldValue::Float(5.0), Some(50)));
        assert_eq!(f(Aggregate::First), (FieldValue::Float(3.0), Some(10)));
        assert_eq!(f(Aggregate::Last), (FieldValue::Float(5.0), Some(50)));
        assert_eq!(f(Aggregate::Spread).0, FieldValue::Float(4.0));
        assert_eq!(f(Aggregate::Median).0, FieldValue::Float(3.0));
        assert_eq!(f(Aggregate::Percentile(50.0)).0, FieldValue::Float(3.0));
        assert_eq!(f(Aggregate::Percentile(100.0)).0, FieldValue::Float(5.0));
        let FieldValue::Float(sd) = f(Aggregate::Stddev).0 else {
            panic!()
        };
        assert!((sd - 1.788_854_381_999_831_7).abs() < 1e-12);
    }

    #[test]
    fn integer_aggregates_stay_integers() {
        let mut a = Acc::new(Aggregate::Sum);
        for (t, v) in [(1, 5i64), (2, -3), (3, 10)] {
            a.add(t, Num::I(v));
        }
        assert_eq!(
            a.clone().finish(Aggregate::Sum).unwrap().0,
            FieldValue::Integer(12)
        );
        assert_eq!(
            a.clone().finish(Aggregate::Max).unwrap().0,
            FieldValue::Integer(10)
        );
        assert_eq!(
            a.finish(Aggregate::Spread).unwrap().0,
            FieldValue::Integer(13)
        );
    }

    #[test]
    fn stats_and_points_agree_and_merge() {
        let pts: Vec<(i64, f64)> = (0..100).map(|i| (i, (i * 7 % 13) as f64 / 10.0)).collect();
        let times: Vec<i64> = pts.iter().map(|p| p.0).collect();
        let values = crate::memtable::Values::Float(pts.iter().map(|p| p.1).collect());
        let stats = ChunkStats::compute(&times, &values);
        for agg in [
            Aggregate::Count,
            Aggregate::Sum,
            Aggregate::Mean,
            Aggregate::First,
            Aggregate::Last,
            Aggregate::Spread,
        ] {
            let mut by_stats = Acc::new(agg);
            by_stats.add_stats(&stats);
            let by_points = acc_of(agg, &pts).finish(agg);
            assert_eq!(by_stats.finish(agg), by_points, "{agg:?}");
        }
        // Merging halves gives the whole.
        let mut a = acc_of(Aggregate::Median, &pts[..40]);
        a.merge(&acc_of(Aggregate::Median, &pts[40..]));
        assert_eq!(
            a.finish(Aggregate::Median),
            acc_of(Aggregate::Median, &pts).finish(Aggregate::Median)
        );
    }
}
