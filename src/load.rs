//! `ganzhi load`: sends a line-protocol file to a server over HTTP, in batches of N lines over C
//! keep-alive connections (one thread each, taking batches from one shared queue), and prints
//! what it measured: field values/s, batch latency percentiles, retries and errors.
//!
//! The same loader drives ganzhi, InfluxDB 1.x and VictoriaMetrics (`/write` everywhere), so the
//! comparison measures the servers, not the drivers. The file is read and cut into batches, and
//! its field values counted with the engine's own parser, before the clock starts.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ganzhi_client::{Client, Precision, RetryPolicy, WriteTarget};
use ganzhi_engine::line_protocol::LineParser;

/// What `ganzhi load` was asked to do.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8086")]
    pub url: String,
    /// Database (1.x `db=`); an empty string sends none (VictoriaMetrics).
    #[arg(long, default_value = "city")]
    pub db: String,
    /// Lines per request.
    #[arg(long, default_value_t = 5000)]
    pub batch: usize,
    /// Keep-alive connections, one sending thread each.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Timestamp precision of the file: ns, u, ms, s, m, h.
    #[arg(long, default_value = "ns")]
    pub precision: String,
    /// Use the 2.x API (`/api/v2/write?bucket=…&org=…`); the bucket is `--db`.
    #[arg(long)]
    pub v2: bool,
    /// Organisation for `--v2`.
    #[arg(long, default_value = "")]
    pub org: String,
    /// `Authorization: Token …`.
    #[arg(long, env = "GANZHI_TOKEN")]
    pub token: Option<String>,
    /// Basic-auth user (with `--password`).
    #[arg(long)]
    pub user: Option<String>,
    #[arg(long, env = "GANZHI_PASSWORD")]
    pub password: Option<String>,
    /// Compress request bodies with gzip.
    #[arg(long)]
    pub gzip: bool,
    /// Send `CREATE DATABASE <db>` before loading.
    #[arg(long)]
    pub create_db: bool,
    /// Seconds one request may take (with its response).
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Retries per batch on no response, 5xx or 429.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// The line-protocol file.
    pub file: PathBuf,
}

/// The outcome of one batch.
struct Sent {
    latency: Duration,
    attempts: u32,
    error: Option<String>,
}

pub fn run(args: &LoadArgs) -> Result<()> {
    let precision: Precision = args.precision.parse()?;
    let body =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let batches = cut(&body, args.batch.max(1));
    let counted = Instant::now();
    let (lines, values, bad) = count(&body, &batches);
    eprintln!(
        "read {}: {} bytes, {lines} lines, {values} field values, {} batches (counted in {:.1} s)",
        args.file.display(),
        body.len(),
        batches.len(),
        counted.elapsed().as_secs_f64()
    );
    if bad > 0 {
        eprintln!("warning: {bad} lines do not parse here; the server will refuse them");
    }

    let client = |pool| -> Result<Client> {
        let mut b = Client::builder(&args.url)
            .timeout(Duration::from_secs(args.timeout.max(1)))
            .retry(RetryPolicy {
                max_retries: args.retries,
                ..RetryPolicy::default()
            })
            .gzip(args.gzip)
            .max_idle_connections(pool);
        if let Some(t) = &args.token {
            b = b.token(t);
        }
        if let Some(u) = &args.user {
            b = b.basic_auth(u, args.password.clone().unwrap_or_default());
        }
        Ok(b.build()?)
    };
    let admin = client(1)?;
    if args.create_db {
        admin
            .query("", &format!("CREATE DATABASE \"{}\"", args.db), None)?
            .check()
            .with_context(|| format!("creating database {:?}", args.db))?;
    }
    let target = if args.v2 {
        WriteTarget::v2(&args.db, &args.org)
    } else {
        WriteTarget::v1(&args.db)
    };

    let connections = args.connections.max(1);
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Sent>>> = Mutex::new((0..batches.len()).map(|_| None).collect());
    let started = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..connections {
            // One client (one pooled connection) per thread: C connections, kept alive.
            let client = client(1)?;
            let (next, batches, outcomes, body, target) =
                (&next, &batches, &outcomes, &body, &target);
            handles.push(s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(range) = batches.get(i) else { return };
                let t0 = Instant::now();
                let result = client.write_to(target, &body[range.clone()], precision);
                let latency = t0.elapsed();
                let sent = match result {
                    Ok(w) => Sent {
                        latency,
                        attempts: w.attempts,
                        error: None,
                    },
                    Err(e) => Sent {
                        latency,
                        attempts: match &e {
                            ganzhi_client::Error::GaveUp { attempts, .. } => *attempts,
                            _ => 1,
                        },
                        error: Some(format!("batch {i}: {e}")),
                    },
                };
                outcomes.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(sent);
            }));
        }
        for h in handles {
            h.join().expect("a load thread panicked");
        }
        Ok(())
    })?;
    let elapsed = started.elapsed().as_secs_f64();

    let outcomes: Vec<Sent> = outcomes
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect();
    let mut latencies: Vec<f64> = outcomes
        .iter()
        .map(|o| o.latency.as_secs_f64() * 1e3)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let retries: u64 = outcomes.iter().map(|o| u64::from(o.attempts - 1)).sum();
    let errors: Vec<&str> = outcomes.iter().filter_map(|o| o.error.as_deref()).collect();
    let failed_values: u64 = outcomes
        .iter()
        .zip(&batches)
        .filter(|(o, _)| o.error.is_some())
        .map(|(_, r)| count(&body, std::slice::from_ref(r)).1)
        .sum();
    let acked = values - failed_values;

    println!("url {}", args.url);
    println!("lines {lines}");
    println!("values {values}");
    println!("batches {}", batches.len());
    println!("batch_lines {}", args.batch);
    println!("connections {connections}");
    println!("elapsed_seconds {elapsed:.3}");
    println!("values_per_second {:.0}", acked as f64 / elapsed);
    println!("lines_per_second {:.0}", lines as f64 / elapsed);
    println!("mb_per_second {:.1}", body.len() as f64 / 1e6 / elapsed);
    println!("batch_p50_ms {:.2}", percentile(&latencies, 0.50));
    println!("batch_p99_ms {:.2}", percentile(&latencies, 0.99));
    println!(
        "batch_max_ms {:.2}",
        latencies.last().copied().unwrap_or(0.0)
    );
    println!("retries {retries}");
    println!("failed_batches {}", errors.len());
    println!("values_acknowledged {acked}");
    for e in errors.iter().take(5) {
        println!("error {e}");
    }
    if !errors.is_empty() {
        bail!("{} of {} batches failed", errors.len(), batches.len());
    }
    Ok(())
}

/// Cuts `body` at line ends into ranges of `batch` lines (the last may be shorter).
fn cut(body: &[u8], batch: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut lines) = (0, 0);
    for (i, &b) in body.iter().enumerate() {
        if b == b'\n' {
            lines += 1;
            if lines == batch {
                out.push(start..i + 1);
                (start, lines) = (i + 1, 0);
            }
        }
    }
    out.push(start..body.len());
    // Blank batches (a blank tail, runs of empty lines) would be empty requests.
    out.retain(|r| body[r.clone()].iter().any(|b| !b.is_ascii_whitespace()));
    out
}

/// (points, field values, lines that fail to parse) in `batches` of `body`, by the engine's
/// parser: what the server will count.
fn count(body: &[u8], batches: &[Range<usize>]) -> (u64, u64, u64) {
    let (mut lines, mut values, mut bad) = (0, 0, 0);
    for r in batches {
        for line in LineParser::new(&body[r.clone()], ganzhi_engine::Precision::Nanoseconds) {
            match line {
                Ok(l) => {
                    lines += 1;
                    values += l.fields.len() as u64;
                }
                Err(_) => bad += 1,
            }
        }
    }
    (lines, values, bad)
}

/// Nearest-rank percentile of sorted `xs` (0 when empty).
fn percentile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let rank = ((p * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    xs[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_lines_and_a_short_tail() {
        let body = b"a f=1 1\nb f=2 2\nc f=3 3\nd f=4 4";
        let batches = cut(body, 2);
        let parts: Vec<&[u8]> = batches.iter().map(|r| &body[r.clone()]).collect();
        assert_eq!(
            parts,
            [&b"a f=1 1\nb f=2 2\n"[..], &b"c f=3 3\nd f=4 4"[..]]
        );
        assert_eq!(cut(b"a f=1 1\n\n", 1).len(), 1);
        assert!(cut(b"", 5).is_empty());
    }

    #[test]
    fn count_counts_field_values_like_the_engine() {
        let body = b"m,t=a x=1,y=2i 1\nm z=\"a b, c\" 2\nbad line\n";
        assert_eq!(count(body, &cut(body, 10)), (2, 3, 1));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 0.5), 50.0);
        assert_eq!(percentile(&xs, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
