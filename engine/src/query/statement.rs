//! Executing InfluxQL statements: the subset built so far.
//!
//! Supported: `SELECT <field>[, <field>…] | *` (raw points) and `SELECT <aggregate>(<field>)
//! [AS alias]` (count, sum, mean, min, max, first, last, spread, stddev, median,
//! percentile(f, N)) `FROM <one measurement> [WHERE <time bounds> AND/OR <tag = | != 'v'>]
//! [GROUP BY time(i[, offset]), <tag>…] [fill(null | none)] [ORDER BY time DESC] [LIMIT/OFFSET]
//! [SLIMIT/SOFFSET]`. Everything else is refused with [`QueryError::Unsupported`] naming what,
//! never answered wrongly.

use std::fmt;

use super::aggregate::Aggregate;
use super::exec::AggregateQuery;
use crate::db::Db;
use crate::influxql::{
    self, BinaryOp, ConditionError, Dimension, Expr, Fill, MeasurementName, ParseError,
    SelectStatement, Statement, TimeOffset,
};
use crate::model::OwnedFieldValue;
use crate::scan::{TagPredicate, TimeRange};

/// One series of a statement's result, in InfluxDB's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSeries {
    pub name: String,
    pub tags: Vec<(String, String)>,
    /// The first column is `time`.
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
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Parse(e) => write!(f, "error parsing query: {e}"),
            QueryError::Condition(e) => write!(f, "{e}"),
            QueryError::Unsupported(what) => write!(f, "not supported yet: {what}"),
            QueryError::Invalid(why) => f.write_str(why),
            QueryError::Engine(why) => f.write_str(why),
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
) -> Result<Vec<Result<Vec<ResultSeries>, QueryError>>, QueryError> {
    let query = influxql::parse_query(text).map_err(QueryError::Parse)?;
    Ok(query
        .statements
        .iter()
        .map(|s| statement(engine, db, s, now_ns))
        .collect())
}

fn statement(
    engine: &Db,
    db: &str,
    s: &Statement,
    now_ns: i64,
) -> Result<Vec<ResultSeries>, QueryError> {
    match s {
        Statement::Select(select) => run_select(engine, db, select, now_ns),
        other => Err(QueryError::Unsupported(format!(
            "statement {}",
            first_words(&other.to_string())
        ))),
    }
}

fn first_words(s: &str) -> String {
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn unsupported<T>(what: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError::Unsupported(what.into()))
}

fn run_select(
    engine: &Db,
    db: &str,
    s: &SelectStatement,
    now_ns: i64,
) -> Result<Vec<ResultSeries>, QueryError> {
    let [source] = s.sources.as_slice() else {
        return unsupported("more than one measurement in FROM");
    };
    let MeasurementName::Name(measurement) = &source.measurement else {
        return unsupported("a regular expression in FROM");
    };
    let db = source.database.as_deref().unwrap_or(db);
    let (min, max) = s.time_range(now_ns).map_err(QueryError::Condition)?;
    let range = TimeRange::new(min, max);
    let tags = match s.condition_without_time() {
        None => TagPredicate::All,
        Some(e) => predicate(&e)?,
    };
    let mut window = None;
    let mut group_by: Vec<&str> = Vec::new();
    for d in &s.dimensions {
        match d {
            Dimension::Time {
                interval_ns,
                offset: TimeOffset::Duration(o),
            } => window = Some((*interval_ns, *o)),
            Dimension::Time {
                offset: TimeOffset::Now,
                ..
            } => return unsupported("GROUP BY time(…, now())"),
            Dimension::Tag(k) => group_by.push(k),
            Dimension::Wildcard | Dimension::Regex(_) => {
                return unsupported("GROUP BY * or a regex")
            }
        }
    }
    let drop_empty = match s.fill {
        Fill::Null => false,
        Fill::None => true,
        _ => return unsupported("fill(previous | linear | number)"),
    };
    let engine_err = |e: crate::error::Error| QueryError::Engine(e.to_string());

    let calls: Vec<(&str, &[Expr], Option<&String>)> = s
        .fields
        .iter()
        .filter_map(|f| match &f.expr {
            Expr::Call { name, args } => Some((name.as_str(), args.as_slice(), f.alias.as_ref())),
            _ => None,
        })
        .collect();
    let mut series = if calls.is_empty() {
        if window.is_some() {
            return Err(QueryError::Invalid(
                "GROUP BY requires at least one aggregate function".into(),
            ));
        }
        if !group_by.is_empty() {
            return unsupported("GROUP BY tags on a raw query");
        }
        raw(engine, db, measurement, s, &tags, range).map_err(|e| match e {
            RawError::Engine(e) => engine_err(e),
            RawError::Query(q) => q,
        })?
    } else {
        if calls.len() != s.fields.len() {
            return Err(QueryError::Invalid(
                "mixing aggregate and non-aggregate queries is not supported".into(),
            ));
        }
        let [(name, args, alias)] = calls.as_slice() else {
            return unsupported("more than one aggregate in a SELECT");
        };
        let (aggregate, field) = aggregate_of(name, args)?;
        let q = AggregateQuery {
            measurement,
            field: &field,
            tags: &tags,
            range,
            aggregate,
            window,
            group_by: &group_by,
        };
        let (groups, _) = engine.aggregate(db, &q).map_err(engine_err)?;
        let column = alias.cloned().unwrap_or_else(|| name.to_string());
        groups
            .into_iter()
            .map(|g| ResultSeries {
                name: measurement.clone(),
                tags: g.tags,
                columns: vec!["time".into(), column.clone()],
                rows: g
                    .rows
                    .into_iter()
                    .filter(|(_, v)| !(drop_empty && v.is_none()))
                    .map(|(t, v)| (t, vec![v]))
                    .collect(),
            })
            .collect()
    };
    // SOFFSET/SLIMIT over series, then ORDER, OFFSET and LIMIT within each.
    let soffset = s.soffset as usize;
    series = series.into_iter().skip(soffset).collect();
    if s.slimit > 0 {
        series.truncate(s.slimit as usize);
    }
    for r in &mut series {
        if s.order_desc {
            r.rows.reverse();
        }
        let rows = std::mem::take(&mut r.rows)
            .into_iter()
            .skip(s.offset as usize);
        r.rows = if s.limit > 0 {
            rows.take(s.limit as usize).collect()
        } else {
            rows.collect()
        };
    }
    series.retain(|r| !r.rows.is_empty());
    Ok(series)
}

enum RawError {
    Engine(crate::error::Error),
    Query(QueryError),
}

/// `SELECT a, b | *`: every series' rows merged by time into one result series, as InfluxDB
/// returns a raw query without GROUP BY.
fn raw(
    engine: &Db,
    db: &str,
    measurement: &str,
    s: &SelectStatement,
    tags: &TagPredicate,
    range: TimeRange,
) -> Result<Vec<ResultSeries>, RawError> {
    let mut names: Vec<(&str, Option<&String>)> = Vec::new();
    let mut all = false;
    for f in &s.fields {
        match &f.expr {
            Expr::VarRef { name, .. } => names.push((name, f.alias.as_ref())),
            Expr::Wildcard { .. } => all = true,
            other => {
                return Err(RawError::Query(QueryError::Unsupported(format!(
                    "the expression {other} in SELECT"
                ))))
            }
        }
    }
    let wanted: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    let found = engine
        .scan(
            db,
            measurement,
            tags,
            if all { &[] } else { &wanted },
            range,
        )
        .map_err(RawError::Engine)?;
    let Some(first) = found.first() else {
        return Ok(Vec::new());
    };
    let columns: Vec<String> = if all {
        first.fields.iter().map(|(k, _)| k.clone()).collect()
    } else {
        names
            .iter()
            .map(|(n, a)| a.map_or_else(|| n.to_string(), |a| a.clone()))
            .collect()
    };
    let field_names: Vec<&str> = if all {
        columns.iter().map(String::as_str).collect()
    } else {
        wanted.clone()
    };
    if !all
        && names
            .iter()
            .any(|(n, _)| !first.fields.iter().any(|(k, _)| k == n))
    {
        return Err(RawError::Query(QueryError::Unsupported(
            "selecting tags or unknown fields".into(),
        )));
    }
    let mut rows: Vec<(i64, Vec<Option<OwnedFieldValue>>)> = Vec::new();
    for sr in found {
        let idx: Vec<Option<usize>> = field_names
            .iter()
            .map(|n| sr.fields.iter().position(|(k, _)| k == n))
            .collect();
        for row in sr.rows {
            let values = idx
                .iter()
                .map(|i| i.and_then(|i| row.values[i].clone()))
                .collect();
            rows.push((row.time, values));
        }
    }
    rows.sort_by_key(|r| r.0); // stable: series key order among equal times
    let mut out_columns = vec!["time".to_string()];
    out_columns.extend(columns);
    Ok(vec![ResultSeries {
        name: measurement.to_owned(),
        tags: Vec::new(),
        columns: out_columns,
        rows,
    }])
}

fn aggregate_of(name: &str, args: &[Expr]) -> Result<(Aggregate, String), QueryError> {
    let field = match args.first() {
        Some(Expr::VarRef { name, .. }) => name.clone(),
        _ => {
            return Err(QueryError::Invalid(format!(
                "expected field argument in {name}()"
            )))
        }
    };
    let agg = match name {
        "count" => Aggregate::Count,
        "sum" => Aggregate::Sum,
        "mean" => Aggregate::Mean,
        "min" => Aggregate::Min,
        "max" => Aggregate::Max,
        "first" => Aggregate::First,
        "last" => Aggregate::Last,
        "spread" => Aggregate::Spread,
        "stddev" => Aggregate::Stddev,
        "median" => Aggregate::Median,
        "percentile" => match args.get(1) {
            Some(Expr::IntegerLiteral(n)) => Aggregate::Percentile(*n as f64),
            Some(Expr::NumberLiteral(n)) => Aggregate::Percentile(*n),
            _ => {
                return Err(QueryError::Invalid(
                    "expected float argument in percentile()".into(),
                ))
            }
        },
        other => return unsupported(format!("the function {other}()")),
    };
    let expected = if matches!(agg, Aggregate::Percentile(_)) {
        2
    } else {
        1
    };
    if args.len() != expected {
        return Err(QueryError::Invalid(format!(
            "invalid number of arguments for {name}, expected {expected}, got {}",
            args.len()
        )));
    }
    Ok((agg, field))
}

/// A tag condition as a predicate.
fn predicate(e: &Expr) -> Result<TagPredicate, QueryError> {
    match e {
        Expr::Paren(inner) => predicate(inner),
        Expr::BinaryExpr {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => Ok(TagPredicate::And(vec![predicate(lhs)?, predicate(rhs)?])),
        Expr::BinaryExpr {
            op: BinaryOp::Or,
            lhs,
            rhs,
        } => Ok(TagPredicate::Or(vec![predicate(lhs)?, predicate(rhs)?])),
        Expr::BinaryExpr {
            op: op @ (BinaryOp::Eq | BinaryOp::NotEq),
            lhs,
            rhs,
        } => {
            let (Expr::VarRef { name, .. }, Expr::StringLiteral(v)) = (lhs.as_ref(), rhs.as_ref())
            else {
                return unsupported(format!(
                    "the condition {e} (only tag = 'value' and tag != 'value' so far)"
                ));
            };
            Ok(if *op == BinaryOp::Eq {
                TagPredicate::Eq(name.clone(), v.clone())
            } else {
                TagPredicate::NotEq(name.clone(), v.clone())
            })
        }
        other => unsupported(format!(
            "the condition {other} (only tag = 'value' and tag != 'value' so far)"
        )),
    }
}
