//! What one query may spend: a deadline, and a budget of points a statement may hold in
//! memory (InfluxDB's `max-select-point`).
//!
//! The point budget bounds memory: a raw or row-filtered statement estimates the points it
//! would read from block metadata and memtable sizes *before* reading any, and is refused
//! when they exceed the budget; aggregates that keep values (median, percentile, stddev)
//! count them as they go. Aggregates answered by accumulators hold one per window and group
//! whatever the number of points, and are bounded by the deadline only. The deadline is
//! checked between series, so a query overruns it by at most one series' work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Limits for [`crate::Db::query_with`]; the default is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryLimits {
    /// The whole query's wall-clock time.
    pub timeout: Option<Duration>,
    /// Points one statement may read into memory (0: no limit).
    pub max_points: u64,
    /// Parts one aggregation's series are split into (0: one per core), decoded on the
    /// engine's worker pool (rayon's global pool: one thread per core); 1 decodes on the
    /// calling thread alone.
    pub threads: usize,
    /// Points a streaming raw statement reads into memory at once, about, per group
    /// (0: [`DEFAULT_SLICE_POINTS`]); see [`crate::Db::query_stream`].
    pub slice_points: usize,
}

/// Points a streaming statement reads at once unless [`QueryLimits::slice_points`] says.
pub const DEFAULT_SLICE_POINTS: usize = 1 << 16;

/// A running query's limits.
#[derive(Debug)]
pub struct Budget {
    deadline: Option<Instant>,
    max_points: u64,
    threads: usize,
    slice_points: usize,
    points: AtomicU64,
}

impl Budget {
    pub fn unlimited() -> Budget {
        Budget::new(QueryLimits::default())
    }

    pub fn new(limits: QueryLimits) -> Budget {
        Budget {
            deadline: limits.timeout.map(|t| Instant::now() + t),
            max_points: limits.max_points,
            threads: limits.threads,
            slice_points: limits.slice_points,
            points: AtomicU64::new(0),
        }
    }

    /// The same deadline, a fresh point count (each statement has its own).
    pub fn for_statement(&self) -> Budget {
        Budget {
            deadline: self.deadline,
            max_points: self.max_points,
            threads: self.threads,
            slice_points: self.slice_points,
            points: AtomicU64::new(0),
        }
    }

    /// The threads an aggregation may use.
    pub fn threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            // Asked once: the standard library reads the cgroup files on every call, which
            // cost a short query a few percent of its time.
            static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
            *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        }
    }

    /// The points a streaming statement reads at once, about.
    pub fn slice_points(&self) -> usize {
        match self.slice_points {
            0 => DEFAULT_SLICE_POINTS,
            n => n,
        }
    }

    /// Fails once the deadline has passed.
    pub fn check_time(&self) -> Result<()> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(Error::QueryLimit {
                reason: "query timeout: the query ran longer than its time limit".into(),
            }),
            _ => Ok(()),
        }
    }

    /// Counts `n` more points held; fails beyond the budget.
    pub fn add_points(&self, n: u64) -> Result<()> {
        let total = self.points.fetch_add(n, Ordering::Relaxed) + n;
        self.check_points(total)
    }

    /// Fails if a statement that would hold `n` points cannot.
    pub fn check_points(&self, n: u64) -> Result<()> {
        if self.max_points > 0 && n > self.max_points {
            return Err(Error::QueryLimit {
                reason: format!(
                    "max-select-point limit exceeded: the statement would hold {n} points, \
                     the limit is {}",
                    self.max_points
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_and_time() {
        let b = Budget::new(QueryLimits {
            timeout: None,
            max_points: 10,
            ..QueryLimits::default()
        });
        b.add_points(6).unwrap();
        assert!(b
            .add_points(5)
            .unwrap_err()
            .to_string()
            .contains("max-select-point"));
        assert!(b.for_statement().add_points(10).is_ok());
        let late = Budget::new(QueryLimits {
            timeout: Some(Duration::ZERO),
            ..QueryLimits::default()
        });
        assert!(late
            .check_time()
            .unwrap_err()
            .to_string()
            .contains("timeout"));
        assert!(Budget::unlimited().check_time().is_ok());
    }
}
