//! The router: method and path → handler, then what every response gets (the version
//! headers, the error body in the route's dialect, a count in `/metrics`).
//!
//! | route | methods | handler |
//! | --- | --- | --- |
//! | `/write` | POST | [`write::write`] (1.x) |
//! | `/api/v2/write` | POST | [`write::write`] (2.x) |
//! | `/query` | GET, POST | [`query::query`] |
//! | `/ping`, `/health`, `/ready` | GET, HEAD | [`status`] |
//! | `/metrics` | GET | [`metrics::metrics`] |
//! | `/internal/flush`, `/internal/compact` | POST | [`internal`] |

pub mod internal;
pub mod metrics;
pub mod query;
pub mod status;
pub mod write;

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW};
use hyper::{Method, Request, Response, StatusCode};

use crate::http::{Api, ApiError, Body, INFLUX_VERSION};
use crate::state::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Write,
    WriteV2,
    Query,
    Ping,
    Health,
    Ready,
    Metrics,
    Flush,
    Compact,
    NotFound,
}

impl Route {
    fn of(path: &str) -> Route {
        match path.trim_end_matches('/') {
            "/write" => Route::Write,
            "/api/v2/write" => Route::WriteV2,
            "/query" => Route::Query,
            "/ping" => Route::Ping,
            "/health" => Route::Health,
            "/ready" => Route::Ready,
            "/metrics" => Route::Metrics,
            "/internal/flush" => Route::Flush,
            "/internal/compact" => Route::Compact,
            _ => Route::NotFound,
        }
    }

    /// The label in `/metrics`.
    fn name(self) -> &'static str {
        match self {
            Route::Write => "write",
            Route::WriteV2 => "api_v2_write",
            Route::Query => "query",
            Route::Ping => "ping",
            Route::Health => "health",
            Route::Ready => "ready",
            Route::Metrics => "metrics",
            Route::Flush => "internal_flush",
            Route::Compact => "internal_compact",
            Route::NotFound => "not_found",
        }
    }

    fn methods(self) -> &'static [Method] {
        const POST: &[Method] = &[Method::POST];
        const GET_HEAD: &[Method] = &[Method::GET, Method::HEAD];
        match self {
            Route::Write | Route::WriteV2 | Route::Flush | Route::Compact => POST,
            Route::Query => &[Method::GET, Method::POST],
            Route::Ping | Route::Health | Route::Ready => GET_HEAD,
            Route::Metrics => &[Method::GET],
            Route::NotFound => &[],
        }
    }

    fn api(self) -> Api {
        if self == Route::WriteV2 {
            Api::V2
        } else {
            Api::V1
        }
    }
}

/// Answers one request; never fails (a failure is a response).
pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let route = Route::of(req.uri().path());
    let result = if route == Route::NotFound {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: {}", req.uri().path()),
        ))
    } else if !route.methods().contains(req.method()) {
        let allow = route
            .methods()
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} does not take {}", req.uri().path(), req.method()),
        )
        .with_header(
            ALLOW,
            HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static("GET")),
        ))
    } else {
        dispatch(&state, route, req).await
    };
    let mut response = result.unwrap_or_else(|e| {
        if e.status.is_server_error() && e.status != StatusCode::SERVICE_UNAVAILABLE {
            eprintln!("ganzhi: {} {}: {}", route.name(), e.status, e.message);
        }
        e.into_response(route.api())
    });
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        state
            .metrics
            .auth_failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    state.metrics.response(route.name(), status.as_u16());
    let headers = response.headers_mut();
    headers.insert(
        "X-Influxdb-Version",
        HeaderValue::from_static(INFLUX_VERSION),
    );
    headers.insert("X-Influxdb-Build", HeaderValue::from_static("OSS"));
    Ok(response)
}

async fn dispatch(
    state: &Arc<State>,
    route: Route,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    match route {
        Route::Write => write::write(state, req, Api::V1).await,
        Route::WriteV2 => write::write(state, req, Api::V2).await,
        Route::Query => query::query(state, req).await,
        Route::Ping => Ok(status::ping(&req)),
        Route::Health => Ok(status::health(state)),
        Route::Ready => Ok(status::ready(state)),
        Route::Metrics => metrics::metrics(state, req).await,
        Route::Flush => internal::flush(state, req).await,
        Route::Compact => internal::compact(state, req).await,
        Route::NotFound => Err(ApiError::new(StatusCode::NOT_FOUND, "no such endpoint")),
    }
}

/// Runs `f` on the blocking pool; a panic in it becomes a 500.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("internal error: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of("/write"), Route::Write);
        assert_eq!(Route::of("/query/"), Route::Query);
        assert_eq!(Route::of("/api/v2/write"), Route::WriteV2);
        assert_eq!(Route::of("/nope"), Route::NotFound);
        assert_eq!(Route::WriteV2.api(), Api::V2);
    }
}
