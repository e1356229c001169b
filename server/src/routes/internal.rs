//! `POST /internal/flush` and `POST /internal/compact` (admin): operator actions that answer
//! when they are done, with how long they took and the bytes then on disk.
//!
//! `/internal/flush` writes every memtable to segments and empties the WAL;
//! `/internal/compact` merges each partition's segments into one (`?full=false`: only what the
//! routine policy would pick). Compaction works on segments only: flush first to include what
//! is still in memory.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use crate::http::{self, ApiError, Body};
use crate::params::Params;
use crate::state::State;

pub async fn flush(state: &Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let params = Params::from_query(req.uri().query());
    let access = state.auth.authenticate(req.headers(), &params).await?;
    access.require_admin("flush")?;
    let db = state.db.clone();
    run(state, move || db.flush(), &state.metrics.flushes).await
}

pub async fn compact(
    state: &Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let params = Params::from_query(req.uri().query());
    let access = state.auth.authenticate(req.headers(), &params).await?;
    access.require_admin("compact")?;
    let full = params.get("full").is_none_or(|v| v != "false");
    let db = state.db.clone();
    run(state, move || db.compact(full), &state.metrics.compactions).await
}

async fn run(
    state: &Arc<State>,
    action: impl FnOnce() -> ganzhi_engine::Result<()> + Send + 'static,
    counter: &std::sync::atomic::AtomicU64,
) -> Result<Response<Body>, ApiError> {
    let started = Instant::now();
    let db = state.db.clone();
    let (result, disk) = super::blocking(move || {
        let result = action();
        (result, db.disk_bytes())
    })
    .await?;
    result.map_err(ApiError::from_engine)?;
    counter.fetch_add(1, Relaxed);
    let disk = disk.map_err(ApiError::from_engine)?;
    Ok(http::json(
        StatusCode::OK,
        format!(
            "{{\"seconds\":{:.3},\"disk_bytes\":{disk}}}\n",
            started.elapsed().as_secs_f64()
        ),
    ))
}
