//! Running InfluxQL: a query is parsed whole, then each statement runs on its own — `SELECT`
//! in [`super::select`], everything else in [`super::meta`] — and fails on its own, as in
//! InfluxDB. Valid InfluxQL this version does not execute is refused with
//! [`QueryError::Unsupported`] naming what, never answered wrongly.

use std::fmt;

use super::emit::{Collector, Consumer, Emitter, Paging};
use super::limits::{Budget, QueryLimits, SmallQuery};
use super::output::StatementOutcome;
use crate::db::Db;
use crate::influxql::{self, ConditionError, ParseError, Statement};
use crate::model::OwnedFieldValue;

/// One series of a statement's result, in InfluxDB's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSeries {
    pub name: String,
    pub tags: Vec<(String, String)>,
    /// The first column is `time` for SELECT results.
    pub columns: Vec<String>,
    /// Time (ns) and one value per column after `time`. When the first column is not `time`
    /// (the results of SHOW statements), the time is 0 and means nothing.
    pub rows: Vec<(i64, Vec<Option<OwnedFieldValue>>)>,
}

impl ResultSeries {
    /// Whether the first column is `time` (every SELECT result; not SHOW results).
    pub fn has_time(&self) -> bool {
        self.columns.first().is_some_and(|c| c == "time")
    }
}

/// Why a query or one of its statements failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum QueryError {
    Parse(ParseError),
    Condition(ConditionError),
    /// Valid InfluxQL that this version does not execute yet.
    Unsupported(String),
    /// A statement that InfluxDB refuses too (e.g. an aggregate beside a raw field).
    Invalid(String),
    /// The engine failed (I/O, corruption, unknown database).
    Engine(String),
    /// The statement went over a limit of [`super::QueryLimits`] (time, points).
    Limit(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Parse(e) => write!(f, "error parsing query: {e}"),
            QueryError::Condition(e) => write!(f, "{e}"),
            QueryError::Unsupported(what) => write!(f, "not supported yet: {what}"),
            QueryError::Invalid(why) => f.write_str(why),
            QueryError::Engine(why) | QueryError::Limit(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for QueryError {}

/// Parses `text` and runs each statement against database `db`; a parse error fails the whole
/// query, an execution error fails only its statement (as in InfluxDB).
pub fn run(
    engine: &Db,
    db: &str,
    text: &str,
    now_ns: i64,
    limits: QueryLimits,
) -> Result<Vec<StatementOutcome>, QueryError> {
    let mut collector = Collector::new();
    run_stream(engine, db, text, now_ns, limits, 0, &mut |e| {
        collector.take(e)
    })?;
    Ok(collector.into_results())
}

/// [`run`] if the query stays small: every statement a `SELECT` or `SHOW DATABASES` (which
/// change nothing), none planning to decode more than `small.max_points` points, the whole
/// within `small.max_time`. `Ok(None)` as soon as it is not (the work done so far is
/// dropped; running the query again with [`run`] answers it).
pub fn run_small(
    engine: &Db,
    db: &str,
    text: &str,
    now_ns: i64,
    limits: QueryLimits,
    small: SmallQuery,
) -> Result<Option<Vec<StatementOutcome>>, QueryError> {
    let query = influxql::parse_query(text).map_err(QueryError::Parse)?;
    let read_only = query
        .statements
        .iter()
        .all(|s| matches!(s, Statement::Select(_) | Statement::ShowDatabases));
    if !read_only {
        return Ok(None);
    }
    let budget = Budget::new_small(limits, small);
    let mut collector = Collector::new();
    let mut consumer = |e| collector.take(e);
    run_parsed(engine, db, &query, now_ns, &budget, 0, &mut consumer);
    Ok((!budget.abandoned()).then(|| collector.into_results()))
}

/// [`run`], handing each series to `consumer` as it is produced, cut into chunks of at most
/// `chunk_rows` rows (0: whole series). With chunks, a raw statement holds about
/// `limits.slice_points` points per group at once instead of its whole result. A parse
/// error returns before any event; otherwise every statement sends its series, then its
/// `End`.
pub fn run_stream(
    engine: &Db,
    db: &str,
    text: &str,
    now_ns: i64,
    limits: QueryLimits,
    chunk_rows: usize,
    consumer: &mut Consumer<'_>,
) -> Result<(), QueryError> {
    let query = influxql::parse_query(text).map_err(QueryError::Parse)?;
    run_parsed(
        engine,
        db,
        &query,
        now_ns,
        &Budget::new(limits),
        chunk_rows,
        consumer,
    );
    Ok(())
}

/// Runs each statement of a parsed query within `budget`, handing its series and its `End`
/// to `consumer`.
fn run_parsed(
    engine: &Db,
    db: &str,
    query: &influxql::Query,
    now_ns: i64,
    budget: &Budget,
    chunk_rows: usize,
    consumer: &mut Consumer<'_>,
) {
    for (i, s) in query.statements.iter().enumerate() {
        let paging = match s {
            Statement::Select(s) => Paging::of(s),
            _ => Paging::default(),
        };
        let mut out = Emitter::new(consumer, i, chunk_rows, paging);
        let result = budget
            .check_time()
            .map_err(super::select::engine_err)
            .and_then(|()| statement(engine, db, s, now_ns, &budget.for_statement(), &mut out));
        let stopped = out.is_stopped();
        out.end(result.err());
        if stopped || budget.abandoned() {
            break;
        }
    }
}

/// Runs one parsed SELECT without limits (the builder's entry point).
pub(crate) fn run_statement(
    engine: &Db,
    db: &str,
    s: &influxql::SelectStatement,
    now_ns: i64,
) -> Result<Vec<ResultSeries>, QueryError> {
    let mut collector = Collector::new();
    let mut consumer = |e| collector.take(e);
    let mut out = Emitter::new(&mut consumer, 0, 0, Paging::of(s));
    let result = super::select::run_select(engine, db, s, now_ns, &Budget::unlimited(), &mut out);
    out.end(result.err());
    collector
        .into_results()
        .pop()
        .unwrap_or_else(|| Ok(Vec::new()))
}

fn statement(
    engine: &Db,
    db: &str,
    s: &Statement,
    now_ns: i64,
    budget: &Budget,
    out: &mut Emitter<'_, '_>,
) -> Result<(), QueryError> {
    match s {
        Statement::Select(select) => {
            super::select::run_select(engine, db, select, now_ns, budget, out)
        }
        other => {
            for series in super::meta::run_meta(engine, db, other, now_ns)? {
                out.series_unpaged(series)?;
            }
            Ok(())
        }
    }
}
