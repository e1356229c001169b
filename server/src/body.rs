//! Reading a request body once into [`Bytes`], within the limits: its size (413), the time it
//! may take to arrive (408), and the bytes all bodies in flight may hold together.
//!
//! A body of one frame is kept as it came (no copy); several frames are gathered into one
//! buffer sized from `Content-Length`. `Content-Encoding: gzip` is decoded as the frames
//! arrive, into a buffer that refuses to grow past the limit, so a small "gzip bomb" costs at
//! most `max_body_bytes`.
//!
//! Memory: a body holds permits of the in-flight semaphore (one per byte) until it is
//! dropped, after the engine has written it. With a `Content-Length`, the permits are taken
//! before reading, all at once (so two large bodies cannot each hold half and wait for the
//! rest); a chunked or gzipped body takes them as it grows, and a deadlock between such bodies
//! is broken by the read timeout.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_ENCODING, CONTENT_LENGTH};
use hyper::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::ApiError;

/// A request body in memory, and the in-flight permits that account for it.
#[derive(Debug)]
pub struct Body {
    pub bytes: Bytes,
    /// Held until the body is dropped.
    _permits: Option<OwnedSemaphorePermit>,
}

/// What [`read`] needs to know of the limits.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// Reads the whole body (decoding gzip) or fails with the status the client should see.
pub async fn read(
    body: Incoming,
    headers: &HeaderMap,
    limits: &BodyLimits,
    inflight: &Arc<Semaphore>,
) -> Result<Body, ApiError> {
    let gzip = match headers.get(CONTENT_ENCODING).map(|v| v.to_str()) {
        None => false,
        Some(Ok(v)) if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") => true,
        Some(Ok(v)) if v.eq_ignore_ascii_case("identity") || v.is_empty() => false,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported Content-Encoding {:?}: send gzip or nothing",
                    other.unwrap_or("?")
                ),
            ))
        }
    };
    let length = match headers.get(CONTENT_LENGTH) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| ApiError::bad_request("invalid Content-Length"))?,
        ),
    };
    if let Some(n) = length {
        if n > limits.max_bytes as u64 {
            return Err(too_large(limits.max_bytes));
        }
    }
    let reading = async {
        let mut acc = Accounting::new(inflight);
        if let Some(n) = length {
            // Hold the whole body's room before reading any of it.
            acc.reserve(n as usize).await;
        }
        if gzip {
            read_gzip(body, limits.max_bytes, &mut acc).await
        } else {
            read_plain(body, length, limits.max_bytes, &mut acc).await
        }
        .map(|bytes| Body {
            bytes,
            _permits: acc.permits,
        })
    };
    match tokio::time::timeout(limits.timeout, reading).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {:?} (body_read_timeout)",
                limits.timeout
            ),
        )),
    }
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body is larger than the limit of {max} bytes (max_body_bytes); send smaller batches"),
    )
}

/// Permits of the in-flight semaphore held for one body.
struct Accounting<'a> {
    semaphore: &'a Arc<Semaphore>,
    permits: Option<OwnedSemaphorePermit>,
    held: usize,
}

impl<'a> Accounting<'a> {
    fn new(semaphore: &'a Arc<Semaphore>) -> Self {
        Accounting {
            semaphore,
            permits: None,
            held: 0,
        }
    }

    /// Makes sure `total` bytes are accounted for, waiting for room if needed.
    async fn reserve(&mut self, total: usize) {
        if total <= self.held {
            return;
        }
        let more = (total - self.held) as u32;
        // The semaphore is never closed, so acquiring only waits.
        if let Ok(p) = self.semaphore.clone().acquire_many_owned(more).await {
            match &mut self.permits {
                Some(held) => held.merge(p),
                None => self.permits = Some(p),
            }
            self.held = total;
        }
    }
}

async fn read_plain(
    mut body: Incoming,
    length: Option<u64>,
    max: usize,
    acc: &mut Accounting<'_>,
) -> Result<Bytes, ApiError> {
    let mut first: Option<Bytes> = None;
    let mut gathered: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(read_error)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total += data.len();
        if total > max {
            return Err(too_large(max));
        }
        acc.reserve(total).await;
        match (&mut first, &mut gathered) {
            (None, None) => first = Some(data),
            (Some(f), None) => {
                let capacity = length.map_or(0, |n| n as usize).max(total);
                let mut buf = BytesMut::with_capacity(capacity);
                buf.extend_from_slice(f);
                buf.extend_from_slice(&data);
                first = None;
                gathered = Some(buf);
            }
            (_, Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    Ok(match (first, gathered) {
        (_, Some(buf)) => buf.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}

async fn read_gzip(
    mut body: Incoming,
    max: usize,
    acc: &mut Accounting<'_>,
) -> Result<Bytes, ApiError> {
    let mut decoder = flate2::write::MultiGzDecoder::new(Capped {
        buf: Vec::new(),
        max,
    });
    let mut compressed = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(read_error)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        compressed += data.len();
        if compressed > max {
            return Err(too_large(max));
        }
        decoder.write_all(&data).map_err(|e| gzip_error(e, max))?;
        let grown = decoder.get_ref().buf.len();
        acc.reserve(grown).await;
    }
    if compressed == 0 {
        return Ok(Bytes::new());
    }
    // Fails on a truncated stream.
    let sink = decoder.finish().map_err(|e| gzip_error(e, max))?;
    Ok(Bytes::from(sink.buf))
}

fn gzip_error(e: std::io::Error, max: usize) -> ApiError {
    if e.kind() == std::io::ErrorKind::OutOfMemory {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body is larger than the limit of {max} bytes (max_body_bytes) once \
                 decompressed; send smaller batches"
            ),
        )
    } else {
        ApiError::bad_request(format!("request body is not valid gzip: {e}"))
    }
}

fn read_error(e: hyper::Error) -> ApiError {
    ApiError::bad_request(format!("error reading the request body: {e}"))
}

/// A buffer that refuses to grow past `max` (reported as `OutOfMemory`).
struct Capped {
    buf: Vec<u8>,
    max: usize,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::OutOfMemory,
                "decompressed body too large",
            ));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
