//! Statements about the schema rather than the data: `SHOW DATABASES | MEASUREMENTS | TAG KEYS |
//! TAG VALUES | FIELD KEYS | SERIES | RETENTION POLICIES`, `CREATE DATABASE`, and the
//! statements that remove data (`DROP DATABASE | MEASUREMENT | SERIES`, `DELETE`).
//!
//! Results have InfluxDB's shapes: `SHOW DATABASES` is one series `databases` with column
//! `name`; `SHOW TAG KEYS`, `TAG VALUES` and `FIELD KEYS` give one series per measurement;
//! `SHOW SERIES` one unnamed series with column `key`. Lists are sorted. `WHERE` clauses of
//! SHOW statements take tag conditions (`=`, `!=`, `=~`, `!~`, `AND`, `OR`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::select::{database_name, engine_err, sources, tag_predicate};
use super::statement::{QueryError, ResultSeries};
use crate::database::Database;
use crate::db::{DatabaseOptions, Db};
use crate::influxql::{Expr, MeasurementName, Source, Statement, TagKeyMatch};
use crate::model::{FieldType, FieldValue};
use crate::scan::{TagPredicate, TimeRange};

type Rows = Vec<(i64, Vec<Option<crate::model::OwnedFieldValue>>)>;

fn text_rows<I: IntoIterator<Item = Vec<String>>>(rows: I) -> Rows {
    rows.into_iter()
        .map(|r| {
            (
                0,
                r.into_iter()
                    .map(|v| Some(FieldValue::String(v.into())))
                    .collect(),
            )
        })
        .collect()
}

fn series(name: &str, columns: &[&str], rows: Rows) -> ResultSeries {
    ResultSeries {
        name: name.to_owned(),
        tags: Vec::new(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// `LIMIT`/`OFFSET` (0 = none) over a list.
fn page<T>(items: Vec<T>, limit: u64, offset: u64) -> Vec<T> {
    let it = items.into_iter().skip(offset as usize);
    if limit > 0 {
        it.take(limit as usize).collect()
    } else {
        it.collect()
    }
}

/// A SHOW statement's `WHERE` as a tag predicate.
fn show_predicate(condition: Option<&Expr>) -> Result<TagPredicate, QueryError> {
    match condition {
        None => Ok(TagPredicate::All),
        Some(c) => tag_predicate(c)?.ok_or_else(|| {
            QueryError::Unsupported(format!(
                "the condition {c} in SHOW (only tag =, !=, =~, !~ with AND/OR)"
            ))
        }),
    }
}

/// The tags of a measurement's series that match `pred`.
fn matching_series(
    database: &Database,
    measurement: &str,
    pred: &TagPredicate,
) -> Vec<crate::series_index::MatchedSeries> {
    database.index().matching_series(measurement, pred)
}

/// The tag keys of a measurement's series matching `pred` (without a predicate, the index's
/// listing, read from the series file).
pub(super) fn tag_keys(
    database: &Database,
    measurement: &str,
    pred: &TagPredicate,
) -> BTreeSet<String> {
    if *pred == TagPredicate::All {
        return database.index().tag_keys(measurement).into_iter().collect();
    }
    let mut keys = BTreeSet::new();
    for (_, _, tags) in matching_series(database, measurement, pred) {
        keys.extend(tags.iter().map(|(k, _)| k.clone()));
    }
    keys
}

/// The measurements a SHOW statement's `FROM` names (all of the database's without one).
fn show_sources(engine: &Db, db: &str, from: &[Source]) -> Result<Vec<String>, QueryError> {
    if from.is_empty() {
        return engine.measurements(db).map_err(engine_err);
    }
    Ok(sources(engine, db, from)?
        .into_iter()
        .map(|(_, m)| m)
        .collect())
}

fn key_matches(m: &TagKeyMatch, key: &str) -> Result<bool, QueryError> {
    Ok(match m {
        TagKeyMatch::Eq(k) => key == k,
        TagKeyMatch::NotEq(k) => key != k,
        TagKeyMatch::In(ks) => ks.iter().any(|k| k == key),
        TagKeyMatch::Regex(re) => super::eval::compile_regex(re)?.is_match(key),
        TagKeyMatch::NotRegex(re) => !super::eval::compile_regex(re)?.is_match(key),
    })
}

/// Go's `time.Duration` text (`168h0m0s`, `0s`), as InfluxDB prints retention durations.
fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Float => "float",
        FieldType::Integer => "integer",
        FieldType::Unsigned => "unsigned",
        FieldType::String => "string",
        FieldType::Boolean => "boolean",
    }
}

/// Runs a non-SELECT statement.
pub(super) fn run_meta(
    engine: &Db,
    default_db: &str,
    s: &Statement,
    now_ns: i64,
) -> Result<Vec<ResultSeries>, QueryError> {
    match s {
        Statement::ShowDatabases => {
            let names = engine.databases();
            Ok(vec![series(
                "databases",
                &["name"],
                text_rows(names.into_iter().map(|n| vec![n])),
            )])
        }
        Statement::ShowMeasurements {
            database,
            with_measurement,
            condition,
            limit,
            offset,
        } => {
            let db = database_name(database.as_deref(), default_db)?;
            let pred = show_predicate(condition.as_ref())?;
            let re = match with_measurement {
                Some(MeasurementName::Regex(re)) => Some(super::eval::compile_regex(re)?),
                _ => None,
            };
            let database = engine.database(db).map_err(engine_err)?;
            let names: Vec<String> = engine
                .measurements(db)
                .map_err(engine_err)?
                .into_iter()
                .filter(|m| match (with_measurement, &re) {
                    (Some(MeasurementName::Name(n)), _) => m == n,
                    (_, Some(re)) => re.is_match(m),
                    _ => true,
                })
                .filter(|m| {
                    pred == TagPredicate::All || !matching_series(&database, m, &pred).is_empty()
                })
                .collect();
            let names = page(names, *limit, *offset);
            if names.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![series(
                "measurements",
                &["name"],
                text_rows(names.into_iter().map(|n| vec![n])),
            )])
        }
        Statement::ShowTagKeys {
            database,
            sources: from,
            with_key,
            condition,
            limit,
            offset,
            slimit,
            soffset,
        } => {
            let db = database_name(database.as_deref(), default_db)?;
            let pred = show_predicate(condition.as_ref())?;
            let handle = engine.database(db).map_err(engine_err)?;
            let mut out = Vec::new();
            for m in show_sources(engine, db, from)? {
                let mut keys = Vec::new();
                for k in tag_keys(&handle, &m, &pred) {
                    if with_key.as_ref().map_or(Ok(true), |w| key_matches(w, &k))? {
                        keys.push(k);
                    }
                }
                let keys = page(keys, *limit, *offset);
                if !keys.is_empty() {
                    out.push(series(
                        &m,
                        &["tagKey"],
                        text_rows(keys.into_iter().map(|k| vec![k])),
                    ));
                }
            }
            Ok(page(out, *slimit, *soffset))
        }
        Statement::ShowTagValues {
            database,
            sources: from,
            with_key,
            condition,
            limit,
            offset,
        } => {
            let db = database_name(database.as_deref(), default_db)?;
            let pred = show_predicate(condition.as_ref())?;
            let handle = engine.database(db).map_err(engine_err)?;
            let mut out = Vec::new();
            for m in show_sources(engine, db, from)? {
                let mut pairs: BTreeSet<(String, String)> = BTreeSet::new();
                if pred == TagPredicate::All {
                    // The index lists keys and values without reading every series key.
                    for k in tag_keys(&handle, &m, &pred) {
                        if key_matches(with_key, &k)? {
                            let values = handle.index().tag_values(&m, &k);
                            pairs.extend(values.into_iter().map(|v| (k.clone(), v)));
                        }
                    }
                } else {
                    for (_, _, tags) in matching_series(&handle, &m, &pred) {
                        for (k, v) in tags.iter() {
                            if key_matches(with_key, k)? {
                                pairs.insert((k.clone(), v.clone()));
                            }
                        }
                    }
                }
                let pairs = page(pairs.into_iter().collect(), *limit, *offset);
                if !pairs.is_empty() {
                    out.push(series(
                        &m,
                        &["key", "value"],
                        text_rows(pairs.into_iter().map(|(k, v)| vec![k, v])),
                    ));
                }
            }
            Ok(out)
        }
        Statement::ShowFieldKeys {
            database,
            sources: from,
            limit,
            offset,
        } => {
            let db = database_name(database.as_deref(), default_db)?;
            let handle = engine.database(db).map_err(engine_err)?;
            let mut out = Vec::new();
            for m in show_sources(engine, db, from)? {
                let fields: BTreeMap<String, FieldType> = handle
                    .schema()
                    .fields_of(&m)
                    .map(|f| (f.key.to_string(), f.field_type))
                    .collect();
                let fields = page(fields.into_iter().collect(), *limit, *offset);
                if !fields.is_empty() {
                    out.push(series(
                        &m,
                        &["fieldKey", "fieldType"],
                        text_rows(
                            fields
                                .into_iter()
                                .map(|(k, t)| vec![k, type_name(t).to_owned()]),
                        ),
                    ));
                }
            }
            Ok(out)
        }
        Statement::ShowSeries {
            database,
            sources: from,
            condition,
            limit,
            offset,
        } => {
            let db = database_name(database.as_deref(), default_db)?;
            let pred = show_predicate(condition.as_ref())?;
            let handle = engine.database(db).map_err(engine_err)?;
            let mut keys = Vec::new();
            for m in show_sources(engine, db, from)? {
                keys.extend(
                    matching_series(&handle, &m, &pred)
                        .into_iter()
                        .map(|(_, k, _)| k.to_string()),
                );
            }
            let keys = page(keys, *limit, *offset);
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![series(
                "",
                &["key"],
                text_rows(keys.into_iter().map(|k| vec![k])),
            )])
        }
        Statement::ShowRetentionPolicies { database } => {
            let db = database_name(database.as_deref(), default_db)?;
            let options = engine.database_options(db).map_err(engine_err)?;
            let duration = options.retention.map_or("0s".to_owned(), go_duration);
            Ok(vec![ResultSeries {
                name: String::new(),
                tags: Vec::new(),
                columns: [
                    "name",
                    "duration",
                    "shardGroupDuration",
                    "replicaN",
                    "default",
                ]
                .iter()
                .map(|c| c.to_string())
                .collect(),
                rows: vec![(
                    0,
                    vec![
                        Some(FieldValue::String("autogen".into())),
                        Some(FieldValue::String(duration.into())),
                        Some(FieldValue::String(go_duration(options.partition).into())),
                        Some(FieldValue::Integer(1)),
                        Some(FieldValue::Boolean(true)),
                    ],
                )],
            }])
        }
        Statement::CreateDatabase {
            name,
            duration,
            shard_duration,
            ..
        } => {
            let mut options = DatabaseOptions::default();
            if let Some(d) = duration.filter(|d| *d > 0) {
                options.retention = Some(Duration::from_nanos(d as u64));
            }
            if let Some(d) = shard_duration.filter(|d| *d > 0) {
                options.partition = Duration::from_nanos(d as u64);
            }
            engine
                .create_database_with(name, options)
                .map_err(engine_err)?;
            Ok(Vec::new())
        }
        Statement::DropDatabase { name } => {
            engine.drop_database(name).map_err(engine_err)?;
            Ok(Vec::new())
        }
        Statement::DropMeasurement { name } => {
            let db = database_name(None, default_db)?;
            engine.drop_measurement(db, name).map_err(engine_err)?;
            Ok(Vec::new())
        }
        Statement::DropSeries { sources, condition } => {
            let db = database_name(None, default_db)?;
            let (range, tags) = deletion_condition(engine, db, sources, condition, now_ns)?;
            if range != TimeRange::ALL {
                return Err(QueryError::Invalid(
                    "DROP SERIES doesn't support time in WHERE clause".into(),
                ));
            }
            for m in deletion_targets(engine, db, sources)? {
                engine
                    .drop_series(db, m.as_deref(), &tags)
                    .map_err(engine_err)?;
            }
            Ok(Vec::new())
        }
        Statement::Delete { sources, condition } => {
            let db = database_name(None, default_db)?;
            let (range, tags) = deletion_condition(engine, db, sources, condition, now_ns)?;
            for m in deletion_targets(engine, db, sources)? {
                engine
                    .delete(db, m.as_deref(), &tags, range)
                    .map_err(engine_err)?;
            }
            Ok(Vec::new())
        }
        other => Err(QueryError::Unsupported(format!(
            "the statement {}",
            other
                .to_string()
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        ))),
    }
}

/// The measurements a `DROP SERIES` / `DELETE` names (`None`: every measurement).
fn deletion_targets(
    engine: &Db,
    db: &str,
    from: &[Source],
) -> Result<Vec<Option<String>>, QueryError> {
    if from.is_empty() {
        return Ok(vec![None]);
    }
    Ok(sources(engine, db, from)?
        .into_iter()
        .map(|(_, m)| Some(m))
        .collect())
}

/// The time bounds and tag predicate of a `DROP SERIES` / `DELETE` condition; conditions on
/// fields are refused, as InfluxDB refuses them.
fn deletion_condition(
    engine: &Db,
    db: &str,
    from: &[Source],
    condition: &Option<Expr>,
    now_ns: i64,
) -> Result<(TimeRange, TagPredicate), QueryError> {
    let (min, max) =
        crate::influxql::time_range(condition.as_ref(), now_ns).map_err(QueryError::Condition)?;
    let rest = crate::influxql::condition_without_time(condition.as_ref());
    let Some(rest) = rest else {
        return Ok((TimeRange::new(min, max), TagPredicate::All));
    };
    let handle = engine.database(db).map_err(engine_err)?;
    let measurements = show_sources(engine, db, from)?;
    let schema = handle.schema();
    let mut field = None;
    visit_vars(&rest, &mut |name| {
        if field.is_none() && measurements.iter().any(|m| schema.get(m, name).is_some()) {
            field = Some(name.to_owned());
        }
    });
    if let Some(name) = field {
        return Err(QueryError::Invalid(format!(
            "fields not supported in WHERE clause during deletion (field {name})"
        )));
    }
    let tags = tag_predicate(&rest)?.ok_or_else(|| {
        QueryError::Invalid(format!(
            "invalid deletion condition {rest}: only tag =, !=, =~, !~ with AND/OR and time"
        ))
    })?;
    Ok((TimeRange::new(min, max), tags))
}

fn visit_vars(e: &Expr, f: &mut dyn FnMut(&str)) {
    match e {
        Expr::VarRef { name, .. } => f(name),
        Expr::BinaryExpr { lhs, rhs, .. } => {
            visit_vars(lhs, f);
            visit_vars(rhs, f);
        }
        Expr::Paren(inner) => visit_vars(inner, f),
        Expr::Call { args, .. } => args.iter().for_each(|a| visit_vars(a, f)),
        _ => {}
    }
}
