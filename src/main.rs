//! `ganzhi`: the one binary. Parses flags and calls into the crates; no logic of its own.

mod alloc;
mod load;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ganzhi::citygen::{CityConfig, CityGen, Scale};
use ganzhi_engine::{Db, Fsync, Options, Precision, TagPredicate, TimeRange};

#[derive(Parser)]
#[command(
    name = "ganzhi",
    version,
    about = "Ganzhi: a time-series database for city sensor networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The InfluxDB-compatible HTTP server (1.x /write and /query, 2.x /api/v2/write, /ping,
    /// /health, /metrics, /internal/flush|compact); SIGTERM or SIGINT stops it gracefully.
    Serve(ganzhi_server::cli::ServeArgs),
    /// Manages the users and tokens that `serve --auth` accepts.
    User(ganzhi_server::cli::UserArgs),
    /// Embedded demo: writes a simulated city's sensor data into the engine, reads it back, and
    /// prints what it measured (no server involved).
    Demo {
        /// Data directory (created if missing).
        #[arg(long, env = "GANZHI_DATA_DIR", default_value = "./ganzhi-data")]
        data_dir: PathBuf,
        /// How much data to generate.
        #[arg(long, value_enum, default_value_t = ScaleArg::Small)]
        scale: ScaleArg,
        /// When the WAL is fsynced.
        #[arg(long, value_enum, default_value_t = FsyncArg::Always)]
        fsync: FsyncArg,
    },
    /// Loads a line-protocol file (nanosecond timestamps) into a data directory in batches,
    /// then flushes and fully compacts it and prints the bytes on disk per field value.
    Import {
        /// Data directory (created if missing).
        #[arg(long, env = "GANZHI_DATA_DIR", default_value = "./ganzhi-data")]
        data_dir: PathBuf,
        /// Database to write into (created if missing).
        #[arg(long, default_value = "city")]
        db: String,
        /// Lines per write.
        #[arg(long, default_value_t = 5000)]
        batch: usize,
        /// Concurrent writers.
        #[arg(long, default_value_t = 2)]
        writers: usize,
        #[arg(long, value_enum, default_value_t = FsyncArg::Always)]
        fsync: FsyncArg,
        /// Points per block in segments.
        #[arg(long, default_value_t = Options::default().block_rows)]
        block_rows: usize,
        /// The file to load.
        file: PathBuf,
    },
    /// Runs InfluxQL against a data directory and prints each result's size, its first row,
    /// and the median latency of `--runs` runs.
    Query {
        #[arg(long, env = "GANZHI_DATA_DIR", default_value = "./ganzhi-data")]
        data_dir: PathBuf,
        #[arg(long, default_value = "city")]
        db: String,
        #[arg(long, default_value_t = 1)]
        runs: usize,
        /// Threads an aggregation may decode on (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// The query, e.g. "SELECT mean(pm25) FROM air_quality GROUP BY time(5m)".
        query: String,
    },
    /// Sends a line-protocol file to a server (ganzhi, InfluxDB, VictoriaMetrics) in batches over
    /// keep-alive connections and prints field values/s and batch latency percentiles.
    Load(load::LoadArgs),
    /// Prints the simulated city's sensor data as line protocol (nanosecond timestamps), for
    /// loading into ganzhi or into a peer database.
    Gen {
        #[arg(long, value_enum, default_value_t = ScaleArg::Small)]
        scale: ScaleArg,
        /// Random seed (the same seed gives the same bytes).
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ScaleArg {
    Tiny,
    Small,
    Day,
}

impl From<ScaleArg> for Scale {
    fn from(s: ScaleArg) -> Scale {
        match s {
            ScaleArg::Tiny => Scale::Tiny,
            ScaleArg::Small => Scale::Small,
            ScaleArg::Day => Scale::Day,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FsyncArg {
    Always,
    Never,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => Ok(ganzhi_server::serve(args.resolve()?)?),
        Command::User(args) => Ok(args.run(&mut std::io::stdout())?),
        Command::Demo {
            data_dir,
            scale,
            fsync,
        } => demo(data_dir, scale.into(), fsync),
        Command::Import {
            data_dir,
            db,
            batch,
            writers,
            fsync,
            block_rows,
            file,
        } => {
            let options = Options {
                fsync: fsync.into(),
                background_maintenance: false,
                block_rows,
                ..Options::default()
            };
            import(&data_dir, &db, batch, writers.max(1), options, &file)
        }
        Command::Query {
            data_dir,
            db,
            runs,
            threads,
            query,
        } => {
            let options = Options {
                background_maintenance: false,
                ..Options::default()
            };
            let engine = Db::open(&data_dir, options)?;
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..runs.max(1) {
                let started = Instant::now();
                let limits = ganzhi_engine::QueryLimits {
                    threads,
                    ..Default::default()
                };
                last = Some(engine.query_with(&db, &query, limits)?);
                times.push(started.elapsed().as_secs_f64() * 1e3);
            }
            times.sort_by(f64::total_cmp);
            for (i, result) in last.into_iter().flatten().enumerate() {
                match result {
                    Ok(series) => {
                        let rows: usize = series.iter().map(|s| s.rows.len()).sum();
                        println!("statement {i}: {} series, {rows} rows", series.len());
                        if let Some(s) = series.first() {
                            println!(
                                "  {} {:?} {:?}: {:?}",
                                s.name,
                                s.tags,
                                s.columns,
                                s.rows.first()
                            );
                        }
                    }
                    Err(e) => println!("statement {i}: error: {e}"),
                }
            }
            println!("median_ms {:.3}", times[times.len() / 2]);
            Ok(())
        }
        Command::Load(args) => load::run(&args),
        Command::Gen { scale, seed } => {
            let mut config = CityConfig::scale(scale.into());
            if let Some(seed) = seed {
                config.seed = seed;
            }
            let mut gen = CityGen::new(&config);
            let mut out = std::io::stdout().lock();
            let mut buf = Vec::with_capacity(1 << 20);
            while gen.next_batch(&mut buf, 5_000) > 0 {
                out.write_all(&buf)?;
                buf.clear();
            }
            Ok(())
        }
    }
}

impl From<FsyncArg> for Fsync {
    fn from(f: FsyncArg) -> Fsync {
        match f {
            FsyncArg::Always => Fsync::Always,
            FsyncArg::Never => Fsync::Never,
        }
    }
}

fn import(
    data_dir: &std::path::Path,
    name: &str,
    batch: usize,
    writers: usize,
    options: Options,
    file: &std::path::Path,
) -> Result<()> {
    let body = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    // Cut at line boundaries into batches of `batch` lines.
    let mut batches = Vec::new();
    let mut start = 0;
    let mut lines = 0;
    for (i, &b) in body.iter().enumerate() {
        if b == b'\n' {
            lines += 1;
            if lines == batch {
                batches.push(&body[start..=i]);
                start = i + 1;
                lines = 0;
            }
        }
    }
    if start < body.len() {
        batches.push(&body[start..]);
    }
    let db =
        Db::open(data_dir, options).with_context(|| format!("opening {}", data_dir.display()))?;
    db.create_database(name)?;
    let started = Instant::now();
    let values: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (db, batches) = (db.clone(), &batches);
                s.spawn(move || -> Result<u64> {
                    let mut values = 0;
                    for body in batches.iter().skip(w).step_by(writers) {
                        values += db.write_lines(name, body, Precision::Nanoseconds)?.values;
                    }
                    Ok(values)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer thread panicked"))
            .sum::<Result<u64>>()
    })?;
    let ingest = started.elapsed().as_secs_f64();
    let wal_bytes = db
        .wal_stats()
        .bytes
        .load(std::sync::atomic::Ordering::Relaxed);
    let flushed = Instant::now();
    db.flush()?;
    let flush = flushed.elapsed().as_secs_f64();
    let compacted = Instant::now();
    db.compact(true)?;
    let compact = compacted.elapsed().as_secs_f64();
    let bytes = db.disk_bytes()?;
    // Read everything back: what is stored, not what was sent.
    let counted = Instant::now();
    let mut stored = 0u64;
    for m in db.measurements(name)? {
        for series in db.scan(name, &m, &TagPredicate::All, &[], TimeRange::ALL)? {
            stored += series
                .rows
                .iter()
                .map(|r| r.values.iter().flatten().count() as u64)
                .sum::<u64>();
        }
    }
    let count = counted.elapsed().as_secs_f64();
    println!("values {values}");
    println!("values_stored {stored}");
    println!("scan_all_seconds {count:.3}");
    println!("ingest_seconds {ingest:.3}");
    println!("values_per_second {:.0}", values as f64 / ingest);
    println!(
        "wal_bytes_per_value {:.2}",
        wal_bytes as f64 / values as f64
    );
    println!(
        "line_protocol_bytes_per_value {:.2}",
        body.len() as f64 / values as f64
    );
    println!("flush_seconds {flush:.3}");
    println!("compact_seconds {compact:.3}");
    println!("disk_bytes {bytes}");
    println!("bytes_per_value {:.4}", bytes as f64 / values as f64);
    Ok(())
}

fn demo(data_dir: PathBuf, scale: Scale, fsync: FsyncArg) -> Result<()> {
    let fsync: Fsync = fsync.into();
    let db = Db::open(
        &data_dir,
        Options {
            fsync,
            ..Options::default()
        },
    )
    .with_context(|| format!("opening {}", data_dir.display()))?;
    let report = db.recovery_report();
    println!(
        "opened {}: replayed {} WAL records from {} segments",
        data_dir.display(),
        report.records,
        report.segments
    );
    for t in &report.truncations {
        println!(
            "  truncated {} at {}: {}",
            t.path.display(),
            t.offset,
            t.reason
        );
    }
    db.create_database("city")?;

    let config = CityConfig::scale(scale);
    let mut gen = CityGen::new(&config);
    let mut body = Vec::new();
    let (mut bytes, mut values) = (0usize, 0u64);
    let start = Instant::now();
    while gen.next_batch(&mut body, 5_000) > 0 {
        bytes += body.len();
        values += db
            .write_lines("city", &body, Precision::Nanoseconds)?
            .values;
        body.clear();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "wrote {values} field values ({:.1} MB of line protocol) in {secs:.2} s: {:.2} M values/s",
        bytes as f64 / 1e6,
        values as f64 / secs / 1e6
    );

    let hour = TimeRange::new(config.start_ns, config.start_ns + 3_600_000_000_000 - 1);
    let started = Instant::now();
    let series = db.scan("city", "air_quality", &TagPredicate::All, &["pm25"], hour)?;
    let points: usize = series.iter().map(|s| s.rows.len()).sum();
    println!(
        "scanned pm25 of {} air-quality stations over the first hour: {points} points in {:.1} ms",
        series.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    if let Some(s) = series.first() {
        let first = &s.rows[0];
        println!("  {} at t={}: {:?}", s.key, first.time, first.values[0]);
    }
    Ok(())
}
