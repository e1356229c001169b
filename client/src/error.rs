//! The client's errors: one enum, each variant with what a caller needs to act on it.
//!
//! The split that matters is *retryable or not* ([`Error::is_retryable`]): no response at all
//! (connection refused or reset, timeout), a 5xx, 429 or 503 may succeed if sent again; a 4xx
//! never will, and a 400 on a write means the server parsed the body and refused some lines
//! (InfluxDB and ganzhi write the good lines and name the bad ones in the message).

use std::fmt;
use std::io;

/// Everything the client can fail at.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The base URL (or a request parameter) cannot be used.
    InvalidArgument { what: &'static str, reason: String },
    /// No HTTP response: the connection failed, was reset, or timed out.
    Transport {
        /// `POST /write`, `GET /query`, …: the request without its parameters.
        request: String,
        kind: TransportKind,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A write answered 400: the server parsed the body and refused some (or all) lines. The
    /// message is the server's `{"error": …}`, which names the bad lines; InfluxDB 1.x and ganzhi
    /// write the good lines of the same body. Never retried.
    PartialWrite { message: String },
    /// Any other non-success status: 401/403 (credentials), 404 (unknown database), 413 (body
    /// too large), or a 5xx/429 that outlasted the retries.
    Status {
        request: String,
        status: u16,
        /// The server's `{"error": …}` if it sent one, else the start of the body.
        message: String,
    },
    /// `/query` refused the query as a whole (HTTP 400 with `{"error": …}`, e.g. a syntax
    /// error), or [`QueryResponse::check`](crate::QueryResponse::check) found an error in it.
    Query { message: String },
    /// One statement of a query failed (from [`QueryResponse::check`](crate::QueryResponse::check)).
    Statement { statement_id: u32, message: String },
    /// The response is not what the endpoint should answer (bad JSON, wrong shape).
    Decode {
        what: &'static str,
        source: serde_json::Error,
    },
    /// Compressing a body failed (gzip into memory: practically never).
    Compress { source: io::Error },
    /// A retryable error that persisted through every attempt; `last` is the final one.
    GaveUp { attempts: u32, last: Box<Error> },
    /// A [`Writer`](crate::Writer) batch failed: its `lines` are not written (or, for a
    /// partial write, only the lines the server accepted are).
    Batch {
        lines: usize,
        bytes: usize,
        source: Box<Error>,
    },
    /// The [`Writer`](crate::Writer) was closed.
    Closed,
}

/// Why a request got no HTTP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// Refused, unreachable, or the host name did not resolve.
    Connect,
    /// A configured timeout passed.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// The server's answer is not valid HTTP/1.1.
    Protocol,
    /// Anything else the HTTP library reports.
    Other,
}

/// The client's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether sending the same request again may succeed: transport failures (a line-protocol
    /// write is idempotent, so resending one that may have arrived is safe), 5xx, 429.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { kind, .. } => *kind != TransportKind::Other,
            Error::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// The HTTP status, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::PartialWrite { .. } | Error::Query { .. } => Some(400),
            Error::Status { status, .. } => Some(*status),
            Error::GaveUp { last, .. } | Error::Batch { source: last, .. } => last.status(),
            _ => None,
        }
    }

    /// The innermost error: through [`Error::GaveUp`] and [`Error::Batch`].
    pub fn root(&self) -> &Error {
        match self {
            Error::GaveUp { last, .. } | Error::Batch { source: last, .. } => last.root(),
            e => e,
        }
    }

    pub(crate) fn transport(request: &str, e: ureq::Error) -> Error {
        let kind = match &e {
            ureq::Error::Timeout(_) => TransportKind::Timeout,
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => TransportKind::Connect,
            ureq::Error::Io(io) => match io.kind() {
                io::ErrorKind::ConnectionRefused | io::ErrorKind::AddrNotAvailable => {
                    TransportKind::Connect
                }
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportKind::Timeout,
                _ => TransportKind::Io,
            },
            ureq::Error::Protocol(_) => TransportKind::Protocol,
            _ => TransportKind::Other,
        };
        Error::Transport {
            request: request.to_owned(),
            kind,
            source: Box::new(e),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument { what, reason } => write!(f, "invalid {what}: {reason}"),
            Error::Transport {
                request,
                kind,
                source,
            } => write!(f, "{request}: no response ({kind:?}): {source}"),
            Error::PartialWrite { message } => write!(f, "write refused (HTTP 400): {message}"),
            Error::Status {
                request,
                status,
                message,
            } => write!(f, "{request}: HTTP {status}: {message}"),
            Error::Query { message } => write!(f, "query failed: {message}"),
            Error::Statement {
                statement_id,
                message,
            } => write!(f, "statement {statement_id} failed: {message}"),
            Error::Decode { what, source } => write!(f, "cannot decode {what}: {source}"),
            Error::Compress { source } => write!(f, "gzip: {source}"),
            Error::GaveUp { attempts, last } => {
                write!(f, "gave up after {attempts} attempts: {last}")
            }
            Error::Batch {
                lines,
                bytes,
                source,
            } => write!(f, "batch of {lines} lines ({bytes} bytes) failed: {source}"),
            Error::Closed => write!(f, "the writer is closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source.as_ref()),
            Error::Decode { source, .. } => Some(source),
            Error::Compress { source } => Some(source),
            Error::GaveUp { last, .. } => Some(last.as_ref()),
            Error::Batch { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// The server's message from an error body: `{"error": "…"}` (InfluxDB 1.x, ganzhi),
/// `{"message": "…"}` (InfluxDB 2.x), else the body's first 500 bytes as text.
pub(crate) fn server_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: Option<String>,
        message: Option<String>,
    }
    if let Ok(ErrorBody { error, message }) = serde_json::from_slice::<ErrorBody>(body) {
        if let Some(m) = error.or(message) {
            return m;
        }
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(500)]);
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        text.to_owned()
    }
}
