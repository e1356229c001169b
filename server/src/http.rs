//! Responses and errors: the one place where a failure becomes an HTTP status.
//!
//! Every handler returns `Result<Response, ApiError>`; [`ApiError`] carries the status and a
//! message for the client, rendered as InfluxDB 1.x's `{"error":"…"}` or, on the 2.x API, as
//! `{"code":"…","message":"…"}` (with `"error"` too, so either kind of client finds it).
//! Engine errors map to statuses in [`ApiError::from_engine`] and nowhere else.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};

use crate::json;

/// The response body every handler produces: a whole buffer or a stream of chunks.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The version clients read from `X-Influxdb-Version`; the `1.8` prefix makes them speak the
/// 1.x API they know, the suffix says what answers.
pub const INFLUX_VERSION: &str = "1.8.10-ganzhi";

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

pub fn empty_body() -> Body {
    Empty::new().boxed_unsync()
}

/// A status with no body (204 for writes and `/ping`).
pub fn no_content() -> Response<Body> {
    status_only(StatusCode::NO_CONTENT)
}

pub fn status_only(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(empty_body());
    *r.status_mut() = status;
    r
}

/// A JSON body with a status.
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    with_type(status, "application/json", body)
}

pub fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Which error format the route speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V1,
    V2,
}

/// A request that failed: status, message, and any header the client needs to act on it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub header: Option<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            header: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// 401, with the challenge that makes browsers and some clients offer Basic auth.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message).with_header(
            hyper::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"ganzhi\""),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    /// 503 with `Retry-After: 1`: the server is busy, the request may succeed later.
    pub fn busy(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
            .with_header(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"))
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.header = Some((name, value));
        self
    }

    /// The engine's errors, mapped once.
    pub fn from_engine(e: ganzhi_engine::Error) -> ApiError {
        use ganzhi_engine::Error as E;
        let status = match &e {
            E::DatabaseNotFound { .. } => StatusCode::NOT_FOUND,
            E::InvalidDatabaseName { .. } | E::InvalidPoint { .. } | E::PartialWrite { .. } => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match e {
            E::PartialWrite { accepted, rejected } => partial_write_message(accepted, &rejected),
            other => other.to_string(),
        };
        ApiError::new(status, message)
    }

    pub fn into_response(self, api: Api) -> Response<Body> {
        let message = json::string(&self.message);
        let body = match api {
            Api::V1 => format!("{{\"error\":{message}}}\n"),
            Api::V2 => format!(
                "{{\"code\":\"{}\",\"message\":{message},\"error\":{message}}}\n",
                v2_code(self.status)
            ),
        };
        let mut r = json(self.status, body);
        if let Some((name, value)) = self.header {
            r.headers_mut().insert(name, value);
        }
        r
    }
}

/// The 2.x API's error codes.
fn v2_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "invalid",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not found",
        StatusCode::PAYLOAD_TOO_LARGE => "request too large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported media type",
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => "unavailable",
        StatusCode::REQUEST_TIMEOUT => "request timeout",
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed",
        _ => "internal error",
    }
}

/// `partial write: 3 points accepted, 2 rejected: line 2, column 5: …; line 4: …`: every bad
/// line, as the issue asks (the engine's own `Display` stops at 20).
pub fn partial_write_message(
    accepted: ganzhi_engine::WriteSummary,
    rejected: &[ganzhi_engine::RejectedLine],
) -> String {
    use std::fmt::Write;
    let mut m = format!(
        "partial write: {} points accepted, {} rejected",
        accepted.points,
        rejected.len()
    );
    for (i, r) in rejected.iter().enumerate() {
        let _ = write!(m, "{}{r}", if i == 0 { ": " } else { "; " });
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_in_both_dialects() {
        let e = ApiError::bad_request("bad \"line\"");
        let r = e.into_response(Api::V1);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let e = ApiError::from_engine(ganzhi_engine::Error::DatabaseNotFound { name: "x".into() });
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(v2_code(e.status), "not found");
    }
}
