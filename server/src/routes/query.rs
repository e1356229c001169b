//! `GET|POST /query`: InfluxQL in, InfluxDB 1.x JSON (or CSV with `Accept: application/csv`)
//! out.
//!
//! Parameters: `q` (also from a form-encoded POST body), `db` (optional: management statements
//! need none), `epoch` (`h`, `m`, `s`, `ms`, `u`, `ns`; RFC 3339 strings without it),
//! `pretty`, `chunked`. A query that does not parse is a 400 `{"error":"error parsing
//! query: …"}`; a statement that fails is reported in its own result, with 200, as InfluxDB
//! does.
//!
//! The query and the encoding of its result run on the blocking pool, holding one of the
//! `max_concurrent_queries` permits until they really end. With `chunked=true` the response
//! is streamed one JSON object per statement (`{"results":[{"statement_id":i,…}]}` and a
//! newline each), encoded while the previous one is being sent; InfluxDB cuts chunks by
//! `chunk_size` rows instead, which clients read the same way.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use ganzhi_engine::influxql::{self, Statement};
use ganzhi_engine::query::output::{self, Epoch, StatementOutcome};
use ganzhi_engine::{OwnedFieldValue, QueryError};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::mpsc;

use crate::auth::{statements, Access};
use crate::body;
use crate::http::{self, ApiError, Body};
use crate::limits::{self, Refused};
use crate::params::Params;
use crate::state::State;

/// How the result is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json { pretty: bool },
    Chunked,
    Csv,
}

/// What the blocking task hands back.
enum Outcome {
    /// The whole query failed to parse.
    Parse(String),
    /// An encoded body, and how many statements failed.
    Encoded(Vec<u8>, usize),
    /// The results, to be streamed.
    Results(Vec<StatementOutcome>),
}

pub async fn query(state: &Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let mut params = Params::from_query(req.uri().query());
    let (parts, incoming) = req.into_parts();
    let form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if parts.method == Method::POST && form {
        let body = body::read(
            incoming,
            &parts.headers,
            &state.body_limits,
            &state.inflight,
        )
        .await?;
        params.extend_form(&body.bytes);
    }
    let access = state.auth.authenticate(&parts.headers, &params).await?;
    let text = params
        .non_empty("q")
        .ok_or_else(|| ApiError::bad_request("missing required parameter \"q\""))?
        .to_owned();
    let db = params.get("db").unwrap_or("").to_owned();
    let epoch = match params.non_empty("epoch") {
        None => Epoch::Rfc3339,
        Some(e) => Epoch::parse(e).ok_or_else(|| {
            ApiError::bad_request(format!("invalid epoch {e:?}: use h, m, s, ms, u or ns"))
        })?,
    };
    if params.non_empty("params").is_some() {
        return Err(ApiError::bad_request(
            "bound parameters (the params parameter) are not supported",
        ));
    }
    let csv = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/csv") || v.contains("text/csv"));
    let format = if csv {
        Format::Csv
    } else if params.flag("chunked") {
        Format::Chunked
    } else {
        Format::Json {
            pretty: params.flag("pretty"),
        }
    };

    // Permissions are checked on the parsed statements before anything runs.
    let mut filter_databases = Vec::new();
    if state.auth.enabled() {
        let parsed = influxql::parse_query(&text).map_err(|e| {
            state.metrics.query_errors.fetch_add(1, Relaxed);
            ApiError::bad_request(QueryError::Parse(e).to_string())
        })?;
        statements::authorize(&access, &parsed.statements, &db)?;
        if !access.is_admin() {
            filter_databases = parsed
                .statements
                .iter()
                .enumerate()
                .filter(|(_, s)| matches!(s, Statement::ShowDatabases))
                .map(|(i, _)| i)
                .collect();
        }
    }

    state.metrics.query_requests.fetch_add(1, Relaxed);
    let limits = &state.config.limits;
    let engine = state.db.clone();
    let max_values = limits.max_query_values;
    // The engine refuses a statement that would read more points than the result may hold
    // before reading them, and stops a query past its time limit between series.
    let engine_limits = ganzhi_engine::QueryLimits {
        timeout: Some(limits.query_timeout),
        max_points: max_values as u64,
        threads: 0,
    };
    let started = Instant::now();
    let work = move || {
        let mut results = match engine.query_with(&db, &text, engine_limits) {
            Ok(results) => results,
            Err(e) => return Outcome::Parse(e.to_string()),
        };
        for &i in &filter_databases {
            if let Some(Ok(series)) = results.get_mut(i) {
                keep_visible_databases(series, &access);
            }
        }
        if max_values > 0 {
            enforce_max_values(&mut results, max_values);
        }
        let failed = results.iter().filter(|r| r.is_err()).count();
        match format {
            Format::Json { pretty } => {
                Outcome::Encoded(output::to_json(&results, epoch, pretty), failed)
            }
            Format::Csv => Outcome::Encoded(output::to_csv(&results, epoch), failed),
            Format::Chunked => Outcome::Results(results),
        }
    };
    let outcome = limits::run_limited(
        &state.queries,
        limits.max_concurrent_queries,
        limits.query_timeout,
        work,
    )
    .await
    .map_err(|refused| {
        let counter = match refused {
            Refused::Busy { .. } => &state.metrics.query_refused,
            Refused::TimedOut(_) => &state.metrics.query_timeouts,
            Refused::Panicked => &state.metrics.query_errors,
        };
        counter.fetch_add(1, Relaxed);
        refused.into_error()
    })?;
    let m = &state.metrics;
    m.query_duration.observe(started.elapsed());
    match outcome {
        Outcome::Parse(message) => {
            m.query_errors.fetch_add(1, Relaxed);
            Err(ApiError::bad_request(message))
        }
        Outcome::Encoded(bytes, failed) => {
            m.query_errors.fetch_add(failed as u64, Relaxed);
            let content_type = if format == Format::Csv {
                "application/csv"
            } else {
                "application/json"
            };
            Ok(http::with_type(StatusCode::OK, content_type, bytes))
        }
        Outcome::Results(results) => {
            let failed = results.iter().filter(|r| r.is_err()).count();
            m.query_errors.fetch_add(failed as u64, Relaxed);
            Ok(stream(results, epoch))
        }
    }
}

/// A response whose body is encoded statement by statement on the blocking pool.
fn stream(results: Vec<StatementOutcome>, epoch: Epoch) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    tokio::task::spawn_blocking(move || {
        for (i, r) in results.iter().enumerate() {
            // A closed channel is a client that went away: stop encoding.
            if tx
                .blocking_send(Bytes::from(output::statement_json(i, r, epoch)))
                .is_err()
            {
                break;
            }
        }
    });
    let mut r = Response::new(ChannelBody(rx).boxed_unsync());
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// A body fed by a channel, one frame per message.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
    }
}

/// `SHOW DATABASES` for a principal that is not admin lists only the databases it may read
/// or write, as InfluxDB does.
fn keep_visible_databases(series: &mut [ganzhi_engine::ResultSeries], access: &Access) {
    for s in series {
        let Some(col) = s.columns.iter().position(|c| c == "name") else {
            continue;
        };
        let col = if s.has_time() { col - 1 } else { col };
        s.rows.retain(|(_, values)| match values.get(col) {
            Some(Some(OwnedFieldValue::String(name))) => access.can_see(name),
            _ => false,
        });
    }
}

/// Replaces a statement's result holding more than `max` values with an error.
fn enforce_max_values(results: &mut [StatementOutcome], max: usize) {
    for r in results {
        let values: usize = match r {
            Ok(series) => series
                .iter()
                .map(|s| s.rows.len().saturating_mul(s.columns.len()))
                .sum(),
            Err(_) => 0,
        };
        if values > max {
            *r = Err(QueryError::Invalid(format!(
                "the result has {values} values, more than the limit of {max} \
                 (max_query_values): narrow the time range, aggregate, or add LIMIT"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ganzhi_engine::ResultSeries;

    fn series(rows: usize) -> ResultSeries {
        ResultSeries {
            name: "m".into(),
            tags: vec![],
            columns: vec!["time".into(), "v".into()],
            rows: (0..rows)
                .map(|i| (i as i64, vec![Some(OwnedFieldValue::Integer(1))]))
                .collect(),
        }
    }

    #[test]
    fn results_over_the_limit_become_errors() {
        let mut results = vec![Ok(vec![series(10)]), Ok(vec![series(2)])];
        enforce_max_values(&mut results, 10);
        assert!(results[0].is_err());
        assert!(results[1].is_ok());
    }

    #[test]
    fn show_databases_is_filtered() {
        let mut s = vec![ResultSeries {
            name: "databases".into(),
            tags: vec![],
            columns: vec!["name".into()],
            rows: ["city", "secret"]
                .iter()
                .map(|n| {
                    (
                        0,
                        vec![Some(OwnedFieldValue::String((*n).to_owned().into()))],
                    )
                })
                .collect(),
        }];
        keep_visible_databases(&mut s, &Access::Open);
        assert_eq!(s[0].rows.len(), 2);
    }
}
