//! `ganzhi-client`: a blocking HTTP client for ganzhi and other servers of the InfluxDB 1.x/2.x
//! HTTP API (InfluxDB itself; VictoriaMetrics' `/write`).
//!
//! Blocking on purpose: the gateways that feed a city's sensor data into ganzhi are small
//! programs with no async runtime. A [`Client`] holds a pool of keep-alive connections that its
//! clones share; every method is a whole request and answer.
//!
//! ```no_run
//! use ganzhi_client::{Client, Precision, WriteTarget, Writer, WriterOptions};
//!
//! let client = Client::builder("http://127.0.0.1:8086").token("s3cret").build()?;
//! client.ping()?;
//! client.query("", "CREATE DATABASE city", None)?.check()?;
//! client.write("city", "noise,site=n-7 laeq=61.2 1732406400000\n", Precision::Milliseconds)?;
//!
//! // Or let a Writer batch lines (5000 lines / 4 MiB / 1 s by default):
//! let writer = Writer::new(client.clone(), WriteTarget::v1("city"), WriterOptions::default());
//! writer.write_line("noise,site=n-7 laeq=60.9 1732406401000000000")?;
//! let stats = writer.close()?;
//!
//! let answer = client.query("city", "SELECT mean(laeq) FROM noise", None)?.check()?;
//! for s in answer.series() {
//!     println!("{} {:?}: {} rows", s.name, s.tags, s.values.len());
//! }
//! # Ok::<(), ganzhi_client::Error>(())
//! ```
//!
//! What stays true:
//! - A request that gets no response, a 5xx or a 429 is retried with exponential backoff and
//!   jitter ([`RetryPolicy`]); a 4xx never is. A 400 on a write is [`Error::PartialWrite`] with
//!   the server's message (which names the bad lines; the good ones are written).
//! - Nothing here knows the engine: only the wire formats (line protocol bytes in, InfluxDB 1.x
//!   JSON out).
//! - Plain HTTP only (no TLS): the server listens on loopback or behind a proxy.

mod client;
mod error;
mod query;
mod retry;
mod writer;

pub use client::{Auth, Client, ClientBuilder, Ping, Precision, WriteTarget, Written};
pub use error::{Error, Result, TransportKind};
pub use query::{Message, QueryResponse, Series, StatementResult};
pub use retry::RetryPolicy;
pub use writer::{Writer, WriterOptions, WriterStats};

/// The type of a value in a query result's rows (re-exported so callers need no `serde_json`).
pub use serde_json::Value;
