//! `GET /metrics`: the Prometheus exposition (see [`crate::metrics`]). With auth on, only an
//! admin may read it: it names every database.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use crate::http::{self, ApiError, Body};
use crate::params::Params;
use crate::state::State;

pub async fn metrics(
    state: &Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let params = Params::from_query(req.uri().query());
    let access = state.auth.authenticate(req.headers(), &params).await?;
    access.require_admin("read /metrics")?;
    let state = state.clone();
    let text = super::blocking(move || state.metrics.render(&state.db, state.gauges())).await?;
    Ok(http::with_type(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        text,
    ))
}
