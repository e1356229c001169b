//! What `/metrics` reports, in the Prometheus text format (version 0.0.4).
//!
//! The server's own counters are atomics bumped on the request path (no lock on the write
//! path but the per-status request counter's short one); the engine's figures (WAL, series
//! per database, memtable and disk bytes) are read from the engine when scraped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ganzhi_engine::Db;

/// Upper bounds (seconds) of the latency histograms' buckets.
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// A latency histogram: cumulative only when rendered.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_nanos
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The server's counters.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// (route, status) → responses. A `Mutex` held for one map update per request.
    responses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub write_requests: AtomicU64,
    pub write_points: AtomicU64,
    pub write_values: AtomicU64,
    /// Line protocol accepted (after decompression), whole bodies of successful or partial
    /// writes.
    pub write_bytes: AtomicU64,
    pub write_rejected_lines: AtomicU64,
    pub write_duration: Histogram,
    pub query_requests: AtomicU64,
    /// Queries answered on the request's worker thread, small enough not to need the
    /// blocking pool.
    pub query_small: AtomicU64,
    /// Queries tried on the worker thread and handed to the pool as not small.
    pub query_not_small: AtomicU64,
    /// Statements that failed (parse errors count once per query).
    pub query_errors: AtomicU64,
    pub query_timeouts: AtomicU64,
    /// Queries refused because `max_concurrent_queries` were running.
    pub query_refused: AtomicU64,
    pub query_duration: Histogram,
    /// Flushes and compactions asked for over HTTP (`/internal/*`) and at shutdown; the
    /// engine does not count its background ones.
    pub flushes: AtomicU64,
    pub compactions: AtomicU64,
    pub auth_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            responses: Mutex::default(),
            write_requests: AtomicU64::new(0),
            write_points: AtomicU64::new(0),
            write_values: AtomicU64::new(0),
            write_bytes: AtomicU64::new(0),
            write_rejected_lines: AtomicU64::new(0),
            write_duration: Histogram::default(),
            query_requests: AtomicU64::new(0),
            query_small: AtomicU64::new(0),
            query_not_small: AtomicU64::new(0),
            query_errors: AtomicU64::new(0),
            query_timeouts: AtomicU64::new(0),
            query_refused: AtomicU64::new(0),
            query_duration: Histogram::default(),
            flushes: AtomicU64::new(0),
            compactions: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
        }
    }
}

/// Gauges of the server's own state, read when scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    pub inflight_write_bytes: usize,
    pub queries_running: usize,
    pub connections: usize,
}

impl Metrics {
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn response(&self, route: &'static str, status: u16) {
        let mut map = self.responses.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((route, status)).or_default() += 1;
    }

    /// The whole exposition. Reads the engine (a directory walk for the disk bytes): call it
    /// off the async threads.
    pub fn render(&self, db: &Db, gauges: Gauges) -> String {
        let mut out = String::with_capacity(8 << 10);
        let o = &mut out;
        header(
            o,
            "ganzhi_build_info",
            "gauge",
            "Always 1; the labels say what runs.",
        );
        let _ = writeln!(
            o,
            "ganzhi_build_info{{version=\"{}\",influxdb_version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            crate::http::INFLUX_VERSION
        );
        gauge(
            o,
            "ganzhi_uptime_seconds",
            "Seconds since the server started.",
            self.started.elapsed().as_secs_f64(),
        );

        header(
            o,
            "ganzhi_http_responses_total",
            "counter",
            "Responses by route and status.",
        );
        for ((route, status), n) in self
            .responses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                o,
                "ganzhi_http_responses_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }

        counter(
            o,
            "ganzhi_write_requests_total",
            "Write requests that reached the engine.",
            &self.write_requests,
        );
        counter(
            o,
            "ganzhi_write_points_total",
            "Points (lines) written.",
            &self.write_points,
        );
        counter(
            o,
            "ganzhi_write_values_total",
            "Field values written.",
            &self.write_values,
        );
        counter(
            o,
            "ganzhi_write_bytes_total",
            "Bytes of line protocol written (after decompression).",
            &self.write_bytes,
        );
        counter(
            o,
            "ganzhi_write_rejected_lines_total",
            "Lines rejected (syntax, type conflict, too long).",
            &self.write_rejected_lines,
        );
        self.write_duration.render(
            o,
            "ganzhi_write_duration_seconds",
            "Time the engine took to write a body, fsync included.",
        );

        counter(
            o,
            "ganzhi_query_requests_total",
            "Query requests.",
            &self.query_requests,
        );
        counter(
            o,
            "ganzhi_query_small_total",
            "Queries small enough to be answered without the blocking pool.",
            &self.query_small,
        );
        counter(
            o,
            "ganzhi_query_not_small_total",
            "Queries tried without the blocking pool and handed to it as not small.",
            &self.query_not_small,
        );
        counter(
            o,
            "ganzhi_query_errors_total",
            "Failed statements and unparsable queries.",
            &self.query_errors,
        );
        counter(
            o,
            "ganzhi_query_timeouts_total",
            "Queries answered 503 after query_timeout.",
            &self.query_timeouts,
        );
        counter(
            o,
            "ganzhi_query_refused_total",
            "Queries refused because max_concurrent_queries were running.",
            &self.query_refused,
        );
        self.query_duration.render(
            o,
            "ganzhi_query_duration_seconds",
            "Time to run a query and encode its result.",
        );

        counter(
            o,
            "ganzhi_flushes_total",
            "Flushes asked for over HTTP or at shutdown (not background ones).",
            &self.flushes,
        );
        counter(
            o,
            "ganzhi_compactions_total",
            "Compactions asked for over HTTP (not background ones).",
            &self.compactions,
        );
        counter(
            o,
            "ganzhi_auth_failures_total",
            "Requests refused with 401.",
            &self.auth_failures,
        );

        gauge(
            o,
            "ganzhi_inflight_write_bytes",
            "Request bytes held in memory now.",
            gauges.inflight_write_bytes as f64,
        );
        gauge(
            o,
            "ganzhi_queries_running",
            "Queries running now.",
            gauges.queries_running as f64,
        );
        gauge(
            o,
            "ganzhi_connections",
            "Open connections.",
            gauges.connections as f64,
        );

        let wal = db.wal_stats();
        let wal_counters = [
            (
                "ganzhi_wal_records_total",
                "WAL records appended (one per write).",
                &wal.records,
            ),
            (
                "ganzhi_wal_bytes_total",
                "Bytes appended to the WAL.",
                &wal.bytes,
            ),
            (
                "ganzhi_wal_writes_total",
                "write() calls of the WAL (group commits).",
                &wal.writes,
            ),
            (
                "ganzhi_wal_fsyncs_total",
                "fdatasync() calls of the WAL.",
                &wal.fsyncs,
            ),
            (
                "ganzhi_wal_segments_created_total",
                "WAL segment files started.",
                &wal.segments_created,
            ),
        ];
        for (name, help, value) in wal_counters {
            counter(o, name, help, value);
        }
        gauge(
            o,
            "ganzhi_memtable_bytes",
            "Bytes held by the active memtables.",
            db.memtable_bytes() as f64,
        );
        match db.disk_bytes() {
            Ok(b) => gauge(
                o,
                "ganzhi_disk_bytes",
                "Bytes under the data directory.",
                b as f64,
            ),
            Err(e) => {
                let _ = writeln!(
                    o,
                    "# ganzhi_disk_bytes unavailable: {}",
                    e.to_string().replace('\n', " ")
                );
            }
        }
        gauge(
            o,
            "ganzhi_damaged_segments",
            "Segment files that failed validation at open (kept out of reads).",
            db.damaged_segments().len() as f64,
        );
        let m = db.maintenance_stats();
        for (name, help, value) in [
            (
                "ganzhi_engine_flushes_total",
                "Flushes that wrote segments, background and requested.",
                m.flushes as f64,
            ),
            (
                "ganzhi_engine_flushed_values_total",
                "Field values written to segments by flushes.",
                m.flushed_values as f64,
            ),
            (
                "ganzhi_engine_flush_seconds_total",
                "Time spent flushing.",
                m.flush_seconds,
            ),
            (
                "ganzhi_engine_compactions_total",
                "Compactions that replaced segments, background and requested.",
                m.compactions as f64,
            ),
            (
                "ganzhi_engine_compacted_values_total",
                "Field values rewritten by compactions.",
                m.compacted_values as f64,
            ),
            (
                "ganzhi_engine_compaction_seconds_total",
                "Time spent compacting.",
                m.compaction_seconds,
            ),
            (
                "ganzhi_engine_retention_dropped_segments_total",
                "Segments dropped by retention.",
                m.retention_dropped_segments as f64,
            ),
        ] {
            header(o, name, "counter", help);
            let _ = writeln!(o, "{name} {value}");
        }
        gauge(
            o,
            "ganzhi_maintenance_error",
            "1 if the last background flush, compaction or retention pass failed.",
            f64::from(u8::from(db.maintenance_error().is_some())),
        );

        header(o, "ganzhi_series", "gauge", "Series per database.");
        let databases = db.databases();
        for name in &databases {
            if let Ok(c) = db.series_count(name) {
                let _ = writeln!(
                    o,
                    "ganzhi_series{{database={}}} {}",
                    crate::json::string(name),
                    c.total
                );
            }
        }
        header(
            o,
            "ganzhi_series_on_heap",
            "gauge",
            "Series per database created since the last flush (held on the heap).",
        );
        for name in &databases {
            if let Ok(c) = db.series_count(name) {
                let _ = writeln!(
                    o,
                    "ganzhi_series_on_heap{{database={}}} {}",
                    crate::json::string(name),
                    c.on_heap
                );
            }
        }
        if let Some((rss, peak)) = process_memory() {
            gauge(
                o,
                "process_resident_memory_bytes",
                "Resident memory of the server process.",
                rss as f64,
            );
            gauge(
                o,
                "ganzhi_process_peak_resident_memory_bytes",
                "Peak resident memory of the server process (VmHWM).",
                peak as f64,
            );
        }
        out
    }
}

fn header(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counter(o: &mut String, name: &str, help: &str, value: &AtomicU64) {
    header(o, name, "counter", help);
    let _ = writeln!(o, "{name} {}", value.load(Relaxed));
}

fn gauge(o: &mut String, name: &str, help: &str, value: f64) {
    header(o, name, "gauge", help);
    let _ = writeln!(o, "{name} {value}");
}

/// (resident, peak resident) bytes from `/proc/self/status`, where there is one.
fn process_memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|k| k * 1024)
    };
    Some((kib("VmRSS:")?, kib("VmHWM:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_millis(20));
        h.observe(Duration::from_secs(100));
        let mut out = String::new();
        h.render(&mut out, "x", "help");
        assert!(out.contains("x_bucket{le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.025\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"60\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count 3\n"), "{out}");
    }
}
