//! [`Client`]: one base URL, credentials, timeouts, a retry policy and a pool of keep-alive
//! connections, shared by every clone.
//!
//! Every request reads its whole response body before returning, so its connection goes back to
//! the pool. Writes are retried by the [`RetryPolicy`] (a line-protocol write is idempotent);
//! read queries (`SELECT`, `SHOW`) too; other queries only when the connection could not be
//! made, so a `DELETE` or `DROP` is never sent twice.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{server_message, Error, Result, TransportKind};
use crate::query::QueryResponse;
use crate::retry::RetryPolicy;

/// Timestamp precision of a write body, or of the times a query returns (`epoch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    #[default]
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
    Minutes,
    Hours,
}

impl Precision {
    /// The 1.x spelling (`precision=` of `/write`, `epoch=` of `/query`): `ns u ms s m h`.
    pub fn as_v1(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "ns",
            Precision::Microseconds => "u",
            Precision::Milliseconds => "ms",
            Precision::Seconds => "s",
            Precision::Minutes => "m",
            Precision::Hours => "h",
        }
    }

    /// The 2.x spelling (`precision=` of `/api/v2/write`): `ns us ms s`; 2.x has no minutes
    /// or hours.
    pub fn as_v2(self) -> Result<&'static str> {
        match self {
            Precision::Nanoseconds => Ok("ns"),
            Precision::Microseconds => Ok("us"),
            Precision::Milliseconds => Ok("ms"),
            Precision::Seconds => Ok("s"),
            Precision::Minutes | Precision::Hours => Err(Error::InvalidArgument {
                what: "precision",
                reason: format!("{self:?} is not a 2.x write precision (ns, us, ms, s)"),
            }),
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = Error;

    /// Accepts both spellings: `n ns`, `u us µs`, `ms`, `s`, `m`, `h`.
    fn from_str(s: &str) -> Result<Precision> {
        Ok(match s {
            "n" | "ns" => Precision::Nanoseconds,
            "u" | "us" | "µs" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            "m" => Precision::Minutes,
            "h" => Precision::Hours,
            _ => {
                return Err(Error::InvalidArgument {
                    what: "precision",
                    reason: format!("{s:?}: expected one of ns, u, ms, s, m, h"),
                })
            }
        })
    }
}

/// Credentials sent with every request.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Token …` (InfluxDB 2.x and 1.8+, ganzhi).
    Token(String),
    /// `Authorization: Basic …` (InfluxDB 1.x users, ganzhi).
    Basic { user: String, password: String },
}

impl std::fmt::Debug for Auth {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => write!(f, "None"),
            Auth::Token(_) => write!(f, "Token(…)"),
            Auth::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, password: … }}"),
        }
    }
}

impl Auth {
    fn header(&self) -> Option<String> {
        match self {
            Auth::None => None,
            Auth::Token(t) => Some(format!("Token {t}")),
            Auth::Basic { user, password } => Some(format!(
                "Basic {}",
                base64(format!("{user}:{password}").as_bytes())
            )),
        }
    }
}

/// Where a write goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteTarget {
    /// `POST /write?db=…&rp=…` (InfluxDB 1.x). An empty `db` sends no `db` parameter
    /// (VictoriaMetrics' `/write`, which would otherwise add a `db` label to every series).
    V1 { db: String, rp: Option<String> },
    /// `POST /api/v2/write?bucket=…&org=…` (InfluxDB 2.x).
    V2 { bucket: String, org: String },
}

impl WriteTarget {
    pub fn v1(db: impl Into<String>) -> Self {
        WriteTarget::V1 {
            db: db.into(),
            rp: None,
        }
    }

    pub fn v2(bucket: impl Into<String>, org: impl Into<String>) -> Self {
        WriteTarget::V2 {
            bucket: bucket.into(),
            org: org.into(),
        }
    }
}

/// What a successful write took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Requests sent: 1 plus the retries.
    pub attempts: u32,
    /// Body bytes on the wire (after gzip, if on).
    pub bytes_sent: usize,
}

/// What `/ping` told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    /// `X-Influxdb-Version`, which clients look for.
    pub version: Option<String>,
    /// `X-Influxdb-Build`.
    pub build: Option<String>,
    pub latency: Duration,
}

/// Configures a [`Client`]. Defaults: no credentials, 5 s to connect, 60 s per request,
/// [`RetryPolicy::default`], no gzip, 8 idle connections kept.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    url: String,
    auth: Auth,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    gzip: bool,
    pool: usize,
    max_response_bytes: u64,
}

impl ClientBuilder {
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.auth = Auth::Token(token.into());
        self
    }

    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Auth::Basic {
            user: user.into(),
            password: password.into(),
        };
        self
    }

    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The whole request, from connecting to the last byte of the response.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Compress write bodies (`Content-Encoding: gzip`): about 10× fewer bytes for line
    /// protocol, for some CPU on both sides. Worth it over a slow link, not on loopback.
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// Idle keep-alive connections kept for reuse; make it at least the number of threads
    /// that share the client.
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.pool = n.max(1);
        self
    }

    /// Refuse responses larger than this (a query result is read whole). Default 1 GiB.
    pub fn max_response_bytes(mut self, n: u64) -> Self {
        self.max_response_bytes = n;
        self
    }

    pub fn build(self) -> Result<Client> {
        let base = self.url.trim_end_matches('/').to_owned();
        let rest = if let Some(rest) = base.strip_prefix("http://") {
            rest
        } else if base.starts_with("https://") {
            return Err(Error::InvalidArgument {
                what: "URL",
                reason: format!("{base}: https is not built in (plain HTTP only)"),
            });
        } else {
            return Err(Error::InvalidArgument {
                what: "URL",
                reason: format!("{base:?}: expected http://HOST[:PORT][/PATH]"),
            });
        };
        if rest.is_empty() || rest.starts_with('/') || rest.contains(['?', '#']) {
            return Err(Error::InvalidArgument {
                what: "URL",
                reason: format!("{base:?}: expected http://HOST[:PORT][/PATH]"),
            });
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .max_idle_connections(self.pool)
            .max_idle_connections_per_host(self.pool)
            .user_agent(format!("ganzhi-client/{}", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            inner: Arc::new(Inner {
                agent: ureq::Agent::new_with_config(config),
                auth_header: self.auth.header(),
                base,
                retry: self.retry,
                gzip: self.gzip,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// A handle on one server. Cheap to clone; clones share the connection pool. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    base: String,
    /// Computed once: the `Authorization` header value.
    auth_header: Option<String>,
    retry: RetryPolicy,
    gzip: bool,
    max_response_bytes: u64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .field("auth", &self.inner.auth_header.is_some())
            .field("retry", &self.inner.retry)
            .field("gzip", &self.inner.gzip)
            .finish()
    }
}

/// A whole response: status, the headers we use, and the body read to its end.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    version: Option<String>,
    build: Option<String>,
    body: Vec<u8>,
}

/// A failed attempt, with the server's `Retry-After` if it sent one.
struct Failed {
    error: Error,
    retry_after: Option<Duration>,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Self {
        Failed {
            error,
            retry_after: None,
        }
    }
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
}

impl Client {
    /// A client with the defaults of [`ClientBuilder`] for `url` (`http://host:port`).
    pub fn new(url: &str) -> Result<Client> {
        Client::builder(url).build()
    }

    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            auth: Auth::None,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            gzip: false,
            pool: 8,
            max_response_bytes: 1 << 30,
        }
    }

    /// The base URL, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.inner.base
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// `POST /write?db=…&precision=…` (InfluxDB 1.x) with `lines` (line protocol, one point
    /// per line). A 400 is [`Error::PartialWrite`] with the server's message; retryable
    /// failures are retried by the policy and end in [`Error::GaveUp`].
    pub fn write(
        &self,
        db: &str,
        lines: impl AsRef<[u8]>,
        precision: Precision,
    ) -> Result<Written> {
        self.write_to(&WriteTarget::v1(db), lines.as_ref(), precision)
    }

    /// `POST /api/v2/write?bucket=…&org=…&precision=…` (InfluxDB 2.x).
    pub fn write_v2(
        &self,
        bucket: &str,
        org: &str,
        lines: impl AsRef<[u8]>,
        precision: Precision,
    ) -> Result<Written> {
        self.write_to(&WriteTarget::v2(bucket, org), lines.as_ref(), precision)
    }

    /// A write to either API.
    pub fn write_to(
        &self,
        target: &WriteTarget,
        body: &[u8],
        precision: Precision,
    ) -> Result<Written> {
        let (path, params): (&str, Vec<(&str, &str)>) = match target {
            WriteTarget::V1 { db, rp } => {
                let mut p = Vec::with_capacity(3);
                if !db.is_empty() {
                    p.push(("db", db.as_str()));
                }
                if let Some(rp) = rp {
                    p.push(("rp", rp.as_str()));
                }
                p.push(("precision", precision.as_v1()));
                ("/write", p)
            }
            WriteTarget::V2 { bucket, org } => (
                "/api/v2/write",
                vec![
                    ("bucket", bucket.as_str()),
                    ("org", org.as_str()),
                    ("precision", precision.as_v2()?),
                ],
            ),
        };
        let compressed = if self.inner.gzip {
            Some(gzip(body)?)
        } else {
            None
        };
        let payload = compressed.as_deref().unwrap_or(body);
        let request = format!("POST {path}");
        let attempts = self.with_retries(
            |_| true,
            || {
                let reply = self.call(Method::Post, path, &params, Some(payload))?;
                match reply.status {
                    200..=299 => Ok(()),
                    400 => Err(Error::PartialWrite {
                        message: server_message(&reply.body),
                    }
                    .into()),
                    status => Err(Failed {
                        error: Error::Status {
                            request: request.clone(),
                            status,
                            message: server_message(&reply.body),
                        },
                        retry_after: reply.retry_after,
                    }),
                }
            },
        )?;
        Ok(Written {
            attempts,
            bytes_sent: payload.len(),
        })
    }

    /// Runs InfluxQL `q` on `/query` (`db` may be empty, e.g. for `CREATE DATABASE`); `epoch`
    /// asks for integer times in that unit instead of RFC 3339 strings. `SELECT` and `SHOW` go
    /// as `GET`, anything else as `POST`, both with the parameters in the URL (as InfluxDB 1.x
    /// wants). A statement's own error stays in the response: see [`QueryResponse::check`].
    pub fn query(&self, db: &str, q: &str, epoch: Option<Precision>) -> Result<QueryResponse> {
        let read_only = is_read_only(q);
        let mut params = vec![("q", q)];
        if !db.is_empty() {
            params.push(("db", db));
        }
        if let Some(e) = epoch {
            params.push(("epoch", e.as_v1()));
        }
        let (method, request) = if read_only {
            (Method::Get, "GET /query")
        } else {
            (Method::Post, "POST /query")
        };
        let mut out = None;
        self.with_retries(
            // Statements that change things are resent only if they cannot have arrived.
            |e| {
                read_only
                    || matches!(
                        e,
                        Error::Transport {
                            kind: TransportKind::Connect,
                            ..
                        }
                    )
            },
            || {
                let body = if read_only { None } else { Some(&[][..]) };
                let reply = self.call(method, "/query", &params, body)?;
                match reply.status {
                    200 => {
                        let doc = serde_json::from_slice(&reply.body).map_err(|source| {
                            Error::Decode {
                                what: "the /query response",
                                source,
                            }
                        })?;
                        out = Some(doc);
                        Ok(())
                    }
                    400 => Err(Error::Query {
                        message: server_message(&reply.body),
                    }
                    .into()),
                    status => Err(Failed {
                        error: Error::Status {
                            request: request.to_owned(),
                            status,
                            message: server_message(&reply.body),
                        },
                        retry_after: reply.retry_after,
                    }),
                }
            },
        )?;
        Ok(out.unwrap_or_default())
    }

    /// `GET /ping`: 204 (or 200) with the server's version. Not retried.
    pub fn ping(&self) -> Result<Ping> {
        let started = Instant::now();
        let reply = self
            .call(Method::Get, "/ping", &[], None)
            .map_err(|f| f.error)?;
        match reply.status {
            200..=299 => Ok(Ping {
                version: reply.version,
                build: reply.build,
                latency: started.elapsed(),
            }),
            status => Err(Error::Status {
                request: "GET /ping".into(),
                status,
                message: server_message(&reply.body),
            }),
        }
    }

    /// `POST path` with an empty body and no retries, for admin endpoints such as ganzhi's
    /// `/internal/flush`; `Ok` with the body on 2xx.
    pub fn post_empty(&self, path: &str) -> Result<Vec<u8>> {
        let reply = self
            .call(Method::Post, path, &[], Some(&[]))
            .map_err(|f| f.error)?;
        match reply.status {
            200..=299 => Ok(reply.body),
            status => Err(Error::Status {
                request: format!("POST {path}"),
                status,
                message: server_message(&reply.body),
            }),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the policy's retries are spent;
    /// `Ok` with the number of attempts. `may_retry` can veto a retry of a retryable error.
    fn with_retries(
        &self,
        may_retry: impl Fn(&Error) -> bool,
        mut attempt: impl FnMut() -> std::result::Result<(), Failed>,
    ) -> Result<u32> {
        let policy = self.inner.retry;
        let mut retries = 0;
        loop {
            match attempt() {
                Ok(()) => return Ok(retries + 1),
                Err(Failed { error, retry_after }) => {
                    let retryable = error.is_retryable() && may_retry(&error);
                    if retryable && retries < policy.max_retries {
                        std::thread::sleep(policy.delay(retries, retry_after));
                        retries += 1;
                    } else if retryable && retries > 0 {
                        return Err(Error::GaveUp {
                            attempts: retries + 1,
                            last: Box::new(error),
                        });
                    } else {
                        return Err(error);
                    }
                }
            }
        }
    }

    /// One request; the response body is read whole so the connection returns to the pool.
    fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> std::result::Result<Reply, Failed> {
        let url = format!("{}{path}", self.inner.base);
        let name = match method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let request = || format!("{name} {path}");
        let result = match method {
            Method::Get => {
                let mut r = self.inner.agent.get(&url);
                for (k, v) in params {
                    r = r.query(k, v);
                }
                if let Some(a) = &self.inner.auth_header {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            Method::Post => {
                let mut r = self.inner.agent.post(&url);
                for (k, v) in params {
                    r = r.query(k, v);
                }
                if let Some(a) = &self.inner.auth_header {
                    r = r.header("Authorization", a);
                }
                if path.ends_with("write") {
                    r = r.header("Content-Type", "text/plain; charset=utf-8");
                    if self.inner.gzip {
                        r = r.header("Content-Encoding", "gzip");
                    }
                }
                r.send(body.unwrap_or_default())
            }
        };
        let mut response = result.map_err(|e| Error::transport(&request(), e))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("Retry-After")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let (version, build) = (header("X-Influxdb-Version"), header("X-Influxdb-Build"));
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.inner.max_response_bytes)
            .read_to_vec()
            .map_err(|e| Error::transport(&request(), e))?;
        Ok(Reply {
            status,
            retry_after,
            version,
            build,
            body,
        })
    }
}

/// `SELECT …` (without `INTO`) and `SHOW …` change nothing; InfluxDB 1.x accepts them by GET.
fn is_read_only(q: &str) -> bool {
    let upper = q.trim_start().to_ascii_uppercase();
    (upper.starts_with("SELECT") && !upper.split_ascii_whitespace().any(|w| w == "INTO"))
        || upper.starts_with("SHOW")
}

fn gzip(body: &[u8]) -> Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 8 + 64),
        flate2::Compression::fast(),
    );
    enc.write_all(body)
        .and_then(|()| enc.finish())
        .map_err(|source| Error::Compress { source })
}

/// Standard base64 with padding (RFC 4648 §4), for `Authorization: Basic`.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("admin:s3cret", "YWRtaW46czNjcmV0"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn read_only_queries_are_recognised() {
        assert!(is_read_only("  select mean(v) from m"));
        assert!(is_read_only("SHOW DATABASES"));
        assert!(!is_read_only("SELECT v INTO m2 FROM m"));
        assert!(!is_read_only("CREATE DATABASE city"));
        assert!(!is_read_only("DROP MEASUREMENT m"));
    }

    #[test]
    fn precision_spellings() {
        for (s, p) in [
            ("ns", Precision::Nanoseconds),
            ("n", Precision::Nanoseconds),
            ("u", Precision::Microseconds),
            ("us", Precision::Microseconds),
            ("ms", Precision::Milliseconds),
            ("s", Precision::Seconds),
            ("m", Precision::Minutes),
            ("h", Precision::Hours),
        ] {
            assert_eq!(s.parse::<Precision>().unwrap(), p);
            assert_eq!(p.as_v1().parse::<Precision>().unwrap(), p);
        }
        assert!("x".parse::<Precision>().is_err());
        assert_eq!(Precision::Microseconds.as_v2().unwrap(), "us");
        assert!(Precision::Hours.as_v2().is_err());
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            Client::new("http://127.0.0.1:8086/").unwrap().url(),
            "http://127.0.0.1:8086"
        );
        assert!(Client::new("http://h:1/prefix").is_ok());
        for bad in [
            "127.0.0.1:8086",
            "https://h",
            "http://",
            "http:///x",
            "http://h/?q",
        ] {
            assert!(
                matches!(Client::new(bad), Err(Error::InvalidArgument { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let a = Auth::Basic {
            user: "u".into(),
            password: "secret".into(),
        };
        assert!(!format!("{a:?}").contains("secret"));
        assert!(!format!("{:?}", Auth::Token("tok".into())).contains("tok"));
    }
}
