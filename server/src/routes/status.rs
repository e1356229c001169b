//! `/ping`, `/health` and `/ready`: liveness for clients and load balancers. No credentials
//! needed, as in InfluxDB; they answer from memory without touching the engine's files.

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use crate::http::{self, Body, INFLUX_VERSION};
use crate::json;
use crate::params::Params;
use crate::state::State;

/// 204 with the version headers (added to every response by the router); with
/// `verbose=true`, 200 and `{"version":"…"}` as InfluxDB 1.8 answers.
pub fn ping(req: &Request<Incoming>) -> Response<Body> {
    let params = Params::from_query(req.uri().query());
    if params.flag("verbose") {
        http::json(
            StatusCode::OK,
            format!("{{\"version\":{}}}\n", json::string(INFLUX_VERSION)),
        )
    } else {
        http::no_content()
    }
}

/// InfluxDB 1.8's health document; `status` is `pass`, and a failed background flush or
/// compaction is reported beside it (the server still takes writes).
pub fn health(state: &State) -> Response<Body> {
    let mut body = format!(
        "{{\"name\":\"ganzhi\",\"message\":\"ready for queries and writes\",\"status\":\"pass\",\
         \"checks\":[],\"version\":{}",
        json::string(INFLUX_VERSION)
    );
    if let Some(e) = state.db.maintenance_error() {
        body.push_str(&format!(",\"maintenance_error\":{}", json::string(&e)));
    }
    body.push_str("}\n");
    http::json(StatusCode::OK, body)
}

/// InfluxDB 2.x's readiness document.
pub fn ready(state: &State) -> Response<Body> {
    let up = state.metrics.uptime().as_secs_f64();
    http::json(
        StatusCode::OK,
        format!("{{\"status\":\"ready\",\"up\":\"{up:.3}s\"}}\n"),
    )
}
