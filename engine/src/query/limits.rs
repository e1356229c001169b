//! What one query may spend: a deadline, and a budget of points a statement may hold in
//! memory (InfluxDB's `max-select-point`).
//!
//! The point budget bounds memory: a raw or row-filtered statement estimates the points it
//! would read from block metadata and memtable sizes *before* reading any, and is refused
//! when they exceed the budget; aggregates that keep values (median, percentile, stddev)
//! count them as they go. Aggregates answered by accumulators hold one per window and group
//! whatever the number of points, and are bounded by the deadline only. The deadline is
//! checked between series, so a query overruns it by at most one series' work.
//!
//! A *small* query ([`crate::Db::try_query_small`]) is one a caller may run where it cannot
//! wait long (an async worker): its budget also abandons it as soon as a statement plans to
//! decode more than [`SmallQuery::max_points`] points or the query runs past
//! [`SmallQuery::max_time`] (checked where the deadline is). The abandonment is recorded
//! in the budget, shared by every statement's copy, so the caller can tell it from a real
//! limit and run the query again without it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
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

/// What keeps a query small enough for [`crate::Db::try_query_small`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallQuery {
    /// Points one statement may plan to decode.
    pub max_points: u64,
    /// Time the whole query may take.
    pub max_time: Duration,
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
    /// A small query's limits: points to decode, and when to give up.
    small: Option<(u64, Instant)>,
    /// Set once a small query is abandoned (shared by every statement's budget).
    abandoned: Arc<AtomicBool>,
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
            small: None,
            abandoned: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A budget that also abandons the query once it is not `small`.
    pub fn new_small(limits: QueryLimits, small: SmallQuery) -> Budget {
        Budget {
            small: Some((small.max_points, Instant::now() + small.max_time)),
            ..Budget::new(limits)
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
            small: self.small,
            abandoned: self.abandoned.clone(),
        }
    }

    /// Whether a small query was abandoned (by this budget or another statement's copy).
    pub fn abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed)
    }

    /// Records the abandonment; the error fails the statement on the way out.
    fn abandon(&self) -> Error {
        self.abandoned.store(true, Ordering::Relaxed);
        Error::QueryLimit {
            reason: "abandoned: the query is not small".into(),
        }
    }

    /// For a small query: fails (abandoning it) if a statement plans to decode more than its
    /// points. Other queries: does nothing.
    pub fn check_decode(&self, points: u64) -> Result<()> {
        match self.small {
            Some((max, _)) if points > max => Err(self.abandon()),
            _ => Ok(()),
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
        if let Some((_, until)) = self.small {
            if Instant::now() >= until {
                return Err(self.abandon());
            }
        }
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

    #[test]
    fn a_small_query_is_abandoned_past_its_points_or_time() {
        let small = SmallQuery {
            max_points: 100,
            max_time: Duration::from_secs(3600),
        };
        let b = Budget::new_small(QueryLimits::default(), small);
        let statement = b.for_statement();
        statement.check_decode(100).unwrap();
        statement.check_time().unwrap();
        assert!(!b.abandoned());
        assert!(statement.check_decode(101).is_err());
        assert!(b.abandoned(), "seen through the query's budget");
        let late = Budget::new_small(
            QueryLimits::default(),
            SmallQuery {
                max_time: Duration::ZERO,
                ..small
            },
        );
        assert!(late.check_time().is_err());
        assert!(late.abandoned());
        // Other budgets never abandon.
        let b = Budget::unlimited();
        b.check_decode(u64::MAX).unwrap();
        assert!(!b.abandoned());
    }
}
