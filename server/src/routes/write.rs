//! `POST /write` (1.x) and `POST /api/v2/write` (2.x): line protocol into the engine.
//!
//! Flow: parameters → credentials → write permission → the database exists and is under its
//! series limit (before the body is read, so a refused write costs no upload) → the body, once,
//! into `Bytes` (gzip decoded) → lines over `max_line_bytes` blanked → `Db::write_lines` on
//! the blocking pool, where every connection's writes meet in the WAL's group commit → 204, or
//! 400 naming every bad line (the good ones are written).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use ganzhi_engine::{Error as EngineError, Precision, RejectedLine};
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::body;
use crate::http::{self, partial_write_message, Api, ApiError, Body};
use crate::limits;
use crate::params::Params;
use crate::state::State;

pub async fn write(
    state: &Arc<State>,
    req: Request<Incoming>,
    api: Api,
) -> Result<Response<Body>, ApiError> {
    let params = Params::from_query(req.uri().query());
    let access = state.auth.authenticate(req.headers(), &params).await?;
    let (db, precision) = target(&params, api)?;
    access.require_write(&db)?;
    admit(state, &db)?;

    let (parts, incoming) = req.into_parts();
    let body = body::read(
        incoming,
        &parts.headers,
        &state.body_limits,
        &state.inflight,
    )
    .await?;
    let received = body.bytes.len();
    let (bytes, too_long) =
        limits::blank_long_lines(body.bytes.clone(), state.config.limits.max_line_bytes);

    let engine = state.db.clone();
    let started = Instant::now();
    let result = super::blocking(move || {
        let result = engine.write_lines(&db, &bytes, precision);
        drop(body); // the in-flight permits go with the bytes
        result
    })
    .await?;
    let m = &state.metrics;
    m.write_duration.observe(started.elapsed());
    m.write_requests.fetch_add(1, Relaxed);
    let (accepted, mut rejected) = match result {
        Ok(summary) => (summary, Vec::new()),
        Err(EngineError::PartialWrite { accepted, rejected }) => (accepted, rejected),
        Err(e) => return Err(ApiError::from_engine(e)),
    };
    m.write_points.fetch_add(accepted.points, Relaxed);
    m.write_values.fetch_add(accepted.values, Relaxed);
    m.write_bytes.fetch_add(received as u64, Relaxed);
    if rejected.is_empty() && too_long.is_empty() {
        return Ok(http::no_content());
    }
    rejected.extend(too_long);
    rejected.sort_by_key(RejectedLine::line);
    m.write_rejected_lines
        .fetch_add(rejected.len() as u64, Relaxed);
    Err(ApiError::bad_request(partial_write_message(
        accepted, &rejected,
    )))
}

/// The database and precision of a write, from the 1.x or the 2.x parameters.
fn target(params: &Params, api: Api) -> Result<(String, Precision), ApiError> {
    let (db, precisions): (_, &[&str]) = match api {
        Api::V1 => (
            params
                .non_empty("db")
                .ok_or_else(|| ApiError::bad_request("database is required (the db parameter)"))?,
            &["n", "ns", "u", "us", "ms", "s", "m", "h"],
        ),
        Api::V2 => {
            let bucket = params.non_empty("bucket").ok_or_else(|| {
                ApiError::bad_request("bucket is required (the bucket parameter)")
            })?;
            // `db/rp`, as InfluxDB 1.8 maps buckets; the retention policy is not used.
            (
                bucket.split('/').next().unwrap_or(bucket),
                &["ns", "us", "ms", "s"],
            )
        }
    };
    let precision = match params.non_empty("precision") {
        None => Precision::Nanoseconds,
        Some(p) if precisions.contains(&p) => Precision::parse(p)
            .ok_or_else(|| ApiError::bad_request(format!("invalid precision {p:?}")))?,
        Some(p) => {
            return Err(ApiError::bad_request(format!(
                "invalid precision {p:?}: use one of {}",
                precisions.join(", ")
            )))
        }
    };
    Ok((db.to_owned(), precision))
}

/// Refuses, before the body is read, a write to a database that does not exist (unless
/// databases are created on write) or that has reached `max_series_per_database`.
///
/// The series check is made before the write, so a database can end up to one body's new
/// series over the limit; from then on its writes are refused (the engine has no way to take
/// the lines of existing series only).
fn admit(state: &State, db: &str) -> Result<(), ApiError> {
    let limit = state.config.limits.max_series_per_database;
    match state.db.series_count(db) {
        Ok(count) if limit > 0 && count.total >= limit => Err(ApiError::bad_request(format!(
            "max-series-per-database limit exceeded: database {db:?} has {} series, the limit \
             is {limit} (max_series_per_database); no lines written",
            count.total
        ))),
        Ok(_) => Ok(()),
        Err(EngineError::DatabaseNotFound { .. }) if state.config.create_databases_on_write => {
            Ok(())
        }
        Err(e) => Err(ApiError::from_engine(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_parameters() {
        let p = Params::from_query(Some("db=city&precision=ms"));
        assert_eq!(
            target(&p, Api::V1).unwrap(),
            ("city".into(), Precision::Milliseconds)
        );
        let p = Params::from_query(Some("bucket=city/autogen&org=x&precision=us"));
        assert_eq!(
            target(&p, Api::V2).unwrap(),
            ("city".into(), Precision::Microseconds)
        );
        let p = Params::from_query(Some("bucket=city&precision=m"));
        assert!(target(&p, Api::V2).is_err());
        assert!(target(&Params::from_query(Some("precision=s")), Api::V1).is_err());
    }
}
