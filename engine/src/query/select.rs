//! Executing `SELECT`.
//!
//! A statement is planned per source measurement (sources in name order, as InfluxDB orders
//! its series):
//! - the `WHERE` clause splits into time bounds, tag-only conjuncts (a [`TagPredicate`] that
//!   picks series before any data is read) and the rest, a row filter over fields and tags;
//! - an aggregate statement computes each distinct call once. A call of a numeric field with
//!   no row filter goes to the pushdown executor ([`super::exec`]), which answers whole blocks
//!   from their statistics; anything else (a field condition, text or boolean fields, `mode`,
//!   `distinct`, `integral`) scans the rows it needs and aggregates them here. Calls are then
//!   joined by group and time, the `SELECT` expressions evaluated per row, and `fill` applied;
//! - a raw statement is read group by group (groups from the index, in tag order), each
//!   group's series merged by time, and its rows filtered, evaluated and handed to the
//!   [`Emitter`] as they come. For a consumer that takes chunks, a group is read in time
//!   slices of about [`super::QueryLimits::slice_points`] points planned from block metadata
//!   ([`crate::scan::plan_slices`]), so memory stays bounded however long the range;
//!   otherwise the whole result is held, and refused up front beyond the point budget.
//!
//! Results are sorted by measurement, then by group tags (both orders reversed with
//! `ORDER BY time DESC`, as InfluxDB does). The emitter applies
//! `SLIMIT`/`SOFFSET` to series and `OFFSET`/`LIMIT` to each series' rows, which come in
//! time order or, with `ORDER BY time DESC`, reversed.
//!
//! Aggregates hold one accumulator per window and group, whatever the points: on the
//! pushdown path, and on the row scan, which reads one series a time slice at a time and
//! merges its accumulators into its group's. What must keep values (median, percentile,
//! stddev, and `mode`, `distinct`, `integral` and text or boolean fields, which keep their
//! points) counts them against the point budget as it goes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::aggregate::{Acc, Aggregate, Num};
use super::emit::{Emitter, Flow};
use super::eval::{compile_regex, Eval};
use super::exec::{AggregateQuery, AggregateSeries};
use super::limits::Budget;
use super::statement::{QueryError, ResultSeries};
use super::window::Windows;
use crate::batch::SeriesId;
use crate::database::Database;
use crate::db::Db;
use crate::influxql::{
    BinaryOp, Dimension, Expr, Fill, MeasurementName, SelectStatement, Source, TimeOffset, VarType,
};
use crate::model::{FieldType, FieldValue, OwnedFieldValue};
use crate::scan::{TagPredicate, TagRegex, TimeRange};

type Value = OwnedFieldValue;
type Tags = Vec<(String, String)>;
/// A series' values of the tag slots of a row (see [`Slots::tag_values`]).
type TagSlots = Vec<Option<Value>>;
/// Rows of a result series: time and one value per column.
type Rows = Vec<(i64, Vec<Option<Value>>)>;

pub(super) fn engine_err(e: crate::error::Error) -> QueryError {
    match e {
        crate::error::Error::QueryLimit { reason } => QueryError::Limit(reason),
        e => QueryError::Engine(e.to_string()),
    }
}

pub(super) fn run_select(
    engine: &Db,
    default_db: &str,
    s: &SelectStatement,
    now_ns: i64,
    budget: &Budget,
    out: &mut Emitter<'_, '_>,
) -> Result<(), QueryError> {
    let (min, max) = s.time_range(now_ns).map_err(QueryError::Condition)?;
    let range = TimeRange::new(min, max);
    let window = match s.group_by_time() {
        None => None,
        Some((interval, TimeOffset::Duration(o))) => Some((interval, o)),
        Some((interval, TimeOffset::Now)) => Some((interval, now_ns.rem_euclid(interval))),
    };
    let has_calls = s.fields.iter().any(|f| has_call(&f.expr));
    if window.is_some() && !has_calls {
        return Err(QueryError::Invalid(
            "GROUP BY requires at least one aggregate function".into(),
        ));
    }
    let condition = s.condition_without_time();
    let mut targets = sources(engine, default_db, &s.sources)?;
    if s.order_desc {
        // InfluxDB reverses the order of the measurements too.
        targets.reverse();
    }
    // Over several measurements, `*` stands for all their fields and tags.
    let star = if targets.len() > 1 && s.fields.iter().any(|f| has_wildcard(&f.expr)) {
        let mut star = Star::default();
        for (db_name, measurement) in &targets {
            let database = engine.database(db_name).map_err(engine_err)?;
            let t = Target::new(&database, measurement.clone());
            star.tags.extend(t.tag_keys());
            for (k, ty) in t.fields {
                star.fields.entry(k).or_insert(ty);
            }
        }
        Some(star)
    } else {
        None
    };
    for (db_name, measurement) in targets {
        if out.is_full() {
            break;
        }
        let database = engine.database(&db_name).map_err(engine_err)?;
        let mut target = Target::new(&database, measurement);
        target.star = star.clone();
        // `count(*)`, `mean(/re/)`: one call per matching field of this measurement.
        let expanded = expand_wildcard_calls(s, &target)?;
        let s = expanded.as_ref();
        if s.fields.is_empty() {
            continue;
        }
        let shape = Shape::of(s)?;
        let (tags, filter) = split_condition(condition.as_ref(), &|n| target.is_field(n))?;
        let group_keys = target.group_keys(&s.dimensions)?;
        let plan = Plan {
            target: &target,
            tags: &tags,
            filter: filter.as_ref(),
            range,
            window,
            group_keys: &group_keys,
            budget,
        };
        match &shape {
            Shape::Raw => plan.raw(s, out)?,
            Shape::Aggregate(calls) => emit_aggregates(plan.aggregate(s, calls)?, s, out)?,
            Shape::SelectorWithFields(call) => {
                emit_aggregates(plan.selector_with_fields(s, call)?, s, out)?
            }
        }
    }
    Ok(())
}

/// Sends a statement's aggregate series (each one's rows already in output order), in
/// InfluxDB's order of series for `ORDER BY time DESC`.
fn emit_aggregates(
    mut all: Vec<ResultSeries>,
    s: &SelectStatement,
    out: &mut Emitter<'_, '_>,
) -> Result<(), QueryError> {
    if s.order_desc {
        desc_series_order(&mut all, s);
    }
    for series in all {
        if series.rows.is_empty() {
            // Counted by SLIMIT/SOFFSET, sent as nothing.
            out.begin(series.name, series.tags, series.columns)?;
            if out.admit()? == Flow::Done {
                break;
            }
            out.finish()?;
            continue;
        }
        if out.series(series)? == Flow::Done {
            break;
        }
    }
    Ok(())
}

/// Orders a statement's series (ascending key order, each with points in range) for
/// `ORDER BY time DESC` as InfluxDB does: `SOFFSET`/`SLIMIT` pick the series in ascending
/// order, and the picked series come out in reverse. The emitter then pages the result as
/// usual: the skipped series first (it drops them), the picked ones reversed.
fn desc_series_order<T>(series: &mut Vec<T>, s: &SelectStatement) {
    let skip = (s.soffset as usize).min(series.len());
    let end = match s.slimit {
        0 => series.len(),
        n => skip.saturating_add(n as usize).min(series.len()),
    };
    series.truncate(end);
    series[skip..].reverse();
}

/// Whether `e` holds a `*` (alone or as a call's argument) or a call over `/regex/`.
fn has_wildcard(e: &Expr) -> bool {
    match e {
        Expr::Wildcard { .. } => true,
        Expr::Call { args, .. } => args
            .iter()
            .any(|a| matches!(a, Expr::RegexLiteral(_)) || has_wildcard(a)),
        Expr::BinaryExpr { lhs, rhs, .. } => has_wildcard(lhs) || has_wildcard(rhs),
        Expr::Paren(inner) => has_wildcard(inner),
        _ => false,
    }
}

fn has_call(e: &Expr) -> bool {
    match e {
        Expr::Call { .. } => true,
        Expr::BinaryExpr { lhs, rhs, .. } => has_call(lhs) || has_call(rhs),
        Expr::Paren(inner) => has_call(inner),
        _ => false,
    }
}

/// Replaces each `f(*)` / `f(/re/)` of the SELECT list by `f(field) AS f_field` for every
/// field of the measurement that matches (numeric fields only, except for `count`, `first`,
/// `last`, `distinct` and `mode`, and booleans too for `min` and `max`), as InfluxDB does.
fn expand_wildcard_calls<'s>(
    s: &'s SelectStatement,
    target: &Target<'_>,
) -> Result<std::borrow::Cow<'s, SelectStatement>, QueryError> {
    let wild = |args: &[Expr]| {
        matches!(
            args.first(),
            Some(Expr::Wildcard { .. } | Expr::RegexLiteral(_))
        )
    };
    if !s
        .fields
        .iter()
        .any(|f| matches!(&f.expr, Expr::Call { args, .. } if wild(args)))
    {
        return Ok(std::borrow::Cow::Borrowed(s));
    }
    let mut out = s.clone();
    out.fields.clear();
    for f in &s.fields {
        let Expr::Call { name, args } = &f.expr else {
            out.fields.push(f.clone());
            continue;
        };
        if !wild(args) {
            out.fields.push(f.clone());
            continue;
        }
        let re = match &args[0] {
            Expr::RegexLiteral(p) => Some(compile_regex(p)?),
            _ => None,
        };
        let any_type = matches!(
            name.as_str(),
            "count" | "first" | "last" | "distinct" | "mode"
        );
        let prefix = f.alias.clone().unwrap_or_else(|| name.clone());
        for (field, ty) in target.star_fields() {
            let numeric = matches!(
                ty,
                FieldType::Float | FieldType::Integer | FieldType::Unsigned
            );
            // min() and max() take booleans too (true is the larger), as InfluxDB expands them.
            let boolean =
                matches!(ty, FieldType::Boolean) && matches!(name.as_str(), "min" | "max");
            if re.as_ref().is_some_and(|r| !r.is_match(field)) || !(any_type || numeric || boolean)
            {
                continue;
            }
            let mut args = args.clone();
            args[0] = Expr::var(field);
            out.fields.push(crate::influxql::Field {
                expr: Expr::Call {
                    name: name.clone(),
                    args,
                },
                alias: Some(format!("{prefix}_{field}")),
            });
        }
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// The databases and measurements a `FROM` clause names, sorted, without duplicates.
pub(super) fn sources(
    engine: &Db,
    default_db: &str,
    sources: &[Source],
) -> Result<Vec<(String, String)>, QueryError> {
    let mut out = BTreeSet::new();
    for source in sources {
        let db = database_name(source.database.as_deref(), default_db)?;
        match &source.measurement {
            MeasurementName::Name(m) => {
                engine.database(db).map_err(engine_err)?;
                out.insert((db.to_owned(), m.clone()));
            }
            MeasurementName::Regex(re) => {
                let re = compile_regex(re)?;
                for m in engine.measurements(db).map_err(engine_err)? {
                    if re.is_match(&m) {
                        out.insert((db.to_owned(), m));
                    }
                }
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// The database a statement reads: the one it names, else the request's.
pub(super) fn database_name<'a>(
    named: Option<&'a str>,
    default_db: &'a str,
) -> Result<&'a str, QueryError> {
    match named.unwrap_or(default_db) {
        "" => Err(QueryError::Invalid("database name required".into())),
        db => Ok(db),
    }
}

/// What a `SELECT` list is: raw expressions, or expressions over aggregate calls.
enum Shape {
    Raw,
    Aggregate(Vec<Call>),
    /// One selector beside raw fields and tags, which take the selected point's values.
    SelectorWithFields(Call),
}

/// One distinct aggregate call.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    func: Func,
    field: String,
    /// The call as written, to find it again in the `SELECT` expressions.
    expr: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Agg(Aggregate),
    Mode,
    Distinct,
    /// `count(distinct(field))`: how many distinct values.
    CountDistinct,
    /// `integral(field[, unit])`, unit in nanoseconds.
    Integral(i64),
}

impl Func {
    fn is_selector(self) -> bool {
        match self {
            Func::Agg(a) => a.is_selector(),
            _ => false,
        }
    }
}

impl Shape {
    fn of(s: &SelectStatement) -> Result<Shape, QueryError> {
        let mut calls: Vec<Call> = Vec::new();
        let mut raw = false;
        for f in &s.fields {
            collect_calls(&f.expr, &mut calls, &mut raw)?;
        }
        if calls.is_empty() {
            return Ok(Shape::Raw);
        }
        if raw {
            let selectors = calls.iter().filter(|c| c.func.is_selector()).count();
            let plain = |e: &Expr| !has_call(e) && !has_wildcard(e);
            if calls.len() == 1
                && selectors == 1
                && s.fields
                    .iter()
                    .all(|f| matches!(f.expr, Expr::Call { .. }) || plain(&f.expr))
            {
                return Ok(Shape::SelectorWithFields(calls.remove(0)));
            }
            if calls.len() > 1 && selectors == calls.len() {
                return Err(QueryError::Invalid(
                    "mixing multiple selector functions with tags or fields is not supported"
                        .into(),
                ));
            }
            return Err(QueryError::Invalid(
                "mixing aggregate and non-aggregate queries is not supported".into(),
            ));
        }
        if calls.len() > 1 && calls.iter().any(|c| c.func == Func::Distinct) {
            return Err(QueryError::Invalid(
                "aggregate function distinct() cannot be combined with other functions or \
                 fields"
                    .into(),
            ));
        }
        Ok(Shape::Aggregate(calls))
    }
}

fn collect_calls(e: &Expr, calls: &mut Vec<Call>, raw: &mut bool) -> Result<(), QueryError> {
    match e {
        Expr::Call { name, args } => {
            let call = call_of(name, args, e)?;
            if !calls.iter().any(|c| c.expr == call.expr) {
                calls.push(call);
            }
        }
        Expr::BinaryExpr { op, lhs, rhs } => {
            if op.is_boolean() {
                return Err(QueryError::Invalid(format!(
                    "invalid operator {} in SELECT; only arithmetic is allowed",
                    op.as_str()
                )));
            }
            collect_calls(lhs, calls, raw)?;
            collect_calls(rhs, calls, raw)?;
        }
        Expr::Paren(inner) => collect_calls(inner, calls, raw)?,
        Expr::VarRef { .. } | Expr::Wildcard { .. } => *raw = true,
        _ => {}
    }
    Ok(())
}

fn call_of(name: &str, args: &[Expr], expr: &Expr) -> Result<Call, QueryError> {
    let arity = |want: std::ops::RangeInclusive<usize>| {
        if want.contains(&args.len()) {
            Ok(())
        } else {
            Err(QueryError::Invalid(format!(
                "invalid number of arguments for {name}, expected {}, got {}",
                if want.start() == want.end() {
                    want.start().to_string()
                } else {
                    format!("at least {} but no more than {}", want.start(), want.end())
                },
                args.len()
            )))
        }
    };
    let func = match name {
        "count" => Func::Agg(Aggregate::Count),
        "sum" => Func::Agg(Aggregate::Sum),
        "mean" => Func::Agg(Aggregate::Mean),
        "min" => Func::Agg(Aggregate::Min),
        "max" => Func::Agg(Aggregate::Max),
        "first" => Func::Agg(Aggregate::First),
        "last" => Func::Agg(Aggregate::Last),
        "spread" => Func::Agg(Aggregate::Spread),
        "stddev" => Func::Agg(Aggregate::Stddev),
        "median" => Func::Agg(Aggregate::Median),
        "mode" => Func::Mode,
        "distinct" => Func::Distinct,
        "percentile" => {
            arity(2..=2)?;
            let p = match &args[1] {
                Expr::IntegerLiteral(n) => *n as f64,
                Expr::NumberLiteral(n) => *n,
                _ => {
                    return Err(QueryError::Invalid(
                        "expected float argument in percentile()".into(),
                    ))
                }
            };
            Func::Agg(Aggregate::Percentile(p))
        }
        "integral" => {
            arity(1..=2)?;
            let unit = match args.get(1) {
                None => 1_000_000_000,
                Some(Expr::DurationLiteral(d)) if *d > 0 => *d,
                Some(_) => {
                    return Err(QueryError::Invalid(
                        "second argument to integral must be a positive duration".into(),
                    ))
                }
            };
            Func::Integral(unit)
        }
        other => return Err(QueryError::Unsupported(format!("the function {other}()"))),
    };
    if !matches!(
        func,
        Func::Agg(Aggregate::Percentile(_)) | Func::Integral(_)
    ) {
        arity(1..=1)?;
    }
    let (func, arg) = match (func, &args[0]) {
        // count(distinct(field)), which InfluxDB also reads from `count(DISTINCT field)`.
        (Func::Agg(Aggregate::Count), Expr::Call { name: inner, args }) if inner == "distinct" => {
            if args.len() != 1 {
                return Err(QueryError::Invalid(format!(
                    "distinct function requires exactly one argument, got {}",
                    args.len()
                )));
            }
            (Func::CountDistinct, &args[0])
        }
        (func, arg) => (func, arg),
    };
    let field = match arg {
        Expr::VarRef { name, .. } => name.clone(),
        Expr::Call { name: inner, .. } => {
            return Err(QueryError::Unsupported(format!(
                "a call as the argument of {name}() (here {inner}())"
            )))
        }
        _ => {
            return Err(QueryError::Invalid(format!(
                "expected field argument in {name}()"
            )))
        }
    };
    Ok(Call {
        func,
        field,
        expr: expr.clone(),
    })
}

/// One measurement being read: its fields and (lazily) tag keys.
struct Target<'a> {
    database: &'a Database,
    measurement: String,
    fields: BTreeMap<String, FieldType>,
    /// What `*` stands for when the statement reads several measurements: every source's
    /// fields and tag keys, as InfluxDB expands it (columns a measurement lacks are null).
    star: Option<Star>,
}

/// The fields and tag keys of all of a statement's measurements.
#[derive(Clone, Default)]
struct Star {
    fields: BTreeMap<String, FieldType>,
    tags: BTreeSet<String>,
}

impl<'a> Target<'a> {
    fn new(database: &'a Database, measurement: String) -> Target<'a> {
        let fields = database
            .schema()
            .fields_of(&measurement)
            .map(|f| (f.key.to_string(), f.field_type))
            .collect();
        Target {
            database,
            measurement,
            fields,
            star: None,
        }
    }

    /// The fields `*` expands to.
    fn star_fields(&self) -> &BTreeMap<String, FieldType> {
        self.star.as_ref().map_or(&self.fields, |s| &s.fields)
    }

    /// The tag keys `*` expands to.
    fn star_tags(&self) -> BTreeSet<String> {
        match &self.star {
            Some(s) => s.tags.clone(),
            None => self.tag_keys(),
        }
    }

    fn is_field(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    fn tag_keys(&self) -> BTreeSet<String> {
        super::meta::tag_keys(self.database, &self.measurement, &TagPredicate::All)
    }

    /// The sorted `GROUP BY` tag keys (`*` and regexes expanded).
    fn group_keys(&self, dims: &[Dimension]) -> Result<Vec<String>, QueryError> {
        let mut keys = BTreeSet::new();
        for d in dims {
            match d {
                Dimension::Tag(k) => {
                    keys.insert(k.clone());
                }
                Dimension::Wildcard => keys.extend(self.tag_keys()),
                Dimension::Regex(re) => {
                    let re = compile_regex(re)?;
                    keys.extend(self.tag_keys().into_iter().filter(|k| re.is_match(k)));
                }
                Dimension::Time { .. } => {}
            }
        }
        Ok(keys.into_iter().collect())
    }
}

/// Splits a `WHERE` clause (without its time comparisons) into the tag-only conjuncts, as a
/// predicate on series, and the rest, as a row filter.
pub(super) fn split_condition(
    condition: Option<&Expr>,
    is_field: &dyn Fn(&str) -> bool,
) -> Result<(TagPredicate, Option<Expr>), QueryError> {
    let mut conjuncts = Vec::new();
    if let Some(c) = condition {
        flatten_and(c, &mut conjuncts);
    }
    let mut predicates = Vec::new();
    let mut rest: Option<Expr> = None;
    for c in conjuncts {
        let tag_only = !references(c, &|n| is_field(n));
        match tag_only.then(|| tag_predicate(c)).transpose()?.flatten() {
            Some(p) => predicates.push(p),
            None => {
                rest = Some(match rest {
                    None => c.clone(),
                    Some(r) => Expr::binary(BinaryOp::And, r, c.clone()),
                })
            }
        }
    }
    let tags = match predicates.len() {
        0 => TagPredicate::All,
        1 => predicates.pop().unwrap_or(TagPredicate::All),
        _ => TagPredicate::And(predicates),
    };
    Ok((tags, rest))
}

fn flatten_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Paren(inner) => flatten_and(inner, out),
        Expr::BinaryExpr {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => {
            flatten_and(lhs, out);
            flatten_and(rhs, out);
        }
        other => out.push(other),
    }
}

/// Whether `e` references a variable for which `pred` holds.
fn references(e: &Expr, pred: &dyn Fn(&str) -> bool) -> bool {
    match e {
        Expr::VarRef { name, type_hint } => type_hint != &Some(VarType::Tag) && pred(name),
        Expr::BinaryExpr { lhs, rhs, .. } => references(lhs, pred) || references(rhs, pred),
        Expr::Paren(inner) => references(inner, pred),
        Expr::Call { args, .. } => args.iter().any(|a| references(a, pred)),
        _ => false,
    }
}

/// A tag condition as a series predicate; `None` when it is not one (e.g. `tag > 'x'`).
pub(super) fn tag_predicate(e: &Expr) -> Result<Option<TagPredicate>, QueryError> {
    Ok(match e {
        Expr::Paren(inner) => tag_predicate(inner)?,
        Expr::BinaryExpr {
            op: op @ (BinaryOp::And | BinaryOp::Or),
            lhs,
            rhs,
        } => match (tag_predicate(lhs)?, tag_predicate(rhs)?) {
            (Some(l), Some(r)) if *op == BinaryOp::And => Some(TagPredicate::And(vec![l, r])),
            (Some(l), Some(r)) => Some(TagPredicate::Or(vec![l, r])),
            _ => None,
        },
        Expr::BinaryExpr { op, lhs, rhs } => {
            let (key, value, op) = match (lhs.as_ref(), rhs.as_ref()) {
                (Expr::VarRef { name, .. }, v) => (name, v, *op),
                (v, Expr::VarRef { name, .. }) if matches!(op, BinaryOp::Eq | BinaryOp::NotEq) => {
                    (name, v, *op)
                }
                _ => return Ok(None),
            };
            match (op, value) {
                (BinaryOp::Eq, Expr::StringLiteral(v)) => Some(TagPredicate::eq(key, v)),
                (BinaryOp::NotEq, Expr::StringLiteral(v)) => {
                    Some(TagPredicate::NotEq(key.clone(), v.clone()))
                }
                (BinaryOp::EqRegex, Expr::RegexLiteral(re)) => {
                    Some(TagPredicate::Regex(key.clone(), tag_regex(re)?))
                }
                (BinaryOp::NotEqRegex, Expr::RegexLiteral(re)) => {
                    Some(TagPredicate::NotRegex(key.clone(), tag_regex(re)?))
                }
                _ => None,
            }
        }
        Expr::BooleanLiteral(true) => Some(TagPredicate::All),
        _ => None,
    })
}

fn tag_regex(pattern: &str) -> Result<TagRegex, QueryError> {
    compile_regex(pattern).map(TagRegex)
}

struct Plan<'p> {
    target: &'p Target<'p>,
    tags: &'p TagPredicate,
    filter: Option<&'p Expr>,
    range: TimeRange,
    window: Option<(i64, i64)>,
    group_keys: &'p [String],
    budget: &'p Budget,
}

/// The fields a statement reads: as a scan wants them (id and type), their ids, and where
/// each field slot is among them.
struct ScanFields {
    wanted: Vec<(crate::batch::FieldId, FieldType)>,
    fids: Vec<crate::batch::FieldId>,
    positions: Vec<Option<usize>>,
}

/// Slots of a row being evaluated: the scanned fields, then the series' tags.
struct Slots {
    fields: Vec<String>,
    tags: Vec<String>,
}

impl Slots {
    fn new() -> Slots {
        Slots {
            fields: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// The slot of `name`: a field of the measurement, else a tag.
    fn slot(&mut self, target: &Target<'_>, name: &str) -> usize {
        if target.is_field(name) {
            match self.fields.iter().position(|f| f == name) {
                Some(i) => i,
                None => {
                    self.fields.push(name.to_owned());
                    self.fields.len() - 1
                }
            }
        } else {
            let i = match self.tags.iter().position(|t| t == name) {
                Some(i) => i,
                None => {
                    self.tags.push(name.to_owned());
                    self.tags.len() - 1
                }
            };
            TAG_SLOT_BASE + i
        }
    }

    /// Renumbers tag slots to follow the field slots, now that every field is known.
    fn finish(&self, e: &mut Eval) {
        match e {
            Eval::Slot(i) if *i >= TAG_SLOT_BASE => *i = *i - TAG_SLOT_BASE + self.fields.len(),
            Eval::Binary(_, l, r) => {
                self.finish(l);
                self.finish(r);
            }
            Eval::Regex { operand, .. } => self.finish(operand),
            _ => {}
        }
    }

    fn width(&self) -> usize {
        self.fields.len() + self.tags.len()
    }

    /// A series' values of the tag slots, in slot order.
    fn tag_values(&self, tags: &[(String, String)]) -> TagSlots {
        self.tags
            .iter()
            .map(|k| match tag_value(tags, k) {
                "" => None,
                v => Some(FieldValue::String(v.to_owned().into())),
            })
            .collect()
    }

    /// Puts tag values (from [`Slots::tag_values`]) in their slots.
    fn bind_tags(&self, values: &[Option<Value>], row_slots: &mut [Option<Value>]) {
        row_slots[self.fields.len()..].clone_from_slice(values);
    }

    /// Where each field slot is among the `scanned` fields of the rows.
    fn positions<'n>(&self, scanned: impl Iterator<Item = &'n str> + Clone) -> Vec<Option<usize>> {
        self.fields
            .iter()
            .map(|n| scanned.clone().position(|k| k == n))
            .collect()
    }

    /// Puts one row's field values in their slots.
    fn bind_row(
        positions: &[Option<usize>],
        row: &crate::scan::Row,
        row_slots: &mut [Option<Value>],
    ) {
        for (slot, pos) in positions.iter().enumerate() {
            row_slots[slot] = pos.and_then(|p| row.values[p].clone());
        }
    }
}

const TAG_SLOT_BASE: usize = 1 << 30;

/// A series' tag value by key (empty when absent; tags are sorted by key).
fn tag_value<'t>(tags: &'t [(String, String)], key: &str) -> &'t str {
    tags.binary_search_by(|(k, _)| k.as_str().cmp(key))
        .map_or("", |i| tags[i].1.as_str())
}

fn group_of(tags: &[(String, String)], keys: &[String]) -> Tags {
    keys.iter()
        .map(|k| (k.clone(), tag_value(tags, k).to_owned()))
        .collect()
}

/// Output column names as InfluxDB derives them, duplicates suffixed `_1`, `_2`, ….
fn column_names(names: Vec<String>) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    names
        .into_iter()
        .map(|n| {
            let count = seen.entry(n.clone()).or_insert(0);
            let out = if *count == 0 {
                n.clone()
            } else {
                format!("{n}_{count}")
            };
            *count += 1;
            out
        })
        .collect()
}

/// The default column name of an expression: the names of its calls (or, without calls, of
/// its variables) joined by `_`.
fn expr_name(e: &Expr) -> String {
    fn walk(e: &Expr, calls: &mut Vec<String>, vars: &mut Vec<String>) {
        match e {
            Expr::Call { name, .. } => calls.push(name.clone()),
            Expr::VarRef { name, .. } => vars.push(name.clone()),
            Expr::BinaryExpr { lhs, rhs, .. } => {
                walk(lhs, calls, vars);
                walk(rhs, calls, vars);
            }
            Expr::Paren(inner) => walk(inner, calls, vars),
            _ => {}
        }
    }
    let (mut calls, mut vars) = (Vec::new(), Vec::new());
    walk(e, &mut calls, &mut vars);
    if calls.is_empty() {
        vars.join("_")
    } else {
        calls.join("_")
    }
}

impl Plan<'_> {
    /// The fields the slots read, as a scan takes them.
    fn scan_fields(&self, slots: &Slots) -> ScanFields {
        let names: Vec<&str> = slots.fields.iter().map(String::as_str).collect();
        let selected =
            crate::scan::selected_fields(self.target.database, &self.target.measurement, &names);
        ScanFields {
            wanted: selected.iter().map(|(f, _, t)| (*f, *t)).collect(),
            fids: selected.iter().map(|(f, _, _)| *f).collect(),
            positions: slots.positions(selected.iter().map(|(_, k, _)| k.as_str())),
        }
    }

    /// The matching series grouped by the `GROUP BY` tags: groups in tag order, each with
    /// its series in key order and their values of the tag slots.
    fn groups(&self, slots: &Slots) -> BTreeMap<Tags, Vec<(SeriesId, TagSlots)>> {
        let mut groups: BTreeMap<Tags, Vec<(SeriesId, TagSlots)>> = BTreeMap::new();
        for (sid, _, tags) in self
            .target
            .database
            .index()
            .matching_series(&self.target.measurement, self.tags)
        {
            let tag_slots = slots.tag_values(&tags);
            groups
                .entry(group_of(&tags, self.group_keys))
                .or_default()
                .push((sid, tag_slots));
        }
        groups
    }

    /// A statement without calls: its rows, group by group, in time order (reversed for
    /// `ORDER BY time DESC`).
    fn raw(&self, s: &SelectStatement, out: &mut Emitter<'_, '_>) -> Result<(), QueryError> {
        let target = self.target;
        let desc = s.order_desc;
        // Expand `*` into fields and tags, sorted by name (group keys are not columns).
        let mut items: Vec<(String, Expr)> = Vec::new();
        for f in &s.fields {
            match &f.expr {
                Expr::Wildcard { type_hint } => {
                    let mut names: Vec<(String, Expr)> = Vec::new();
                    if *type_hint != Some(VarType::Tag) {
                        names.extend(
                            target
                                .star_fields()
                                .keys()
                                .map(|k| (k.clone(), Expr::var(k))),
                        );
                    }
                    if *type_hint != Some(VarType::Field) {
                        names.extend(
                            target
                                .star_tags()
                                .into_iter()
                                .filter(|k| !self.group_keys.contains(k))
                                .map(|k| (k.clone(), Expr::var(k))),
                        );
                    }
                    names.sort_by(|a, b| a.0.cmp(&b.0));
                    items.extend(names);
                }
                e => items.push((f.alias.clone().unwrap_or_else(|| expr_name(e)), e.clone())),
            }
        }
        let mut slots = Slots::new();
        let mut columns = Vec::with_capacity(items.len());
        // The fields the columns read: a point holding any of them is a row (as in InfluxDB,
        // even where a column's expression comes out null).
        let mut selected_fields: Vec<usize> = Vec::new();
        for (_, e) in &items {
            let ev = Eval::compile(e, &mut |n| {
                let slot = slots.slot(target, n);
                if slot < TAG_SLOT_BASE && !selected_fields.contains(&slot) {
                    selected_fields.push(slot);
                }
                Some(slot)
            })?;
            let uses_field = references(e, &|n| target.is_field(n));
            columns.push((ev, uses_field));
        }
        let mut filter = match self.filter {
            Some(f) => Some(Eval::compile(f, &mut |n| Some(slots.slot(target, n)))?),
            None => None,
        };
        for (ev, _) in &mut columns {
            slots.finish(ev);
        }
        if let Some(f) = &mut filter {
            slots.finish(f);
        }
        if slots.fields.is_empty() || !columns.iter().any(|(_, uses)| *uses) {
            return Ok(()); // no field selected: InfluxDB returns nothing
        }
        let ScanFields {
            wanted,
            fids,
            positions,
        } = self.scan_fields(&slots);
        let groups = self.groups(&slots);
        let snapshot = target.database.snapshot();
        // A consumer that takes chunks holds one at a time: the statement reads a slice of
        // each group at a time. Otherwise the whole result is held, and refused up front
        // when it would exceed the point budget.
        let streaming = out.streams();
        if !streaming {
            let sids: Vec<SeriesId> = groups.values().flatten().map(|(sid, _)| *sid).collect();
            let rows = crate::scan::estimate_rows(&snapshot, &sids, &fids, self.range);
            self.budget.check_points(rows).map_err(engine_err)?;
            self.budget.check_decode(rows).map_err(engine_err)?;
        }
        let mut column_list = vec!["time".to_string()];
        column_list.extend(column_names(items.into_iter().map(|(n, _)| n).collect()));
        let mut row_slots: Vec<Option<Value>> = vec![None; slots.width()];
        let mut groups: Vec<_> = groups.into_iter().collect();
        if desc {
            if s.soffset > 0 || s.slimit > 0 {
                // SOFFSET/SLIMIT pick among the groups with points in range, in ascending
                // order: find those first (a slice at a time, so memory stays bounded).
                let want = s.soffset.saturating_add(s.slimit);
                let mut picked = Vec::new();
                for g in groups {
                    if s.slimit > 0 && picked.len() as u64 >= want {
                        break;
                    }
                    if self.has_points(&snapshot, &g.1, &wanted, &fids)? {
                        picked.push(g);
                    }
                }
                groups = picked;
            }
            desc_series_order(&mut groups, s);
        }
        for (tags, members) in groups {
            if out.is_full() {
                break;
            }
            out.begin(target.measurement.clone(), tags, column_list.clone())?;
            let mut slices = if streaming {
                let sids: Vec<SeriesId> = members.iter().map(|(sid, _)| *sid).collect();
                crate::scan::plan_slices(
                    &snapshot,
                    &sids,
                    &fids,
                    self.range,
                    self.budget.slice_points(),
                )
            } else {
                vec![self.range]
            };
            if desc {
                slices.reverse();
            }
            'group: for slice in slices {
                self.budget.check_time().map_err(engine_err)?;
                let mut rows: Vec<(usize, crate::scan::Row)> = Vec::new();
                for (m, (sid, _)) in members.iter().enumerate() {
                    let found = crate::scan::read_series(&snapshot, *sid, &wanted, slice)
                        .map_err(engine_err)?;
                    rows.extend(found.into_iter().map(|r| (m, r)));
                }
                // A group with points in range counts against SOFFSET/SLIMIT, rows or not.
                if !rows.is_empty() {
                    match out.admit()? {
                        Flow::More => {}
                        Flow::NextSeries => break 'group,
                        Flow::Done => return out.finish(),
                    }
                }
                // Stable: among equal times, series in key order (reversed for DESC).
                rows.sort_by_key(|(_, r)| r.time);
                if desc {
                    rows.reverse();
                }
                let mut bound = usize::MAX;
                for (m, row) in rows {
                    if m != bound {
                        slots.bind_tags(&members[m].1, &mut row_slots);
                        bound = m;
                    }
                    Slots::bind_row(&positions, &row, &mut row_slots);
                    if filter.as_ref().is_some_and(|f| !f.truth(&row_slots)) {
                        continue;
                    }
                    if !selected_fields.iter().any(|&f| row_slots[f].is_some()) {
                        continue;
                    }
                    let values: Vec<Option<Value>> =
                        columns.iter().map(|(ev, _)| ev.value(&row_slots)).collect();
                    match out.push(row.time, values)? {
                        Flow::More => {}
                        Flow::NextSeries => break 'group,
                        Flow::Done => return out.finish(),
                    }
                }
            }
            out.finish()?;
        }
        Ok(())
    }

    /// Scans one series a time slice at a time (its blocks rarely straddle a cut): binds each
    /// row into `row_slots` after the series' tags, skips the rows `filter` rejects and hands
    /// the others to `each` (time, slots), which says how many values it kept: they count
    /// against the point budget, and the deadline is checked between slices. Says whether
    /// the series had any row in range (before the filter).
    fn scan_series(
        &self,
        (snapshot, sid, tag_slots): (&crate::database::Snapshot, SeriesId, &TagSlots),
        slots: &Slots,
        scan: &ScanFields,
        filter: Option<&Eval>,
        row_slots: &mut [Option<Value>],
        mut each: impl FnMut(i64, &[Option<Value>]) -> Result<u64, QueryError>,
    ) -> Result<bool, QueryError> {
        slots.bind_tags(tag_slots, row_slots);
        let slices = crate::scan::plan_slices(
            snapshot,
            &[sid],
            &scan.fids,
            self.range,
            self.budget.slice_points(),
        );
        let mut any = false;
        for slice in slices {
            self.budget.check_time().map_err(engine_err)?;
            let rows =
                crate::scan::read_series(snapshot, sid, &scan.wanted, slice).map_err(engine_err)?;
            any |= !rows.is_empty();
            let mut kept = 0u64;
            for row in rows {
                Slots::bind_row(&scan.positions, &row, row_slots);
                if filter.is_some_and(|f| !f.truth(row_slots)) {
                    continue;
                }
                kept += each(row.time, row_slots)?;
            }
            self.budget.add_points(kept).map_err(engine_err)?;
        }
        Ok(any)
    }

    /// The windows of `GROUP BY time` over the range, an open end closed by the points'
    /// extent `[lo, hi]`; None without `GROUP BY time` or when there are none.
    fn windows_over(&self, lo: i64, hi: i64) -> Option<Windows> {
        let (interval, offset) = self.window?;
        let min = if self.range.min == i64::MIN {
            lo
        } else {
            self.range.min
        };
        let max = if self.range.max == i64::MAX {
            hi
        } else {
            self.range.max
        };
        Windows::new(interval, offset, min, max)
    }

    /// Whether any of a group's series has a point in range (read a slice at a time).
    fn has_points(
        &self,
        snapshot: &crate::database::Snapshot,
        members: &[(SeriesId, TagSlots)],
        wanted: &[(crate::batch::FieldId, FieldType)],
        fids: &[crate::batch::FieldId],
    ) -> Result<bool, QueryError> {
        for (sid, _) in members {
            let slices = crate::scan::plan_slices(
                snapshot,
                &[*sid],
                fids,
                self.range,
                self.budget.slice_points(),
            );
            for slice in slices {
                self.budget.check_time().map_err(engine_err)?;
                if !crate::scan::read_series(snapshot, *sid, wanted, slice)
                    .map_err(engine_err)?
                    .is_empty()
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// `SELECT max(f), g, tag …`: one selector beside raw fields and tags, which take their
    /// values from the point the selector picks (per group and window), as in InfluxDB. Ties
    /// go to the earliest point (min, max, percentile), or the first series in key order.
    /// The row's time is the point's, or its window's start under `GROUP BY time`.
    fn selector_with_fields(
        &self,
        s: &SelectStatement,
        call: &Call,
    ) -> Result<Vec<ResultSeries>, QueryError> {
        let target = self.target;
        let Func::Agg(agg) = call.func else {
            return Err(QueryError::Engine(format!(
                "{:?} is not a selector",
                call.func
            )));
        };
        if !target.is_field(&call.field) {
            return Ok(Vec::new()); // an unknown field: nothing, as in InfluxDB
        }
        let mut slots = Slots::new();
        let call_slot = slots.slot(target, &call.field);
        // Each column: the selector's value (None) or an expression over the point's slots.
        let mut cols: Vec<Option<Eval>> = Vec::with_capacity(s.fields.len());
        let mut names = Vec::with_capacity(s.fields.len());
        for f in &s.fields {
            names.push(f.alias.clone().unwrap_or_else(|| expr_name(&f.expr)));
            cols.push(match &f.expr {
                Expr::Call { .. } => None,
                e => Some(Eval::compile(e, &mut |n| Some(slots.slot(target, n)))?),
            });
        }
        let mut filter = match self.filter {
            Some(f) => Some(Eval::compile(f, &mut |n| Some(slots.slot(target, n)))?),
            None => None,
        };
        for ev in cols.iter_mut().flatten() {
            slots.finish(ev);
        }
        if let Some(f) = &mut filter {
            slots.finish(f);
        }
        let scan = self.scan_fields(&slots);
        let window_of = |t: i64| match self.window {
            None => 0,
            Some((interval, offset)) => super::window::start_of(t, interval, offset),
        };
        let numeric_only = !matches!(agg, Aggregate::First | Aggregate::Last);
        // A candidate: the point's time, its value (and as a number), the other columns.
        type Pick = (i64, Value, f64, Vec<Option<Value>>);
        // Ties: the earlier point for min and max; the larger value at one time for first
        // and last (as InfluxDB breaks them).
        let larger = |new: &Pick, old: &Pick| ValueKey::of(&new.1) > ValueKey::of(&old.1);
        let better = |new: &Pick, old: &Pick| match agg {
            Aggregate::Max => new.2 > old.2 || (new.2 == old.2 && new.0 < old.0),
            Aggregate::Min => new.2 < old.2 || (new.2 == old.2 && new.0 < old.0),
            Aggregate::First => new.0 < old.0 || (new.0 == old.0 && larger(new, old)),
            _ => new.0 > old.0 || (new.0 == old.0 && larger(new, old)), // last
        };
        let snapshot = target.database.snapshot();
        let mut row_slots: Vec<Option<Value>> = vec![None; slots.width()];
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let mut groups: Vec<(Tags, BTreeMap<i64, Vec<Pick>>)> = Vec::new();
        for (tags, members) in self.groups(&slots) {
            // Per window: the best point so far, or (percentile) every point.
            let mut picks: BTreeMap<i64, Vec<Pick>> = BTreeMap::new();
            for (sid, tag_slots) in &members {
                let each = |time: i64, row_slots: &[Option<Value>]| {
                    let Some(value) = row_slots[call_slot].clone() else {
                        return Ok(0);
                    };
                    let num = match Num::from_value(&value) {
                        Some(n) => n.as_f64(),
                        None if numeric_only => {
                            return Err(QueryError::Invalid(format!(
                                "unsupported {} iterator type: {}",
                                aggregate_name(agg),
                                type_name(&value)
                            )))
                        }
                        None => 0.0,
                    };
                    lo = lo.min(time);
                    hi = hi.max(time);
                    let aux = cols
                        .iter()
                        .map(|c| c.as_ref().and_then(|e| e.value(row_slots)))
                        .collect();
                    let pick = (time, value, num, aux);
                    let slot = picks.entry(window_of(time)).or_default();
                    if matches!(agg, Aggregate::Percentile(_)) {
                        slot.push(pick);
                        return Ok(1);
                    }
                    if slot.first().is_none_or(|old| better(&pick, old)) {
                        *slot = vec![pick];
                    }
                    Ok(0)
                };
                let series = (&snapshot, *sid, tag_slots);
                self.scan_series(series, &slots, &scan, filter.as_ref(), &mut row_slots, each)?;
            }
            groups.push((tags, picks));
        }
        let windows = self.windows_over(lo, hi);
        if self.window.is_some() && windows.is_none() {
            return Ok(Vec::new());
        }
        let mut columns = vec!["time".to_string()];
        columns.extend(column_names(names));
        let mut out = Vec::new();
        for (tags, mut picks) in groups {
            if picks.is_empty() {
                continue; // no point passed the condition: no series, whatever the fill
            }
            let mut chosen = |key: i64| -> Option<Pick> {
                let mut all = picks.remove(&key)?;
                if let Aggregate::Percentile(p) = agg {
                    // InfluxDB's rank; equal values by time.
                    let i = super::aggregate::percentile_rank(all.len(), p)?;
                    all.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
                    return all.into_iter().nth(i);
                }
                all.pop()
            };
            let row_of = |(_, value, _, aux): Pick| -> Vec<Option<Value>> {
                aux.into_iter()
                    .zip(&cols)
                    .map(|(v, c)| if c.is_none() { Some(value.clone()) } else { v })
                    .collect()
            };
            let mut rows: Rows = match windows {
                None => chosen(0).map(|p| (p.0, row_of(p))).into_iter().collect(),
                Some(w) => (0..w.count)
                    .map(|i| {
                        let start = w.start(i);
                        let values = match chosen(start) {
                            Some(p) => row_of(p),
                            None => vec![None; cols.len()],
                        };
                        (start, values)
                    })
                    .collect(),
            };
            // In output order, then filled in that order (as `aggregate` does).
            if s.order_desc {
                rows.reverse();
            }
            if let Some(w) = windows {
                if s.fill == Fill::Linear {
                    // InfluxDB interpolates the selector's values only.
                    let c = cols.iter().position(Option::is_none).unwrap_or(0);
                    let mut column: Rows =
                        rows.iter().map(|(t, v)| (*t, vec![v[c].clone()])).collect();
                    fill(&mut column, Fill::Linear, w.interval);
                    for (row, (_, v)) in rows.iter_mut().zip(column) {
                        row.1[c] = v.into_iter().next().flatten();
                    }
                } else {
                    fill(&mut rows, s.fill, w.interval);
                }
            }
            if rows.iter().all(|(_, v)| v.iter().all(Option::is_none)) {
                continue;
            }
            out.push(ResultSeries {
                name: target.measurement.clone(),
                tags,
                columns: columns.clone(),
                rows,
            });
        }
        Ok(out)
    }

    fn aggregate(
        &self,
        s: &SelectStatement,
        visible: &[Call],
    ) -> Result<Vec<ResultSeries>, QueryError> {
        let target = self.target;
        // stddev() of one point is null, yet InfluxDB keeps its window under fill(none), and
        // its series (a percentile below its first rank is a missing value instead): a
        // hidden count() of the field (answered from block statistics) tells which windows
        // had points.
        let mut calls: Vec<Call> = visible.to_vec();
        for c in visible {
            if c.func == Func::Agg(Aggregate::Stddev) {
                let expr = Expr::Call {
                    name: "count".into(),
                    args: vec![Expr::var(&c.field)],
                };
                if !calls.iter().any(|k| k.expr == expr) {
                    calls.push(Call {
                        func: Func::Agg(Aggregate::Count),
                        field: c.field.clone(),
                        expr,
                    });
                }
            }
        }
        let calls = &calls[..];
        // Each call's groups, from the pushdown executor where it can answer.
        let mut per_call: Vec<Vec<AggregateSeries>> = vec![Vec::new(); calls.len()];
        let mut slow: Vec<usize> = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            let numeric = matches!(
                target.fields.get(&call.field),
                Some(FieldType::Float | FieldType::Integer | FieldType::Unsigned)
            );
            match call.func {
                Func::Agg(aggregate) if numeric && self.filter.is_none() => {
                    let group_by: Vec<&str> = self.group_keys.iter().map(String::as_str).collect();
                    let q = AggregateQuery {
                        measurement: &target.measurement,
                        field: &call.field,
                        tags: self.tags,
                        range: self.range,
                        aggregate,
                        window: self.window,
                        group_by: &group_by,
                    };
                    per_call[i] = super::exec::aggregate(target.database, &q, self.budget)
                        .map_err(engine_err)?
                        .0;
                }
                _ => slow.push(i),
            }
        }
        if !slow.is_empty() {
            let slow_calls: Vec<&Call> = slow.iter().map(|&i| &calls[i]).collect();
            for (i, result) in slow.iter().zip(self.scan_aggregate(&slow_calls)?) {
                per_call[*i] = result;
            }
        }

        // Join the calls by group and time.
        let default_time = if self.range.min == i64::MIN {
            0
        } else {
            self.range.min
        };
        let single = calls.len() == 1;
        let mut groups: BTreeMap<Tags, Rows> = BTreeMap::new();
        if single {
            for g in per_call.pop().unwrap_or_default() {
                groups.insert(
                    g.tags,
                    g.rows.into_iter().map(|(t, v)| (t, vec![v])).collect(),
                );
            }
        } else {
            // A lone visible call beside hidden counts keeps its own time (a selector's).
            let lone = visible.len() == 1 && self.window.is_none();
            let mut lone_times: BTreeMap<Tags, i64> = BTreeMap::new();
            let mut joined: BTreeMap<Tags, BTreeMap<i64, Vec<Option<Value>>>> = BTreeMap::new();
            for (i, series) in per_call.into_iter().enumerate() {
                for g in series {
                    if lone && i == 0 {
                        if let Some((t, _)) = g.rows.first() {
                            lone_times.insert(g.tags.clone(), *t);
                        }
                    }
                    let rows = joined.entry(g.tags).or_default();
                    for (t, v) in g.rows {
                        // Several selectors without windows: their times differ, InfluxDB
                        // puts the range start (or the epoch) on the one row.
                        let t = if self.window.is_none() {
                            default_time
                        } else {
                            t
                        };
                        rows.entry(t).or_insert_with(|| vec![None; calls.len()])[i] = v;
                    }
                }
            }
            for (tags, rows) in joined {
                let mut rows: Rows = rows.into_iter().collect();
                if let Some(&t) = lone_times.get(&tags) {
                    rows.iter_mut().for_each(|r| r.0 = t);
                }
                groups.insert(tags, rows);
            }
        }

        // With fill(null), InfluxDB gives count() 0 in an empty window (before any
        // arithmetic on it).
        if self.window.is_some() && s.fill == Fill::Null {
            // Not over a field the measurement lacks (`count(*)` over several measurements):
            // that column stays null.
            let counts: Vec<usize> = (0..calls.len())
                .filter(|&i| {
                    matches!(
                        calls[i].func,
                        Func::Agg(Aggregate::Count) | Func::CountDistinct
                    ) && target.is_field(&calls[i].field)
                })
                .collect();
            for rows in groups.values_mut().filter(|_| !counts.is_empty()) {
                for (_, values) in rows.iter_mut() {
                    for &i in &counts {
                        values[i].get_or_insert(FieldValue::Integer(0));
                    }
                }
            }
        }

        // The calls whose value can be null in a window with points, each with the count()
        // of its field that tells.
        let nulls_with_points: Vec<(usize, usize)> = (0..visible.len())
            .filter(|&c| calls[c].func == Func::Agg(Aggregate::Stddev))
            .filter_map(|c| {
                let count = calls.iter().position(|k| {
                    k.func == Func::Agg(Aggregate::Count) && k.field == calls[c].field
                })?;
                Some((c, count))
            })
            .collect();

        // Evaluate the SELECT expressions over the calls' values.
        let mut exprs = Vec::with_capacity(s.fields.len());
        let mut names = Vec::with_capacity(s.fields.len());
        for f in &s.fields {
            exprs.push(compile_over_calls(&f.expr, calls)?);
            names.push(f.alias.clone().unwrap_or_else(|| expr_name(&f.expr)));
        }
        let mut columns = vec!["time".to_string()];
        columns.extend(column_names(names));
        let identity = exprs.len() == calls.len()
            && exprs
                .iter()
                .enumerate()
                .all(|(i, e)| matches!(e, Eval::Slot(j) if *j == i));
        let mut out = Vec::with_capacity(groups.len());
        for (tags, mut rows) in groups {
            // Rows in output order; then fill, in that order (fill(previous) under DESC takes
            // the later window's value), on the calls' values before any arithmetic, as
            // InfluxDB fills (`first(v) * 2 + 1` with fill(0) gives 1).
            if s.order_desc {
                rows.reverse();
            }
            if let Some((interval, _)) = self.window {
                // A null value in a window with points (stddev of one point) is not a missing
                // window: InfluxDB leaves it null whatever the fill. It stands as NaN through
                // the fill.
                for (c, k) in &nulls_with_points {
                    for (_, values) in rows.iter_mut() {
                        let had_points =
                            matches!(values[*k], Some(FieldValue::Integer(n)) if n > 0);
                        if values[*c].is_none() && had_points {
                            values[*c] = Some(FieldValue::Float(f64::NAN));
                        }
                    }
                }
                fill(&mut rows, s.fill, interval);
                for (c, _) in &nulls_with_points {
                    for (_, values) in rows.iter_mut() {
                        if matches!(values[*c], Some(FieldValue::Float(x)) if x.is_nan()) {
                            values[*c] = None;
                        }
                    }
                }
            }
            let rows: Rows = if identity {
                rows
            } else {
                rows.into_iter()
                    .map(|(t, v)| (t, exprs.iter().map(|e| e.value(&v)).collect()))
                    .collect()
            };
            // A group without rows stays: it had points in range (that a filter dropped),
            // and SLIMIT/SOFFSET count it.
            out.push(ResultSeries {
                name: target.measurement.clone(),
                tags,
                columns: columns.clone(),
                rows,
            });
        }
        Ok(out)
    }

    /// Aggregates `calls` over scanned rows: for row filters, non-numeric fields and the
    /// functions the pushdown executor does not have.
    fn scan_aggregate(&self, calls: &[&Call]) -> Result<Vec<Vec<AggregateSeries>>, QueryError> {
        let target = self.target;
        let mut slots = Slots::new();
        let call_slots: Vec<usize> = calls
            .iter()
            .map(|c| {
                if target.is_field(&c.field) {
                    Some(slots.slot(target, &c.field))
                } else {
                    None
                }
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        if call_slots.len() != calls.len() {
            // A call of an unknown field: only those calls are empty, as in InfluxDB.
            let known: Vec<&Call> = calls
                .iter()
                .copied()
                .filter(|c| target.is_field(&c.field))
                .collect();
            let mut results = self.scan_aggregate(&known)?.into_iter();
            return Ok(calls
                .iter()
                .map(|c| {
                    if target.is_field(&c.field) {
                        results.next().unwrap_or_default()
                    } else {
                        Vec::new()
                    }
                })
                .collect());
        }
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let mut filter = match self.filter {
            Some(f) => Some(Eval::compile(f, &mut |n| Some(slots.slot(target, n)))?),
            None => None,
        };
        if let Some(f) = &mut filter {
            slots.finish(f);
        }
        let scan = self.scan_fields(&slots);
        // Numeric aggregates run in accumulators, one per window, per series then merged
        // into the group's as the pushdown executor merges them; other calls keep their
        // points, counted against the point budget.
        let accumulates: Vec<Option<Aggregate>> = calls
            .iter()
            .map(|c| match (c.func, target.fields.get(&c.field)) {
                (
                    Func::Agg(a),
                    Some(FieldType::Float | FieldType::Integer | FieldType::Unsigned),
                ) => Some(a),
                _ => None,
            })
            .collect();
        // Accumulators are keyed by their window's start (0 without windows): the windows
        // themselves need the extent of the points when the range is unbounded.
        let window_of = |t: i64| match self.window {
            None => 0,
            Some((interval, offset)) => super::window::start_of(t, interval, offset),
        };
        type Points = Vec<(i64, Value)>;
        type Accs = BTreeMap<i64, Acc>;
        // Per group: accumulators, kept points, and whether it had points in range.
        let mut groups: Vec<(Tags, Vec<Accs>, Vec<Points>, bool)> = Vec::new();
        let snapshot = target.database.snapshot();
        let mut row_slots: Vec<Option<Value>> = vec![None; slots.width()];
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (tags, members) in self.groups(&slots) {
            let mut accs: Vec<Accs> = vec![Accs::new(); calls.len()];
            let mut in_range = false;
            let mut points: Vec<Points> = vec![Vec::new(); calls.len()];
            for (sid, tag_slots) in &members {
                let mut series_accs: Vec<Accs> = vec![Accs::new(); calls.len()];
                let each = |time: i64, row_slots: &[Option<Value>]| {
                    let mut kept = 0u64;
                    for (c, &slot) in call_slots.iter().enumerate() {
                        let Some(v) = &row_slots[slot] else {
                            continue;
                        };
                        lo = lo.min(time);
                        hi = hi.max(time);
                        match (accumulates[c], Num::from_value(v)) {
                            (Some(a), Some(n)) => {
                                series_accs[c]
                                    .entry(window_of(time))
                                    .or_insert_with(|| Acc::with_point_times(a))
                                    .add(time, n);
                                kept += u64::from(a.needs_values());
                            }
                            _ => {
                                points[c].push((time, v.clone()));
                                kept += 1;
                            }
                        }
                    }
                    Ok(kept)
                };
                let series = (&snapshot, *sid, tag_slots);
                in_range |=
                    self.scan_series(series, &slots, &scan, filter.as_ref(), &mut row_slots, each)?;
                for (group, series) in accs.iter_mut().zip(series_accs) {
                    for (w, acc) in series {
                        match group.entry(w) {
                            std::collections::btree_map::Entry::Vacant(e) => {
                                e.insert(acc);
                            }
                            std::collections::btree_map::Entry::Occupied(mut e) => {
                                e.get_mut().merge_owned(acc)
                            }
                        }
                    }
                }
            }
            groups.push((tags, accs, points, in_range));
        }
        let windows = self.windows_over(lo, hi);
        if self.window.is_some() && windows.is_none() {
            return Ok(vec![Vec::new(); calls.len()]);
        }
        let default_time = if self.range.min == i64::MIN {
            0
        } else {
            self.range.min
        };
        // The values of call `c` over one window: from its accumulator, or its points.
        let values =
            |c: usize, accs: &mut Accs, key: i64, points: &[(i64, Value)]| match accumulates[c] {
                Some(a) => Ok(accs
                    .remove(&key)
                    .and_then(|mut acc| acc.finish(a))
                    .map(|(v, t)| (t, v))
                    .into_iter()
                    .collect()),
                None => reduce(calls[c].func, points),
            };
        let mut out: Vec<Vec<AggregateSeries>> = vec![Vec::new(); calls.len()];
        for (tags, accs, per_call, in_range) in groups {
            for (c, (mut accs, mut points)) in accs.into_iter().zip(per_call).enumerate() {
                points.sort_by_key(|p| p.0);
                let call = calls[c];
                let mut rows = Vec::new();
                match windows {
                    None => {
                        for (t, v) in values(c, &mut accs, 0, &points)? {
                            let t = t.filter(|_| call.func.is_selector());
                            rows.push((t.unwrap_or(default_time), Some(v)));
                        }
                    }
                    Some(w) if matches!(call.func, Func::Integral(_)) => {
                        let Func::Integral(unit) = call.func else {
                            unreachable!("matched above")
                        };
                        // Only the windows given an area have a row: InfluxDB does not fill
                        // an integral's empty windows, whatever the fill.
                        let areas = integral_per_window(&points, unit, &w)?;
                        rows.extend(
                            areas
                                .into_iter()
                                .map(|(i, a)| (w.start(i), Some(FieldValue::Float(a)))),
                        );
                    }
                    Some(w) => {
                        let mut start = 0;
                        for i in 0..w.count {
                            let end_t = w.end(i);
                            let end = start + points[start..].partition_point(|p| p.0 <= end_t);
                            let found = values(c, &mut accs, w.start(i), &points[start..end])?;
                            if found.is_empty() {
                                rows.push((w.start(i), None));
                            }
                            rows.extend(found.into_iter().map(|(_, v)| (w.start(i), Some(v))));
                            start = end;
                        }
                    }
                }
                if rows.iter().any(|(_, v)| v.is_some()) {
                    out[c].push(AggregateSeries {
                        tags: tags.clone(),
                        rows,
                    });
                } else if in_range {
                    // Points in range that the filter dropped: no rows, but a series SLIMIT
                    // and SOFFSET count, as InfluxDB counts it.
                    out[c].push(AggregateSeries {
                        tags: tags.clone(),
                        rows: Vec::new(),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Compiles a `SELECT` expression of an aggregate statement: each call is a slot.
fn compile_over_calls(e: &Expr, calls: &[Call]) -> Result<Eval, QueryError> {
    Ok(match e {
        Expr::Call { .. } => match calls.iter().position(|c| c.expr == *e) {
            Some(i) => Eval::Slot(i),
            None => return Err(QueryError::Engine(format!("call {e} not planned"))),
        },
        Expr::Paren(inner) => compile_over_calls(inner, calls)?,
        Expr::BinaryExpr { op, lhs, rhs } => Eval::Binary(
            *op,
            Box::new(compile_over_calls(lhs, calls)?),
            Box::new(compile_over_calls(rhs, calls)?),
        ),
        other => Eval::compile(other, &mut |_| None)?,
    })
}

/// The values of `func` over `points` (time order): one (time, value) for most functions,
/// none over no points, several for `distinct`.
fn reduce(func: Func, points: &[(i64, Value)]) -> Result<Vec<(Option<i64>, Value)>, QueryError> {
    if points.is_empty() {
        return Ok(Vec::new());
    }
    let numeric = Num::from_value(&points[0].1).is_some();
    Ok(match func {
        Func::Agg(a) if numeric => {
            let mut acc = Acc::with_point_times(a);
            for (t, v) in points {
                if let Some(n) = Num::from_value(v) {
                    acc.add(*t, n);
                }
            }
            acc.finish(a).map(|(v, t)| (t, v)).into_iter().collect()
        }
        Func::Agg(Aggregate::Count) => vec![(None, FieldValue::Integer(points.len() as i64))],
        // Of the points at the first (last) time, the largest, as InfluxDB breaks ties.
        Func::Agg(Aggregate::First) => {
            let t = points[0].0;
            let at: Vec<&(i64, Value)> = points.iter().take_while(|p| p.0 == t).collect();
            let v = at.iter().map(|p| &p.1).max_by_key(|v| ValueKey::of(v));
            v.map(|v| (Some(t), v.clone())).into_iter().collect()
        }
        Func::Agg(Aggregate::Last) => {
            let t = points[points.len() - 1].0;
            let v = points
                .iter()
                .rev()
                .take_while(|p| p.0 == t)
                .map(|p| &p.1)
                .max_by_key(|v| ValueKey::of(v));
            v.map(|v| (Some(t), v.clone())).into_iter().collect()
        }
        Func::Agg(Aggregate::Min | Aggregate::Max)
            if matches!(points[0].1, FieldValue::Boolean(_)) =>
        {
            let want_max = matches!(func, Func::Agg(Aggregate::Max));
            let pick = points
                .iter()
                .find(|(_, v)| *v == FieldValue::Boolean(want_max))
                .unwrap_or(&points[0]);
            vec![(Some(pick.0), pick.1.clone())]
        }
        Func::Agg(a) => {
            return Err(QueryError::Invalid(format!(
                "unsupported {} iterator type: {}",
                aggregate_name(a),
                type_name(&points[0].1)
            )))
        }
        Func::Mode => {
            // InfluxDB's rule, ties included: the points sorted by value (a stable sort keeps
            // each value's points in time order), then one walk over the runs of equal values.
            // A run takes the lead when it is longer than the leader's, or as long and begun
            // no later than the leader's last point. A value seen once never leads unless it
            // is the smallest.
            let mut order: Vec<(ValueKey, i64, usize)> = points
                .iter()
                .enumerate()
                .map(|(i, (t, v))| (ValueKey::of(v), *t, i))
                .collect();
            order.sort_by(|a, b| a.0.cmp(&b.0));
            // (run length, index of its value, time of its last point) of the leader; (run
            // length, value, time of its first point) of the current run.
            let mut lead = (0usize, order[0].2, order[0].1);
            let mut run = (0usize, &order[0].0, order[0].1);
            for (key, t, i) in &order {
                if key != run.1 {
                    run = (1, key, *t);
                    continue;
                }
                run.0 += 1;
                if lead.0 > run.0 || (lead.0 == run.0 && run.2 > lead.2) {
                    continue;
                }
                lead = (run.0, *i, *t);
            }
            vec![(None, points[lead.1].1.clone())]
        }
        Func::CountDistinct => {
            let distinct: HashSet<ValueKey> = points.iter().map(|(_, v)| ValueKey::of(v)).collect();
            vec![(None, FieldValue::Integer(distinct.len() as i64))]
        }
        Func::Distinct => {
            // In order of first appearance, as InfluxDB lists them.
            let mut seen = HashSet::new();
            points
                .iter()
                .filter(|(_, v)| seen.insert(ValueKey::of(v)))
                .map(|(_, v)| (None, v.clone()))
                .collect()
        }
        Func::Integral(unit) => {
            if !numeric {
                return Err(QueryError::Invalid(format!(
                    "unsupported integral iterator type: {}",
                    type_name(&points[0].1)
                )));
            }
            let mut area = 0.0;
            for pair in points.windows(2) {
                let (t0, v0) = (
                    pair[0].0,
                    Num::from_value(&pair[0].1).map_or(0.0, Num::as_f64),
                );
                let (t1, v1) = (
                    pair[1].0,
                    Num::from_value(&pair[1].1).map_or(0.0, Num::as_f64),
                );
                area += (v0 + v1) / 2.0 * (t1 - t0) as f64 / unit as f64;
            }
            vec![(None, FieldValue::Float(area))]
        }
    })
}

/// `integral()` per window as InfluxDB 1.x computes it: trapezoids between consecutive points
/// (`points` in time order; of two at one time, the later counts); when the next point lies
/// in a later window, the area up to the window's end is closed with a value interpolated
/// toward it, and the trapezoid from that end to the point goes to the point's window (with
/// any empty windows between). A window whose only point is its last, at its very start,
/// gets no value. Returns the areas by window index.
fn integral_per_window(
    points: &[(i64, Value)],
    unit: i64,
    w: &Windows,
) -> Result<BTreeMap<usize, f64>, QueryError> {
    let mut areas = BTreeMap::new();
    let Some(first) = points.first() else {
        return Ok(areas);
    };
    let num = |v: &Value| {
        Num::from_value(v).map(Num::as_f64).ok_or_else(|| {
            QueryError::Invalid(format!(
                "unsupported integral iterator type: {}",
                type_name(v)
            ))
        })
    };
    let unit = unit as f64;
    let (mut prev_t, mut prev_v) = (first.0, num(&first.1)?);
    let mut window = w.index(prev_t);
    let mut area = 0.0;
    for (t, v) in &points[1..] {
        let (t, v) = (*t, num(v)?);
        if t == prev_t {
            prev_v = v;
            continue;
        }
        let at = w.index(t);
        if at != window {
            let end = w.start(window + 1);
            if prev_t != end {
                // InfluxDB's order of operations: slope, then the line at `end`.
                let slope = (v - prev_v) / (t - prev_t) as f64;
                let value = slope * (end - prev_t) as f64 + prev_v;
                area += 0.5 * (value + prev_v) * ((end - prev_t) as f64 / unit);
                (prev_t, prev_v) = (end, value);
            }
            areas.insert(window, area);
            window = at;
            area = 0.0;
        }
        area += 0.5 * (v + prev_v) * ((t - prev_t) as f64 / unit);
        (prev_t, prev_v) = (t, v);
    }
    if prev_t != w.start(window) {
        areas.insert(window, area);
    }
    Ok(areas)
}

fn aggregate_name(a: Aggregate) -> &'static str {
    match a {
        Aggregate::Count => "count",
        Aggregate::Sum => "sum",
        Aggregate::Mean => "mean",
        Aggregate::Min => "min",
        Aggregate::Max => "max",
        Aggregate::First => "first",
        Aggregate::Last => "last",
        Aggregate::Spread => "spread",
        Aggregate::Stddev => "stddev",
        Aggregate::Median => "median",
        Aggregate::Percentile(_) => "percentile",
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        FieldValue::Float(_) => "float",
        FieldValue::Integer(_) => "integer",
        FieldValue::Unsigned(_) => "unsigned",
        FieldValue::String(_) => "string",
        FieldValue::Boolean(_) => "boolean",
    }
}

/// A value as a hashable, ordered key (floats by their total order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ValueKey {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(i64),
    Str(String),
}

impl ValueKey {
    fn of(v: &Value) -> ValueKey {
        match v {
            FieldValue::Boolean(b) => ValueKey::Bool(*b),
            FieldValue::Integer(i) => ValueKey::Int(*i),
            FieldValue::Unsigned(u) => ValueKey::Uint(*u),
            FieldValue::Float(f) => {
                // Map the float's total order onto i64's.
                let bits = f.to_bits() as i64;
                ValueKey::Float(bits ^ (((bits >> 63) as u64) >> 1) as i64)
            }
            FieldValue::String(s) => ValueKey::Str(s.to_string()),
        }
    }
}

/// `fill(..)` over one series' windows (rows in time order).
fn fill(rows: &mut Rows, mode: Fill, interval: i64) {
    match mode {
        Fill::Null => {}
        Fill::None => rows.retain(|(_, v)| v.iter().any(Option::is_some)),
        Fill::Number(n) => {
            // The number takes its column's type where it can (an integer column, an
            // integral number), else it is a float.
            let width = rows.first().map_or(0, |r| r.1.len());
            for c in 0..width {
                let integer_column = rows
                    .iter()
                    .find_map(|r| r.1[c].as_ref())
                    .map_or(n.fract() == 0.0, |v| matches!(v, FieldValue::Integer(_)));
                let value = if integer_column && n.fract() == 0.0 && n.abs() < 9e15 {
                    FieldValue::Integer(n as i64)
                } else {
                    FieldValue::Float(n)
                };
                for (_, values) in rows.iter_mut() {
                    if values[c].is_none() {
                        values[c] = Some(value.clone());
                    }
                }
            }
        }
        Fill::Previous => {
            let width = rows.first().map_or(0, |r| r.1.len());
            for c in 0..width {
                let mut prev: Option<Value> = None;
                for (_, values) in rows.iter_mut() {
                    match &values[c] {
                        Some(v) => prev = Some(v.clone()),
                        None => values[c] = prev.clone(),
                    }
                }
            }
        }
        Fill::Linear => {
            let width = rows.first().map_or(0, |r| r.1.len());
            for c in 0..width {
                let known: Vec<usize> = (0..rows.len())
                    .filter(|&i| rows[i].1[c].is_some())
                    .collect();
                for pair in known.windows(2) {
                    let (a, b) = (pair[0], pair[1]);
                    if b == a + 1 {
                        continue;
                    }
                    // InfluxDB's line, in output order, over window numbers (times divided
                    // by the interval, as it divides them): slope · elapsed + start, an
                    // integer column truncating the whole.
                    let k = |t: i64| t / interval.max(1);
                    let (ka, kb) = (k(rows[a].0), k(rows[b].0));
                    let (va, vb) = (rows[a].1[c].clone(), rows[b].1[c].clone());
                    let line = |t: i64, x: f64, y: f64| {
                        (y - x) / (kb - ka) as f64 * (k(t) - ka) as f64 + x
                    };
                    for row in &mut rows[a + 1..b] {
                        row.1[c] = match (&va, &vb) {
                            (Some(FieldValue::Integer(x)), Some(FieldValue::Integer(y))) => {
                                Some(FieldValue::Integer(line(row.0, *x as f64, *y as f64) as i64))
                            }
                            (Some(x), Some(y)) => match (Num::from_value(x), Num::from_value(y)) {
                                (Some(x), Some(y)) => {
                                    Some(FieldValue::Float(line(row.0, x.as_f64(), y.as_f64())))
                                }
                                _ => None,
                            },
                            _ => None,
                        };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_deduplicated_as_influxdb_does() {
        assert_eq!(
            column_names(vec![
                "mean".into(),
                "mean".into(),
                "max".into(),
                "mean".into()
            ]),
            vec!["mean", "mean_1", "max", "mean_2"]
        );
    }

    #[test]
    fn fills() {
        let i = |v: i64| Some(FieldValue::Integer(v));
        let base = vec![
            (0, vec![i(1)]),
            (10, vec![None]),
            (20, vec![None]),
            (30, vec![i(7)]),
        ];
        let mut rows = base.clone();
        fill(&mut rows, Fill::Linear, 10);
        assert_eq!(rows[1].1[0], i(3));
        assert_eq!(rows[2].1[0], i(5));
        let mut rows = base.clone();
        fill(&mut rows, Fill::Previous, 10);
        assert_eq!(rows[2].1[0], i(1));
        let mut rows = base.clone();
        fill(&mut rows, Fill::Number(-1.0), 10);
        assert_eq!(rows[1].1[0], i(-1));
        let mut rows = base;
        fill(&mut rows, Fill::None, 10);
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn mode_and_distinct() {
        let pts: Vec<(i64, Value)> = [3.0, 1.0, 3.0, 1.0, 2.0]
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64, FieldValue::Float(*v)))
            .collect();
        assert_eq!(
            reduce(Func::Mode, &pts).unwrap(),
            vec![(None, FieldValue::Float(3.0))]
        );
        let d: Vec<Value> = reduce(Func::Distinct, &pts)
            .unwrap()
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        // In order of first appearance.
        assert_eq!(
            d,
            vec![
                FieldValue::Float(3.0),
                FieldValue::Float(1.0),
                FieldValue::Float(2.0)
            ]
        );
        let neg = [(0, FieldValue::Float(-1.0)), (1, FieldValue::Float(-2.0))];
        let d = reduce(Func::Distinct, &neg).unwrap();
        assert_eq!(d[0].1, FieldValue::Float(-1.0));
    }

    /// Ties as InfluxDB 1.6 breaks them: each sequence's answer was read off a real
    /// `influxd` (strings; the same for the integers 1, 2, 3 standing for a, b, c).
    #[test]
    fn mode_breaks_ties_as_influxdb_does() {
        for (seq, want) in [
            ("a a b b", "a"),
            ("c a b", "a"),
            ("b b a a", "b"),
            ("c a a b b c", "c"),
            ("b a c a c b", "c"),
            ("a b c a b c", "c"),
            ("b a b a c", "b"),
            ("a b b a", "b"),
        ] {
            let pts: Vec<(i64, Value)> = seq
                .split(' ')
                .enumerate()
                .map(|(i, v)| (i as i64, FieldValue::String(v.into())))
                .collect();
            let got = reduce(Func::Mode, &pts).unwrap();
            assert_eq!(got, vec![(None, FieldValue::String(want.into()))], "{seq}");
            let ints: Vec<(i64, Value)> = seq
                .split(' ')
                .enumerate()
                .map(|(i, v)| {
                    (
                        i as i64,
                        FieldValue::Integer(i64::from(v.as_bytes()[0] - b'a' + 1)),
                    )
                })
                .collect();
            let want = i64::from(want.as_bytes()[0] - b'a' + 1);
            assert_eq!(
                reduce(Func::Mode, &ints).unwrap(),
                vec![(None, FieldValue::Integer(want))],
                "{seq}"
            );
        }
    }

    #[test]
    fn integral_is_the_trapezoid_area() {
        let s = 1_000_000_000;
        let pts = [
            (0, FieldValue::Integer(0)),
            (2 * s, FieldValue::Integer(2)),
            (4 * s, FieldValue::Integer(2)),
        ];
        assert_eq!(
            reduce(Func::Integral(s), &pts).unwrap(),
            vec![(None, FieldValue::Float(6.0))]
        );
    }
}
