//! `GET|POST /query`: InfluxQL in, InfluxDB 1.x JSON (or CSV with `Accept: application/csv`)
//! out.
//!
//! Parameters: `q` (also from a form-encoded POST body), `db` (optional: management statements
//! need none), `epoch` (`h`, `m`, `s`, `ms`, `u`, `ns`; RFC 3339 strings without it),
//! `pretty`, `chunked`, `chunk_size`. A query that does not parse is a 400 `{"error":"error
//! parsing query: …"}`; a statement that fails is reported in its own result, with 200, as
//! InfluxDB does.
//!
//! The query and the encoding of its result run on the blocking pool, holding one of the
//! `max_concurrent_queries` permits until they really end; a small read-only query (see
//! `small`) runs on the request's worker thread instead, where it costs about half. A
//! whole response is limited to `max_query_values` values, refused before reading where the
//! engine can tell.
//!
//! With `chunked=true` the response streams as InfluxDB's does: one JSON line per series, a
//! series longer than `chunk_size` rows (default 10 000, at most 100 000) cut into several
//! lines marked `"partial":true`, each line sent as the query produces it. A raw statement
//! reads a slice at a time, so it holds a chunk or two whatever the size of its result, and
//! `max_query_values` does not apply to it (as InfluxDB's `max-row-limit` does not to
//! chunked queries); aggregates that keep points still count them against it.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use ganzhi_engine::influxql::{self, Statement};
use ganzhi_engine::query::output::{self, Epoch, StatementOutcome};
use ganzhi_engine::{OwnedFieldValue, QueryError, QueryEvent};
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
    Json {
        pretty: bool,
    },
    /// Streamed, series cut every `chunk_rows` rows.
    Chunked {
        chunk_rows: usize,
    },
    Csv,
}

/// InfluxDB's rows per chunk when `chunk_size` is not given.
const DEFAULT_CHUNK_ROWS: usize = 10_000;
/// The most rows a chunk holds, whatever `chunk_size` asks: a chunk is what a streamed
/// query holds in memory.
const MAX_CHUNK_ROWS: usize = 100_000;

/// Rows per chunk from the `chunk_size` parameter: absent or not positive, InfluxDB's
/// default; above [`MAX_CHUNK_ROWS`], that.
fn chunk_rows(param: Option<&str>) -> Result<usize, ApiError> {
    let Some(n) = param else {
        return Ok(DEFAULT_CHUNK_ROWS);
    };
    match n.parse::<i64>() {
        Ok(n) if n > 0 => Ok((n as u64).min(MAX_CHUNK_ROWS as u64) as usize),
        Ok(_) => Ok(DEFAULT_CHUNK_ROWS),
        Err(_) => Err(ApiError::bad_request(format!(
            "invalid chunk_size {n:?}: use a number of rows"
        ))),
    }
}

/// What the blocking task hands back.
enum Outcome {
    /// The whole query failed to parse.
    Parse(String),
    /// An encoded body, and how many statements failed.
    Encoded(Vec<u8>, usize),
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
        Format::Chunked {
            chunk_rows: chunk_rows(params.non_empty("chunk_size"))?,
        }
    } else {
        Format::Json {
            pretty: params.flag("pretty"),
        }
    };

    // Permissions are checked on the parsed statements before anything runs; a streamed
    // response must know the query parses before it sends its status.
    let mut filter_databases = Vec::new();
    if state.auth.enabled() || matches!(format, Format::Chunked { .. }) {
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
        ..Default::default()
    };
    let started = Instant::now();
    if let Format::Chunked { chunk_rows } = format {
        return stream(
            state,
            db,
            text,
            engine_limits,
            chunk_rows,
            epoch,
            filter_databases,
            access,
        );
    }
    // Everything after the engine's answer: visibility, the size limit, the encoding.
    let answer = move |results: Result<Vec<StatementOutcome>, QueryError>| {
        let mut results = match results {
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
            // (Chunked responses are streamed before this.)
            Format::Json { pretty } => {
                Outcome::Encoded(output::to_json(&results, epoch, pretty), failed)
            }
            Format::Chunked { .. } => {
                Outcome::Encoded(output::to_json(&results, epoch, false), failed)
            }
            Format::Csv => Outcome::Encoded(output::to_csv(&results, epoch), failed),
        }
    };
    let outcome = match small(state, &engine, &db, &text, engine_limits) {
        Some(results) => answer(results),
        None => limits::run_limited(
            &state.queries,
            limits.max_concurrent_queries,
            limits.query_timeout,
            move || answer(engine.query_with(&db, &text, engine_limits)),
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
        })?,
    };
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
    }
}

/// Answers a small read-only query on this thread (within `small_query_points` and
/// `small_query_time`), holding a query slot meanwhile; `None` when it is not small (the
/// engine abandons it as soon as it sees that) or no slot is free: the blocking pool then
/// runs it. Handing a query to the pool and back costs the server about 40 µs of CPU (two
/// thread wake-ups), as much as a small query itself (one station's day in 5-minute means:
/// about 35 µs); 50 000 points take about 0.2 ms to decode, so the worker is held about as
/// long as by its other requests' work, never much longer. (Server CPU per request on the
/// imported day: `python3 benches/peers/paired.py --ports PORT --pid PID --n 3000 "<query>"`
/// with and without `--small-query-points 0`.)
fn small(
    state: &State,
    engine: &ganzhi_engine::Db,
    db: &str,
    text: &str,
    limits: ganzhi_engine::QueryLimits,
) -> Option<Result<Vec<StatementOutcome>, QueryError>> {
    let config = &state.config.limits;
    if config.small_query_points == 0 {
        return None;
    }
    let small = ganzhi_engine::SmallQuery {
        max_points: config.small_query_points,
        max_time: config.small_query_time,
    };
    // A query found too large lately (the same database and text) goes straight to the
    // pool: the attempt costs its parse and plan (about 30 µs for analyst query Q3).
    let key = {
        use std::hash::Hasher;
        // Fixed keys: the set only saves work, and a collision only sends a small query to
        // the pool.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        h.write(db.as_bytes());
        h.write_u8(0);
        h.write(text.as_bytes());
        h.finish()
    };
    if state.large_queries.contains(key) {
        return None;
    }
    let _slot = state.queries.clone().try_acquire_owned().ok()?;
    let Some(answered) = engine.try_query_small(db, text, limits, small).transpose() else {
        state.large_queries.insert(key);
        state.metrics.query_not_small.fetch_add(1, Relaxed);
        return None;
    };
    state.metrics.query_small.fetch_add(1, Relaxed);
    Some(answered)
}

/// A chunked response: the query runs on the blocking pool, holding a query slot until it
/// ends, and hands each chunk to the response as it is produced. The channel holds two
/// chunks, so a slow client slows the query down instead of letting chunks pile up; a client
/// that goes away, or reads so slowly that a chunk waits past the query's time limit, stops
/// it. The engine checks the same limit between slices.
#[allow(clippy::too_many_arguments)]
fn stream(
    state: &Arc<State>,
    db: String,
    text: String,
    limits: ganzhi_engine::QueryLimits,
    chunk_rows: usize,
    epoch: Epoch,
    filter_databases: Vec<usize>,
    access: Access,
) -> Result<Response<Body>, ApiError> {
    let slots = state.config.limits.max_concurrent_queries;
    let slot = state.queries.clone().try_acquire_owned().map_err(|_| {
        state.metrics.query_refused.fetch_add(1, Relaxed);
        Refused::Busy { slots }.into_error()
    })?;
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    let state = state.clone();
    let runtime = tokio::runtime::Handle::current();
    let timeout = limits.timeout.filter(|t| !t.is_zero());
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let started = Instant::now();
        // Whether the chunk went out before the deadline (false: the client is gone or stuck).
        let send = |line: Bytes| {
            runtime.block_on(async {
                match timeout {
                    None => tx.send(line).await.is_ok(),
                    Some(t) => {
                        let left = t.saturating_sub(started.elapsed());
                        matches!(tokio::time::timeout(left, tx.send(line)).await, Ok(Ok(())))
                    }
                }
            })
        };
        let mut sent_series = false;
        let mut failed = 0u64;
        let mut consumer = |mut event: QueryEvent| {
            match &mut event {
                QueryEvent::Series {
                    statement, series, ..
                } => {
                    if filter_databases.contains(statement) {
                        keep_visible_databases(std::slice::from_mut(series), &access);
                    }
                }
                QueryEvent::End { error, .. } => failed += u64::from(error.is_some()),
            }
            let line = output::event_json(&event, sent_series, epoch);
            sent_series = matches!(event, QueryEvent::Series { .. });
            match line.map(|line| send(Bytes::from(line))) {
                Some(false) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        };
        // The query parsed on the way in, so it cannot fail as a whole here.
        let _ = state
            .db
            .query_stream(&db, &text, limits, chunk_rows, &mut consumer);
        let m = &state.metrics;
        m.query_errors.fetch_add(failed, Relaxed);
        m.query_duration.observe(started.elapsed());
    });
    let mut r = Response::new(ChannelBody(rx).boxed_unsync());
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
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
    fn chunk_size_is_read_as_influxdb_reads_it_within_a_bound() {
        assert_eq!(chunk_rows(None).ok(), Some(DEFAULT_CHUNK_ROWS));
        assert_eq!(chunk_rows(Some("3")).ok(), Some(3));
        assert_eq!(chunk_rows(Some("0")).ok(), Some(DEFAULT_CHUNK_ROWS));
        assert_eq!(chunk_rows(Some("-5")).ok(), Some(DEFAULT_CHUNK_ROWS));
        assert_eq!(chunk_rows(Some("999999999999")).ok(), Some(MAX_CHUNK_ROWS));
        assert!(chunk_rows(Some("many")).is_err());
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
